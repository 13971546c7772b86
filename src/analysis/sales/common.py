"""Shared pieces of the sales analytics: constants, proportions with Wilson intervals, segments, data quality.

Win rates are proportions (0.25 = 25 %); differences of win rates are differences of
proportions ("percentage points" / 100).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

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


def present_ids(ids: pd.Series) -> pd.Series:
    """True where an Id is set (not NaN, empty or the null-Id sentinel)."""
    text = ids.astype("string").fillna("").str.strip()
    return (text != "") & (text != NULL_ID) & (text != NULL_ID[:15])


def as_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    text = values.astype("string").fillna("").str.strip().str.lower()
    return text.isin(["1", "true", "yes", "ja", "wahr"])


def as_timestamp(value, name: str) -> pd.Timestamp:
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


def pre_post_proportions(
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
            filled = present_ids(values)
        parts.append(
            pd.DataFrame({"period": period, "field": name, "filled": filled.to_numpy()})
            .groupby(["period", "field"], as_index=False)
            .agg(n=("filled", "size"), n_filled=("filled", "sum"))
        )
    out = pd.concat(parts, ignore_index=True)
    return out.assign(
        n_filled=out["n_filled"].astype(int), fill_rate=out["n_filled"] / out["n"]
    ).sort_values(["field", "period"], ignore_index=True)


def fill_before_after(fill: pd.DataFrame, unification_date, fields=None) -> pd.DataFrame:
    """Share of records with each field filled, before and after a date.

    Parameters
    ----------
    fill : DataFrame
        From :func:`fill_rates` (``period, field, n, n_filled``).
    unification_date : date-like
        Periods starting on or after it are "after".
    fields : list of str, optional
        Rows of the result (default: the fields in ``fill``); a field without
        records still gets a row.

    Returns
    -------
    DataFrame
        Indexed by ``field``; columns ``before`` and ``after`` (share filled, NaN
        where the side has no records - an empty export or a date outside it)
        and ``n_before``, ``n_after``.
    """
    date = as_timestamp(unification_date, "unification_date")
    side = np.where(fill["period"] >= date, "after", "before")
    sums = fill.assign(side=side).groupby(["field", "side"])[["n", "n_filled"]].sum()
    names = sorted(set(fill["field"])) if fields is None else list(fields)
    fields = pd.Index(names, name="field")
    out = pd.DataFrame(index=fields)
    for name in ("before", "after"):
        part = sums.xs(name, level="side") if name in set(side) else sums.iloc[0:0]
        n = part["n"].reindex(fields, fill_value=0).astype(int)
        filled = part["n_filled"].reindex(fields, fill_value=0)
        out[name] = (filled / n.where(n > 0)).astype(float)
        out[f"n_{name}"] = n
    return out[["before", "after", "n_before", "n_after"]]


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Counts of quarantined, superseded, unused and flagged rows by file and reason.

    Parameters
    ----------
    quarantine : DataFrame
        ``CrmData.quarantine`` (``file, line, column, reason, record_id`` and
        ``action``: quarantined, duplicate, not used, kept).

    Returns
    -------
    DataFrame
        ``file, action, reason, n_rows`` (no record ids), largest first; numbers in
        reasons (line numbers) are replaced by ``N`` so that one kind of problem is
        one row. A flagged row (``kept``) counts once per rule it breaks.
    """
    columns = ["file", "action", "reason", "n_rows"]
    if quarantine is None or len(quarantine) == 0:
        return pd.DataFrame(
            {
                "file": pd.Series(dtype=str),
                "action": pd.Series(dtype=str),
                "reason": pd.Series(dtype=str),
                "n_rows": pd.Series(dtype=int),
            }
        )
    files = quarantine["file"].astype(str).map(lambda p: p.replace("\\", "/").rsplit("/", 1)[-1])
    # Reasons name line numbers ("... on line 90 was kept"); group them as one reason.
    reasons = quarantine["reason"].astype(str).str.replace(r"\d+", "N", regex=True)
    actions = (
        quarantine["action"].astype(str)
        if "action" in quarantine
        else pd.Series("quarantined", index=quarantine.index)
    )
    return (
        quarantine.assign(file=files, reason=reasons, action=actions)
        .groupby(["file", "action", "reason"], as_index=False)
        .size()
        .rename(columns={"size": "n_rows"})
        .sort_values("n_rows", ascending=False, ignore_index=True)[columns]
    )
