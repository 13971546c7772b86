"""A region's profile: indicators, ranks, peers and a side-by-side comparison.

Builds on the per-Kreis indicator frame of :func:`analysis.regions.load_kreis_indicators`
(one row per Kreis, indexed or keyed by ``ags``). Everything here is a pure function;
the sentences and tables a reader sees are in :mod:`analysis.present.regions`.
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
#: reported as missing, never silently left out. Labels and units are English ids: the
#: report shows them in its language (``analysis.present.regions``; the catalogue has
#: a German text for each, checked by ``tests/test_i18n.py``).
PROFILE_INDICATORS: tuple[Indicator, ...] = (
    Indicator("mint_students_per_1000", "MINT students per 1,000 inhabitants", "per 1,000"),
    Indicator("mint_share_of_students_pct", "MINT share of all students", "%"),
    Indicator(
        "employees_per_1000",
        "Employees at workplace per 1,000 inhabitants",
        "per 1,000",
    ),
    Indicator("population", "Inhabitants", "persons", 0),
    Indicator("population_change_pct", "Population change over one year", "%", 2),
    Indicator(
        "population_share_change_longrun_pct",
        "Long-run change of the share of Germany's population (today's territory)",
        "%",
        2,
    ),
    Indicator(
        "business_registrations_per_10000",
        "Business registrations per 10,000 inhabitants",
        "per 10,000",
    ),
    Indicator("income_per_taxpayer_eur", "Income per taxpayer (wage proxy)", "EUR", 0),
    Indicator("abitur_share_pct", "School leavers with Abitur", "%"),
    Indicator("mint_employment_share_pct", "MINT share of employment (BA, licensed)", "%"),
    Indicator(
        "median_wage_mint_eur",
        "Median monthly wage, MINT occupations (Entgeltatlas)",
        "EUR",
        0,
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
        (share of Kreise with a lower value, 0-100), ``germany_median``, ``unit``,
        ``decimals`` (for display), ``column`` (the indicator column).
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
                "decimals": ind.decimals,
                "column": ind.column,
                "reference_date": indicators.attrs.get("indicator_dates", {}).get(ind.column, ""),
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
        Index: indicator label; columns ``region``, ``compare``, ``germany_median``,
        ``region_percentile``, ``compare_percentile``, ``unit``. ``attrs``:
        ``region_name``, ``compare_name``.
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
            "region": a,
            "compare": b,
            "germany_median": float(series.median()),
            "region_percentile": midrank_percentile(series, a),
            "compare_percentile": midrank_percentile(series, b),
            "unit": ind.unit,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.attrs = {"region_name": name_a, "compare_name": name_b}
    return table


def rank_range(
    indicators: pd.DataFrame, column: str, region: str, tolerance: float = 0.05
) -> tuple[int, int] | None:
    """The ranks the region would have if its value were ``tolerance`` higher or lower.

    A plain-words measure of how firm a rank is: in a dense middle field a 5 % change
    moves a Kreis by many places, at the top by few.

    Parameters
    ----------
    indicators : DataFrame
        One row per Kreis with ``ags`` and ``column``.
    column : str
        Indicator column.
    region : str
        Kreis code.
    tolerance : float
        Relative change of the region's value (0.05 = ±5 %).

    Returns
    -------
    tuple of int or None
        (best rank, worst rank), 1 = highest; None when the region has no value.
    """
    series = _by_ags(indicators)[column].astype(float).dropna()
    if region not in series.index:
        return None
    value = float(series.loc[region])
    others = series.drop(region)
    high, low = value * (1 + tolerance), value * (1 - tolerance)
    if value < 0:
        high, low = low, high
    return int((others > high).sum()) + 1, int((others > low).sum()) + 1


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
