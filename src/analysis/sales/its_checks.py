"""Checks of the threats a CRM brings to an interrupted time series of the win rate.

The win rate is won / closed. Its denominator changes when the mix of deals
changes (more renewals, which are won more often; a new lead source), losses can be
recorded late (a deal stays open past its close date and is closed-lost months
later, so recent months look better than they are), and a change of process phases
in over months instead of jumping. Each function here measures one of them on the
data, so that a report can say how much of an estimated change they could explain.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import ParameterError
from analysis.sales.common import as_bool, as_timestamp

__all__ = ["late_losses", "mix_shift", "ramp_in_check"]

MISSING = "(empty)"


def _periods(closed: pd.DataFrame, date: pd.Timestamp, transition_months: int) -> np.ndarray:
    post_start = date.to_period("M").to_timestamp() + pd.DateOffset(months=int(transition_months))
    return np.where(
        closed["close_date"] < date,
        "pre",
        np.where(closed["close_date"] >= max(date, post_start), "post", ""),
    )


def mix_shift(
    opportunities: pd.DataFrame,
    *,
    unification_date,
    as_of=None,
    columns: Sequence[str] = ("type", "lead_source"),
    transition_months: int = 0,
) -> pd.DataFrame:
    """How the mix of closed deals changed, and how much of the win-rate change it explains.

    For each column (deal type, lead source) and category: the share of closed deals
    and the win rate before and after. Per column, ``attrs`` holds a chi-square
    test of equal mix and the *mix-adjusted* change: the post win rate
    re-weighted to the pre mix (direct standardisation) minus the pre win rate,
    beside the crude change. A large gap between the two means the crude change is
    partly a change of denominator. Empty values form their own category (a field
    filled more often after a system change is a mix shift too).

    Parameters
    ----------
    opportunities : DataFrame
        ``is_closed, is_won, close_date`` and the ``columns``.
    unification_date, as_of : date-like
    columns : sequence of str
    transition_months : int
        Months from the date on that belong to neither period.

    Returns
    -------
    DataFrame
        ``column, category, n_pre, n_post, share_pre, share_post, win_rate_pre,
        win_rate_post``; ``attrs["summary"]``: one row per column with ``chi2``,
        ``df``, ``p_value``, ``crude_change``, ``adjusted_change``.

    Raises
    ------
    ParameterError
        A missing column.
    """
    for col in ("is_closed", "is_won", "close_date", *columns):
        if col not in opportunities.columns:
            raise ParameterError("opportunities", f"expected a column {col!r}")
    date = as_timestamp(unification_date, "unification_date")
    closed = opportunities.loc[as_bool(opportunities["is_closed"]).to_numpy()]
    closed = closed.assign(
        close_date=pd.to_datetime(closed["close_date"]), won=as_bool(closed["is_won"]).to_numpy()
    )
    if as_of is not None:
        closed = closed.loc[closed["close_date"] <= as_timestamp(as_of, "as_of")]
    closed = closed.assign(period=_periods(closed, date, transition_months))
    closed = closed.loc[closed["period"] != ""]
    tables, summary = [], []
    for col in columns:
        category = closed[col].astype("str").fillna("").replace("", MISSING)
        grouped = closed.assign(category=category.to_numpy()).pivot_table(
            index="category", columns="period", values="won", aggfunc=["size", "mean"]
        )
        n = grouped["size"].reindex(columns=["pre", "post"]).fillna(0.0)
        rate = grouped["mean"].reindex(columns=["pre", "post"])
        share = n / n.sum()
        tables.append(
            pd.DataFrame(
                {
                    "column": col,
                    "category": n.index,
                    "n_pre": n["pre"].to_numpy(),
                    "n_post": n["post"].to_numpy(),
                    "share_pre": share["pre"].to_numpy(),
                    "share_post": share["post"].to_numpy(),
                    "win_rate_pre": rate["pre"].to_numpy(),
                    "win_rate_post": rate["post"].to_numpy(),
                }
            )
        )
        both = n[(n > 0).all(axis=1)]
        chi2, p, dof, _ = stats.chi2_contingency(both.to_numpy()) if len(both) > 1 else (0, 1, 0, 0)
        crude = float(
            (n["post"] * rate["post"].fillna(0)).sum() / n["post"].sum()
            - (n["pre"] * rate["pre"].fillna(0)).sum() / n["pre"].sum()
        )
        common = rate.notna().all(axis=1)
        w = share.loc[common, "pre"] / share.loc[common, "pre"].sum()
        adjusted = float((w * rate.loc[common, "post"]).sum() - (w * rate.loc[common, "pre"]).sum())
        summary.append((col, float(chi2), int(dof), float(p), crude, adjusted))
    out = pd.concat(tables, ignore_index=True)
    out.attrs = {
        "summary": pd.DataFrame(
            summary,
            columns=["column", "chi2", "df", "p_value", "crude_change", "adjusted_change"],
        )
    }
    return out


def late_losses(opportunities: pd.DataFrame, *, as_of, months: int = 12) -> pd.DataFrame:
    """Open deals whose close date has passed: losses that may be recorded late.

    A deal still open at ``as_of`` with a close date before it is most likely lost
    but not yet marked so. Counting such deals per month of their (expected) close
    date beside the deals closed in that month bounds the bias of a recent monthly
    win rate: if all of them were lost, the win rate of month m would be
    ``won / (closed + overdue)``.

    Parameters
    ----------
    opportunities : DataFrame
        ``is_closed, is_won, close_date``.
    as_of : date-like
        Snapshot date of the export.
    months : int
        The last ``months`` months before ``as_of`` are reported.

    Returns
    -------
    DataFrame
        ``month, n_closed, n_won, n_overdue, win_rate, win_rate_if_lost``;
        ``attrs``: ``n_overdue`` (all months), ``share_overdue`` (of closed +
        overdue in the window), ``max_drop`` (largest fall of a monthly win rate if
        all overdue deals were lost).
    """
    cut = as_timestamp(as_of, "as_of")
    frame = opportunities.assign(
        close_date=pd.to_datetime(opportunities["close_date"]),
        closed=as_bool(opportunities["is_closed"]).to_numpy(),
        won=as_bool(opportunities["is_won"]).to_numpy(),
    )
    frame = frame.loc[frame["close_date"] <= cut]
    frame = frame.assign(month=frame["close_date"].dt.to_period("M").dt.to_timestamp())
    first = (cut.to_period("M") - months + 1).to_timestamp()
    window = frame.loc[frame["month"] >= first]
    per = window.groupby("month").agg(
        n_closed=("closed", "sum"),
        n_won=("won", "sum"),
        n_overdue=("closed", lambda s: int((~s).sum())),
    )
    per = per.reindex(pd.date_range(first, cut, freq="MS"), fill_value=0).rename_axis("month")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = per["n_won"] / per["n_closed"]
        if_lost = per["n_won"] / (per["n_closed"] + per["n_overdue"])
    out = per.assign(win_rate=rate, win_rate_if_lost=if_lost).reset_index()
    total = per["n_closed"].sum() + per["n_overdue"].sum()
    out.attrs = {
        "n_overdue": int((~frame["closed"]).sum()),
        "share_overdue": float(per["n_overdue"].sum() / total) if total else float("nan"),
        "max_drop": float((rate - if_lost).max()) if len(out) else float("nan"),
    }
    return out


def ramp_in_check(
    monthly: pd.DataFrame,
    *,
    intervention,
    ramps: Sequence[int] = (0, 3, 6),
    **kwargs,
) -> pd.DataFrame:
    """The full level change under a jump and under linear phase-ins of 3 and 6 months.

    If the change phased in, a jump model underestimates the full effect and its
    level change depends on the transition window; the phase-in fits say how large
    the effect is once it is complete. The residual sum of squares of each fit (same
    months, same number of parameters) says which shape the data prefer.

    Parameters
    ----------
    monthly : DataFrame
    intervention : date-like
    ramps : sequence of int
        Phase-in lengths (0 = jump).
    **kwargs
        Options of :func:`analysis.sales.its.segmented_regression`.

    Returns
    -------
    DataFrame
        ``ramp_in_months, level_change, ci_low, ci_high, effect_12m, rss``.
    """
    from analysis.sales.its import segmented_regression

    rows = []
    for m in ramps:
        fit = segmented_regression(monthly, intervention=intervention, ramp_in=int(m), **kwargs)
        resid = (fit.fitted["observed"] - fit.fitted["fitted"]).dropna()
        effects = fit.effects.set_index("months_after")
        rows.append(
            {
                "ramp_in_months": int(m),
                "level_change": fit.level_change,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
                "effect_12m": float(effects["effect"].get(12, np.nan)),
                "rss": float((resid**2).sum()),
            }
        )
    return pd.DataFrame(rows)
