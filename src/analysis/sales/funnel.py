"""Funnel lead → MQL → opportunity → won by cohort, with Wilson intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.sales.common import (
    FUNNEL_STAGES,
    as_bool,
    as_timestamp,
    pre_post_proportions,
    present_ids,
    wilson_interval,
)

# --------------------------------------------------------------------------- funnel


def _lead_flags(
    leads: pd.DataFrame,
    prospects: pd.DataFrame | None,
    opportunities: pd.DataFrame,
    *,
    mql_score: float,
) -> pd.DataFrame:
    """One row per lead: created date, MQL, converted to an opportunity, won."""
    out = leads[["lead_id", "created_date"]].copy()
    out["created_date"] = pd.to_datetime(out["created_date"])
    if prospects is not None and len(prospects):
        scores = (
            prospects.loc[present_ids(prospects["crm_lead_fid"])]
            .assign(score=lambda d: pd.to_numeric(d["score"], errors="coerce"))
            .groupby("crm_lead_fid")["score"]
            .max()
        )
        out["mql"] = (out["lead_id"].map(scores) >= mql_score).fillna(False).to_numpy(dtype=bool)
    else:
        out["mql"] = False
    opp_id = leads["converted_opportunity_id"]
    has_opp = present_ids(opp_id) & as_bool(leads["is_converted"])
    won_of = opportunities.drop_duplicates("opportunity_id").set_index("opportunity_id")["is_won"]
    won = opp_id.map(won_of).fillna(False)
    out["opportunity"] = has_opp.to_numpy(dtype=bool)
    out["won"] = (has_opp & won.astype(bool)).to_numpy(dtype=bool)
    out["converted_date"] = pd.to_datetime(leads["converted_date"], errors="coerce").to_numpy()
    return out


def funnel_by_cohort(
    leads: pd.DataFrame,
    prospects: pd.DataFrame | None,
    opportunities: pd.DataFrame,
    *,
    as_of,
    freq: str = "QS",
    mql_score: float = 100,
    maturity_days: int = 180,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The waterfall lead → MQL → opportunity → won for each lead cohort.

    Steps are nested: ``mql`` counts leads whose Pardot prospect has a score of at
    least ``mql_score``; ``opportunity`` counts MQLs converted into an opportunity;
    ``won`` counts those whose opportunity is won. Each step's rate has the previous
    step as denominator and a Wilson interval. A cohort is ``mature`` when its last
    lead is at least ``maturity_days`` old at ``as_of``; younger cohorts still have
    open leads and deals, so their rates are biased downwards.

    Parameters
    ----------
    leads, prospects, opportunities : DataFrame
        Canonical frames (``prospects`` may be ``None``: then nobody is an MQL).
    as_of : date-like
        Snapshot date.
    freq : {"QS", "MS", "YS"}
        Cohort length.
    mql_score : float
    maturity_days : int
    alpha : float

    Returns
    -------
    DataFrame
        Long: ``cohort, stage, n, base, rate, ci_low, ci_high, rate_from_lead, mature``.
    """
    as_of = as_timestamp(as_of, "as_of")
    flags = _lead_flags(leads, prospects, opportunities, mql_score=mql_score)
    flags = flags.loc[flags["created_date"] <= as_of + pd.Timedelta(days=1)]
    cohort = flags["created_date"].dt.to_period(freq[0]).dt.to_timestamp()
    reached = pd.DataFrame(
        {
            "cohort": cohort,
            "lead": True,
            "mql": flags["mql"],
            "opportunity": flags["mql"] & flags["opportunity"],
            "won": flags["mql"] & flags["won"],
        }
    )
    counts = reached.groupby("cohort")[list(FUNNEL_STAGES)].sum().astype(int)
    rows = []
    for cohort_start, row in counts.iterrows():
        cohort_end = (cohort_start.to_period(freq[0]) + 1).to_timestamp() - pd.Timedelta(days=1)
        mature = bool(cohort_end + pd.Timedelta(days=maturity_days) <= as_of)
        previous = None
        for stage in FUNNEL_STAGES:
            n = int(row[stage])
            base = int(row["lead"]) if previous is None else int(row[previous])
            low, high = wilson_interval(n, base, alpha)
            rows.append(
                {
                    "cohort": cohort_start,
                    "stage": stage,
                    "n": n,
                    "base": base,
                    "rate": n / base if base else np.nan,
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "rate_from_lead": n / row["lead"] if row["lead"] else np.nan,
                    "mature": mature,
                }
            )
            previous = stage
    return pd.DataFrame(rows)


def funnel_table(funnel: pd.DataFrame, *, freq: str = "QS", threshold: int = 5) -> pd.DataFrame:
    """One row per cohort: step rates with Wilson intervals, small cells hidden.

    Parameters
    ----------
    funnel : DataFrame
        From :func:`funnel_by_cohort`.
    freq : {"QS", "MS", "YS"}
        The cohort length used there (for the labels: ``2023 Q2``, ``2023-04``, ``2023``).
    threshold : int
        A step with fewer records (1 to ``threshold - 1``) shows ``"<5"`` instead of
        its count, rate and interval (the privacy rule for published cells).

    Returns
    -------
    DataFrame
        Index ``cohort``; columns ``leads``, then per later stage ``<stage>``
        (count), ``<stage> rate`` and ``<stage> 95 % CI`` (as text), ``lead → opp``
        and ``mature``.
    """
    hidden = f"<{threshold}"
    out = {}
    for cohort, part in funnel.groupby("cohort", sort=True):
        steps = part.set_index("stage")
        row = {"leads": _shown_count(int(steps.loc["lead", "n"]), threshold)}
        for stage in FUNNEL_STAGES[1:]:
            n = int(steps.loc[stage, "n"])
            small = 0 < n < threshold
            row[stage] = hidden if small else n
            row[f"{stage} rate"] = hidden if small else _pct(steps.loc[stage, "rate"])
            row[f"{stage} 95 % CI"] = (
                hidden
                if small
                else f"{_pct(steps.loc[stage, 'ci_low'])}-{_pct(steps.loc[stage, 'ci_high'])}"
            )
        n_opp = int(steps.loc["opportunity", "n"])
        row["lead → opp"] = (
            hidden if 0 < n_opp < threshold else _pct(steps.loc["opportunity", "rate_from_lead"])
        )
        row["mature"] = "yes" if bool(steps["mature"].iloc[0]) else "no (still open)"
        label = {"Q": "%Y Q%q", "M": "%Y-%m", "Y": "%Y"}[freq[0]]
        out[pd.Timestamp(cohort).to_period(freq[0]).strftime(label)] = row
    table = pd.DataFrame.from_dict(out, orient="index")
    table.index.name = "cohort"
    return table


def _shown_count(n: int, threshold: int):
    return f"<{threshold}" if 0 < n < threshold else n


def _pct(value) -> str:
    return "" if pd.isna(value) else f"{100 * float(value):.1f} %"


def lead_conversion_before_after(
    leads: pd.DataFrame,
    *,
    unification_date,
    as_of,
    horizon_days: int = 90,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Lead → opportunity conversion within a fixed horizon, before vs after a date.

    Only leads at least ``horizon_days`` old at ``as_of`` count, and a conversion
    counts only if it happened within ``horizon_days`` of the lead's creation, so
    both periods are measured on the same footing (no cohort-maturation bias).

    Parameters
    ----------
    leads : DataFrame
    unification_date, as_of : date-like
    horizon_days : int
    alpha : float

    Returns
    -------
    DataFrame
        Rows ``pre``, ``post``: ``n_leads, n_converted, rate, ci_low, ci_high``;
        ``attrs["difference"]`` is :func:`proportion_difference` post − pre.
    """
    date = as_timestamp(unification_date, "unification_date")
    as_of = as_timestamp(as_of, "as_of")
    created = pd.to_datetime(leads["created_date"])
    converted_at = pd.to_datetime(leads["converted_date"], errors="coerce")
    eligible = created + pd.Timedelta(days=horizon_days) <= as_of
    converted = (
        present_ids(leads["converted_opportunity_id"])
        & as_bool(leads["is_converted"])
        & (converted_at.dt.normalize() <= created.dt.normalize() + pd.Timedelta(days=horizon_days))
    )
    counts = []
    for period, mask in (("pre", created < date), ("post", created >= date)):
        keep = (mask & eligible).to_numpy()
        counts.append((period, int(keep.sum()), int(converted.to_numpy()[keep].sum())))
    return pre_post_proportions(counts, ("n_leads", "n_converted", "rate"), alpha)


# --------------------------------------------------------------------------- win rate, deal size
