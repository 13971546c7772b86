"""Regions: the Kreis indicators, comparisons, profiles and clusters.

Rooms: :mod:`~analysis.regions.indicators` (one row per Kreis from the statistics),
:mod:`~analysis.regions.compare` (ranks, standardisation, peers, location quotients),
:mod:`~analysis.regions.profile` and :mod:`~analysis.regions.clusters`.
"""

from __future__ import annotations

from analysis.regions.compare import (
    LOG_SKEW_THRESHOLD,
    compare_regions,
    location_quotient,
    location_quotients,
    midrank_percentile,
    nearest_peers,
    per_inhabitant_index,
    rank_kreise,
    specialisation_quotient,
    specialisation_quotient_from_share,
    standardize,
)
from analysis.regions.indicators import (
    DEMO_CREDIT,
    GENESIS_CREDIT,
    INDICATORS,
    KEY_COLUMNS,
    KREIS_LIST,
    MINT_FIELDS,
    find_tables,
    known_kreis_codes,
    load_kreis_indicators,
    validate_kreis_code,
)

__all__ = [
    "DEMO_CREDIT",
    "GENESIS_CREDIT",
    "INDICATORS",
    "KEY_COLUMNS",
    "KREIS_LIST",
    "LOG_SKEW_THRESHOLD",
    "MINT_FIELDS",
    "compare_regions",
    "find_tables",
    "known_kreis_codes",
    "load_kreis_indicators",
    "location_quotient",
    "location_quotients",
    "midrank_percentile",
    "nearest_peers",
    "per_inhabitant_index",
    "rank_kreise",
    "specialisation_quotient",
    "specialisation_quotient_from_share",
    "standardize",
    "validate_kreis_code",
]
