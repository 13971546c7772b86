"""Sales and marketing analytics on the canonical CRM frames.

Pure functions on the frames of :class:`analysis.sources.salesforce.CrmData`
(``opportunities``, ``leads``, ``prospects``, ``campaign_members``, ``users``,
``quarantine``); nothing here reads a file. The questions and the methods:

* **Data quality** — :func:`fill_rates`, :func:`quarantine_summary`.
* **Funnel** lead → MQL → opportunity → won by cohort with Wilson intervals —
  :func:`funnel_by_cohort`, :func:`lead_conversion_before_after`.
* **Win rate and deal size** before and after a date — :func:`win_rate_before_after`,
  :func:`deal_size_before_after`, :func:`win_rate_by_team`.
* **Sales cycle** with open deals censored and lost deals as a competing risk —
  :func:`cycle_data`, :func:`cumulative_incidence`, :func:`kaplan_meier`,
  :func:`logrank`, :func:`cycle_summary` (and the biased "average of won deals"
  only for contrast).
* **Interrupted time series** on the monthly win rate — :func:`monthly_win_rate`
  feeding :mod:`analysis.its`.
* **Marketing-sourced and -influenced pipeline** under several definitions —
  :data:`MARKETING_RULES`, :func:`marketing_attribution`, :func:`marketing_pipeline`.

Win rates are proportions (0.25 = 25 %); differences of win rates are differences of
proportions ("percentage points" / 100).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

__all__ = [
    "MARKETING_LEAD_SOURCES",
    "MARKETING_RULES",
    "NULL_ID",
    "SEGMENTS",
    "amount_column",
    "cumulative_incidence",
    "cycle_data",
    "cycle_summary",
    "deal_size_before_after",
    "fill_rates",
    "filter_segment",
    "funnel_by_cohort",
    "funnel_table",
    "its_series",
    "kaplan_meier",
    "lead_conversion_before_after",
    "logrank",
    "marketing_attribution",
    "marketing_pipeline",
    "monthly_win_rate",
    "proportion_difference",
    "publishable",
    "quarantine_summary",
    "wilson_interval",
    "win_rate_before_after",
    "win_rate_by_team",
]

NULL_ID = "000000000000000AAA"
SEGMENTS = ("all", "new_business", "existing_business")
FUNNEL_STAGES = ("lead", "mql", "opportunity", "won")

#: LeadSource / Pardot source values that count as marketing (case-insensitive).
MARKETING_LEAD_SOURCES: frozenset[str] = frozenset(
    s.lower()
    for s in (
        "Web",
        "Website",
        "Webinar",
        "Trade Show",
        "Marketing Event",
        "Advertisement",
        "Google AdWords",
        "Paid Search",
        "Purchased List",
        "Content Syndication",
        "Email",
        "Social Media",
        "Seminar - Internal",
        "Seminar - Partner",
    )
)

#: The definitions of marketing-sourced and -influenced pipeline compared side by side.
MARKETING_RULES = pd.DataFrame(
    [
        ("campaign_source", "sourced", "Primary Campaign Source (Opportunity.CampaignId) is set"),
        ("lead_source", "sourced", "Opportunity.LeadSource is a marketing source"),
        (
            "converted_lead",
            "sourced",
            "created by converting a lead whose LeadSource is a marketing source",
        ),
        ("any_sourced", "sourced", "any of the three sourced rules"),
        (
            "influenced",
            "influenced",
            "the converted lead responded to a campaign before the opportunity was created",
        ),
    ],
    columns=["definition", "kind", "rule"],
)


# --------------------------------------------------------------------------- helpers


def _present(ids: pd.Series) -> pd.Series:
    """True where an Id is set (not NaN, empty or the null-Id sentinel)."""
    text = ids.astype("string").fillna("").str.strip()
    return (text != "") & (text != NULL_ID) & (text != NULL_ID[:15])


def _as_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    text = values.astype("string").fillna("").str.strip().str.lower()
    return text.isin(["1", "true", "yes", "ja", "wahr"])


def _timestamp(value, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, f"expected a date like 2023-04-01, got {value!r}") from exc
    if pd.isna(stamp):
        raise ParameterError(name, f"expected a date, got {value!r}")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def wilson_interval(successes, trials, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (vectorised).

    Parameters
    ----------
    successes, trials : array-like of int
    alpha : float

    Returns
    -------
    (low, high) : tuple of ndarray
        NaN where ``trials`` is 0.

    Examples
    --------
    >>> low, high = wilson_interval(8, 20)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2188, 0.6134)
    """
    from statsmodels.stats.proportion import proportion_confint

    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    safe_n = np.where(n > 0, n, 1.0)
    low, high = proportion_confint(np.minimum(k, safe_n), safe_n, alpha=alpha, method="wilson")
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high


def proportion_difference(k1, n1, k0, n0, alpha: float = 0.05) -> dict:
    """Difference ``k1/n1 - k0/n0`` with Newcombe's hybrid-score interval.

    Parameters
    ----------
    k1, n1 : int
        Successes and trials after.
    k0, n0 : int
        Successes and trials before.
    alpha : float

    Returns
    -------
    dict
        ``difference, ci_low, ci_high, p_value`` (p from the two-sample z test).
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    if min(n1, n0) <= 0:
        return {"difference": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    with np.errstate(divide="ignore", invalid="ignore"):  # odds ratio at p = 0 or 1
        low, high = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", alpha=alpha)
        test = test_proportions_2indep(k1, n1, k0, n0, method="wald")
    return {
        "difference": k1 / n1 - k0 / n0,
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": float(test.pvalue),
    }


def _pre_post_proportions(
    counts: list[tuple[str, int, int]], names: tuple[str, str, str], alpha: float
) -> pd.DataFrame:
    """Rows ``pre``/``post`` of (n, k, k/n) with Wilson intervals; post − pre in attrs.

    ``names`` are the column names for n, k and the rate.
    """
    n_name, k_name, rate_name = names
    rows = []
    for period, n, k in counts:
        low, high = wilson_interval(k, n, alpha)
        rows.append(
            {
                "period": period,
                n_name: n,
                k_name: k,
                rate_name: k / n if n else np.nan,
                "ci_low": float(low),
                "ci_high": float(high),
            }
        )
    out = pd.DataFrame(rows)
    (_, n0, k0), (_, n1, k1) = counts
    out.attrs["difference"] = proportion_difference(k1, n1, k0, n0, alpha)
    return out


def filter_segment(opportunities: pd.DataFrame, segment: str = "all") -> pd.DataFrame:
    """Opportunities of one segment (by ``type``).

    Parameters
    ----------
    opportunities : DataFrame
    segment : {"all", "new_business", "existing_business"}
        ``new_business`` keeps types starting with "New" (New Business, New
        Customer), ``existing_business`` those starting with "Existing"; blank
        types appear only under ``all``.

    Returns
    -------
    DataFrame

    Raises
    ------
    ParameterError
        For an unknown segment.
    """
    if segment not in SEGMENTS:
        raise ParameterError("segment", f"expected one of {', '.join(SEGMENTS)}, got {segment!r}")
    if segment == "all":
        return opportunities
    kind = opportunities["type"].astype("string").fillna("").str.strip().str.lower()
    prefix = "new" if segment == "new_business" else "existing"
    return opportunities.loc[kind.str.startswith(prefix).to_numpy()]


def amount_column(opportunities: pd.DataFrame, currency: str = "EUR") -> tuple[pd.DataFrame, str]:
    """The deals and the amount column for a report currency.

    Parameters
    ----------
    opportunities : DataFrame
    currency : str
        ``"EUR"`` (the corporate currency): every deal, converted with the dated
        rate (``amount_eur``). Another ISO code: only the deals booked in that
        currency, in that currency (``amount``).

    Returns
    -------
    (DataFrame, str)
        The deals and the name of the amount column.

    Raises
    ------
    ParameterError
        If no deal is booked in ``currency``.
    """
    code = str(currency).strip().upper()
    if code == "EUR":
        return opportunities, "amount_eur"
    booked = opportunities["currency"].astype("string").str.upper() == code
    if not booked.any():
        found = sorted(opportunities["currency"].dropna().astype(str).unique())
        raise ParameterError("currency", f"no deal is booked in {code}; currencies found: {found}")
    return opportunities.loc[booked.to_numpy()], "amount"


# --------------------------------------------------------------------------- quality


def fill_rates(
    frame: pd.DataFrame,
    *,
    date_col: str,
    fields: list[str] | tuple[str, ...],
    freq: str = "QS",
) -> pd.DataFrame:
    """Share of records with each field filled, by period of ``date_col``.

    Parameters
    ----------
    frame : DataFrame
    date_col : str
        Date that assigns a record to a period (e.g. ``created_date``).
    fields : list of str
        Fields to check; Ids count as empty when null-sentinel.
    freq : str
        Pandas period start frequency (``"QS"``, ``"MS"``, ``"YS"``).

    Returns
    -------
    DataFrame
        Long: ``period, field, n, n_filled, fill_rate``.
    """
    missing = [f for f in (date_col, *fields) if f not in frame.columns]
    if missing:
        raise ParameterError("fields", f"columns not in the frame: {missing}")
    period = pd.to_datetime(frame[date_col]).dt.to_period(freq[0]).dt.to_timestamp()
    parts = []
    for name in fields:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            filled = values.notna()
        else:
            filled = _present(values)
        parts.append(
            pd.DataFrame({"period": period, "field": name, "filled": filled.to_numpy()})
            .groupby(["period", "field"], as_index=False)
            .agg(n=("filled", "size"), n_filled=("filled", "sum"))
        )
    out = pd.concat(parts, ignore_index=True)
    return out.assign(
        n_filled=out["n_filled"].astype(int), fill_rate=out["n_filled"] / out["n"]
    ).sort_values(["field", "period"], ignore_index=True)


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Counts of quarantined rows by file and reason (no record ids).

    Parameters
    ----------
    quarantine : DataFrame
        ``CrmData.quarantine`` (``file, line, column, reason, record_id``).

    Returns
    -------
    DataFrame
        ``file, reason, n_rows``, largest first; numbers in reasons (line numbers)
        are replaced by ``N`` so that one kind of problem is one row.
    """
    if quarantine is None or len(quarantine) == 0:
        return pd.DataFrame(
            {
                "file": pd.Series(dtype=str),
                "reason": pd.Series(dtype=str),
                "n_rows": pd.Series(dtype=int),
            }
        )
    files = quarantine["file"].astype(str).map(lambda p: p.replace("\\", "/").rsplit("/", 1)[-1])
    # Reasons name line numbers ("... on line 90 was kept"); group them as one reason.
    reasons = quarantine["reason"].astype(str).str.replace(r"\d+", "N", regex=True)
    return (
        quarantine.assign(file=files, reason=reasons)
        .groupby(["file", "reason"], as_index=False)
        .size()
        .rename(columns={"size": "n_rows"})
        .sort_values("n_rows", ascending=False, ignore_index=True)
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
            prospects.loc[_present(prospects["crm_lead_fid"])]
            .assign(score=lambda d: pd.to_numeric(d["score"], errors="coerce"))
            .groupby("crm_lead_fid")["score"]
            .max()
        )
        out["mql"] = (out["lead_id"].map(scores) >= mql_score).fillna(False).to_numpy(dtype=bool)
    else:
        out["mql"] = False
    opp_id = leads["converted_opportunity_id"]
    has_opp = _present(opp_id) & _as_bool(leads["is_converted"])
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
    as_of = _timestamp(as_of, "as_of")
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
    date = _timestamp(unification_date, "unification_date")
    as_of = _timestamp(as_of, "as_of")
    created = pd.to_datetime(leads["created_date"])
    converted_at = pd.to_datetime(leads["converted_date"], errors="coerce")
    eligible = created + pd.Timedelta(days=horizon_days) <= as_of
    converted = (
        _present(leads["converted_opportunity_id"])
        & _as_bool(leads["is_converted"])
        & (converted_at.dt.normalize() <= created.dt.normalize() + pd.Timedelta(days=horizon_days))
    )
    counts = []
    for period, mask in (("pre", created < date), ("post", created >= date)):
        keep = (mask & eligible).to_numpy()
        counts.append((period, int(keep.sum()), int(converted.to_numpy()[keep].sum())))
    return _pre_post_proportions(counts, ("n_leads", "n_converted", "rate"), alpha)


# --------------------------------------------------------------------------- win rate, deal size


def _closed(opportunities: pd.DataFrame, as_of=None) -> pd.DataFrame:
    closed = opportunities.loc[_as_bool(opportunities["is_closed"]).to_numpy()]
    closed = closed.assign(
        close_date=pd.to_datetime(closed["close_date"]),
        is_won=_as_bool(closed["is_won"]).to_numpy(),
    )
    if as_of is not None:
        closed = closed.loc[closed["close_date"] <= _timestamp(as_of, "as_of")]
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
        month.max() if as_of is None else _timestamp(as_of, "as_of").to_period("M").to_timestamp()
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
    date = _timestamp(unification_date, "unification_date")
    post_start = date.to_period("M").to_timestamp() + pd.DateOffset(months=int(transition_months))
    closed = _closed(opportunities, as_of)
    counts = []
    for period, mask in (
        ("pre", closed["close_date"] < date),
        ("post", closed["close_date"] >= max(date, post_start)),
    ):
        part = closed.loc[mask.to_numpy()]
        counts.append((period, len(part), int(part["is_won"].sum())))
    return _pre_post_proportions(counts, ("n_closed", "n_won", "win_rate"), alpha)


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

    date = _timestamp(unification_date, "unification_date")
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
    pools teams with fewer than three reps (a "team" of one is the rep).

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

    date = _timestamp(unification_date, "unification_date")
    post_start = date.to_period("M").to_timestamp() + pd.DateOffset(months=int(transition_months))
    closed = _closed(opportunities, as_of)
    period = np.where(
        closed["close_date"] < date,
        "pre",
        np.where(closed["close_date"] >= max(date, post_start), "post", ""),
    )
    frame = team_only(
        pd.DataFrame(
            {
                "owner_id": closed["owner_id"].to_numpy(),
                "period": period,
                "won": closed["is_won"].to_numpy(),
            }
        ),
        "owner_id",
        users,
    )
    frame = frame.loc[frame["period"] != ""]
    out = (
        frame.groupby(["team", "period"], as_index=False)
        .agg(n_closed=("won", "size"), n_won=("won", "sum"))
        .assign(order=lambda d: d["period"].map({"pre": 0, "post": 1}))
        .sort_values(["team", "order"], ignore_index=True)
        .drop(columns="order")
    )
    out["n_won"] = out["n_won"].astype(int)
    return out.assign(
        n_lost=out["n_closed"] - out["n_won"], win_rate=out["n_won"] / out["n_closed"]
    )


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
    as_of = _timestamp(as_of, "as_of")
    date = _timestamp(unification_date, "unification_date")
    created = pd.to_datetime(opportunities["created_date"]).dt.normalize()
    close = pd.to_datetime(opportunities["close_date"])
    closed = _as_bool(opportunities["is_closed"]) & (close <= as_of)
    won = _as_bool(opportunities["is_won"])
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
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
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
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- marketing


def marketing_attribution(
    opportunities: pd.DataFrame,
    leads: pd.DataFrame,
    campaign_members: pd.DataFrame | None = None,
    *,
    marketing_sources: frozenset[str] = MARKETING_LEAD_SOURCES,
) -> pd.DataFrame:
    """Flag each opportunity under every rule of :data:`MARKETING_RULES`.

    Parameters
    ----------
    opportunities, leads : DataFrame
        Canonical frames; the link is ``leads.converted_opportunity_id``.
    campaign_members : DataFrame, optional
        For ``influenced``: a membership of the converted lead with
        ``has_responded`` and a ``first_responded_date`` (or, failing that,
        ``created_date``) on or before the opportunity's creation day.
    marketing_sources : frozenset of str
        Lower-case LeadSource values that count as marketing.

    Returns
    -------
    DataFrame
        ``opportunity_id, created_date`` and one boolean column per definition.
    """
    opp = opportunities[["opportunity_id", "created_date", "lead_source", "campaign_id"]].copy()
    opp["created_date"] = pd.to_datetime(opp["created_date"])
    source = opp["lead_source"].astype("string").fillna("").str.strip().str.lower()
    converted = leads.loc[_present(leads["converted_opportunity_id"])]
    lead_of_opp = converted.drop_duplicates("converted_opportunity_id").set_index(
        "converted_opportunity_id"
    )
    lead_id = opp["opportunity_id"].map(lead_of_opp["lead_id"])
    lead_source = (
        opp["opportunity_id"]
        .map(lead_of_opp["lead_source"])
        .astype("string")
        .fillna("")
        .str.strip()
        .str.lower()
    )
    flags = pd.DataFrame(
        {
            "opportunity_id": opp["opportunity_id"].to_numpy(),
            "created_date": opp["created_date"].to_numpy(),
            "campaign_source": _present(opp["campaign_id"]).to_numpy(),
            "lead_source": source.isin(marketing_sources).to_numpy(),
            "converted_lead": (lead_id.notna() & lead_source.isin(marketing_sources)).to_numpy(),
        }
    )
    flags["any_sourced"] = flags[["campaign_source", "lead_source", "converted_lead"]].any(axis=1)
    influenced = np.zeros(len(flags), dtype=bool)
    if campaign_members is not None and len(campaign_members):
        members = campaign_members.loc[_as_bool(campaign_members["has_responded"]).to_numpy()]
        when = pd.to_datetime(members.get("first_responded_date"), errors="coerce")
        if "created_date" in members:
            when = when.fillna(pd.to_datetime(members["created_date"], errors="coerce"))
        first_touch = (
            pd.DataFrame({"lead_id": members["lead_id"].to_numpy(), "when": when.to_numpy()})
            .dropna()
            .groupby("lead_id")["when"]
            .min()
        )
        touch = lead_id.map(first_touch)
        influenced = (
            touch.notna() & (touch.dt.normalize() <= opp["created_date"].dt.normalize())
        ).to_numpy()
    flags["influenced"] = influenced
    return flags


def marketing_pipeline(
    opportunities: pd.DataFrame,
    attribution: pd.DataFrame,
    *,
    unification_date,
    as_of=None,
    amount_col: str = "amount_eur",
) -> pd.DataFrame:
    """Marketing's share of pipeline created before vs after, under every definition.

    Parameters
    ----------
    opportunities : DataFrame
        For the amounts.
    attribution : DataFrame
        From :func:`marketing_attribution`.
    unification_date, as_of : date-like
    amount_col : str

    Returns
    -------
    DataFrame
        ``definition, kind, period, n_opportunities, n_marketing, share_count,
        pipeline, marketing_pipeline, share_value`` (periods by creation date).
    """
    date = _timestamp(unification_date, "unification_date")
    amounts = opportunities.set_index("opportunity_id")[amount_col]
    frame = attribution.assign(
        amount=pd.to_numeric(attribution["opportunity_id"].map(amounts), errors="coerce")
        .fillna(0.0)
        .to_numpy(),
        period=np.where(pd.to_datetime(attribution["created_date"]) < date, "pre", "post"),
    )
    if as_of is not None:
        frame = frame.loc[pd.to_datetime(frame["created_date"]) <= _timestamp(as_of, "as_of")]
    rows = []
    for _, rule in MARKETING_RULES.iterrows():
        for period in ("pre", "post"):
            part = frame.loc[frame["period"] == period]
            flag = part[rule["definition"]].astype(bool)
            total = float(part["amount"].sum())
            marketing = float(part.loc[flag, "amount"].sum())
            rows.append(
                {
                    "definition": rule["definition"],
                    "kind": rule["kind"],
                    "period": period,
                    "n_opportunities": int(len(part)),
                    "n_marketing": int(flag.sum()),
                    "share_count": float(flag.mean()) if len(part) else np.nan,
                    "pipeline": total,
                    "marketing_pipeline": marketing,
                    "share_value": marketing / total if total else np.nan,
                }
            )
    return pd.DataFrame(rows)
