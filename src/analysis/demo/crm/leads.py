"""Leads: monthly arrivals, MQLs, conversion, the people behind them, and their exports.

:func:`simulate_leads` draws the leads and their fate (converted into an opportunity,
converted without one, disqualified, open); :func:`lead_people` gives each lead a
person, a company and an address (the account's when converted);
:func:`lead_table` and :func:`contact_table` write ``Lead`` and ``Contact``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo.crm.export import (
    ExportTable,
    append_stale_duplicates,
    fmt_bool,
    fmt_date,
    fmt_datetime,
    new_ids,
)
from analysis.demo.crm.headers import H_CONTACT, H_LEAD
from analysis.demo.crm.org import Org
from analysis.demo.crm.params import (
    INDUSTRIES,
    LEAD_SOURCE_P,
    LEAD_SOURCES,
    NULL_ID,
    PRODUCTS,
    UNIFICATION_DATE,
    VOLUME_SEASON,
    CrmParameters,
)
from analysis.demo.crm.people import LAST_NAMES, company_names, people
from analysis.demo.crm.timeline import Clock, random_times

#: Job titles of lead contacts (blank: not filled in).
TITLES = ("Leitung Einkauf", "Geschäftsführer", "IT-Leitung", "Produktionsleitung", "")


@dataclass(frozen=True)
class Leads:
    """The simulated leads, in creation order (index = lead number)."""

    created: np.ndarray  # datetime64[s]
    post: np.ndarray  # created on/after the unification
    is_mql: np.ndarray
    converted_at: np.ndarray  # when a conversion happens (or would have)
    converted: np.ndarray  # converted by the snapshot (with or without opportunity)
    converted_with_opp: np.ndarray
    dq_at: np.ndarray  # when a disqualification happens (or would have)
    disqualified: np.ndarray
    status: np.ndarray
    source: np.ndarray  # LeadSource ("" when blank)
    ids: np.ndarray
    owner: np.ndarray

    @property
    def n(self) -> int:
        """Number of leads."""
        return self.created.size


@dataclass(frozen=True)
class LeadPeople:
    """Contacts of converted leads, and each lead's person, company and address."""

    contacts: np.ndarray  # converted leads, ordered by conversion time
    contact_ids: np.ndarray
    contact_of_lead: np.ndarray  # contact Id per lead (null Id if none)
    company: np.ndarray
    person: dict[str, np.ndarray]
    plz: np.ndarray
    city: np.ndarray
    country: np.ndarray


def simulate_leads(
    rng: np.random.Generator, params: CrmParameters, clock: Clock, org: Org
) -> Leads:
    """Leads arriving each month (seasonal Poisson volume) and what became of them.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    params : CrmParameters
        Volumes, MQL rate and conversion probabilities before and after the date.
    clock : Clock
        The CRM's months and the snapshot.
    org : Org
        Sales and Marketing users (lead owners).

    Returns
    -------
    Leads
    """
    lead_lambda = (
        params.leads_per_month
        * VOLUME_SEASON[clock.moy]
        * np.where(clock.months >= UNIFICATION_DATE, params.leads_post_volume_factor, 1.0)
    )
    lead_counts = rng.poisson(lead_lambda)
    created = random_times(rng, clock.months.values, lead_counts)
    created = np.minimum(created, clock.as_of_end - np.timedelta64(3600, "s"))
    n_leads = created.size
    post = created >= clock.unif
    is_mql = rng.random(n_leads) < params.mql_rate
    p_convert = np.where(post, params.mql_to_opportunity_post, params.mql_to_opportunity_pre)
    u = rng.random(n_leads)
    would_convert = is_mql & (u < p_convert)
    # Converted to an account and contact but without an opportunity (not a funnel step).
    would_convert_no_opp = (
        is_mql & ~would_convert & (u < p_convert + params.convert_without_opportunity)
    )
    delay_s = (rng.gamma(2.0, 10.0, size=n_leads) * 86400).astype("int64").astype("timedelta64[s]")
    converted_at = created + delay_s + np.timedelta64(3600, "s")
    converted = (would_convert | would_convert_no_opp) & (converted_at <= clock.as_of_end)
    dq_at = created + (rng.gamma(2.0, 15.0, size=n_leads) * 86400).astype("int64").astype(
        "timedelta64[s]"
    )
    disqualified = ~(would_convert | would_convert_no_opp) & (dq_at <= clock.as_of_end)
    touched = rng.random(n_leads) < 0.6
    status = np.where(
        converted,
        "Closed - Converted",
        np.where(
            disqualified,
            "Closed - Not Converted",
            np.where(touched, "Working - Contacted", "Open - Not Contacted"),
        ),
    ).astype(object)
    source = rng.choice(LEAD_SOURCES, size=n_leads, p=LEAD_SOURCE_P).astype(object)
    # LeadSource was optional before the unification; mandatory afterwards (mostly).
    blank_source = rng.random(n_leads) < np.where(post, 0.05, 0.3)
    source = np.where(blank_source, "", source).astype(object)
    ids = new_ids("00Q", n_leads, rng)
    owner_sales = rng.choice(org.sales_users, size=n_leads)
    owner = np.where(
        (~post) & (rng.random(n_leads) < 0.5),
        rng.choice(org.marketing_users, size=n_leads),
        owner_sales,
    ).astype(object)
    return Leads(
        created=created,
        post=post,
        is_mql=is_mql,
        converted_at=converted_at,
        converted=converted,
        converted_with_opp=converted & would_convert,
        dq_at=dq_at,
        disqualified=disqualified,
        status=status,
        source=source,
        ids=ids,
        owner=owner,
    )


def lead_people(
    rng: np.random.Generator,
    leads: Leads,
    lead_account: np.ndarray,
    accounts_names: np.ndarray,
    accounts_plz: np.ndarray,
    accounts_city: np.ndarray,
    accounts_country: np.ndarray,
    plz_table: pd.DataFrame,
    plz_weight: np.ndarray,
) -> LeadPeople:
    """Contacts for converted leads; each lead's person, company and address.

    A lead converted into an account takes the account's name and address; the
    others get an invented company and a postcode drawn like the accounts'.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    leads : Leads
        The leads.
    lead_account : numpy.ndarray
        Account index per lead (-1 when not converted).
    accounts_names, accounts_plz, accounts_city, accounts_country : numpy.ndarray
        The accounts' names and billing addresses.
    plz_table, plz_weight : DataFrame, numpy.ndarray
        Postcodes and their weights (:func:`analysis.demo.crm.accounts.plz_sampler`).

    Returns
    -------
    LeadPeople
    """
    conv_idx = np.flatnonzero(leads.converted)
    contacts = conv_idx[np.argsort(leads.converted_at[conv_idx], kind="stable")]
    contact_ids = new_ids("003", contacts.size, rng)
    contact_of_lead = np.full(leads.n, NULL_ID, dtype=object)
    contact_of_lead[contacts] = contact_ids
    has_account = lead_account >= 0
    account = np.maximum(lead_account, 0)
    company = np.where(has_account, accounts_names[account], company_names(rng, leads.n)).astype(
        object
    )
    person = people(rng, leads.n, company)
    pick = rng.choice(len(plz_table), size=leads.n, p=plz_weight)
    plz = np.where(
        has_account, accounts_plz[account], plz_table["plz"].to_numpy(dtype=object)[pick]
    ).astype(object)
    city = np.where(
        has_account, accounts_city[account], plz_table["ort"].to_numpy(dtype=object)[pick]
    ).astype(object)
    country = np.where(has_account, accounts_country[account], "Deutschland").astype(object)
    return LeadPeople(
        contacts=contacts,
        contact_ids=contact_ids,
        contact_of_lead=contact_of_lead,
        company=company,
        person=person,
        plz=plz,
        city=city,
        country=country,
    )


def lead_table(
    rng: np.random.Generator,
    leads: Leads,
    who: LeadPeople,
    *,
    lead_account: np.ndarray,
    account_ids: np.ndarray,
    opp_of_lead: np.ndarray,
    admin_id: str,
    as_of_end: np.datetime64,
) -> ExportTable:
    """The ``Lead`` export: deleted and merged leads, free text, five stale duplicates.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    leads, who : Leads, LeadPeople
        The leads and their people.
    lead_account : numpy.ndarray
        Account index per lead (-1 when not converted).
    account_ids : numpy.ndarray
        Account Ids.
    opp_of_lead : numpy.ndarray
        Converted opportunity Id per lead (null Id if none).
    admin_id : str
        Creator of the leads migrated before the unification.
    as_of_end : numpy.datetime64
        End of the snapshot day.

    Returns
    -------
    tuple
        The export table (the stale copies appended).
    """
    n_leads, converted = leads.n, leads.converted
    modified = np.where(
        converted, leads.converted_at, np.where(leads.disqualified, leads.dq_at, leads.created)
    )
    modified = np.minimum(modified + np.timedelta64(120, "s"), as_of_end)
    deleted = (rng.random(n_leads) < 0.015) & ~converted
    master = np.full(n_leads, NULL_ID, dtype=object)
    merged = np.flatnonzero(deleted)[::3]
    master[merged] = leads.ids[rng.integers(0, n_leads, merged.size)]
    person = who.person
    columns = {
        "Id": leads.ids,
        "IsDeleted": fmt_bool(deleted),
        "MasterRecordId": master,
        "Salutation": person["salutation"],
        "FirstName": person["first"],
        "LastName": person["last"],
        "RecordTypeId": NULL_ID,
        **lead_details(rng, n_leads, person, who),
        "LeadSource": leads.source,
        "Status": leads.status,
    }
    columns.update(_lead_state(rng, leads, who, lead_account, account_ids, opp_of_lead))
    columns.update(
        {
            "CreatedDate": fmt_datetime(leads.created),
            "CreatedById": np.where(leads.post, leads.owner, admin_id).astype(object),
            "LastModifiedDate": fmt_datetime(modified),
            "LastModifiedById": leads.owner,
            "SystemModstamp": fmt_datetime(modified),
            "DoNotCall": "0",
            "HasOptedOutOfFax": "0",
            "Produktinteresse__c": rng.choice(
                np.array(list(PRODUCTS) + [""], dtype=object), n_leads
            ),
        }
    )
    dup_lead = rng.choice(np.flatnonzero(~deleted), size=5, replace=False)
    columns = append_stale_duplicates(
        columns, dup_lead, {"Status": "Open - Not Contacted"}, leads.created
    )
    return H_LEAD, columns, n_leads + dup_lead.size, {}


def lead_details(
    rng: np.random.Generator, n_leads: int, person: dict[str, np.ndarray], who: LeadPeople
) -> dict[str, np.ndarray]:
    """Notes, title, company, street, address, phones and e-mail (Lead columns).

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    n_leads : int
        Number of leads.
    person : dict of numpy.ndarray
        The leads' people (:func:`analysis.demo.crm.people.people`).
    who : LeadPeople
        Company and address of each lead.

    Returns
    -------
    dict
        Lead columns by name.
    """
    notes = [
        f"Rückruf erbeten: {f} {s}, {p}"
        for f, s, p in zip(person["first"], person["last"], person["phone"], strict=True)
    ]
    return {
        "Description": np.where(
            rng.random(n_leads) < 0.2, np.array(notes, dtype=object), ""
        ).astype(object),
        "Title": rng.choice(np.array(TITLES, dtype=object), n_leads),
        "Company": who.company,
        "Street": np.array(
            [
                f"{s}weg {n}"
                for s, n in zip(
                    rng.choice(LAST_NAMES, n_leads), rng.integers(1, 90, n_leads), strict=True
                )
            ],
            dtype=object,
        ),
        "City": who.city,
        "PostalCode": np.where(rng.random(n_leads) < 0.1, "", who.plz).astype(object),
        "Country": who.country,
        "Phone": person["phone"],
        "MobilePhone": np.where(rng.random(n_leads) < 0.4, person["mobile"], "").astype(object),
        "Email": person["email"],
    }


def _lead_state(
    rng: np.random.Generator,
    leads: Leads,
    who: LeadPeople,
    lead_account: np.ndarray,
    account_ids: np.ndarray,
    opp_of_lead: np.ndarray,
) -> dict[str, np.ndarray]:
    n_leads, converted = leads.n, leads.converted
    return {
        "Industry": np.where(rng.random(n_leads) < 0.3, "", rng.choice(INDUSTRIES, n_leads)).astype(
            object
        ),
        "CurrencyIsoCode": "EUR",
        "NumberOfEmployees": np.where(
            rng.random(n_leads) < 0.5,
            "",
            np.round(np.exp(rng.normal(5, 1.1, n_leads))).astype(int).astype(str),
        ).astype(object),
        "OwnerId": leads.owner,
        "HasOptedOutOfEmail": fmt_bool(rng.random(n_leads) < 0.05),
        "IsConverted": fmt_bool(converted),
        "ConvertedDate": np.where(converted, fmt_date(leads.converted_at), "").astype(object),
        "ConvertedAccountId": np.where(
            converted, account_ids[np.maximum(lead_account, 0)], NULL_ID
        ).astype(object),
        "ConvertedContactId": who.contact_of_lead,
        "ConvertedOpportunityId": opp_of_lead,
        "IsUnreadByOwner": fmt_bool(leads.status == "Open - Not Contacted"),
    }


def contact_table(
    rng: np.random.Generator,
    leads: Leads,
    who: LeadPeople,
    lead_account: np.ndarray,
    account_ids: np.ndarray,
) -> ExportTable:
    """The ``Contact`` export: one contact per converted lead, at the conversion time.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    leads, who : Leads, LeadPeople
        The leads and their people.
    lead_account : numpy.ndarray
        Account index per lead.
    account_ids : numpy.ndarray
        Account Ids.

    Returns
    -------
    tuple
        The export table.
    """
    con = who.contacts
    n_con = con.size
    person = who.person
    owner = leads.owner[con]
    created = fmt_datetime(leads.converted_at[con])
    columns = {
        "Id": who.contact_ids,
        "IsDeleted": "0",
        "MasterRecordId": NULL_ID,
        "AccountId": account_ids[lead_account[con]],
        "Salutation": person["salutation"][con],
        "FirstName": person["first"][con],
        "LastName": person["last"][con],
        "RecordTypeId": NULL_ID,
        "MailingCity": who.city[con],
        "MailingPostalCode": who.plz[con],
        "MailingCountry": who.country[con],
        "Phone": person["phone"][con],
        "MobilePhone": person["mobile"][con],
        "ReportsToId": NULL_ID,
        "Email": person["email"][con],
        "LeadSource": leads.source[con],
        "Birthdate": np.where(
            rng.random(n_con) < 0.05,
            fmt_date(
                np.datetime64("1970-01-01") + rng.integers(0, 12000, n_con).astype("timedelta64[D]")
            ),
            "",
        ).astype(object),
        "CurrencyIsoCode": "EUR",
        "OwnerId": owner,
        "HasOptedOutOfEmail": "0",
        "HasOptedOutOfFax": "0",
        "DoNotCall": "0",
        "CreatedDate": created,
        "CreatedById": owner,
        "LastModifiedDate": created,
        "LastModifiedById": owner,
        "SystemModstamp": created,
    }
    return H_CONTACT, columns, n_con, {}
