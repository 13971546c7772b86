"""The CRM simulation in stages, and the part's entry point :func:`write_part`.

:func:`simulate` runs the stages in the order they draw from the part's generator
(the order fixes the bytes of every file, so it must not change): org setup
(users, currencies, stages), campaigns, leads, accounts, opportunities, campaign
members, champion customers (their own stream), lead people, then the export
tables (accounts, history, opportunities, leads, contacts, campaigns) and the
Pardot prospects.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.demo.crm.accounts import Accounts, account_table, plz_sampler, simulate_accounts
from analysis.demo.crm.campaigns import (
    Campaigns,
    Memberships,
    campaign_tables,
    primary_campaigns,
    simulate_campaigns,
    simulate_memberships,
)
from analysis.demo.crm.champions import link_champions, read_champions
from analysis.demo.crm.export import ExportTable, write_csv
from analysis.demo.crm.history import history_rows
from analysis.demo.crm.leads import (
    LeadPeople,
    Leads,
    contact_table,
    lead_people,
    lead_table,
    simulate_leads,
)
from analysis.demo.crm.opportunities import (
    Opportunities,
    history_table,
    opportunity_table,
    simulate_opportunities,
)
from analysis.demo.crm.org import Org, Rates, currencies, stage_table, users_and_roles
from analysis.demo.crm.params import NULL_ID, CrmParameters
from analysis.demo.crm.pardot import prospect_tables
from analysis.demo.crm.timeline import Clock, clock
from analysis.demo.crm.truth import truths


@dataclass
class Tables:
    """Raw export tables: object name -> (header, columns, row count, options)."""

    files: dict[str, ExportTable]
    truth: dict


@dataclass(frozen=True)
class _Business:
    """What the simulation stages produced, before the export tables are built."""

    org: Org
    campaigns: Campaigns
    leads: Leads
    acc: Accounts
    opps: Opportunities
    members: Memberships
    opp_campaign: np.ndarray
    who: LeadPeople
    champion_truth: dict


def simulate(
    geo, seed: int, params: CrmParameters | None = None, champions: pd.DataFrame | None = None
) -> Tables:
    """Simulate the CRM of the demo company (see :mod:`analysis.demo.crm`).

    Parameters
    ----------
    geo : Geography
        The demo geography (``geo.plz`` with ``plz, kreis_ags, ort, share``; if
        ``geo.kreise`` has ``ags`` and ``employees``, accounts follow employment).
    seed : int
        Demo seed; the part's generator is seeded with ``(seed, crc32("crm"))``.
    params : CrmParameters, optional
        The generating process's parameters (defaults are the documented truths).
    champions : DataFrame, optional
        The demo firm list (``firm_id, name, plz, city``; :func:`read_champions`):
        some become customers under other spellings (see :func:`link_champions`).

    Returns
    -------
    Tables
        Export tables ready to write, and the truth dictionary.
    """
    params = params or CrmParameters()
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(b"crm")]))
    time = clock()
    org, tables = users_and_roles(rng)
    files = dict(tables)
    rates, tables = currencies(rng, org.admin_id)
    files.update(tables)
    files["OpportunityStage"] = stage_table(rng, org.admin_id)
    biz = _simulate_business(rng, params, time, org, rates, geo, seed, champions)
    hist = _export_tables(rng, biz, time, files)
    truth = truths(params)
    truth.update(_realised(files, biz, hist))
    truth.update(biz.champion_truth)
    return Tables(files=files, truth=truth)


def _simulate_business(
    rng: np.random.Generator,
    params: CrmParameters,
    time: Clock,
    org: Org,
    rates: Rates,
    geo,
    seed: int,
    champions: pd.DataFrame | None,
) -> _Business:
    """Campaigns, leads, accounts, opportunities, members, champion customers, people."""
    campaigns = simulate_campaigns(rng, rates.quarters)
    leads = simulate_leads(rng, params, time, org)
    plz_table, plz_weight = plz_sampler(geo)
    acc = simulate_accounts(rng, params, leads, org, plz_table, plz_weight)
    opps = simulate_opportunities(rng, params, time, rates, leads, acc)
    members = simulate_memberships(rng, campaigns, leads.created, leads.is_mql)
    opp_campaign = primary_campaigns(
        rng,
        members,
        campaigns,
        converted=leads.converted,
        converted_at=leads.converted_at,
        opp_post=opps.post,
        new_business=opps.new_business,
        lead_of_opp=opps.lead,
    )
    won_live = np.zeros(acc.n, dtype=bool)
    won_live[opps.account[opps.is_won & ~opps.deleted]] = True
    names, plz, city, champion_truth = link_champions(
        champions,
        geo,
        seed,
        names=acc.names,
        plz=acc.plz,
        city=acc.city,
        kreis=acc.kreis,
        country_code=acc.country_code,
        is_customer=won_live,
        ids=acc.ids,
    )
    acc = replace(acc, names=names, plz=plz, city=city)
    who = lead_people(
        rng, leads, acc.of_lead, acc.names, acc.plz, acc.city, acc.country, plz_table, plz_weight
    )
    return _Business(org, campaigns, leads, acc, opps, members, opp_campaign, who, champion_truth)


def _export_tables(
    rng: np.random.Generator, biz: _Business, time: Clock, files: dict[str, ExportTable]
) -> dict:
    """Add the business tables to ``files`` (in drawing order); returns the history."""
    org, leads, acc, opps, who = biz.org, biz.leads, biz.acc, biz.opps, biz.who
    # The account moves to "Customer" once it wins a deal (deleted or not).
    won_any = np.zeros(acc.n, dtype=bool)
    won_any[opps.account[opps.is_won]] = True
    files["Account"] = account_table(rng, acc, won_any, org.admin_id, time.as_of_end)
    hist = history_rows(
        rng,
        created=opps.created,
        close_date=opps.close_date,
        is_closed=opps.is_closed,
        is_won=opps.is_won,
        amount=opps.amount,
        cycle_days=opps.cycle_days,
        as_of_end=time.as_of_end,
        unif=time.unif,
    )
    files["Opportunity"] = opportunity_table(
        rng,
        opps,
        hist,
        account_names=acc.names,
        account_ids=acc.ids,
        opp_campaign=biz.opp_campaign,
        contact_of_lead=who.contact_of_lead,
        as_of_end=time.as_of_end,
    )
    files["OpportunityHistory"] = history_table(rng, opps, hist)
    opp_of_lead = np.full(leads.n, NULL_ID, dtype=object)
    opp_pos = np.flatnonzero(opps.new_business)
    opp_of_lead[opps.lead[opp_pos]] = opps.ids[opp_pos]
    files["Lead"] = lead_table(
        rng,
        leads,
        who,
        lead_account=acc.of_lead,
        account_ids=acc.ids,
        opp_of_lead=opp_of_lead,
        admin_id=org.admin_id,
        as_of_end=time.as_of_end,
    )
    files["Contact"] = contact_table(rng, leads, who, acc.of_lead, acc.ids)
    files.update(
        campaign_tables(
            rng,
            biz.campaigns,
            biz.members,
            lead_ids=leads.ids,
            contact_of_lead=who.contact_of_lead,
            converted=leads.converted,
            opp_campaign=biz.opp_campaign,
            marketing_users=org.marketing_users,
            as_of_end=time.as_of_end,
        )
    )
    files.update(
        prospect_tables(
            rng,
            leads,
            who,
            lead_columns=files["Lead"][1],
            lead_account=acc.of_lead,
            account_ids=acc.ids,
            clock=time,
        )
    )
    return hist


def _realised(files: dict[str, ExportTable], biz: _Business, hist: dict) -> dict:
    """Counts of the written tables and the Kreise of live customers."""
    opps, leads, kreis = biz.opps, biz.leads, biz.acc.kreis
    n_rows = {name: table[2] for name, table in files.items()}
    live_won = np.unique(opps.account[opps.is_won & ~opps.deleted])
    return {
        "counts": {
            "accounts": int(n_rows["Account"]),
            "opportunities": int(opps.n),
            "opportunities_deleted": int(opps.deleted.sum()),
            "opportunities_open": int((~opps.is_closed).sum()),
            "opportunity_history": int(n_rows["OpportunityHistory"]),
            "history_rows_repeating_stage": int(hist["n_repeat"]),
            "leads": int(leads.n),
            "campaigns": int(biz.campaigns.n),
            "campaign_members": int(biz.members.n),
            "prospects_api": int(n_rows["pardot/prospects_export_api"]),
            "prospects_ui": int(n_rows["pardot/prospects_export_ui"]),
            "duplicate_id_rows": {
                "Opportunity.csv": int(n_rows["Opportunity"] - opps.n),
                "Lead.csv": int(n_rows["Lead"] - leads.n),
            },
            "merged_accounts": int(n_rows["Account"] - kreis.size),
        },
        "customer_account_kreise": sorted({k for k in kreis[live_won] if k}),
    }


def write_part(out: Path, geo, seed: int) -> dict:
    """Write the CRM part of the demo dataset into ``out/crm``.

    Parameters
    ----------
    out : Path
        Root of the demo dataset (``out/crm/`` is created).
    geo : Geography
        The demo geography (postcodes of the accounts).
    seed : int
        Demo seed.

    Returns
    -------
    dict
        Truths for ``TRUTH.json["crm"]`` (see :func:`truths`), plus realised counts.
    """
    tables = simulate(geo, seed, champions=read_champions(Path(out)))
    folder = Path(out) / "crm"
    (folder / "pardot").mkdir(parents=True, exist_ok=True)
    for name, (header, columns, n, options) in tables.files.items():
        write_csv(folder / f"{name}.csv", header, columns, n, **options)
    return tables.truth
