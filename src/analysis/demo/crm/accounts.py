"""Accounts: migrated at go-live, then created from converted leads; and their export.

:func:`simulate_accounts` draws the accounts (names, industries, sizes, owners and
billing addresses, a few foreign, blank or broken) and which account each converted
lead went to; :func:`account_table` writes ``Account.csv`` (cp1252) with 40
merged-away duplicates and free text that must never reach a report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo.crm.export import ExportTable, fmt_datetime, fmt_number, new_ids
from analysis.demo.crm.headers import H_ACCOUNT
from analysis.demo.crm.leads import Leads
from analysis.demo.crm.org import Org
from analysis.demo.crm.params import GO_LIVE, INDUSTRIES, NULL_ID, CrmParameters
from analysis.demo.crm.people import (
    FIRST_NAMES,
    LAST_NAMES,
    MARKUP_NAMES,
    company_names,
    people,
    slug,
)

#: Merged-away duplicate accounts (deleted, ``MasterRecordId`` set).
N_MERGED_ACCOUNTS = 40
_SWISS = (("8001", "Zürich"), ("3011", "Bern"), ("4051", "Basel"), ("6003", "Luzern"))
_AUSTRIAN = (("1010", "Wien"), ("4020", "Linz"), ("5020", "Salzburg"))


@dataclass(frozen=True)
class Accounts:
    """The accounts in creation order (index = account number)."""

    n_migrated: int
    created: np.ndarray  # datetime64[s]
    ids: np.ndarray
    names: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    owner: np.ndarray
    plz: np.ndarray
    city: np.ndarray
    kreis: np.ndarray  # AGS of the billing postcode ("" when foreign, blank or unknown)
    country: np.ndarray
    country_code: np.ndarray
    currency: np.ndarray
    blank_plz: np.ndarray
    source: np.ndarray
    of_lead: np.ndarray  # account index per lead (-1 when the lead did not convert)

    @property
    def n(self) -> int:
        """Number of accounts (without merged duplicates)."""
        return self.ids.size


def plz_sampler(geo) -> tuple[pd.DataFrame, np.ndarray]:
    """Postcodes with weights (Kreis employees spread over the Kreis' postcodes).

    Parameters
    ----------
    geo : Geography
        ``geo.plz`` with ``plz, kreis_ags, ort, share``; ``geo.kreise`` with ``ags``
        and ``employees`` when available.

    Returns
    -------
    DataFrame
        ``plz, kreis_ags, ort, share``.
    numpy.ndarray
        Probabilities summing to one.
    """
    plz = geo.plz[["plz", "kreis_ags", "ort", "share"]].copy()
    weight = plz["share"].astype(float)
    kreise = getattr(geo, "kreise", None)
    if kreise is not None and "employees" in kreise.columns:
        employees = kreise.set_index("ags")["employees"].astype(float)
        per_plz = plz.groupby("kreis_ags")["plz"].transform("size").astype(float)
        weight = weight * plz["kreis_ags"].map(employees).fillna(0).to_numpy() / per_plz
    weight = weight.to_numpy(dtype=float)
    if weight.sum() <= 0:
        weight = np.ones(len(plz))
    return plz.reset_index(drop=True), weight / weight.sum()


def simulate_accounts(
    rng: np.random.Generator,
    params: CrmParameters,
    leads: Leads,
    org: Org,
    plz_table: pd.DataFrame,
    plz_weight: np.ndarray,
) -> Accounts:
    """Accounts migrated in the go-live week, then one per converted lead (80 %).

    A converted lead without a new account joins an account created before it.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    params : CrmParameters
        ``migrated_accounts``.
    leads : Leads
        The leads (conversions).
    org : Org
        Sales users (account owners).
    plz_table, plz_weight : DataFrame, numpy.ndarray
        Postcodes to draw billing addresses from (:func:`plz_sampler`).

    Returns
    -------
    Accounts
    """
    conv_idx = np.flatnonzero(leads.converted)
    new_account_for = conv_idx[rng.random(conv_idx.size) < 0.8]
    n_mig = params.migrated_accounts
    n_acc = n_mig + new_account_for.size
    created = np.empty(n_acc, dtype="datetime64[s]")
    created[:n_mig] = np.datetime64(GO_LIVE, "s") + rng.integers(0, 5 * 86400, n_mig).astype(
        "timedelta64[s]"
    )
    created[n_mig:] = leads.converted_at[new_account_for]
    order = np.argsort(created, kind="stable")
    # Ids follow creation order; remember where each converted lead's account went.
    created = created[order]
    rank = np.empty(n_acc, dtype=int)
    rank[order] = np.arange(n_acc)
    ids = new_ids("001", n_acc, rng)
    names = company_names(rng, n_acc)
    markup_at = rng.choice(n_acc, size=len(MARKUP_NAMES), replace=False)
    names[markup_at] = np.array(MARKUP_NAMES, dtype=object)
    industry = rng.choice(INDUSTRIES, size=n_acc).astype(object)
    employees = np.round(np.exp(rng.normal(5.0, 1.1, n_acc))).astype(int) + 5
    owner = org.sales_users[rng.integers(0, org.sales_users.size, n_acc)]
    address = _addresses(rng, n_acc, plz_table, plz_weight)
    source = np.where(np.arange(n_acc) < n_mig, "Altsystem", "").astype(object)

    # Lead -> account mapping (existing accounts are picked among older ones).
    lead_account = np.full(leads.n, -1, dtype=int)
    is_new = np.zeros(leads.n, dtype=bool)
    is_new[new_account_for] = True
    lead_account[new_account_for] = rank[n_mig + np.arange(new_account_for.size)]
    old_for = conv_idx[~is_new[conv_idx]]
    n_before = np.searchsorted(created, leads.converted_at[old_for], side="left")
    lead_account[old_for] = np.floor(rng.random(old_for.size) * np.maximum(n_before, 1)).astype(int)
    for i in new_account_for:  # an account created from a lead keeps its source
        source[lead_account[i]] = leads.source[i]
    return Accounts(
        n_migrated=n_mig,
        created=created,
        ids=ids,
        names=names,
        industry=industry,
        employees=employees,
        owner=owner,
        source=source,
        of_lead=lead_account,
        **address,
    )


def _addresses(
    rng: np.random.Generator, n_acc: int, plz_table: pd.DataFrame, plz_weight: np.ndarray
) -> dict[str, np.ndarray]:
    """Billing addresses: German by weight; a few Swiss, Austrian, blank or broken."""
    pick = rng.choice(len(plz_table), size=n_acc, p=plz_weight)
    plz = plz_table["plz"].to_numpy(dtype=object)[pick].copy()
    city = plz_table["ort"].to_numpy(dtype=object)[pick].copy()
    kreis = plz_table["kreis_ags"].to_numpy(dtype=object)[pick].copy()
    country = rng.choice(
        np.array(["Deutschland", "Germany", "DE", "Deutschland"], dtype=object), size=n_acc
    )
    country_code = np.full(n_acc, "DE", dtype=object)
    currency = np.full(n_acc, "EUR", dtype=object)
    kind = rng.random(n_acc)
    swiss = kind < 0.05
    austrian = (kind >= 0.05) & (kind < 0.07)
    blank_plz = (kind >= 0.07) & (kind < 0.10)
    broken_plz = (kind >= 0.10) & (kind < 0.13)
    for mask, places, name, code, curr in (
        (swiss, _SWISS, "Schweiz", "CH", "CHF"),
        (austrian, _AUSTRIAN, "Österreich", "AT", "EUR"),
    ):
        which = rng.integers(0, len(places), size=mask.sum())
        plz[mask] = np.array([places[i][0] for i in which], dtype=object)
        city[mask] = np.array([places[i][1] for i in which], dtype=object)
        country[mask] = name
        country_code[mask] = code
        currency[mask] = curr
        kreis[mask] = ""
    plz[blank_plz] = ""
    kreis[blank_plz] = ""
    # Broken postcodes: a leading zero lost in Excel, a "D-" prefix, the city in the field.
    for j, i in enumerate(np.flatnonzero(broken_plz)):
        code = plz[i]
        style = j % 3
        if style == 0:
            plz[i] = code.lstrip("0") or code[1:]
        elif style == 1:
            plz[i] = f"D-{code}"
        else:
            plz[i] = f"{code} {city[i]}"
    return {
        "plz": plz,
        "city": city,
        "kreis": kreis,
        "country": country,
        "country_code": country_code,
        "currency": currency,
        "blank_plz": blank_plz,
    }


def account_table(
    rng: np.random.Generator,
    acc: Accounts,
    is_customer: np.ndarray,
    admin_id: str,
    as_of_end: np.datetime64,
) -> ExportTable:
    """The ``Account`` export (cp1252), live accounts then merged-away duplicates.

    A duplicate is a second spelling of an existing account, deleted, with
    ``MasterRecordId`` pointing at the survivor.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    acc : Accounts
        The accounts (after the champion renaming).
    is_customer : numpy.ndarray
        Per account: has won a deal (``Type`` is ``Customer``, else ``Prospect``).
    admin_id : str
        Creator of migrated accounts and last modifier.
    as_of_end : numpy.datetime64
        End of the snapshot day.

    Returns
    -------
    tuple
        The export table.
    """
    n_acc = acc.n
    acc_type = np.where(is_customer, "Customer", "Prospect").astype(object)
    modified = np.minimum(
        acc.created + rng.integers(0, 400 * 86400, n_acc).astype("timedelta64[s]"), as_of_end
    )
    masters, merged = _merged_duplicates(rng, acc, acc_type, as_of_end)
    live = {
        "Id": acc.ids,
        "IsDeleted": "0",
        "MasterRecordId": NULL_ID,
        "Name": acc.names,
        "Type": acc_type,
        **_account_details(rng, acc),
        "CreatedDate": fmt_datetime(acc.created),
        "CreatedById": np.where(np.arange(n_acc) < acc.n_migrated, admin_id, acc.owner).astype(
            object
        ),
        "LastModifiedDate": fmt_datetime(modified),
        "Kundennummer__c": np.array([f"K-{100000 + i}" for i in range(n_acc)], dtype=object),
    }
    for name, values in (
        ("BillingCity", acc.city),
        ("BillingPostalCode", acc.plz),
        ("BillingCountry", acc.country),
        ("CurrencyIsoCode", acc.currency),
        ("OwnerId", acc.owner),
        ("AccountSource", acc.source),
    ):
        live[name], merged[name] = values, values[masters]
    columns = {
        name: np.concatenate(
            [_column(live[name], n_acc), _column(merged.get(name, ""), N_MERGED_ACCOUNTS)]
        )
        for name in live
    }
    columns["SystemModstamp"] = columns["LastModifiedDate"]
    columns.update(
        {
            "ParentId": NULL_ID,
            "LastModifiedById": admin_id,
            "IsExcludedFromRealign": "0",
            "OperatingHoursId": NULL_ID,
        }
    )
    return H_ACCOUNT, columns, n_acc + N_MERGED_ACCOUNTS, {"encoding": "cp1252"}


def _merged_duplicates(
    rng: np.random.Generator, acc: Accounts, acc_type: np.ndarray, as_of_end: np.datetime64
) -> tuple[np.ndarray, dict[str, object]]:
    """Accounts that have a merged-away duplicate, and the duplicates' own columns."""
    n_acc = acc.n
    masters = rng.choice(n_acc, size=N_MERGED_ACCOUNTS, replace=False)
    dup_names = np.array(
        [
            n.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
            if any(c in n for c in "üöäß")
            else n.replace(" GmbH", " Gmbh").replace(" AG", " Aktiengesellschaft")
            for n in acc.names[masters]
        ],
        dtype=object,
    )
    dup_created = acc.created[masters] + rng.integers(1, 200 * 86400, N_MERGED_ACCOUNTS).astype(
        "timedelta64[s]"
    )
    dup_created = np.minimum(dup_created, as_of_end)
    merged = {
        "Id": new_ids("001", N_MERGED_ACCOUNTS, rng),
        "IsDeleted": "1",
        "MasterRecordId": acc.ids[masters],
        "Name": dup_names,
        "Type": acc_type[masters],
        "BillingCountryCode": acc.country_code[masters],
        "Industry": acc.industry[masters],
        "CreatedDate": fmt_datetime(dup_created),
        "CreatedById": acc.owner[masters],
        "LastModifiedDate": fmt_datetime(dup_created),
    }
    return masters, merged


def _column(values: object, n: int) -> np.ndarray:
    """``values`` as an object array of ``n`` rows (a string repeats)."""
    if isinstance(values, str):
        return np.full(n, values, dtype=object)
    return np.asarray(values, dtype=object)


def _account_details(rng: np.random.Generator, acc: Accounts) -> dict[str, np.ndarray]:
    """Street, phone, web site, industry, size and notes of the live accounts."""
    n_acc = acc.n
    street = [
        f"{s}straße {n}"
        for s, n in zip(rng.choice(LAST_NAMES, n_acc), rng.integers(1, 120, n_acc), strict=True)
    ]
    country_code = np.where(acc.blank_plz & (rng.random(n_acc) < 0.5), "", acc.country_code)
    phone = [
        f"+49 {a} {b}0"
        for a, b in zip(
            rng.integers(30, 999, n_acc), rng.integers(10000, 99999, n_acc), strict=True
        )
    ]
    details = {
        "BillingStreet": np.array(street, dtype=object),
        "BillingCountryCode": country_code.astype(object),
        "Phone": np.array(phone, dtype=object),
        "Website": np.array(
            [f"https://www.{slug(n.split(' ')[0])}.example" for n in acc.names], dtype=object
        ),
        "Industry": np.where(rng.random(n_acc) < 0.12, "", acc.industry).astype(object),
        "AnnualRevenue": fmt_number(
            np.where(rng.random(n_acc) < 0.4, np.nan, acc.employees * 180000.0)
        ),
        "NumberOfEmployees": np.where(
            rng.random(n_acc) < 0.2, "", acc.employees.astype(str)
        ).astype(object),
    }
    noted = rng.random(n_acc) < 0.15
    notes = [
        f"Ansprechpartner {f} {s}, Tel. {p}"
        for f, s, p in zip(
            rng.choice(FIRST_NAMES, n_acc),
            rng.choice(LAST_NAMES, n_acc),
            people(rng, n_acc, acc.names)["phone"],
            strict=True,
        )
    ]
    details["Description"] = np.where(noted, np.array(notes, dtype=object), "").astype(object)
    return details
