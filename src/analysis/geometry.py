"""Kreis boundaries for maps, from whichever dataset is in use.

The official dataset carries BKG VG2500 (``official/**/VG2500_KRS.shp``); the demo
writes fictional polygons in the VG2500 GeoJSON layout (``official/kreise.geojson``).
Both become one frame: ``ags``, ``name``, ``geometry`` (a list of lon/lat rings).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import dataset_dir
from analysis.provenance import note_input

BKG_CREDIT = "© GeoBasis-DE / BKG 2024 (dl-de/by-2-0)"
DEMO_CREDIT = "synthetic demo data (fictional boundaries)"
#: Version of the boundary readers in the prepared-inputs cache.
GEOMETRY_VERSION = 1


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
    if path.suffix.lower() == ".shp":
        frame = _prepared(path, shapefile=True)
        note_input(path, source="BKG VG2500 Kreise", credit=BKG_CREDIT, reference_date="31.12.")
    else:
        frame = _prepared(path, shapefile=False)
        demo = dataset == "demo"
        note_input(
            path,
            source="Kreis boundaries" + (" (demo)" if demo else ""),
            credit=DEMO_CREDIT if demo else BKG_CREDIT + " (Daten verändert)",
        )
    return frame


def read_shapefile_encoded(path: Path) -> pd.DataFrame:
    """VG2500 shapefile with the rings as JSON text (a columnar cache keeps it as is)."""
    from analysis.sources.official import vg2500

    frame = vg2500.read_vg2500(path)
    return frame.assign(geometry=frame["geometry"].map(_encode))


def read_geojson_encoded(path: Path) -> pd.DataFrame:
    """VG2500-layout GeoJSON with the rings as JSON text."""
    from analysis.sources.official import vg2500

    frame = vg2500.read_geojson(path)
    return frame.assign(geometry=frame["geometry"].map(_encode))


def _prepared(path: Path, *, shapefile: bool) -> pd.DataFrame:
    """Boundaries through the prepared-inputs cache (rings back as nested lists)."""
    from analysis.prepared import read_prepared

    reader = read_shapefile_encoded if shapefile else read_geojson_encoded
    frame = read_prepared(path, reader, version=GEOMETRY_VERSION)
    return frame.assign(geometry=frame["geometry"].map(_decode))


def _encode(rings) -> str:
    return json.dumps([np.asarray(ring).tolist() for ring in rings])


def _decode(text: str) -> list:
    return [np.asarray(ring, dtype="float64") for ring in json.loads(text)]
