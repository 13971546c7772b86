"""Tests for analysis.market.proximity: distances, centroids, postcode points, coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.market.proximity import (
    EARTH_RADIUS_KM,
    coverage,
    coverage_table,
    haversine_km,
    kreis_centroids,
    nearest_site,
    plz_coordinates,
    polygon_centroid,
    sales_sites,
)


def _square(x0, y0, size, ccw=True):
    ring = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)]
    return ring if ccw else ring[::-1]


def test_haversine_matches_closed_forms() -> None:
    # one degree of longitude on the equator, equator to pole, the same point
    assert haversine_km(0, 0, 0, 1) == pytest.approx(2 * math.pi * EARTH_RADIUS_KM / 360)
    assert haversine_km(0, 10, 90, 10) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2)
    assert haversine_km(51.5, 9.9, 51.5, 9.9) == 0.0
    # one degree of longitude at 60° N is half as long as on the equator
    assert haversine_km(60, 0, 60, 1) == pytest.approx(
        2 * EARTH_RADIUS_KM * math.asin(math.cos(math.radians(60)) * math.sin(math.radians(0.5)))
    )


def test_polygon_centroid_subtracts_holes() -> None:
    # Arrange: a 4x4 square (centroid 2,2) with a clockwise 2x2 hole in a corner (1,1)
    rings = [_square(0, 0, 4), _square(0, 0, 2, ccw=False)]

    # Act
    lat, lon = polygon_centroid(rings)

    # Assert: (16 * 2 - 4 * 1) / 12
    assert lon == pytest.approx(28 / 12)
    assert lat == pytest.approx(28 / 12)


def test_polygon_centroid_weights_parts_by_area() -> None:
    # Arrange: two islands, areas 4 and 1
    rings = [_square(10, 50, 2), _square(20, 50, 1)]

    # Act
    lat, lon = polygon_centroid(rings)

    # Assert
    assert lon == pytest.approx((4 * 11 + 1 * 20.5) / 5)
    assert lat == pytest.approx((4 * 51 + 1 * 50.5) / 5)
    assert all(math.isnan(v) for v in polygon_centroid([]))


def test_kreis_centroids_prefer_gemeinden_then_polygons_then_given_points() -> None:
    # Arrange
    gemeinden = pd.DataFrame(
        {
            "ags8": ["03159001", "03159002", "03159003"],
            "lat": [51.0, 52.0, np.nan],
            "lon": [9.0, 10.0, 11.0],
            "population": [300, 100, 10_000],  # the third has no coordinates
        }
    )
    geometry = pd.DataFrame(
        {"ags": ["03159", "09162"], "geometry": [[_square(0, 0, 2)], [_square(11, 48, 1)]]}
    )
    given = pd.DataFrame({"ags": ["09162", "11000"], "lat": [0.0, 52.5], "lon": [0.0, 13.4]})

    # Act
    points = kreis_centroids(
        ["03159", "09162", "11000", "99999"], gemeinden=gemeinden, geometry=geometry, fallback=given
    ).set_index("ags")

    # Assert
    assert points.loc["03159", "method"] == "gemeinden"
    assert points.loc["03159", "lat"] == pytest.approx((300 * 51 + 100 * 52) / 400)
    assert points.loc["03159", "lon"] == pytest.approx((300 * 9 + 100 * 10) / 400)
    assert points.loc["09162", ["lat", "lon", "method"]].tolist() == [48.5, 11.5, "polygon"]
    assert points.loc["11000", "method"] == "given"
    assert points.loc["99999", "method"] == "none" and np.isnan(points.loc["99999", "lat"])


def test_postcode_points_from_gemeinden_else_their_kreise() -> None:
    # Arrange: 11111 lies in two Gemeinden with coordinates; 22222 spans two Kreise
    plz_map = pd.DataFrame(
        {
            "plz": ["11111", "11111", "22222", "22222", "33333"],
            "ags8": ["01001001", "01001002", "02002001", "03003001", "04004001"],
            "kreis_ags": ["01001", "01001", "02002", "03003", "04004"],
        }
    )
    gemeinden = pd.DataFrame(
        {
            "ags8": ["01001001", "01001002"],
            "lat": [50.0, 51.0],
            "lon": [8.0, 9.0],
            "population": [1000.0, 3000.0],
        }
    )
    centroids = pd.DataFrame(
        {"ags": ["01001", "02002", "03003"], "lat": [50.5, 48.0, 49.0], "lon": [8.5, 10.0, 12.0]}
    )

    # Act
    points = plz_coordinates(plz_map, centroids, gemeinden=gemeinden).set_index("plz")

    # Assert
    assert points.loc["11111", ["lat", "lon", "method"]].tolist() == [50.75, 8.75, "gemeinden"]
    assert points.loc["22222", ["lat", "lon", "method"]].tolist() == [48.5, 11.0, "kreis"]
    assert points.loc["33333", "method"] == "none"


@pytest.fixture
def points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "plz": ["37073", "80331", "01067", "99999"],
            "lat": [51.5, 48.1, 51.05, np.nan],
            "lon": [9.9, 11.6, 13.7, np.nan],
            "method": ["gemeinden", "gemeinden", "kreis", "none"],
        }
    )


def test_sales_sites_parse_postcodes_and_refuse_bad_ones(points) -> None:
    sites = sales_sites(" 37073, 80331,37073 ", points)
    assert sites["site"].tolist() == ["37073", "80331"]
    with pytest.raises(ParameterError, match="5-digit"):
        sales_sites("3707", points)
    with pytest.raises(ParameterError, match="not in this dataset"):
        sales_sites("37073, 12345", points)
    with pytest.raises(ParameterError, match="not in this dataset"):
        sales_sites(["99999"], points)
    with pytest.raises(ParameterError, match="at least one"):
        sales_sites(" , ", points)


def test_nearest_site_and_distance(points) -> None:
    # Arrange: two sites on the 51.5° parallel, 1° apart
    sites = pd.DataFrame({"site": ["A", "B"], "lat": [51.5, 51.5], "lon": [9.0, 10.0]})

    # Act
    near = nearest_site([51.5, 51.5, np.nan], [9.2, 9.9, 9.0], sites)

    # Assert
    assert near["nearest_site"].tolist() == ["A", "B", ""]
    assert near["distance_km"].iloc[0] == pytest.approx(float(haversine_km(51.5, 9.0, 51.5, 9.2)))
    assert near["distance_km"].iloc[1] == pytest.approx(float(haversine_km(51.5, 10.0, 51.5, 9.9)))
    assert np.isnan(near["distance_km"].iloc[2])


def test_coverage_is_the_weighted_share_within_the_radius() -> None:
    # Arrange
    distance = np.array([10.0, 60.0, 150.0, np.nan])
    weight = np.array([1.0, 3.0, 6.0, 100.0])

    # Act / Assert: unlocated points are left out (reported apart)
    assert coverage(distance, None, 100) == pytest.approx(2 / 3)
    assert coverage(distance, weight, 100) == pytest.approx(4 / 10)
    assert coverage(distance, weight, 5) == 0.0
    assert coverage(distance, weight, 150) == 1.0
    table = coverage_table(
        pd.DataFrame({"distance_km": distance, "w": weight}), {"rows": "", "w": "w"}, [50, 100]
    )
    assert table.loc["w", "≤ 100 km"] == pytest.approx(0.4)
    assert table.loc["rows", "≤ 50 km"] == pytest.approx(1 / 3)
    with pytest.raises(ParameterError):
        coverage(distance, None, -1)


@pytest.mark.mirror
def test_gemeinde_centroids_agree_with_polygon_centroids_on_real_data(mirror) -> None:
    # Arrange
    from analysis.market.proximity import load_gemeinde_coordinates
    from analysis.sources.official.plz import read_plz
    from analysis.sources.official.vg2500 import read_geojson

    gemeinden = load_gemeinde_coordinates("official", root=mirror.parent)
    geometry = read_geojson(mirror / "bkg_vg2500" / "vg2500_krs_wgs84.geojson")

    # Act
    by_population = kreis_centroids(gemeinden=gemeinden)
    by_polygon = kreis_centroids(by_population["ags"], geometry=geometry)
    gap = haversine_km(
        by_population["lat"], by_population["lon"], by_polygon["lat"], by_polygon["lon"]
    )
    points = plz_coordinates(
        read_plz(mirror / "plz_osm" / "zuordnung_plz_ort.csv"), by_population, gemeinden=gemeinden
    )
    sites = sales_sites("37073, 80331", points)

    # Assert: 400 Kreise; population centres lie near the geometric ones
    assert len(gemeinden) > 10_000 and gemeinden["lat"].notna().mean() > 0.99
    assert load_gemeinde_coordinates("demo") is None
    assert len(by_population) == 400 and (by_population["method"] == "gemeinden").all()
    assert np.nanmax(gap) < 30
    assert np.median(gap) < 5
    # Göttingen - München: about 400 km as the crow flies
    distance = haversine_km(sites["lat"][0], sites["lon"][0], sites["lat"][1], sites["lon"][1])
    assert 380 < float(distance) < 410
