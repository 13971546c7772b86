"""Pardot prospect exports: synced prospects (export API) and never-synced ones (UI).

:func:`prospect_tables` writes ``pardot/prospects_export_api.csv`` (snake_case
headers, quoted values with bare empty fields, times in Europe/Berlin) for the leads
that have a prospect, and ``pardot/prospects_export_ui.csv`` (UTF-8 BOM, label
headers, ``MM/DD/YYYY``) for prospects never synced to Salesforce, so the two files
do not overlap.
"""

from __future__ import annotations

import numpy as np

from analysis.demo.crm.export import ExportTable, berlin_wall_time, fmt_bool, fmt_datetime
from analysis.demo.crm.headers import H_PARDOT_API, H_PARDOT_UI
from analysis.demo.crm.leads import LeadPeople, Leads
from analysis.demo.crm.params import MQL_SCORE, NULL_ID, VOLUME_SEASON
from analysis.demo.crm.people import company_names, people
from analysis.demo.crm.timeline import Clock, random_times

#: Prospects in the UI export (never synced to Salesforce).
N_UI_PROSPECTS = 2000


def prospect_tables(
    rng: np.random.Generator,
    leads: Leads,
    who: LeadPeople,
    *,
    lead_columns: dict[str, np.ndarray],
    lead_account: np.ndarray,
    account_ids: np.ndarray,
    clock: Clock,
) -> dict[str, ExportTable]:
    """The two Pardot exports: every MQL and most other leads (API), 2,000 more (UI).

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    leads, who : Leads, LeadPeople
        The leads and their people.
    lead_columns : dict
        The ``Lead`` export's columns (job title and industry as written there).
    lead_account : numpy.ndarray
        Account index per lead (-1 when not converted).
    account_ids : numpy.ndarray
        Account Ids.
    clock : Clock
        The CRM's months and the snapshot.

    Returns
    -------
    dict
        ``pardot/prospects_export_api`` and ``pardot/prospects_export_ui``.
    """
    has_prospect = leads.is_mql | (rng.random(leads.n) < 0.7)
    pr_leads = np.flatnonzero(has_prospect)
    n_pr = pr_leads.size
    score = np.where(
        leads.is_mql[pr_leads],
        MQL_SCORE + np.round(rng.gamma(2.0, 60.0, n_pr)),
        rng.integers(0, MQL_SCORE, n_pr),
    ).astype(int)
    created_utc = leads.created[pr_leads] - rng.integers(60, 3 * 3600, n_pr).astype(
        "timedelta64[s]"
    )
    pr_ids = np.sort(
        rng.choice(np.arange(4_000_000, 9_000_000), size=n_pr + N_UI_PROSPECTS, replace=False)
    )
    api_ids = pr_ids[:n_pr][np.argsort(np.argsort(created_utc, kind="stable"), kind="stable")]
    person = who.person
    columns = {
        "id": api_ids.astype(str).astype(object),
        "campaign_id": rng.integers(1000, 1040, n_pr).astype(str).astype(object),
        "salutation": person["salutation"][pr_leads],
        "first_name": person["first"][pr_leads],
        "last_name": person["last"][pr_leads],
        "email": person["email"][pr_leads],
        "company": who.company[pr_leads],
        "job_title": lead_columns["Title"][pr_leads],
        "country": who.country[pr_leads],
        "city": who.city[pr_leads],
        "zip": who.plz[pr_leads],
        "phone": person["phone"][pr_leads],
        "source": leads.source[pr_leads],
        "industry": lead_columns["Industry"][pr_leads],
        "comments": np.where(
            rng.random(n_pr) < 0.1, "Bitte nur per E-Mail kontaktieren", ""
        ).astype(object),
        "score": score.astype(str).astype(object),
        **_sync_fields(rng, pr_leads, leads, who, lead_account, account_ids, created_utc, clock),
    }
    return {
        "pardot/prospects_export_api": (H_PARDOT_API, columns, n_pr, {"quoting": "values"}),
        "pardot/prospects_export_ui": _ui_table(rng, pr_ids[n_pr:], clock),
    }


def _sync_fields(
    rng: np.random.Generator,
    pr_leads: np.ndarray,
    leads: Leads,
    who: LeadPeople,
    lead_account: np.ndarray,
    account_ids: np.ndarray,
    created_utc: np.ndarray,
    clock: Clock,
) -> dict[str, np.ndarray]:
    """Activity, Salesforce sync and opt-out fields of the synced prospects."""
    n_pr = pr_leads.size
    berlin = berlin_wall_time(created_utc)
    as_of_end = clock.as_of_end
    contact = who.contact_of_lead[pr_leads]
    account = lead_account[pr_leads]
    return {
        "last_activity_at": fmt_datetime(
            np.minimum(
                berlin + rng.integers(0, 90 * 86400, n_pr).astype("timedelta64[s]"), as_of_end
            )
        ),
        "crm_lead_fid": leads.ids[pr_leads],
        "crm_contact_fid": np.where(contact == NULL_ID, "", contact).astype(object),
        "crm_owner_fid": leads.owner[pr_leads],
        "crm_account_fid": np.where(account >= 0, account_ids[np.maximum(account, 0)], "").astype(
            object
        ),
        "crm_last_sync": fmt_datetime(np.minimum(berlin + np.timedelta64(600, "s"), as_of_end)),
        "crm_url": np.array(
            [f"https://demo-software.my.salesforce.com/{i}" for i in leads.ids[pr_leads]],
            dtype=object,
        ),
        "is_do_not_email": "0",
        "is_do_not_call": "0",
        "opted_out": fmt_bool(rng.random(n_pr) < 0.04),
        "is_reviewed": fmt_bool(rng.random(n_pr) < 0.5),
        "is_starred": "0",
        "created_at": fmt_datetime(berlin),
        "updated_at": fmt_datetime(
            np.minimum(
                berlin + rng.integers(0, 200 * 86400, n_pr).astype("timedelta64[s]"), as_of_end
            )
        ),
    }


def _ui_table(rng: np.random.Generator, prospect_ids: np.ndarray, clock: Clock) -> ExportTable:
    """The UI export of prospects never synced to Salesforce."""
    n_ui = N_UI_PROSPECTS
    season = VOLUME_SEASON[clock.moy]
    created = random_times(rng, clock.months.values, rng.multinomial(n_ui, season / season.sum()))
    created = np.sort(np.minimum(created, clock.as_of_end))
    companies = company_names(rng, n_ui)
    person = people(rng, n_ui, companies)
    days = created.astype("datetime64[D]").astype(object)
    us_dates = np.array([f"{d.month:02d}/{d.day:02d}/{d.year}" for d in days], dtype=object)
    columns = {
        "Prospect Id": prospect_ids.astype(str).astype(object),
        "First Name": person["first"],
        "Last Name": person["last"],
        "Email": person["email"],
        "Company": companies,
        "Last Activity Date": us_dates,
        "Campaign": rng.choice(
            np.array(["Website", "Hannover Messe", "Newsletter", "Partner Collabs"], dtype=object),
            n_ui,
        ),
        "Score": rng.integers(0, 60, n_ui).astype(str).astype(object),
        "Grade": rng.choice(np.array(["", "D", "D-", "C", "C+", "B-"], dtype=object), n_ui),
        "Job Title": "",
        "Country": "Germany",
        "City": "",
        "Source": rng.choice(
            np.array(["", "Website", "Marketing Event", "Google AdWords"], dtype=object), n_ui
        ),
        "Industry": "",
        "Do Not Email": np.where(rng.random(n_ui) < 0.05, "TRUE", "FALSE").astype(object),
        "Created Date": us_dates,
        "Owner": "",
        "Lifecycle Stage": "1.) Lead",
        "Created by Marketing": "TRUE",
    }
    return H_PARDOT_UI, columns, n_ui, {"quoting": "minimal", "bom": True}
