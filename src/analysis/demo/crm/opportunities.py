"""Opportunities: from converted leads and existing accounts; outcome, amount, exports.

:func:`simulate_opportunities` creates the deals, their time to close (Gamma,
shorter after the unification), the outcome (won with the month's probability from
:func:`~analysis.demo.crm.timeline.win_probabilities`) and the amount;
:func:`opportunity_table` and :func:`history_table` write ``Opportunity`` and
``OpportunityHistory`` from the final state the stage history
(:func:`~analysis.demo.crm.history.history_rows`) leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.demo.crm.accounts import Accounts
from analysis.demo.crm.export import (
    ExportTable,
    append_stale_duplicates,
    fmt_bool,
    fmt_date,
    fmt_datetime,
    fmt_number,
    new_ids,
)
from analysis.demo.crm.headers import H_HISTORY, H_OPPORTUNITY
from analysis.demo.crm.leads import Leads
from analysis.demo.crm.org import Rates
from analysis.demo.crm.params import (
    AS_OF,
    GO_LIVE,
    NULL_ID,
    PRODUCTS,
    STAGE_BY_NAME,
    VOLUME_SEASON,
    CrmParameters,
)
from analysis.demo.crm.people import LAST_NAMES, people
from analysis.demo.crm.timeline import Clock, month_index, random_times, win_probabilities

#: Reasons a lost deal gives (blank: not filled in).
LOSS_REASONS = ("Preis", "Wettbewerb", "Kein Budget", "Keine Entscheidung", "")
#: Stale field values of the duplicated Opportunity rows (an earlier export run).
STALE_OPPORTUNITY = {
    "StageName": "Prospecting",
    "StageSortOrder": "1",
    "Probability": "10",
    "IsClosed": "0",
    "IsWon": "0",
    "ForecastCategory": "Pipeline",
    "ForecastCategoryName": "Pipeline",
}


@dataclass(frozen=True)
class Opportunities:
    """The opportunities in creation order, as simulated (before the stage history)."""

    created: np.ndarray  # datetime64[s]
    account: np.ndarray  # account index
    lead: np.ndarray  # lead index (-1: from an existing account)
    ids: np.ndarray
    type: np.ndarray
    post: np.ndarray  # created on/after the unification
    cycle_days: np.ndarray
    close_date: np.ndarray  # datetime64[D]
    is_closed: np.ndarray
    is_won: np.ndarray
    amount: np.ndarray  # in the opportunity's currency
    currency: np.ndarray
    owner: np.ndarray
    source: np.ndarray
    deleted: np.ndarray

    @property
    def n(self) -> int:
        """Number of opportunities."""
        return self.created.size

    @property
    def new_business(self) -> np.ndarray:
        """Whether each opportunity came from a converted lead."""
        return self.lead >= 0


def simulate_opportunities(
    rng: np.random.Generator,
    params: CrmParameters,
    clock: Clock,
    rates: Rates,
    leads: Leads,
    acc: Accounts,
) -> Opportunities:
    """Deals from converted leads (New Business) and from existing accounts.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    params : CrmParameters
        Volumes, cycle times and the win-rate model.
    clock : Clock
        The CRM's months and the snapshot.
    rates : Rates
        CHF rates (amounts of Swiss accounts).
    leads : Leads
        The leads (conversions with an opportunity).
    acc : Accounts
        The accounts (creation times, currencies, owners).

    Returns
    -------
    Opportunities
    """
    months = clock.months
    opp_lead = np.flatnonzero(leads.converted_with_opp)
    direct_created, direct_account = _direct_opportunities(rng, params, clock, acc)
    n_direct = direct_created.size
    created = np.concatenate(
        [leads.converted_at[opp_lead] + np.timedelta64(60, "s"), direct_created]
    )
    account = np.concatenate([acc.of_lead[opp_lead], direct_account])
    from_lead = np.concatenate([opp_lead, np.full(n_direct, -1)])
    order = np.argsort(created, kind="stable")
    created, account, from_lead = created[order], account[order], from_lead[order]
    n_opp = created.size
    ids = new_ids("006", n_opp, rng)
    new_business = from_lead >= 0
    opp_type = np.where(new_business, "New Business", "Existing Business").astype(object)
    opp_type = np.where(rng.random(n_opp) < 0.15, "", opp_type).astype(object)
    post = created >= clock.unif
    scale = np.where(post, params.cycle_scale_post, params.cycle_scale_pre)
    cycle_days = rng.gamma(params.cycle_shape, scale)
    close_dt = created + (cycle_days * 86400).astype("int64").astype("timedelta64[s]")
    close_date = close_dt.astype("datetime64[D]")
    is_closed = close_date <= np.datetime64(AS_OF, "D")
    p_month = win_probabilities(params, months, rng)
    close_m = np.clip(month_index(close_date, GO_LIVE), 0, len(months) - 1)
    is_won = is_closed & (rng.random(n_opp) < p_month[close_m])
    amount_eur = np.round(
        np.exp(rng.normal(np.where(new_business, np.log(22000), np.log(12000)), 0.8)), -1
    )
    currency = acc.currency[account]
    rate_date = np.where(is_closed, close_date, np.datetime64(AS_OF, "D"))
    rate = np.where(currency == "CHF", rates.chf_rate_at(rate_date), 1.0)
    lead_source = np.where(new_business, leads.source[np.maximum(from_lead, 0)], "").astype(object)
    direct_source = rng.choice(
        np.array(["", "", "", "Existing Customer", "Partner Referral"], dtype=object), size=n_opp
    )
    return Opportunities(
        created=created,
        account=account,
        lead=from_lead,
        ids=ids,
        type=opp_type,
        post=post,
        cycle_days=cycle_days,
        close_date=close_date,
        is_closed=is_closed,
        is_won=is_won,
        amount=np.round(amount_eur * rate, 0),
        currency=currency,
        owner=acc.owner[account].copy(),
        source=np.where(new_business, lead_source, direct_source).astype(object),
        deleted=rng.random(n_opp) < params.share_deleted,
    )


def _direct_opportunities(
    rng: np.random.Generator, params: CrmParameters, clock: Clock, acc: Accounts
) -> tuple[np.ndarray, np.ndarray]:
    """Creation times and accounts of deals with existing accounts (an older account)."""
    direct_counts = rng.poisson(params.direct_opportunities_per_month * VOLUME_SEASON[clock.moy])
    direct_created = random_times(rng, clock.months.values, direct_counts)
    direct_created = direct_created[direct_created <= clock.as_of_end]
    direct_account = np.floor(
        rng.random(direct_created.size)
        * np.maximum(np.searchsorted(acc.created, direct_created, side="left"), 1)
    ).astype(int)
    return direct_created, direct_account


def opportunity_table(
    rng: np.random.Generator,
    opps: Opportunities,
    hist: dict,
    *,
    account_names: np.ndarray,
    account_ids: np.ndarray,
    opp_campaign: np.ndarray,
    contact_of_lead: np.ndarray,
    as_of_end: np.datetime64,
) -> ExportTable:
    """The ``Opportunity`` export: final state, free text, three stale duplicate Ids.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    opps : Opportunities
        The opportunities.
    hist : dict
        Their stage history (:func:`~analysis.demo.crm.history.history_rows`).
    account_names, account_ids : numpy.ndarray
        The accounts' names and Ids.
    opp_campaign : numpy.ndarray
        Primary Campaign Source per opportunity.
    contact_of_lead : numpy.ndarray
        Contact Id per lead.
    as_of_end : numpy.datetime64
        End of the snapshot day.

    Returns
    -------
    tuple
        The export table (the stale copies appended).
    """
    n_opp, is_closed = opps.n, opps.is_closed
    final_stage, final_close = hist["final_stage"], hist["final_close"]
    modified = np.minimum(
        hist["last_change"] + rng.integers(0, 3 * 86400, n_opp).astype("timedelta64[s]"), as_of_end
    )
    texts = _opportunity_texts(rng, opps, account_names)
    columns = {
        "Id": opps.ids,
        "IsDeleted": fmt_bool(opps.deleted),
        "AccountId": account_ids[opps.account],
        "IsPrivate": "0",
        **texts,
        **_final_state(final_stage, final_close, hist["final_amount"]),
        "Type": opps.type,
        "NextStep": np.where(
            ~is_closed & (rng.random(n_opp) < 0.5), "Termin mit Einkauf vereinbaren", ""
        ).astype(object),
        "LeadSource": opps.source,
        "IsClosed": fmt_bool(is_closed),
        "IsWon": fmt_bool(opps.is_won),
        "CurrencyIsoCode": opps.currency,
        "CampaignId": opp_campaign,
        "OwnerId": opps.owner,
        "CreatedDate": fmt_datetime(opps.created),
        "CreatedById": opps.owner,
        "LastModifiedDate": fmt_datetime(modified),
        "LastModifiedById": opps.owner,
        "SystemModstamp": fmt_datetime(modified),
        "LastActivityDate": fmt_date(np.minimum(hist["last_change"], as_of_end)),
        "LastStageChangeDate": fmt_datetime(hist["last_stage_change"]),
        "ContactId": np.where(
            opps.new_business, contact_of_lead[np.maximum(opps.lead, 0)], NULL_ID
        ).astype(object),
        "ForecastComments__c": np.where(
            ~is_closed & (rng.random(n_opp) < 0.1), "Chef will bis Quartalsende unterschreiben", ""
        ).astype(object),
        **{name: NULL_ID for name in _NULL_REFERENCES},
        **{name: "0" for name in ("HasOpportunityLineItem", "IsExcludedFromTerritory2Filter")},
    }
    # A few Ids appear twice (an export stitched from two runs): the older copy is stale.
    dup_opp = rng.choice(np.flatnonzero(~opps.deleted), size=3, replace=False)
    columns = append_stale_duplicates(columns, dup_opp, STALE_OPPORTUNITY, opps.created)
    return H_OPPORTUNITY, columns, n_opp + dup_opp.size, {}


_NULL_REFERENCES = (
    "Pricebook2Id",
    "Territory2Id",
    "PrimaryPartnerAccountId",
    "SyncedQuoteId",
    "ContractId",
    "LastAmountChangedHistoryId",
    "LastCloseDateChangedHistoryId",
)


def _final_state(
    final_stage: np.ndarray, final_close: np.ndarray, amount: np.ndarray
) -> dict[str, np.ndarray]:
    """Stage, amount, probability, forecast category, close date and fiscal period."""
    stage_prob = np.array([STAGE_BY_NAME[s][4] for s in final_stage], dtype=float)
    fiscal_year = np.asarray(final_close, dtype="datetime64[Y]").astype(int) + 1970
    fiscal_q = (np.asarray(final_close, dtype="datetime64[M]").astype(int) % 12) // 3 + 1
    return {
        "StageName": final_stage,
        "StageSortOrder": np.array([str(STAGE_BY_NAME[s][1]) for s in final_stage], dtype=object),
        "Amount": fmt_number(amount),
        "Probability": fmt_number(stage_prob),
        "ExpectedRevenue": fmt_number(np.round(amount * stage_prob / 100, 2)),
        "CloseDate": fmt_date(final_close),
        "ForecastCategory": np.array([STAGE_BY_NAME[s][5] for s in final_stage], dtype=object),
        "ForecastCategoryName": np.array([STAGE_BY_NAME[s][6] for s in final_stage], dtype=object),
        "FiscalYear": fiscal_year.astype(str).astype(object),
        "FiscalQuarter": fiscal_q.astype(str).astype(object),
    }


def _opportunity_texts(
    rng: np.random.Generator, opps: Opportunities, account_names: np.ndarray
) -> dict[str, np.ndarray]:
    """Name, description (with a person and a phone number) and loss reason."""
    n_opp = opps.n
    names = np.array(
        [
            f"{account_names[a]} - {p}"
            for a, p in zip(opps.account, rng.choice(PRODUCTS, n_opp), strict=True)
        ],
        dtype=object,
    )
    described = rng.random(n_opp) < 0.25
    descriptions = [
        f"Angebot an {s} {n} geschickt, Rückruf unter {p}"
        for s, n, p in zip(
            rng.choice(["Herrn", "Frau"], n_opp),
            rng.choice(LAST_NAMES, n_opp),
            people(rng, n_opp, names)["mobile"],
            strict=True,
        )
    ]
    loss_reason = np.where(
        opps.is_closed & ~opps.is_won,
        rng.choice(np.array(LOSS_REASONS, dtype=object), n_opp),
        "",
    ).astype(object)
    return {
        "Name": names,
        "Description": np.where(described, np.array(descriptions, dtype=object), "").astype(object),
        "Loss_Reason__c": loss_reason,
    }


def history_table(rng: np.random.Generator, opps: Opportunities, hist: dict) -> ExportTable:
    """The ``OpportunityHistory`` export (one row per stage change or edit).

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator (draws the Ids).
    opps : Opportunities
        The opportunities.
    hist : dict
        Their history rows (:func:`~analysis.demo.crm.history.history_rows`).

    Returns
    -------
    tuple
        The export table.
    """
    h_opp = hist["opp"]
    n_hist = h_opp.size
    stage_names, stage_code = np.unique(hist["stage"].astype(str), return_inverse=True)
    h_prob = np.array([STAGE_BY_NAME[x][4] for x in stage_names], dtype=float)[stage_code]
    h_label = np.array([STAGE_BY_NAME[x][6] for x in stage_names], dtype=object)[stage_code]
    h_time = fmt_datetime(hist["time"])
    h_amount = fmt_number(hist["amount"])
    h_close = fmt_date(hist["close"])
    first_row = np.r_[True, h_opp[1:] != h_opp[:-1]]
    last_row = np.r_[h_opp[1:] != h_opp[:-1], True]

    def previous(values: np.ndarray) -> np.ndarray:
        shifted = np.r_[np.array([""], dtype=object), values[:-1]]
        return np.where(first_row, "", shifted).astype(object)

    valid_through = np.where(last_row, "", np.r_[h_time[1:], np.array([""], dtype=object)])
    columns = {
        "Id": new_ids("008", n_hist, rng),
        "OpportunityId": opps.ids[h_opp],
        "CreatedById": opps.owner[h_opp],
        "CreatedDate": h_time,
        "CreatedDateForInsert": h_time,
        "StageName": hist["stage"],
        "Amount": h_amount,
        "ExpectedRevenue": fmt_number(np.round(hist["amount"] * h_prob / 100, 2)),
        "CloseDate": h_close,
        "Probability": fmt_number(h_prob),
        "FromForecastCategory": previous(h_label),
        "ForecastCategory": h_label,
        "FromOpportunityStageName": previous(hist["stage"]),
        "CurrencyIsoCode": opps.currency[h_opp],
        "ValidThroughDate": valid_through.astype(object),
        "SystemModstamp": h_time,
        "IsDeleted": fmt_bool(opps.deleted[h_opp]),
        "PrevAmount": previous(h_amount),
        "PrevCloseDate": previous(h_close),
    }
    return H_HISTORY, columns, n_hist, {}
