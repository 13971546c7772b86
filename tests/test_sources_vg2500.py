"""Tests for analysis.sources.official.vg2500 (boundaries from shapefiles and GeoJSON)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapefile

from analysis.errors import InputError
from analysis.sources.official.vg2500 import COLUMNS, read_geojson, read_vg2500, utm_to_lonlat

UTM32_PRJ = (
    'PROJCS["ETRS_1989_UTM_Zone_32N",GEOGCS["GCS_ETRS_1989",DATUM["D_ETRS_1989",'
    'SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)

#: GRS 1980 quarter meridian in metres (closed form for the ellipsoid; Karney 2011).
QUARTER_MERIDIAN = 10_001_965.729_313


@pytest.fixture(scope="session")
def official(mirror) -> Path:
    """The mirror of real official files (conftest skips when it is absent)."""
    return mirror


def _square(e0: float, n0: float, size: float, *, clockwise: bool) -> list[list[float]]:
    ring = [[e0, n0], [e0 + size, n0], [e0 + size, n0 + size], [e0, n0 + size], [e0, n0]]
    return ring[::-1] if clockwise else ring


def _write_shapefile(folder: Path, *, prj: str | None = UTM32_PRJ, polygon: bool = True) -> Path:
    path = folder / "areas.shp"
    with shapefile.Writer(
        str(path), shapeType=shapefile.POLYGON if polygon else shapefile.POINT
    ) as w:
        for name in ("AGS", "GEN", "BEZ", "NUTS", "ARS"):
            w.field(name, "C", size=40)
        w.field("GF", "N", size=2)
        if polygon:
            # exterior clockwise, hole counter-clockwise (shapefile convention)
            w.poly([_square(560_000, 5_700_000, 10_000, clockwise=True),
                    _square(562_000, 5_702_000, 2_000, clockwise=False)])  # fmt: skip
        else:
            w.point(560_000, 5_700_000)
        w.record("03159", "Göttingen", "Landkreis", "DE91C", "03159", 9)
    (folder / "areas.cpg").write_text("UTF-8")
    if prj is not None:
        (folder / "areas.prj").write_text(prj)
    return path


# --------------------------------------------------------------------------- projection


def test_utm_inverse_closed_forms():
    # the central meridian and the equator map to themselves
    lon, lat = utm_to_lonlat(500_000.0, 0.0)
    assert (lon, lat) == (pytest.approx(9.0, abs=1e-12), pytest.approx(0.0, abs=1e-12))
    # the scaled quarter meridian is the pole
    _, lat = utm_to_lonlat(500_000.0, 0.9996 * QUARTER_MERIDIAN)
    assert lat == pytest.approx(90.0, abs=1e-9)
    # east and west of the central meridian are mirror images
    lon_e, lat_e = utm_to_lonlat(560_000.0, 5_700_000.0)
    lon_w, lat_w = utm_to_lonlat(440_000.0, 5_700_000.0)
    assert lon_e - 9.0 == pytest.approx(9.0 - lon_w, abs=1e-12)
    assert lat_e == pytest.approx(lat_w, abs=1e-12)


def test_utm_inverse_scale_near_the_meridian():
    # 1 km north along the central meridian at 51.5°N is 1 km / (k0 * M'(phi)) degrees,
    # with the meridional radius of curvature M = a(1-e²)/(1-e² sin²phi)^1.5 of GRS 1980.
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    _, lat0 = utm_to_lonlat(500_000.0, 5_706_000.0)
    _, lat1 = utm_to_lonlat(500_000.0, 5_707_000.0)
    phi = np.radians((lat0 + lat1) / 2)
    meridional = a * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    expected = np.degrees(1000.0 / (0.9996 * meridional))
    assert lat1 - lat0 == pytest.approx(expected, rel=1e-7)


# --------------------------------------------------------------------------- shapefile


def test_shapefile_reprojected_with_oriented_rings(tmp_path):
    # Arrange
    path = _write_shapefile(tmp_path)

    # Act
    frame = read_vg2500(path)

    # Assert
    assert list(frame.columns) == list(COLUMNS)
    row = frame.iloc[0]
    assert (row["ags"], row["name"], row["bez"], row["nuts"], row["level"]) == (
        "03159", "Göttingen", "Landkreis", "DE91C", "KREISE",
    )  # fmt: skip
    exterior, hole = row["geometry"]
    assert exterior.shape == (5, 2) and hole.shape == (5, 2)
    expected_lon, expected_lat = utm_to_lonlat(560_000.0, 5_700_000.0)
    assert np.allclose(exterior[0], [expected_lon, expected_lat], atol=1e-12)
    assert 9.8 < exterior[:, 0].mean() < 10.0 and 51.4 < exterior[:, 1].mean() < 51.6

    def area(ring):
        return 0.5 * (np.dot(ring[:-1, 0], ring[1:, 1]) - np.dot(ring[1:, 0], ring[:-1, 1]))

    assert area(exterior) > 0 > area(hole)  # RFC 7946 orientation


def test_shapefile_problems(tmp_path):
    # Arrange
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    no_prj = _write_shapefile(tmp_path / "a", prj=None)
    lambert = _write_shapefile(
        tmp_path / "b", prj=UTM32_PRJ.replace("Transverse_Mercator", "Lambert_Conformal_Conic")
    )
    points = _write_shapefile(tmp_path / "c", polygon=False)

    # Act / Assert
    with pytest.raises(InputError, match=r"areas\.prj"):
        read_vg2500(no_prj)
    with pytest.raises(InputError, match="unsupported projection"):
        read_vg2500(lambert)
    with pytest.raises(InputError, match="expected polygons"):
        read_vg2500(points)
    with pytest.raises(InputError, match="not found"):
        read_vg2500(tmp_path / "missing.shp")


# --------------------------------------------------------------------------- GeoJSON


def test_geojson_polygon_and_multipolygon_with_own_property_names(tmp_path):
    # Arrange: fictional regions, exterior rings deliberately clockwise
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ags": "99001", "name": "Musterstadt", "bez": "Kreisfreie Stadt"},
                "geometry": {"type": "Polygon", "coordinates": [_square(9, 51, 1, clockwise=True)]},
            },
            {
                "type": "Feature",
                "properties": {"ags": "99002", "name": "Musterkreis", "nuts": "DEX01"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [
                            _square(10, 51, 1, clockwise=False),
                            _square(10.2, 51.2, 0.2, clockwise=False),
                        ],
                        [_square(12, 51, 0.5, clockwise=False)],
                    ],
                },
            },
        ],
    }
    path = tmp_path / "regions.geojson"
    path.write_text(json.dumps(document))

    # Act
    frame = read_geojson(path)

    # Assert
    assert list(frame.columns) == list(COLUMNS)
    assert frame["ags"].tolist() == ["99001", "99002"]
    assert [len(g) for g in frame["geometry"]] == [1, 3]
    outer = frame.loc[0, "geometry"][0]
    assert outer[1].tolist() == [10.0, 51.0]  # reversed to counter-clockwise
    hole = frame.loc[1, "geometry"][1]
    assert hole[1].tolist() == pytest.approx([10.2, 51.4])  # reversed to clockwise
    assert frame["gf"].isna().all()


def test_geojson_in_utm_equals_the_shapefile(tmp_path):
    # Arrange
    shp = read_vg2500(_write_shapefile(tmp_path))
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "AGS": "03159",
                    "GEN": "Göttingen",
                    "BEZ": "Landkreis",
                    "NUTS": "DE91C",
                    "ARS": "03159",
                    "GF": 9,
                },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        _square(560_000, 5_700_000, 10_000, clockwise=False),
                        _square(562_000, 5_702_000, 2_000, clockwise=True),
                    ],
                },
            }
        ],
    }
    path = tmp_path / "utm.geojson"
    path.write_text(json.dumps(document))

    # Act
    geo = read_geojson(path)

    # Assert
    assert geo.drop(columns="geometry").equals(shp.drop(columns="geometry"))
    for a, b in zip(geo.loc[0, "geometry"], shp.loc[0, "geometry"], strict=True):
        assert {tuple(p) for p in np.round(a, 9)} == {tuple(p) for p in np.round(b, 9)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "expected JSON"),
        ('{"type": "Feature"}', "FeatureCollection"),
        (
            '{"type": "FeatureCollection", "features": [{"properties": {"AGS": "1"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}',
            "Polygon",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}}]}',
            "AGS",
        ),
        (
            '{"type": "FeatureCollection", "crs": {"properties": {"name": "EPSG:3035"}}, "features": []}',
            "unsupported crs",
        ),
    ],
)
def test_geojson_problems(tmp_path, text, expected):
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(InputError, match=expected):
        read_geojson(path)


# --------------------------------------------------------------------------- real files


@pytest.mark.mirror
@pytest.mark.parametrize(("stem", "n"), [("KRS", 400), ("LAN", 24)])
def test_vg2500_matches_the_reprojected_geojson(official, stem, n):
    # Arrange
    folder = official / "bkg_vg2500"

    # Act
    shp = read_vg2500(folder / f"VG2500_{stem}.shp")
    geo = read_geojson(folder / f"vg2500_{stem.lower()}_wgs84.geojson")

    # Assert
    assert len(shp) == len(geo) == n
    assert shp["ags"].tolist() == geo["ags"].tolist()
    assert shp["name"].tolist() == geo["name"].tolist()
    worst = 0.0
    for rings_a, rings_b in zip(shp["geometry"], geo["geometry"], strict=True):
        key = lambda r: (len(r), tuple(np.round(r[0], 3)))  # noqa: E731
        rings_a, rings_b = sorted(rings_a, key=key), sorted(rings_b, key=key)
        assert [len(r) for r in rings_a] == [len(r) for r in rings_b]
        worst = max(
            worst, max(float(np.abs(a - b).max()) for a, b in zip(rings_a, rings_b, strict=True))
        )
    assert worst < 1e-4  # the GeoJSON is rounded to 5 decimals


@pytest.mark.mirror
def test_vg2500_kreise_facts(official):
    kreise = read_vg2500(official / "bkg_vg2500" / "VG2500_KRS.shp")
    assert kreise["ags"].is_unique and kreise["ags"].str.fullmatch(r"\d{5}").all()
    assert set(kreise["level"]) == {"KREISE"}
    goe = kreise.set_index("ags").loc["03159"]
    assert goe["name"] == "Göttingen" and goe["nuts"].startswith("DE9")
    lon = np.concatenate([r[:, 0] for g in kreise["geometry"] for r in g])
    lat = np.concatenate([r[:, 1] for g in kreise["geometry"] for r in g])
    assert 5.8 < lon.min() and lon.max() < 15.1 and 47.2 < lat.min() and lat.max() < 55.1
    laender = read_vg2500(official / "bkg_vg2500" / "VG2500_LAN.shp")
    assert laender.loc[laender["gf"] == 9, "ags"].nunique() == 16
