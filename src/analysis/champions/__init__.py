"""Hidden Champions: definitions, placing firms in Kreise, and the count regression on MINT strength.

Rooms: :mod:`~analysis.champions.definitions`, :mod:`~analysis.champions.locate`,
:mod:`~analysis.champions.model`.
"""

from __future__ import annotations

from analysis.champions.definitions import (
    DEFINITIONS,
    MINT_SHIFT,
    MINT_TERM,
    SIMON_MAX_REVENUE_EUR,
    SIMON_MAX_WORLD_RANK,
    WMI_MAX_WORLD_RANK,
    WMI_MIN_CONTINENTS,
    WMI_MIN_EXPORT_SHARE,
    WMI_MIN_REVENUE_EUR,
    classify,
    definition_table,
    is_hidden_champion_simon,
    is_weltmarktfuehrer,
)
from analysis.champions.locate import (
    FIRM_LIST_NAMES,
    WZ_DIVISIONS,
    LocatedFirms,
    count_by_kreis,
    count_by_land,
    find_firm_list,
    load_firms,
    locate_firms,
    sector_mix,
    top_kreise,
    wz_section,
)
from analysis.champions.model import (
    CountModels,
    Elasticity,
    fit_count_models,
    mint_log_indicator,
    region_standing,
)

__all__ = [
    "CountModels",
    "DEFINITIONS",
    "Elasticity",
    "FIRM_LIST_NAMES",
    "LocatedFirms",
    "MINT_SHIFT",
    "MINT_TERM",
    "SIMON_MAX_REVENUE_EUR",
    "SIMON_MAX_WORLD_RANK",
    "WMI_MAX_WORLD_RANK",
    "WMI_MIN_CONTINENTS",
    "WMI_MIN_EXPORT_SHARE",
    "WMI_MIN_REVENUE_EUR",
    "WZ_DIVISIONS",
    "classify",
    "count_by_kreis",
    "count_by_land",
    "definition_table",
    "find_firm_list",
    "fit_count_models",
    "is_hidden_champion_simon",
    "is_weltmarktfuehrer",
    "load_firms",
    "locate_firms",
    "mint_log_indicator",
    "region_standing",
    "sector_mix",
    "top_kreise",
    "wz_section",
]
