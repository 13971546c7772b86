"""Marketing campaigns, their members, and the Primary Campaign Source of opportunities.

:func:`simulate_campaigns` schedules three to five campaigns per quarter;
:func:`simulate_memberships` lets leads join campaigns that run around their creation;
:func:`primary_campaigns` sets an opportunity's campaign far more often after the
unification (a measurement break); :func:`campaign_tables` writes ``CampaignMember``
and ``Campaign`` with roll-up counts computed from the members.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo.crm.export import (
    ExportTable,
    fmt_bool,
    fmt_date,
    fmt_datetime,
    fmt_number,
    new_ids,
)
from analysis.demo.crm.headers import H_CAMPAIGN, H_CAMPAIGN_MEMBER
from analysis.demo.crm.params import AS_OF, CAMPAIGN_TYPES, NULL_ID

#: Themes that campaign names are built from.
CAMPAIGN_THEMES = (
    "Industrie 4.0",
    "Digitale Fertigung",
    "MINT-Talente",
    "Hannover Messe",
    "Servicewelt",
)


@dataclass(frozen=True)
class Campaigns:
    """Campaigns ordered by start date."""

    starts: np.ndarray  # datetime64[D]
    types: np.ndarray
    ends: np.ndarray  # datetime64[D]
    ids: np.ndarray
    cost: np.ndarray

    @property
    def n(self) -> int:
        """Number of campaigns."""
        return len(self.starts)


@dataclass(frozen=True)
class Memberships:
    """Campaign members (one row per lead and campaign), ordered by creation."""

    lead: np.ndarray  # index into the leads
    campaign: np.ndarray  # index into the campaigns
    created: np.ndarray  # datetime64[s]
    responded: np.ndarray  # bool
    first_response: np.ndarray  # datetime64[D]

    @property
    def n(self) -> int:
        """Number of members."""
        return self.lead.size


def simulate_campaigns(rng: np.random.Generator, quarters: pd.DatetimeIndex) -> Campaigns:
    """Three to five campaigns per quarter, lasting one to three months.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    quarters : pandas.DatetimeIndex
        Quarter starts of the CRM's life.

    Returns
    -------
    Campaigns
    """
    starts, types = [], []
    for q in quarters:
        k = int(rng.integers(3, 6))
        for _ in range(k):
            starts.append(np.datetime64(q, "D") + int(rng.integers(0, 80)))
            types.append(CAMPAIGN_TYPES[int(rng.integers(0, len(CAMPAIGN_TYPES)))])
    starts = np.array(starts, dtype="datetime64[D]")
    order = np.argsort(starts, kind="stable")
    starts = starts[order]
    types = np.array(types, dtype=object)[order]
    n_camp = len(starts)
    ends = starts + rng.integers(30, 95, size=n_camp).astype("timedelta64[D]")
    ids = new_ids("701", n_camp, rng)
    cost = np.round(rng.gamma(2.0, 6000.0, size=n_camp), -1)
    return Campaigns(starts=starts, types=types, ends=ends, ids=ids, cost=cost)


def simulate_memberships(
    rng: np.random.Generator, campaigns: Campaigns, lead_created: np.ndarray, is_mql: np.ndarray
) -> Memberships:
    """Leads join campaigns running when they came in (or one of the last few before).

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    campaigns : Campaigns
        The scheduled campaigns.
    lead_created : numpy.ndarray
        Creation time of each lead.
    is_mql : numpy.ndarray
        Whether each lead is a marketing-qualified lead (joins and responds more).

    Returns
    -------
    Memberships
    """
    n_leads = lead_created.size
    lead_day = lead_created.astype("datetime64[D]")
    first_active = np.searchsorted(campaigns.ends, lead_day, side="left")
    n_memberships = rng.poisson(np.where(is_mql, 1.6, 0.9))
    hi = np.searchsorted(campaigns.starts, lead_day, side="right")
    lo = np.minimum(first_active, np.maximum(hi - 3, 0))
    width = hi - lo
    m_lead = np.repeat(np.arange(n_leads), np.where(width > 0, n_memberships, 0))
    m_camp = lo[m_lead] + np.floor(rng.random(m_lead.size) * width[m_lead]).astype(int)
    # A lead is a member of a campaign once.
    pairs = np.unique(np.stack([m_lead, m_camp], axis=1), axis=0)
    m_lead, m_camp = pairs[:, 0], pairs[:, 1]
    n_mem = m_lead.size
    mem_created = lead_created[m_lead] - rng.integers(0, 10 * 86400, n_mem).astype("timedelta64[s]")
    responded = rng.random(n_mem) < np.where(is_mql[m_lead], 0.7, 0.35)
    first_resp = (mem_created + rng.integers(0, 12 * 86400, n_mem).astype("timedelta64[s]")).astype(
        "datetime64[D]"
    )
    responded &= first_resp <= np.datetime64(AS_OF, "D")
    order = np.argsort(mem_created, kind="stable")
    return Memberships(
        lead=m_lead[order],
        campaign=m_camp[order],
        created=mem_created[order],
        responded=responded[order],
        first_response=first_resp[order],
    )


def primary_campaigns(
    rng: np.random.Generator,
    members: Memberships,
    campaigns: Campaigns,
    *,
    converted: np.ndarray,
    converted_at: np.ndarray,
    opp_post: np.ndarray,
    new_business: np.ndarray,
    lead_of_opp: np.ndarray,
) -> np.ndarray:
    """Primary Campaign Source of each opportunity (the null Id when unset).

    The campaign is the lead's last one responded to before converting; it is set
    far more often after the unification (Connected Campaigns were switched on then).

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    members, campaigns : Memberships, Campaigns
        Campaign membership of the leads.
    converted, converted_at : numpy.ndarray
        Per lead: converted by the snapshot, and when.
    opp_post, new_business, lead_of_opp : numpy.ndarray
        Per opportunity: created after the unification, from a lead, and which lead.

    Returns
    -------
    numpy.ndarray
        Campaign Id per opportunity.
    """
    n_opp = opp_post.size
    opp_campaign = np.full(n_opp, NULL_ID, dtype=object)
    last_resp: dict[int, int] = {}
    for lead_i, camp_i, resp, day in zip(
        members.lead, members.campaign, members.responded, members.first_response, strict=True
    ):
        if resp and (converted[lead_i] and day <= converted_at[lead_i].astype("datetime64[D]")):
            last_resp[int(lead_i)] = int(camp_i)
    fill_p = np.where(opp_post, 0.85, 0.3)
    fill = rng.random(n_opp) < fill_p
    for j in np.flatnonzero(new_business & fill):
        camp = last_resp.get(int(lead_of_opp[j]))
        if camp is not None:
            opp_campaign[j] = campaigns.ids[camp]
    return opp_campaign


def campaign_tables(
    rng: np.random.Generator,
    campaigns: Campaigns,
    members: Memberships,
    *,
    lead_ids: np.ndarray,
    contact_of_lead: np.ndarray,
    converted: np.ndarray,
    opp_campaign: np.ndarray,
    marketing_users: np.ndarray,
    as_of_end: np.datetime64,
) -> dict[str, ExportTable]:
    """``CampaignMember`` and ``Campaign`` (roll-up counts computed from the members).

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    campaigns, members : Campaigns, Memberships
        Campaigns and their members.
    lead_ids, contact_of_lead, converted : numpy.ndarray
        Per lead: Id, contact Id (null Id if none), converted.
    opp_campaign : numpy.ndarray
        Primary Campaign Source of each opportunity.
    marketing_users : numpy.ndarray
        Owners and creators.
    as_of_end : numpy.datetime64
        End of the snapshot day.

    Returns
    -------
    dict
        The two export tables.
    """
    m_lead, m_camp, responded = members.lead, members.campaign, members.responded
    creator = marketing_users[m_lead % marketing_users.size]
    member_columns = {
        "Id": new_ids("00v", members.n, rng),
        "IsDeleted": "0",
        "CampaignId": campaigns.ids[m_camp],
        "LeadId": lead_ids[m_lead],
        "ContactId": contact_of_lead[m_lead],
        "Status": np.where(
            responded,
            np.where(
                np.isin(campaigns.types[m_camp], ["Webinar", "Trade Show"]), "Attended", "Responded"
            ),
            "Sent",
        ).astype(object),
        "HasResponded": fmt_bool(responded),
        "IsPrimary": "0",
        "CreatedDate": fmt_datetime(members.created),
        "CreatedById": creator,
        "LastModifiedDate": fmt_datetime(members.created),
        "LastModifiedById": creator,
        "SystemModstamp": fmt_datetime(members.created),
        "FirstRespondedDate": np.where(responded, fmt_date(members.first_response), "").astype(
            object
        ),
        "CurrencyIsoCode": "EUR",
    }
    return {
        "CampaignMember": (H_CAMPAIGN_MEMBER, member_columns, members.n, {}),
        "Campaign": _campaign_table(
            rng, campaigns, members, converted, opp_campaign, marketing_users, as_of_end
        ),
    }


def _campaign_table(
    rng: np.random.Generator,
    campaigns: Campaigns,
    members: Memberships,
    converted: np.ndarray,
    opp_campaign: np.ndarray,
    marketing_users: np.ndarray,
    as_of_end: np.datetime64,
) -> ExportTable:
    n_camp, m_camp = campaigns.n, members.campaign
    n_leads_c = np.bincount(m_camp, minlength=n_camp)
    n_resp_c = np.bincount(m_camp, weights=members.responded, minlength=n_camp).astype(int)
    n_conv_c = np.bincount(m_camp, weights=converted[members.lead], minlength=n_camp).astype(int)
    camp_opp = np.array([c for c in opp_campaign if c != NULL_ID], dtype=object)
    camp_index = {c: i for i, c in enumerate(campaigns.ids)}
    n_opp_c = (
        np.bincount([camp_index[c] for c in camp_opp], minlength=n_camp)
        if camp_opp.size
        else np.zeros(n_camp, int)
    )
    snapshot = np.datetime64(AS_OF, "D")
    status_c = np.where(
        campaigns.ends < snapshot,
        "Completed",
        np.where(campaigns.starts > snapshot, "Planned", "In Progress"),
    ).astype(object)
    themes = rng.choice(list(CAMPAIGN_THEMES), n_camp)
    names = np.array(
        [
            f"{t} {s.astype('datetime64[M]')} {r}"
            for t, s, r in zip(campaigns.types, campaigns.starts, themes, strict=True)
        ],
        dtype=object,
    )
    created = (campaigns.starts - np.timedelta64(20, "D")).astype("datetime64[s]") + np.timedelta64(
        9 * 3600, "s"
    )
    modified = fmt_datetime(np.minimum(campaigns.ends.astype("datetime64[s]"), as_of_end))
    owner = marketing_users[np.arange(n_camp) % marketing_users.size]
    columns = {
        "Id": campaigns.ids,
        "IsDeleted": "0",
        "Name": names,
        "ParentId": NULL_ID,
        "Type": campaigns.types,
        "Status": status_c,
        "StartDate": fmt_date(campaigns.starts),
        "EndDate": fmt_date(campaigns.ends),
        "CurrencyIsoCode": "EUR",
        "BudgetedCost": fmt_number(np.round(campaigns.cost * 1.1, -2)),
        "ActualCost": fmt_number(np.where(status_c == "Completed", campaigns.cost, np.nan)),
        "ExpectedResponse": "10",
        "NumberSent": fmt_number(n_leads_c * 12.0, 0),
        "IsActive": fmt_bool(status_c != "Completed"),
        "Description": np.where(
            rng.random(n_camp) < 0.3, "Abgestimmt mit Frau Weber (Messeteam)", ""
        ).astype(object),
        "NumberOfLeads": n_leads_c.astype(str).astype(object),
        "NumberOfConvertedLeads": n_conv_c.astype(str).astype(object),
        "NumberOfContacts": "0",
        "NumberOfResponses": n_resp_c.astype(str).astype(object),
        "NumberOfOpportunities": np.asarray(n_opp_c).astype(str).astype(object),
        "OwnerId": owner,
        "CreatedDate": fmt_datetime(created),
        "CreatedById": owner,
        "LastModifiedDate": modified,
        "LastModifiedById": owner,
        "SystemModstamp": modified,
        "CampaignMemberRecordTypeId": NULL_ID,
    }
    return H_CAMPAIGN, columns, n_camp, {}
