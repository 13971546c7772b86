"""Win rate and deal size before and after a date, monthly series for the ITS, by team."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.sales.common import as_bool, as_timestamp, pre_post_proportions


def _closed(opportunities: pd.DataFrame, as_of=None) -> pd.DataFrame:
    closed = opportunities.loc[as_bool(opportunities["is_closed"]).to_numpy()]
    closed = closed.assign(
        close_date=pd.to_datetime(closed["close_date"]),
        is_won=as_bool(closed["is_won"]).to_numpy(),
    )
    if as_of is not None:
        closed = closed.loc[closed["close_date"] <= as_timestamp(as_of, "as_of")]
    return closed


def monthly_win_rate(
    opportunities: pd.DataFrame,
    *,
    as_of=None,
    amount_col: str = "amount_eur",
) -> pd.DataFrame:
    """Win rate of the deals closed in each calendar month.

    Parameters
    ----------
    opportunities : DataFrame
        Canonical opportunities (deleted rows already excluded by the reader).
    as_of : date-like, optional
        Snapshot; later close dates are ignored and the last month is the month of
        ``as_of``.
    amount_col : str

    Returns
    -------
    DataFrame
        ``month, n_closed, n_won, n_lost, win_rate, amount_closed, amount_won,
        win_rate_value`` for every month from the first close to the last (months
        without closes have ``n_closed = 0`` and a missing win rate).
    """
    closed = _closed(opportunities, as_of)
    if closed.empty:
        return pd.DataFrame(
            columns=[
                "month",
                "n_closed",
                "n_won",
                "n_lost",
                "win_rate",
                "amount_closed",
                "amount_won",
                "win_rate_value",
            ]
        )
    amount = pd.to_numeric(closed[amount_col], errors="coerce") if amount_col in closed else 0.0
    month = closed["close_date"].dt.to_period("M").dt.to_timestamp()
    grouped = (
        pd.DataFrame(
            {
                "month": month,
                "won": closed["is_won"],
                "amount": amount,
                "amount_won": np.where(closed["is_won"], amount, 0.0),
            }
        )
        .groupby("month")
        .agg(
            n_closed=("won", "size"),
            n_won=("won", "sum"),
            amount_closed=("amount", "sum"),
            amount_won=("amount_won", "sum"),
        )
    )
    last = (
        month.max() if as_of is None else as_timestamp(as_of, "as_of").to_period("M").to_timestamp()
    )
    index = pd.date_range(month.min(), last, freq="MS", name="month")
    grouped = grouped.reindex(index, fill_value=0)
    n = grouped["n_closed"].astype(int)
    won = grouped["n_won"].astype(int)
    return grouped.assign(
        n_closed=n,
        n_won=won,
        n_lost=n - won,
        win_rate=(won / n.where(n > 0)).astype(float),
        win_rate_value=(
            grouped["amount_won"] / grouped["amount_closed"].where(grouped["amount_closed"] > 0)
        ).astype(float),
    ).reset_index()[
        [
            "month",
            "n_closed",
            "n_won",
            "n_lost",
            "win_rate",
            "amount_closed",
            "amount_won",
            "win_rate_value",
        ]
    ]


def its_series(monthly: pd.DataFrame, *, min_closed: int = 20) -> pd.DataFrame:
    """The months an ITS on the win rate should use.

    Leading and trailing months with fewer than ``min_closed`` closed deals (the
    ramp-up after go-live, a partial last month) are trimmed; inside the series,
    such months keep their place but get a missing win rate (a rate of 2 out of 3 is
    noise, not signal).

    Parameters
    ----------
    monthly : DataFrame
        From :func:`monthly_win_rate`.
    min_closed : int

    Returns
    -------
    DataFrame
        ``monthly`` restricted; ``attrs["dropped_months"]`` lists the months not used.
    """
    enough = monthly["n_closed"] >= min_closed
    if not enough.any():
        raise ParameterError("min_closed", f"no month has at least {min_closed} closed deals")
    first, last = np.flatnonzero(enough)[[0, -1]]
    kept = monthly.iloc[first : last + 1]
    kept = kept.assign(win_rate=kept["win_rate"].where(kept["n_closed"] >= min_closed))
    dropped = list(monthly["month"].iloc[:first]) + list(monthly["month"].iloc[last + 1 :])
    dropped += list(kept.loc[kept["win_rate"].isna(), "month"])
    kept = kept.reset_index(drop=True)
    kept.attrs["dropped_months"] = [pd.Timestamp(m).strftime("%Y-%m") for m in sorted(dropped)]
    return kept


def win_rate_before_after(
    opportunities: pd.DataFrame,
    *,
    unification_date,
    as_of=None,
    transition_months: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Win rate (won / closed) of deals closed before vs after a date.

    The ``transition_months`` months from the date on belong to neither period.

    Parameters
    ----------
    opportunities : DataFrame
    unification_date : date-like
    as_of : date-like, optional
    transition_months : int
    alpha : float

    Returns
    -------
    DataFrame
        Rows ``pre``, ``post``: ``n_closed, n_won, win_rate, ci_low, ci_high``
        (Wilson); ``attrs["difference"]`` post − pre with Newcombe's interval.
    """
    date = as_timestamp(unification_date, "unification_date")
    post_start = date.to_period("M").to_timestamp() + pd.DateOffset(months=int(transition_months))
    closed = _closed(opportunities, as_of)
    counts = []
    for period, mask in (
        ("pre", closed["close_date"] < date),
        ("post", closed["close_date"] >= max(date, post_start)),
    ):
        part = closed.loc[mask.to_numpy()]
        counts.append((period, len(part), int(part["is_won"].sum())))
    return pre_post_proportions(counts, ("n_closed", "n_won", "win_rate"), alpha)


def deal_size_before_after(
    opportunities: pd.DataFrame,
    *,
    unification_date,
    as_of=None,
    amount_col: str = "amount_eur",
    transition_months: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Size of won deals before vs after a date (by close date).

    Deal sizes are skewed, so besides mean and median the table gives the geometric
    mean; ``attrs["ratio"]`` is the ratio of geometric means after/before with a
    Welch t interval on the log scale.

    Parameters
    ----------
    opportunities : DataFrame
    unification_date, as_of : date-like
    amount_col : str
    transition_months : int
    alpha : float

    Returns
    -------
    DataFrame
        Rows ``pre``, ``post``: ``n_won, mean, median, geometric_mean, total``.
    """
    from scipy import stats

    date = as_timestamp(unification_date, "unification_date")
    post_start = date.to_period("M").to_timestamp() + pd.DateOffset(months=int(transition_months))
    won = _closed(opportunities, as_of)
    won = won.loc[won["is_won"].to_numpy()]
    amount = pd.to_numeric(won[amount_col], errors="coerce")
    rows, logs = [], {}
    for period, mask in (
        ("pre", won["close_date"] < date),
        ("post", won["close_date"] >= max(date, post_start)),
    ):
        values = amount[mask.to_numpy()].dropna()
        values = values[values > 0]
        logs[period] = np.log(values.to_numpy())
        rows.append(
            {
                "period": period,
                "n_won": int(len(values)),
                "mean": float(values.mean()) if len(values) else np.nan,
                "median": float(values.median()) if len(values) else np.nan,
                "geometric_mean": float(np.exp(logs[period].mean())) if len(values) else np.nan,
                "total": float(values.sum()),
            }
        )
    out = pd.DataFrame(rows)
    a, b = logs["post"], logs["pre"]
    if len(a) > 1 and len(b) > 1:
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        diff = a.mean() - b.mean()
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
        q = stats.t.ppf(1 - alpha / 2, df)
        out.attrs["ratio"] = {
            "ratio": float(np.exp(diff)),
            "ci_low": float(np.exp(diff - q * se)),
            "ci_high": float(np.exp(diff + q * se)),
            "p_value": float(2 * stats.t.sf(abs(diff) / se, df)),
        }
    else:
        out.attrs["ratio"] = {
            "ratio": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
        }
    return out


def win_rate_by_team(
    opportunities: pd.DataFrame,
    users: pd.DataFrame,
    *,
    unification_date,
    as_of=None,
    transition_months: int = 0,
) -> pd.DataFrame:
    """Closed and won deals per sales team before vs after (never per rep).

    Owners are replaced by their team with :func:`analysis.privacy.team_only`, which
    pools teams with fewer than three reps *in that period* until the pool has three
    (a "team" of one is the rep). Publish with :func:`publishable_teams`.

    Parameters
    ----------
    opportunities : DataFrame
        With ``owner_id``.
    users : DataFrame
        ``user_id, team``.
    unification_date, as_of : date-like
    transition_months : int

    Returns
    -------
    DataFrame
        ``team, period, n_closed, n_won, n_lost, win_rate``.
    """
    from analysis.privacy import team_only

    date = as_timestamp(unification_date, "unification_date")
    post_start = date.to_period("M").to_timestamp() + pd.DateOffset(months=int(transition_months))
    closed = _closed(opportunities, as_of)
    period = np.where(
        closed["close_date"] < date,
        "pre",
        np.where(closed["close_date"] >= max(date, post_start), "post", ""),
    )
    frame = pd.DataFrame(
        {
            "owner_id": closed["owner_id"].to_numpy(),
            "period": period,
            "won": closed["is_won"].to_numpy(),
        }
    )
    # team size is counted per period row (a team of 3 before may be 1 rep after)
    frame = team_only(frame.loc[frame["period"] != ""], "owner_id", users, period_col="period")
    out = (
        frame.groupby(["team", "period"], as_index=False)
        .agg(n_closed=("won", "size"), n_won=("won", "sum"))
        .assign(order=lambda d: d["period"].map({"pre": 0, "post": 1}))
        .sort_values(["team", "order"], ignore_index=True)
        .drop(columns="order")
    )
    out["n_won"] = out["n_won"].astype(int)
    out = out.assign(n_lost=out["n_closed"] - out["n_won"], win_rate=out["n_won"] / out["n_closed"])
    out.attrs = {"periods_below_min": frame.attrs.get("periods_below_min", [])}
    return out


def publishable_teams(
    teams: pd.DataFrame,
    *,
    threshold: int = 5,
    totals_published: bool = True,
    label: str = "x",
) -> pd.DataFrame:
    """The per-team table for a report, safe beside the published period totals.

    A row is hidden (every number) when its won or lost count is 1 to
    ``threshold - 1`` (a win rate of 37 of 40 discloses 3 lost deals), or when its
    period has fewer than three reps in total. With ``totals_published`` (the report
    shows closed and won deals per period, as :func:`win_rate_before_after` does) a
    period with exactly one hidden row gets the next smallest row hidden too, since
    the single hidden row would be the total minus the others.

    Parameters
    ----------
    teams : DataFrame
        :func:`win_rate_by_team`.
    threshold : int
    totals_published : bool
    label : str

    Returns
    -------
    DataFrame
        ``team, period, n_closed, n_won, n_lost, win_rate`` as object columns;
        ``attrs``: ``hidden`` (bool per row), ``n_primary``, ``n_complementary``,
        ``note``.
    """
    counts = teams[["n_won", "n_lost"]].astype(float)
    primary = ((counts > 0) & (counts < threshold)).any(axis=1)
    primary |= teams["period"].isin(teams.attrs.get("periods_below_min", []))
    hidden = primary.copy()
    if totals_published:
        for _, rows in teams.groupby("period").groups.items():
            while hidden[rows].sum() == 1 and (~hidden[rows]).any():
                rest = teams.loc[rows][~hidden[rows].to_numpy()]
                hidden[rest["n_closed"].idxmin()] = True
    numbers = ["n_closed", "n_won", "n_lost", "win_rate"]
    shown = teams.astype({c: object for c in numbers})
    for col in numbers:
        shown[col] = shown[col].where(~hidden, label)
    shown.attrs = {
        "hidden": hidden,
        "n_primary": int(primary.sum()),
        "n_complementary": int((hidden & ~primary).sum()),
        "note": (
            f"{label} = fewer than {threshold} won or lost deals, or hidden so that the "
            "period totals do not reveal such a row."
        ),
    }
    return shown


def publishable(table: pd.DataFrame, count_cols, threshold: int = 5) -> pd.DataFrame:
    """A long table with every row hidden whose smallest count is below ``threshold``.

    Thin wrapper around :func:`analysis.privacy.suppress_small_cells` (long mode): a
    row with a count of 1 to ``threshold - 1`` in any of ``count_cols`` shows the
    label instead of every number (a win rate of 3 out of 40 discloses 3 deals);
    zero counts disclose nobody and do not hide a row.

    Parameters
    ----------
    table : DataFrame
    count_cols : list of str
        Columns holding numbers of records.
    threshold : int

    Returns
    -------
    DataFrame
        Object columns for the numbers; ``attrs`` as set by ``suppress_small_cells``.
    """
    from analysis.privacy import suppress_small_cells

    counts = table[list(count_cols)].astype(float)
    # the smallest non-zero count decides (an empty cell discloses nobody)
    smallest = counts.where(counts > 0).min(axis=1).fillna(0.0)
    shown = suppress_small_cells(
        table.assign(_smallest=smallest), counts="_smallest", threshold=threshold
    )
    attrs = dict(shown.attrs)
    if isinstance(attrs.get("suppressed"), pd.DataFrame):
        attrs["suppressed"] = attrs["suppressed"].drop(columns="_smallest")
    shown = shown.drop(columns="_smallest")
    shown.attrs = attrs
    return shown


# --------------------------------------------------------------------------- sales cycle
