"""Kreis boundaries for maps, from whichever dataset is in use.

The official dataset carries BKG VG2500 (``official/**/VG2500_KRS.shp``); the demo
writes fictional polygons in the VG2500 GeoJSON layout (``official/kreise.geojson``).
Both become one frame: ``ags``, ``name``, ``geometry`` (a list of lon/lat rings).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.notebook import note_input
from analysis.paths import dataset_dir

BKG_CREDIT = "© GeoBasis-DE / BKG 2024 (dl-de/by-2-0)"
DEMO_CREDIT = "synthetic demo data (fictional boundaries)"


def find_geometry_file(dataset: str) -> Path | None:
    """The Kreis boundary file of a dataset, or None when there is none."""
    root = dataset_dir(dataset) / "official"
    if not root.is_dir():
        return None
    for pattern in (
        "**/VG2500_KRS.shp",
        "**/vg2500_krs*.geojson",
        "kreise.geojson",
        "**/*.geojson",
    ):
        found = sorted(root.glob(pattern))
        if found:
            return found[0]
    return None


def load_kreis_geometry(dataset: str = "demo") -> pd.DataFrame | None:
    """Kreis polygons of a dataset (lon/lat), or None when no boundary file exists.

    Returns
    -------
    DataFrame or None
        Columns ``ags``, ``name``, ``geometry``; the caller states that no map is
        available when None.
    """
    path = find_geometry_file(dataset)
    if path is None:
        return None
    from analysis.sources.official import vg2500

    if path.suffix.lower() == ".shp":
        frame = vg2500.read_vg2500(path)
        note_input(path, source="BKG VG2500 Kreise", credit=BKG_CREDIT, reference_date="31.12.")
    else:
        frame = vg2500.read_geojson(path)
        demo = dataset == "demo"
        note_input(
            path,
            source="Kreis boundaries" + (" (demo)" if demo else ""),
            credit=DEMO_CREDIT if demo else BKG_CREDIT + " (Daten verändert)",
        )
    return frame
