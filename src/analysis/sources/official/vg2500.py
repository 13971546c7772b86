"""Administrative boundaries: BKG VG2500 shapefiles and GeoJSON of the same shape.

Both readers return the same frame: one row per feature with ``ags``, ``name``,
``bez``, ``nuts``, ``ars``, ``level``, ``gf`` and ``geometry``, the geometry as a
list of closed rings in WGS84 longitude/latitude (exterior rings counter-clockwise,
holes clockwise, as RFC 7946 has it). Shapefiles in a transverse Mercator
projection (VG2500 comes in EPSG:25832, ETRS89 / UTM zone 32N) are projected back
with the ellipsoidal inverse (Krüger series), no projection library needed;
ETRS89 and WGS84 differ by well under a metre, far below this scale.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.sources.text import LEVEL_BY_LENGTH

CREDIT = "© GeoBasis-DE / BKG"
LICENCE = "Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0)"
COLUMNS = ("ags", "name", "bez", "nuts", "ars", "level", "gf", "geometry")

#: GRS 1980 (ETRS89), the ellipsoid of EPSG:25832.
GRS80 = (6378137.0, 1 / 298.257222101)


# --------------------------------------------------------------------------- projection


def utm_to_lonlat(
    easting,
    northing,
    *,
    central_meridian: float = 9.0,
    scale: float = 0.9996,
    false_easting: float = 500_000.0,
    false_northing: float = 0.0,
    ellipsoid: tuple[float, float] = GRS80,
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse transverse Mercator: projected metres to geographic degrees.

    Krüger's series to the fourth power of the third flattening ``n`` (Karney
    2011, eq. 15-19; the formulas of the UTM standard), accurate to well under a
    millimetre within the zone. The defaults are EPSG:25832 (UTM zone 32N on
    GRS 1980).

    Parameters
    ----------
    easting, northing : array_like
        Projected coordinates in metres.
    central_meridian, scale, false_easting, false_northing : float
        Projection parameters (degrees, unitless, metres, metres).
    ellipsoid : (float, float)
        Semi-major axis in metres and flattening.

    Returns
    -------
    lon, lat : numpy.ndarray
        Degrees.

    Examples
    --------
    >>> lon, lat = utm_to_lonlat(500_000.0, 0.0)
    >>> float(lon), float(lat)
    (9.0, 0.0)
    """
    a, f = ellipsoid
    n = f / (2 - f)
    big_a = a / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    beta = (
        n / 2 - 2 * n**2 / 3 + 37 * n**3 / 96 - n**4 / 360,
        n**2 / 48 + n**3 / 15 - 437 * n**4 / 1440,
        17 * n**3 / 480 - 37 * n**4 / 840,
        4397 * n**4 / 161280,
    )
    delta = (
        2 * n - 2 * n**2 / 3 - 2 * n**3 + 116 * n**4 / 45,
        7 * n**2 / 3 - 8 * n**3 / 5 - 227 * n**4 / 45,
        56 * n**3 / 15 - 136 * n**4 / 35,
        4279 * n**4 / 630,
    )
    xi = (np.asarray(northing, dtype="float64") - false_northing) / (scale * big_a)
    eta = (np.asarray(easting, dtype="float64") - false_easting) / (scale * big_a)
    xi_p, eta_p = xi.copy(), eta.copy()
    for j, b in enumerate(beta, start=1):
        xi_p = xi_p - b * np.sin(2 * j * xi) * np.cosh(2 * j * eta)
        eta_p = eta_p - b * np.cos(2 * j * xi) * np.sinh(2 * j * eta)
    chi = np.arcsin(np.sin(xi_p) / np.cosh(eta_p))
    lat = chi.copy()
    for j, d in enumerate(delta, start=1):
        lat = lat + d * np.sin(2 * j * chi)
    lon = np.radians(central_meridian) + np.arctan2(np.sinh(eta_p), np.cos(xi_p))
    return np.degrees(lon), np.degrees(lat)


def _projection(prj_path: Path, path) -> dict | None:
    """Transverse Mercator parameters from a .prj file; None for geographic coordinates."""
    if not prj_path.is_file():
        raise InputError(
            path,
            f"expected the projection file {prj_path.name} beside the shapefile, found none",
        )
    wkt = prj_path.read_text(encoding="utf-8", errors="replace")
    if not wkt.lstrip().upper().startswith("PROJCS"):
        if wkt.lstrip().upper().startswith("GEOGCS"):
            return None
        raise InputError(
            prj_path, f"expected a WKT projection (PROJCS or GEOGCS), found {wkt[:40]!r}"
        )
    if "transverse_mercator" not in wkt.lower():
        raise InputError(
            prj_path,
            "unsupported projection: expected Transverse Mercator (UTM, e.g. EPSG:25832)",
        )

    def parameter(name: str, default: float) -> float:
        m = re.search(rf'PARAMETER\["{name}",\s*([-+0-9.eE]+)\]', wkt, re.IGNORECASE)
        return float(m[1]) if m else default

    spheroid = re.search(r'SPHEROID\["[^"]*",\s*([0-9.]+),\s*([0-9.]+)', wkt, re.IGNORECASE)
    ellipsoid = (float(spheroid[1]), 1 / float(spheroid[2])) if spheroid else GRS80
    unit = re.findall(r'UNIT\["[^"]*",\s*([0-9.]+)', wkt)
    if unit and abs(float(unit[-1]) - 1.0) > 1e-12:
        raise InputError(prj_path, f"expected metres as the linear unit, found factor {unit[-1]}")
    return {
        "central_meridian": parameter("Central_Meridian", 9.0),
        "scale": parameter("Scale_Factor", 0.9996),
        "false_easting": parameter("False_Easting", 500_000.0),
        "false_northing": parameter("False_Northing", 0.0),
        "ellipsoid": ellipsoid,
    }


# --------------------------------------------------------------------------- rings


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def _closed(ring: np.ndarray) -> np.ndarray:
    if len(ring) and not np.array_equal(ring[0], ring[-1]):
        ring = np.vstack([ring, ring[:1]])
    return ring


def _oriented(ring: np.ndarray, exterior: bool) -> np.ndarray:
    """RFC 7946 orientation: exterior counter-clockwise, holes clockwise."""
    ccw = _signed_area(ring) > 0
    return ring if ccw == exterior else ring[::-1].copy()


# --------------------------------------------------------------------------- readers


def read_vg2500(path: str | Path) -> pd.DataFrame:
    """Read a VG2500 (or other BKG VG) shapefile into boundaries in WGS84.

    Parameters
    ----------
    path : str or Path
        The ``.shp`` file; ``.shx``, ``.dbf`` and ``.prj`` (and ``.cpg`` for
        the text encoding) must lie beside it.

    Returns
    -------
    pandas.DataFrame
        Columns ``ags`` (AGS, e.g. ``"03159"``, ``"01"``), ``name`` (GEN),
        ``bez`` (BEZ, e.g. ``"Landkreis"``), ``nuts`` (NUTS), ``ars`` (ARS),
        ``level`` (from the key length: DLAND, REGBEZ, KREISE, GEMEINDE), ``gf``
        (Geofaktor, Int64: 9 land, 8 water in the 2024 edition; Länder files also
        hold water parts) and ``geometry`` (list of closed ``(n, 2)`` float64
        rings of longitude/latitude, exterior rings counter-clockwise, holes
        clockwise). ``attrs``: ``path``, ``crs`` (of the file), ``credit``,
        ``licence``, ``n_rows``.

    Raises
    ------
    InputError
        Missing companion files, an unsupported projection, a shape that is not
        a polygon, or a record without an AGS.
    """
    import shapefile

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    projection = _projection(path.with_suffix(".prj"), path)
    cpg = path.with_suffix(".cpg")
    encoding = cpg.read_text().strip() if cpg.is_file() else "latin-1"
    try:
        reader = shapefile.Reader(str(path), encoding=encoding)
    except shapefile.ShapefileException as exc:
        raise InputError(path, f"expected an ESRI shapefile with .shx and .dbf: {exc}") from None
    with reader:
        fields = [f[0] for f in reader.fields[1:]]
        if "AGS" not in fields:
            raise InputError(
                path.with_suffix(".dbf"),
                f"expected the attribute fields AGS, GEN, BEZ, NUTS, found {', '.join(fields)}",
            )
        rows = []
        for index, shape_record in enumerate(reader.iterShapeRecords()):
            shape, record = shape_record.shape, shape_record.record.as_dict()
            if shape.shapeType not in (shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM):
                raise InputError(
                    path,
                    f"expected polygons, found shape type {shape.shapeTypeName}",
                    line=index + 1,
                )
            points = np.asarray(shape.points, dtype="float64")[:, :2]
            if projection is not None:
                lon, lat = utm_to_lonlat(points[:, 0], points[:, 1], **projection)
                points = np.column_stack([lon, lat])
            bounds = [*shape.parts, len(points)]
            rings = []
            for start, end in zip(bounds[:-1], bounds[1:], strict=True):
                ring = _closed(points[start:end])
                # Shapefiles draw exteriors clockwise and holes counter-clockwise.
                exterior = _signed_area(ring) < 0
                rings.append(_oriented(ring, exterior))
            rows.append(_row(record, rings, path, index + 1))
    frame = _frame(rows)
    frame.attrs = {
        "path": str(path),
        "crs": "EPSG:4326 (from transverse Mercator)" if projection else "geographic",
        "credit": CREDIT,
        "licence": LICENCE,
        "n_rows": len(frame),
    }
    return frame


def read_geojson(path: str | Path) -> pd.DataFrame:
    """Read a GeoJSON FeatureCollection of regions into the frame of :func:`read_vg2500`.

    Properties are taken from the BKG names (``AGS``, ``GEN``, ``BEZ``, ``NUTS``,
    ``ARS``, ``GF``) or the frame's own (``ags``, ``name``, ``bez``, ``nuts``,
    ``ars``, ``gf``). Coordinates must be longitude/latitude (RFC 7946); a
    legacy ``crs`` member naming EPSG:25832 (or another UTM zone on ETRS89) is
    projected back.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pandas.DataFrame
        As :func:`read_vg2500`.

    Raises
    ------
    InputError
        Not JSON, not a FeatureCollection, a geometry that is not a
        (Multi)Polygon, a feature without an AGS, or an unsupported ``crs``.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"expected UTF-8 JSON text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"expected JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InputError(path, "expected a GeoJSON FeatureCollection")
    projection = _geojson_crs(document, path)
    rows = []
    for index, feature in enumerate(document.get("features") or [], start=1):
        geometry = (feature or {}).get("geometry") or {}
        kind = geometry.get("type")
        if kind == "Polygon":
            polygons = [geometry.get("coordinates") or []]
        elif kind == "MultiPolygon":
            polygons = geometry.get("coordinates") or []
        else:
            raise InputError(
                path, f"feature {index}: expected a Polygon or MultiPolygon, found {kind!r}"
            )
        rings = []
        for polygon in polygons:
            for k, coordinates in enumerate(polygon):
                ring = np.asarray(coordinates, dtype="float64")
                if ring.ndim != 2 or ring.shape[1] < 2 or len(ring) < 3:
                    raise InputError(
                        path, f"feature {index}: a ring needs at least 3 [lon, lat] positions"
                    )
                ring = ring[:, :2]
                if projection is not None:
                    lon, lat = utm_to_lonlat(ring[:, 0], ring[:, 1], **projection)
                    ring = np.column_stack([lon, lat])
                rings.append(_oriented(_closed(ring), exterior=k == 0))
        properties = (feature or {}).get("properties") or {}
        rows.append(_row(properties, rings, path, index))
    frame = _frame(rows)
    frame.attrs = {
        "path": str(path),
        "crs": "EPSG:4326",
        "credit": CREDIT,
        "licence": LICENCE,
        "n_rows": len(frame),
    }
    return frame


def _geojson_crs(document: dict, path) -> dict | None:
    name = str(((document.get("crs") or {}).get("properties") or {}).get("name", ""))
    if not name or re.search(r"CRS84|EPSG::?4326|EPSG:4258|EPSG::4258", name, re.IGNORECASE):
        return None
    m = re.search(r"EPSG::?(258|326)(\d{2})$", name)
    if m:
        zone = int(m[2])
        return {"central_meridian": zone * 6 - 183.0}
    raise InputError(path, f"unsupported crs {name!r}: expected longitude/latitude or a UTM zone")


def _row(properties: dict, rings: list[np.ndarray], path, index: int) -> dict:
    def pick(*names: str) -> str:
        for name in names:
            value = properties.get(name)
            if value not in (None, ""):
                return str(value).strip()
        return ""

    ags = pick("AGS", "ags")
    if not ags:
        raise InputError(
            path, f"feature {index}: expected an AGS property, found none", column="AGS"
        )
    gf = pick("GF", "gf")
    return {
        "ags": ags,
        "name": pick("GEN", "name", "NAME"),
        "bez": pick("BEZ", "bez"),
        "nuts": pick("NUTS", "nuts"),
        "ars": pick("ARS", "ars"),
        "level": LEVEL_BY_LENGTH.get(len(ags), "") if ags.isdigit() else "",
        "gf": int(float(gf)) if gf else None,
        "geometry": rings,
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.astype({c: "str" for c in COLUMNS[:6]})
    frame["gf"] = frame["gf"].astype("Int64")
    return frame
