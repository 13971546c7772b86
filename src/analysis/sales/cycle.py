"""Sales cycle: open deals censored, lost deals a competing risk (Aalen-Johansen), Kaplan-Meier, log-rank."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.sales.common import as_bool, as_timestamp


def cycle_data(opportunities: pd.DataFrame, *, as_of, unification_date) -> pd.DataFrame:
    """Time from creation to close for every deal, open deals censored at ``as_of``.

    Parameters
    ----------
    opportunities : DataFrame
    as_of : date-like
        Snapshot: open deals (and deals closing after it) are censored here.
    unification_date : date-like
        Cohorts by creation date: ``pre`` before, ``post`` on/after.

    Returns
    -------
    DataFrame
        ``opportunity_id, cohort, created_date, days, status`` with ``status`` 0 =
        open (censored), 1 = won, 2 = lost. Deals created after ``as_of`` are left
        out; a close date before the creation date gives 0 days (counted in
        ``attrs["n_negative_durations"]``); deals without a creation date, or closed
        without a close date, are left out and counted in ``attrs["n_undated"]``.
    """
    as_of = as_timestamp(as_of, "as_of")
    date = as_timestamp(unification_date, "unification_date")
    created = pd.to_datetime(opportunities["created_date"]).dt.normalize()
    close = pd.to_datetime(opportunities["close_date"])
    closed = as_bool(opportunities["is_closed"]) & (close <= as_of)
    won = as_bool(opportunities["is_won"])
    end = close.where(closed, as_of)
    days = (end - created).dt.days.astype(float)
    # a deal without a creation or close date cannot be placed on the time axis
    undated = days.isna().to_numpy()
    keep = (created <= as_of).to_numpy() & ~undated
    out = (
        pd.DataFrame(
            {
                "opportunity_id": opportunities["opportunity_id"].to_numpy(),
                "cohort": np.where(created < date, "pre", "post"),
                "created_date": created.to_numpy(),
                "days": days.clip(lower=0).to_numpy(),
                "status": np.where(closed, np.where(won, 1, 2), 0),
            }
        )
        .loc[keep]
        .reset_index(drop=True)
    )
    out.attrs["n_negative_durations"] = int((days[keep] < 0).sum())
    out.attrs["n_undated"] = int(undated.sum())
    return out


def kaplan_meier(
    cycle: pd.DataFrame, *, event: str = "closed", group_col: str = "cohort", alpha: float = 0.05
) -> pd.DataFrame:
    """Kaplan–Meier curve of the time to close (or to a win), by group.

    Parameters
    ----------
    cycle : DataFrame
        From :func:`cycle_data`.
    event : {"closed", "won"}
        ``closed``: won or lost ends the deal (open = censored). ``won``: only a
        win is the event; lost deals are treated as censored, which is what the
        competing-risks view (:func:`cumulative_incidence`) avoids — shown only for
        contrast.
    group_col : str
    alpha : float

    Returns
    -------
    DataFrame
        ``group, days, survival, se, ci_low, ci_high, n_at_risk, n_events``
        (one row per distinct event time); ``attrs["medians"]`` maps a group to
        ``(median, ci_low, ci_high)`` in days.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    if event not in ("closed", "won"):
        raise ParameterError("event", f"expected 'closed' or 'won', got {event!r}")
    rows, medians = [], {}
    for group, part in cycle.groupby(group_col, sort=True):
        status = (part["status"] > 0) if event == "closed" else (part["status"] == 1)
        with np.errstate(divide="ignore", invalid="ignore"):  # S = 0 at the last time
            sf = SurvfuncRight(part["days"].to_numpy(float), status.to_numpy(int))
        lo, hi = _pointwise_cb(sf, alpha)
        rows.append(
            pd.DataFrame(
                {
                    "group": group,
                    "days": sf.surv_times,
                    "survival": sf.surv_prob,
                    "se": sf.surv_prob_se,
                    "ci_low": lo,
                    "ci_high": hi,
                    "n_at_risk": sf.n_risk,
                    "n_events": sf.n_events,
                }
            )
        )
        median = sf.quantile(0.5)
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                m_lo, m_hi = sf.quantile_ci(0.5, alpha=alpha)
        except (ValueError, IndexError):  # too few events for an interval
            m_lo, m_hi = np.nan, np.nan
        medians[group] = (float(median), float(m_lo), float(m_hi))
    columns = ["group", "days", "survival", "se", "ci_low", "ci_high", "n_at_risk", "n_events"]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    out.attrs["medians"] = medians
    return out


def _pointwise_cb(sf, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-log pointwise interval of a Kaplan–Meier curve."""
    from scipy import stats

    s = np.asarray(sf.surv_prob, dtype=float)
    se = np.asarray(sf.surv_prob_se, dtype=float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(s)
        theta = se / (s * np.abs(log_s))
        low = s ** np.exp(z * theta)
        high = s ** np.exp(-z * theta)
    low = np.where(np.isfinite(low), low, np.where(s >= 1, 1.0, 0.0))
    high = np.where(np.isfinite(high), high, np.where(s >= 1, 1.0, 0.0))
    return low, high


def logrank(cycle: pd.DataFrame, *, event: str = "closed", group_col: str = "cohort") -> dict:
    """Log-rank test of equal time-to-close (or time-to-win) curves across groups.

    Parameters
    ----------
    cycle : DataFrame
    event : {"closed", "won"}
    group_col : str

    Returns
    -------
    dict
        ``statistic`` (chi-square), ``df``, ``p_value``.
    """
    from statsmodels.duration.survfunc import survdiff

    status = (cycle["status"] > 0) if event == "closed" else (cycle["status"] == 1)
    if cycle[group_col].nunique() < 2:  # nothing to compare (an empty or one-sided export)
        return {"statistic": np.nan, "df": 0, "p_value": np.nan}
    stat, p = survdiff(
        cycle["days"].to_numpy(float), status.to_numpy(int), cycle[group_col].to_numpy()
    )
    return {
        "statistic": float(stat),
        "df": int(cycle[group_col].nunique() - 1),
        "p_value": float(p),
    }


def cumulative_incidence(
    cycle: pd.DataFrame, *, group_col: str = "cohort", times=None
) -> pd.DataFrame:
    """Cumulative incidence of winning and of losing (competing risks), by group.

    ``cif_won(t)`` is the probability that a deal is won within ``t`` days of its
    creation, with losing as a competing event and open deals censored — unlike
    ``1 - KM`` with losses censored, it does not pretend lost deals could still
    be won.

    Parameters
    ----------
    cycle : DataFrame
        From :func:`cycle_data`.
    group_col : str
    times : array-like, optional
        Days at which to evaluate (step function); default: every event time.

    Returns
    -------
    DataFrame
        ``group, days, cif_won, cif_won_se, cif_lost, cif_lost_se``.
    """
    from statsmodels.duration.survfunc import CumIncidenceRight

    rows = []
    for group, part in cycle.groupby(group_col, sort=True):
        status = part["status"].to_numpy(int)
        if not (status > 0).any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):  # variance at n = d
            ci = CumIncidenceRight(part["days"].to_numpy(float), status)
        event_times = np.asarray(ci.times, dtype=float)
        n_causes = len(ci.cinc)
        won = np.asarray(ci.cinc[0]) if n_causes >= 1 else np.zeros_like(event_times)
        won_se = np.asarray(ci.cinc_se[0]) if n_causes >= 1 else np.zeros_like(event_times)
        lost = np.asarray(ci.cinc[1]) if n_causes >= 2 else np.zeros_like(event_times)
        lost_se = np.asarray(ci.cinc_se[1]) if n_causes >= 2 else np.zeros_like(event_times)
        grid = event_times if times is None else np.asarray(times, dtype=float)
        idx = np.searchsorted(event_times, grid, side="right") - 1

        def at(values, idx=idx):
            return np.where(idx >= 0, values[np.clip(idx, 0, None)], 0.0)

        rows.append(
            pd.DataFrame(
                {
                    "group": group,
                    "days": grid,
                    "cif_won": at(won),
                    "cif_won_se": at(won_se),
                    "cif_lost": at(lost),
                    "cif_lost_se": at(lost_se),
                }
            )
        )
    return (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(
            columns=["group", "days", "cif_won", "cif_won_se", "cif_lost", "cif_lost_se"]
        )
    )


def cycle_summary(
    cycle: pd.DataFrame, *, horizons=(90, 180, 365), group_col: str = "cohort", alpha: float = 0.05
) -> pd.DataFrame:
    """Per group: counts, KM median time to close, win/loss probabilities by horizon.

    Parameters
    ----------
    cycle : DataFrame
        From :func:`cycle_data`.
    horizons : tuple of int
        Days at which the cumulative incidences are reported.
    group_col : str
    alpha : float

    Returns
    -------
    DataFrame
        ``group, n, n_won, n_lost, n_open, median_days_to_close, median_ci_low,
        median_ci_high, won_within_<h>d, lost_within_<h>d, naive_mean_days_won``.
        The last column is the biased "average cycle of won deals" kept only to
        show how far it is from the censoring-aware figures.
    """
    km = kaplan_meier(cycle, event="closed", group_col=group_col, alpha=alpha)
    cif = cumulative_incidence(cycle, group_col=group_col, times=list(horizons))
    rows = []
    for group, part in cycle.groupby(group_col, sort=True):
        median, lo, hi = km.attrs["medians"].get(group, (np.nan, np.nan, np.nan))
        row = {
            "group": group,
            "n": len(part),
            "n_won": int((part["status"] == 1).sum()),
            "n_lost": int((part["status"] == 2).sum()),
            "n_open": int((part["status"] == 0).sum()),
            "median_days_to_close": median,
            "median_ci_low": lo,
            "median_ci_high": hi,
        }
        at = cif.loc[cif["group"] == group].set_index("days")
        for h in horizons:
            row[f"won_within_{h}d"] = float(at["cif_won"].get(float(h), np.nan))
            row[f"lost_within_{h}d"] = float(at["cif_lost"].get(float(h), np.nan))
        row["naive_mean_days_won"] = float(part.loc[part["status"] == 1, "days"].mean())
        rows.append(row)
    if group_col == "cohort":  # both cohorts always have a row (NaN without deals)
        present = {row["group"] for row in rows}
        rows += [
            {"group": g, "n": 0, "n_won": 0, "n_lost": 0, "n_open": 0}
            for g in ("post", "pre")
            if g not in present
        ]
    columns = ["group", "n", "n_won", "n_lost", "n_open", "median_days_to_close"]
    columns += ["median_ci_low", "median_ci_high"]
    columns += [f"{k}_within_{h}d" for h in horizons for k in ("won", "lost")]
    return (
        pd.DataFrame(rows, columns=[*columns, "naive_mean_days_won"])
        .astype({"n": int, "n_won": int, "n_lost": int, "n_open": int})
        .sort_values("group", ignore_index=True)
    )


# --------------------------------------------------------------------------- marketing
