"""A region's profile: indicators, ranks, peers and a side-by-side comparison, in words.

Builds on the per-Kreis indicator frame of :func:`analysis.regions.load_kreis_indicators`
(one row per Kreis, indexed or keyed by ``ags``). Everything here is a pure function;
the sentences are composed from computed values so the notebooks carry no logic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.regions.compare import midrank_percentile


@dataclass(frozen=True)
class Indicator:
    """How an indicator column is shown."""

    column: str
    label: str
    unit: str
    decimals: int = 1
    higher_is_better: bool = True


#: Indicators of a region profile, in display order. Columns missing from the data are
#: reported as missing, never silently left out.
PROFILE_INDICATORS: tuple[Indicator, ...] = (
    Indicator("mint_students_per_1000", "MINT students per 1,000 inhabitants", "per 1,000"),
    Indicator("mint_share_of_students_pct", "MINT share of all students", "%"),
    Indicator("employees_per_1000", "Employees at workplace per 1,000 inhabitants", "per 1,000"),
    Indicator("population", "Inhabitants", "persons", 0),
    Indicator("population_change_pct", "Population change over one year", "%", 2),
    Indicator(
        "business_registrations_per_10000",
        "Business registrations per 10,000 inhabitants",
        "per 10,000",
    ),
    Indicator("income_per_taxpayer_eur", "Income per taxpayer (wage proxy)", "EUR", 0),
    Indicator("abitur_share_pct", "School leavers with Abitur", "%"),
    Indicator("mint_employment_share_pct", "MINT share of employment (BA, licensed)", "%"),
    Indicator(
        "median_wage_mint_eur", "Median monthly wage, MINT occupations (Entgeltatlas)", "EUR", 0
    ),
)


def _by_ags(indicators: pd.DataFrame) -> pd.DataFrame:
    return indicators.set_index("ags", drop=False) if "ags" in indicators.columns else indicators


def with_derived(indicators: pd.DataFrame) -> pd.DataFrame:
    """Add derived indicators that are computable from the loaded columns.

    ``mint_share_of_students_pct`` = MINT students / all students × 100 (NaN where a
    Kreis has no students).
    """
    frame = indicators.copy()
    if {"mint_students", "students_total"} <= set(
        frame.columns
    ) and "mint_share_of_students_pct" not in frame:
        total = frame["students_total"].astype(float)
        frame = frame.assign(
            mint_share_of_students_pct=np.where(
                total > 0, frame["mint_students"] / total.where(total > 0) * 100, np.nan
            )
        )
    return frame


def available_indicators(indicators: pd.DataFrame) -> tuple[list[Indicator], list[Indicator]]:
    """Split :data:`PROFILE_INDICATORS` into (available, missing) for this data."""
    available, missing = [], []
    for ind in PROFILE_INDICATORS:
        has = ind.column in indicators.columns and indicators[ind.column].notna().any()
        (available if has else missing).append(ind)
    return available, missing


def region_profile(indicators: pd.DataFrame, region: str) -> pd.DataFrame:
    """The region's value, rank, percentile and the German median for each indicator.

    Parameters
    ----------
    indicators : DataFrame
        One row per Kreis with column ``ags`` and indicator columns.
    region : str
        Kreis code.

    Returns
    -------
    DataFrame
        Index: indicator label; columns ``value``, ``rank`` (1 = highest among the
        Kreise with a value), ``of`` (how many Kreise have a value), ``percentile``
        (share of Kreise with a lower value, 0-100), ``germany_median``, ``unit``.
    """
    frame = _by_ags(indicators)
    available, _ = available_indicators(frame)
    rows = []
    for ind in available:
        series = frame[ind.column].astype(float).dropna()
        value = float(frame.loc[region, ind.column]) if region in series.index else math.nan
        rank = series.rank(ascending=False, method="min")
        rows.append(
            {
                "indicator": ind.label,
                "value": value,
                "rank": int(rank.loc[region]) if region in rank.index else pd.NA,
                "of": int(series.size),
                "percentile": midrank_percentile(series, value),
                "germany_median": float(series.median()),
                "unit": ind.unit,
            }
        )
    return pd.DataFrame(rows).set_index("indicator")


def side_by_side(indicators: pd.DataFrame, region: str, compare_to: str) -> pd.DataFrame:
    """Region vs comparison vs German median, with each region's percentile.

    Percentiles (mid-rank: share of Kreise with a lower value plus half of those tied,
    0-100; the median Kreis is 50, see :func:`analysis.regions.compare.midrank_percentile`)
    put indicators of very different scales on one axis; an index against the
    median would explode for indicators whose median Kreis is close to zero (most
    Kreise have no university, so MINT students per inhabitant have a median near 0).

    Returns
    -------
    DataFrame
        Index: indicator label; columns: the two Kreis names, ``Germany (median)``,
        ``<name> percentile`` for both.
    """
    frame = _by_ags(indicators)
    available, _ = available_indicators(frame)
    name_a = str(frame.loc[region, "name"]) if "name" in frame else region
    name_b = str(frame.loc[compare_to, "name"]) if "name" in frame else compare_to
    if name_a == name_b:
        name_b = f"{name_b} ({compare_to})"
    rows = {}
    for ind in available:
        series = frame[ind.column].astype(float).dropna()
        a = float(frame.loc[region, ind.column])
        b = float(frame.loc[compare_to, ind.column])
        rows[ind.label] = {
            name_a: a,
            name_b: b,
            "Germany (median)": float(series.median()),
            f"{name_a} percentile": midrank_percentile(series, a),
            f"{name_b} percentile": midrank_percentile(series, b),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _fmt(value: float, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{decimals}f}"


def describe_rank(profile: pd.DataFrame, name: str, indicator_label: str) -> str:
    """One sentence: where the region stands on one indicator (or that there is no data)."""
    if indicator_label not in profile.index:
        return f"There is no data on {indicator_label.lower()} in this dataset."
    row = profile.loc[indicator_label]
    if pd.isna(row["value"]):
        return (
            f"{name} has no published value for {indicator_label.lower()} "
            "(the statistical office suppressed or did not report it)."
        )
    position = (
        "in the top tenth"
        if row["percentile"] >= 90
        else "in the top quarter"
        if row["percentile"] >= 75
        else "above the median"
        if row["percentile"] >= 50
        else "below the median"
        if row["percentile"] >= 25
        else "in the bottom quarter"
    )
    return (
        f"{name} has {_fmt(row['value'])} {indicator_label.lower()}"
        f" (German median {_fmt(row['germany_median'])}): rank {row['rank']} of {row['of']} Kreise, "
        f"{position}."
    )


def describe_peers(peers: pd.DataFrame, name: str, columns_used: list[str]) -> str:
    """One sentence naming the nearest peers and what 'near' means."""
    names = ", ".join(str(n) for n in peers["name"].head(5))
    return (
        f"The Kreise most similar to {name} on the standardized indicators "
        f"({', '.join(c.replace('_', ' ') for c in columns_used)}) are {names}. "
        "They are the natural benchmark: what they achieve, a region of this profile can achieve."
    )


def describe_comparison(table: pd.DataFrame, name_a: str, name_b: str) -> str:
    """Sentences on where A is ahead of / behind B (by percentile, 10 points or more)."""
    pa, pb = f"{name_a} percentile", f"{name_b} percentile"
    if pa not in table or pb not in table:
        return ""
    gap = (table[pa] - table[pb]).dropna()
    ahead = [i for i in gap.index if gap[i] >= 10]
    behind = [i for i in gap.index if gap[i] <= -10]
    parts = []
    if behind:
        parts.append(f"{name_a} trails {name_b} on {', '.join(i.lower() for i in behind)}")
    if ahead:
        lead = "is ahead" if behind else f"{name_a} is ahead of {name_b}"
        parts.append(f"{lead} on {', '.join(i.lower() for i in ahead)}")
    if not parts:
        return (
            f"{name_a} and {name_b} stand within 10 percentile points of each other on every "
            "indicator."
        )
    return "; ".join(parts) + " (compared by percentile among all Kreise)."


def describe_coverage(indicators: pd.DataFrame, missing: list[Indicator]) -> str:
    """What the data covers: Kreise, inhabitants, indicators without data (named)."""
    n = len(indicators)
    population = float(indicators["population"].sum()) if "population" in indicators else math.nan
    text = f"The data covers {n} Kreise with {_fmt(population / 1e6, 2)} million inhabitants."
    if missing:
        text += (
            " Indicators without data in this dataset, and therefore not shown: "
            + "; ".join(m.label.lower() for m in missing)
            + "."
        )
    return text


#: Indicators that define "similar" for peers: intensity measures, not size alone. The
#: MINT share of students is left out: it is undefined for the many Kreise without a
#: university, which would then have no peers and no peer group.
PEER_COLUMNS = (
    "mint_students_per_1000",
    "employees_per_1000",
    "population",
    "population_change_pct",
)


def peer_columns(
    available: list[Indicator],
    indicators: pd.DataFrame | None = None,
    region: str | None = None,
) -> list[str]:
    """The peer-defining indicators that this dataset has (and the region has a value for).

    Parameters
    ----------
    available : list of Indicator
        From :func:`available_indicators`.
    indicators : DataFrame, optional
        With ``region``: columns where the region's value is missing (e.g. a
        suppressed cell) are left out, so the region still gets peers.
    region : str, optional
    """
    have = {a.column for a in available}
    columns = [c for c in PEER_COLUMNS if c in have]
    if indicators is not None and region is not None:
        row = _by_ags(indicators).loc[region]
        columns = [c for c in columns if pd.notna(row[c])]
    return columns


def figure_of(
    profile: pd.DataFrame, indicator_label: str, column: str = "rank"
) -> float | int | None:
    """A profile cell as a plain number for :func:`analysis.record` (None when missing)."""
    if indicator_label not in profile.index:
        return None
    value = profile.loc[indicator_label, column]
    if pd.isna(value):
        return None
    return int(value) if column in {"rank", "of"} else float(value)
