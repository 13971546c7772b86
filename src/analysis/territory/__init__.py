"""One key for places: the 5-digit Kreis AGS at the current Gebietsstand.

Official tables use the Kreis codes valid at their reference date. Since 1990
Kreise have been merged and split (543 in 1990, 401 at 31.12.2020, 400 since the
Eisenach merger of 1 July 2021). This module

- maps counts given on any year's Kreis codes to today's Kreise with the BBSR
  crosswalk weights that fit the measure (:func:`harmonize`),
- keeps rows that are not Kreise (8-digit city rows, Länder, Germany) apart,
- derives the set of current Kreise from data (:func:`current_kreise`,
  :func:`kreise_at`), never from a hard-coded list,
- allocates records with a postcode to Kreise (:func:`allocate_plz`),
- guards against mixing population bases (Zensus 2011 vs Zensus 2022).

The only Kreis change after the BBSR crosswalk's target date (31.12.2020) is a
fact of law and therefore a documented constant here (:data:`EISENACH_2021`).

Rooms: :mod:`~analysis.territory.crosswalk` (Kreis codes of any year, harmonization),
:mod:`~analysis.territory.plz` (postcode allocation) and
:mod:`~analysis.territory.bases` (population bases). Everything is importable from
``analysis.territory``.
"""

from __future__ import annotations

from analysis.territory.bases import (
    POPULATION_BASES,
    ZENSUS_2011_DAY,
    ZENSUS_2022_DAY,
    PopulationBaseError,
    check_population_base,
    population_base_for,
    population_base_of,
    tag_population_base,
)
from analysis.territory.crosswalk import (
    EISENACH_2021,
    MEASURE_WEIGHTS,
    POST_2020_CHANGES,
    REGION_COLUMNS,
    Harmonized,
    KreisChange,
    changes_frame,
    classify_codes,
    current_kreise,
    harmonize,
    harmonize_parts,
    is_current_kreis,
    kreise_at,
    split_levels,
)
from analysis.territory.plz import PlzAllocation, allocate_plz

__all__ = [
    "EISENACH_2021",
    "MEASURE_WEIGHTS",
    "POPULATION_BASES",
    "POST_2020_CHANGES",
    "REGION_COLUMNS",
    "ZENSUS_2011_DAY",
    "ZENSUS_2022_DAY",
    "Harmonized",
    "KreisChange",
    "PlzAllocation",
    "PopulationBaseError",
    "allocate_plz",
    "changes_frame",
    "check_population_base",
    "classify_codes",
    "current_kreise",
    "harmonize",
    "harmonize_parts",
    "is_current_kreis",
    "kreise_at",
    "population_base_for",
    "population_base_of",
    "split_levels",
    "tag_population_base",
]
