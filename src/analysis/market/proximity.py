"""Proximity: how far Kreise and customers are from the nearest sales location.

"Customer proximity is king": this module measures it. Places get coordinates in
order of precision:

1. **Gemeinde coordinates** of the Destatis Gemeindeverzeichnis (GV-ISys), where the
   official workbook is present: a Kreis is the population-weighted mean of its
   Gemeinden, a postcode the population-weighted mean of the Gemeinden it touches;
2. otherwise the **Kreis polygon centroid** (area-weighted, holes subtracted) of the
   boundary file (BKG VG2500, or the demo's fictional polygons);
3. otherwise coordinates given by the caller (e.g. the demo geography's lat/lon).

A postcode without Gemeinde coordinates takes the centroid of its Kreis (the mean of
its Kreise' centroids, weighted by share, when it spans several). Distances are
great-circle distances (:func:`haversine_km`) — straight lines, not road distances,
which are some 20-40 % longer.

Sales locations are a parameter: a list of postcodes (:func:`sales_sites`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasting).

    Examples
    --------
    >>> round(float(haversine_km(0, 0, 0, 1)), 3)  # one degree on the equator
    111.195
    """
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def polygon_centroid(rings: Sequence) -> tuple[float, float]:
    """Area-weighted centroid ``(lat, lon)`` of a (multi)polygon given as lon/lat rings.

    Exterior rings counter-clockwise and holes clockwise (RFC 7946, as
    :func:`analysis.sources.official.vg2500.read_geojson` gives them): the signed areas
    subtract the holes. The centroid is taken in the lon/lat plane; a centroid is
    invariant under the (nearly uniform, at Kreis scale) stretching between that
    plane and a local metric one, so this is accurate to well under a kilometre.

    Returns
    -------
    (lat, lon) : tuple of float
        NaN for an empty or degenerate geometry.
    """
    arrays = [np.asarray(r, dtype="float64") for r in rings if len(r) >= 3]
    if not arrays:
        return float("nan"), float("nan")
    total_a, total_x, total_y = 0.0, 0.0, 0.0
    for ring in arrays:
        x, y = ring[:, 0], ring[:, 1]
        x1, y1 = np.roll(x, -1), np.roll(y, -1)
        cross = x * y1 - x1 * y
        total_a += cross.sum() / 2
        total_x += ((x + x1) * cross).sum() / 6
        total_y += ((y + y1) * cross).sum() / 6
    if abs(total_a) < 1e-12:
        return float("nan"), float("nan")
    return total_y / total_a, total_x / total_a


def _weighted_points(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Population-weighted mean ``lat``/``lon`` per ``key`` over rows with coordinates.

    A group whose rows all lack a positive population gets the plain mean.
    """
    lat = pd.to_numeric(frame["lat"], errors="coerce").astype("float64")
    lon = pd.to_numeric(frame["lon"], errors="coerce").astype("float64")
    ok = np.isfinite(lat) & np.isfinite(lon)
    f = frame.loc[ok, [key]].assign(lat=lat[ok], lon=lon[ok])
    if "population" in frame.columns:
        w = pd.to_numeric(frame.loc[ok, "population"], errors="coerce").astype("float64")
        w = w.fillna(0.0).clip(lower=0.0)
    else:
        w = pd.Series(1.0, index=f.index)
    w = w.where(w.groupby(f[key]).transform("sum") > 0, 1.0)
    sums = (
        f.assign(w=w, wlat=w * f["lat"], wlon=w * f["lon"])
        .groupby(key)[["w", "wlat", "wlon"]]
        .sum()
    )
    return pd.DataFrame({"lat": sums["wlat"] / sums["w"], "lon": sums["wlon"] / sums["w"]})


def kreis_centroids(
    kreise: Sequence[str] | None = None,
    *,
    gemeinden: pd.DataFrame | None = None,
    geometry: pd.DataFrame | None = None,
    fallback: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One point per Kreis, from the most precise source available for it.

    Parameters
    ----------
    kreise : sequence of str, optional
        The Kreise wanted (default: every Kreis any source knows).
    gemeinden : DataFrame, optional
        ``kreis_ags`` (or ``ags8``), ``lat``, ``lon``, ``population`` — e.g. GV-ISys
        Gemeinden (:func:`load_gemeinde_coordinates`). Gemeinden without coordinates
        are skipped; without any population weight a plain mean is used.
    geometry : DataFrame, optional
        ``ags``, ``geometry`` (lon/lat rings) — :func:`analysis.geometry.load_kreis_geometry`.
    fallback : DataFrame, optional
        ``ags``, ``lat``, ``lon`` given directly.

    Returns
    -------
    DataFrame
        ``ags``, ``lat``, ``lon``, ``method`` (``"gemeinden"``, ``"polygon"``,
        ``"given"`` or ``"none"``, the last with NaN coordinates).
        ``attrs["n_by_method"]`` counts them.
    """
    parts: list[pd.DataFrame] = []
    if gemeinden is not None and len(gemeinden):
        g = gemeinden.assign(
            kreis_ags=(
                gemeinden["kreis_ags"]
                if "kreis_ags" in gemeinden.columns
                else gemeinden["ags8"].astype("str").str.slice(0, 5)
            )
        )
        sums = _weighted_points(g, "kreis_ags")
        parts.append(
            pd.DataFrame(
                {
                    "ags": sums.index.astype("str"),
                    "lat": sums["lat"].to_numpy(),
                    "lon": sums["lon"].to_numpy(),
                    "method": "gemeinden",
                }
            )
        )
    if geometry is not None and len(geometry):
        points = [polygon_centroid(rings) for rings in geometry["geometry"]]
        parts.append(
            pd.DataFrame(
                {
                    "ags": geometry["ags"].astype("str").to_numpy(),
                    "lat": [p[0] for p in points],
                    "lon": [p[1] for p in points],
                    "method": "polygon",
                }
            )
        )
    if fallback is not None and len(fallback):
        parts.append(
            pd.DataFrame(
                {
                    "ags": fallback["ags"].astype("str").to_numpy(),
                    "lat": fallback["lat"].astype(float).to_numpy(),
                    "lon": fallback["lon"].astype(float).to_numpy(),
                    "method": "given",
                }
            )
        )
    columns = ["ags", "lat", "lon", "method"]
    known = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            {c: pd.Series(dtype="float64" if c in ("lat", "lon") else "str") for c in columns}
        )
    )
    known = known[np.isfinite(known["lat"]) & np.isfinite(known["lon"])]
    # parts are in order of precision: keep the first point per Kreis
    best = known.drop_duplicates("ags", keep="first")
    wanted = pd.Index(list(map(str, kreise)) if kreise is not None else sorted(best["ags"]))
    out = (
        best.set_index("ags")
        .reindex(wanted)
        .rename_axis("ags")
        .reset_index()
        .fillna({"method": "none"})
        .astype({"ags": "str", "method": "str"})
    )[columns]
    out.attrs = {"n_by_method": {str(k): int(v) for k, v in out["method"].value_counts().items()}}
    return out


def plz_coordinates(
    plz_map: pd.DataFrame,
    centroids: pd.DataFrame,
    *,
    gemeinden: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One point per postcode.

    Parameters
    ----------
    plz_map : DataFrame
        :func:`analysis.sources.official.plz.read_plz` (``plz``, ``ags8``, ``kreis_ags``).
    centroids : DataFrame
        :func:`kreis_centroids`.
    gemeinden : DataFrame, optional
        ``ags8``, ``lat``, ``lon``, ``population``: a postcode is the
        population-weighted mean of its Gemeinden that have coordinates.

    Returns
    -------
    DataFrame
        ``plz``, ``lat``, ``lon``, ``method`` (``"gemeinden"``, ``"kreis"`` — the
        centroid of its Kreis, averaged over the Kreise it spans — or ``"none"``).
    """
    pairs = plz_map[["plz", "ags8", "kreis_ags"]].drop_duplicates(["plz", "ags8"])
    parts = []
    if gemeinden is not None and len(gemeinden):
        cols = [c for c in ("ags8", "lat", "lon", "population") if c in gemeinden.columns]
        joined = pairs[["plz", "ags8"]].merge(gemeinden[cols], on="ags8", how="inner")
        sums = _weighted_points(joined, "plz")
        parts.append(
            pd.DataFrame(
                {
                    "plz": sums.index.astype("str"),
                    "lat": sums["lat"].to_numpy(),
                    "lon": sums["lon"].to_numpy(),
                    "method": "gemeinden",
                }
            )
        )
    by_kreis = (
        pairs[["plz", "kreis_ags"]]
        .drop_duplicates()
        .merge(centroids[["ags", "lat", "lon"]], left_on="kreis_ags", right_on="ags", how="inner")
    )
    by_kreis = by_kreis[np.isfinite(by_kreis["lat"])]
    # A postcode spanning Kreise sits between their centres. Longitudes are averaged
    # directly: fine inside Germany, far from the antimeridian.
    kreis_points = (
        by_kreis.groupby("plz")[["lat", "lon"]].mean().reset_index().assign(method="kreis")
    )
    parts.append(kreis_points)
    points = pd.concat(parts, ignore_index=True).drop_duplicates("plz", keep="first")
    all_plz = pd.Index(pd.unique(pairs["plz"]), name="plz")
    return (
        points.set_index("plz")
        .reindex(all_plz)
        .reset_index()
        .fillna({"method": "none"})
        .astype({"plz": "str", "method": "str"})[["plz", "lat", "lon", "method"]]
    )


def sales_sites(postcodes: str | Sequence[str], plz_points: pd.DataFrame) -> pd.DataFrame:
    """Sales locations from postcodes.

    Parameters
    ----------
    postcodes : str or sequence of str
        ``"37073, 80331"`` or ``["37073", "80331"]``; 5 digits each.
    plz_points : DataFrame
        :func:`plz_coordinates`.

    Returns
    -------
    DataFrame
        ``site`` (the postcode), ``lat``, ``lon``, ``method``, in the order given.

    Raises
    ------
    ParameterError
        An empty list, a postcode that is not 5 digits, or one the PLZ map does not
        know or cannot locate.
    """
    items = postcodes.split(",") if isinstance(postcodes, str) else list(postcodes)
    codes = [str(c).strip() for c in items if str(c).strip()]
    if not codes:
        raise ParameterError("sales_locations", "expected at least one postcode, got none")
    bad = [c for c in codes if not (c.isdigit() and len(c) == 5)]
    if bad:
        raise ParameterError(
            "sales_locations", f"expected 5-digit postcodes separated by commas, found {bad}"
        )
    points = plz_points.set_index("plz")
    unknown = [c for c in codes if c not in points.index or not np.isfinite(points.at[c, "lat"])]
    if unknown:
        raise ParameterError(
            "sales_locations",
            f"postcode(s) {unknown} are not in this dataset's PLZ map (or cannot be located); "
            f"valid examples: {', '.join(list(points.index[:3]))}",
        )
    codes = list(dict.fromkeys(codes))
    sites = points.loc[codes, ["lat", "lon", "method"]].rename_axis("site").reset_index()
    return sites.astype({"site": "str"})


def nearest_site(lat, lon, sites: pd.DataFrame) -> pd.DataFrame:
    """Distance from each point to the nearest site.

    Parameters
    ----------
    lat, lon : array-like
        Points (NaN allowed: distance NaN).
    sites : DataFrame
        :func:`sales_sites` (``site``, ``lat``, ``lon``).

    Returns
    -------
    DataFrame
        ``distance_km``, ``nearest_site`` (``""`` where the point is unknown), in
        the order of the points.
    """
    lat = np.asarray(lat, dtype="float64")
    lon = np.asarray(lon, dtype="float64")
    d = haversine_km(
        lat[:, None],
        lon[:, None],
        sites["lat"].to_numpy()[None, :],
        sites["lon"].to_numpy()[None, :],
    )
    valid = np.isfinite(lat) & np.isfinite(lon)
    nearest = np.argmin(np.where(valid[:, None], d, np.inf), axis=1) if len(sites) else None
    distance = np.where(valid, d[np.arange(len(lat)), nearest], np.nan)
    names = np.where(valid, sites["site"].to_numpy()[nearest], "")
    return pd.DataFrame({"distance_km": distance, "nearest_site": pd.Series(names, dtype="str")})


def coverage(distance_km, weight=None, radius_km: float = 100.0) -> float:
    """Weighted share within ``radius_km`` of a site, among points with a distance.

    Parameters
    ----------
    distance_km : array-like
        From :func:`nearest_site` (NaN: not located, left out — report them apart).
    weight : array-like, optional
        E.g. expected customers, accounts' shares, champions (default 1 each).
    radius_km : float

    Returns
    -------
    float
        In [0, 1]; NaN when nothing is located.
    """
    if radius_km < 0:
        raise ParameterError("radius_km", f"expected a radius >= 0, got {radius_km}")
    d = np.asarray(distance_km, dtype="float64")
    w = np.ones_like(d) if weight is None else np.asarray(weight, dtype="float64")
    ok = np.isfinite(d) & np.isfinite(w)
    total = w[ok].sum()
    return float(w[ok & (d <= radius_km)].sum() / total) if total > 0 else float("nan")


def coverage_table(
    distances: pd.DataFrame, weights: dict[str, str], radii: Sequence[float]
) -> pd.DataFrame:
    """Coverage of several weights at several radii.

    Parameters
    ----------
    distances : DataFrame
        With ``distance_km`` and the weight columns.
    weights : dict
        Label → column (use ``""`` for one per row).
    radii : sequence of float

    Returns
    -------
    DataFrame
        Index: label; one column per radius (``"≤ 50 km"``) with the share covered.
    """
    rows = {}
    for label, col in weights.items():
        w = distances[col] if col else None
        rows[label] = {f"≤ {r:g} km": coverage(distances["distance_km"], w, r) for r in radii}
    return pd.DataFrame.from_dict(rows, orient="index")


def load_gemeinde_coordinates(
    dataset: str = "official", *, root: str | Path | None = None
) -> pd.DataFrame | None:
    """Gemeinde coordinates and population from the dataset's GV-ISys workbook, or None.

    The official dataset carries ``official/gv_isys_2024/AuszugGV…Aktuell.xlsx``
    (``workbook data fetch``); the demo has no Gemeinde coordinates (None).

    Parameters
    ----------
    dataset : {"demo", "official"}
    root : path, optional
        Dataset root to read instead (its ``official/`` folder), e.g. the shared
        mirror's parent.

    Returns
    -------
    DataFrame or None
        ``ags8``, ``kreis_ags``, ``name``, ``lat``, ``lon``, ``population`` (float);
        ``attrs`` from the reader (dates, population basis).
    """
    from analysis.paths import dataset_dir
    from analysis.sources.official.catalogue import local_path

    base = Path(root) if root is not None else dataset_dir(dataset)
    path = local_path("gv-isys", base / "official")
    if path is None or path.suffix.lower() != ".xlsx":
        return None
    from analysis.provenance import note_input
    from analysis.sources.official.gv_isys import CREDIT, read_gv_gemeinden

    frame = read_gv_gemeinden(path)
    note_input(
        path,
        source="Destatis GV-ISys Gemeindeverzeichnis (Gemeinde coordinates, population)",
        credit=CREDIT,
        reference_date=str(frame.attrs.get("gebietsstand", "")),
    )
    out = frame[["ags8", "kreis_ags", "name", "lat", "lon"]].assign(
        population=frame["population"].astype("float64")
    )
    out.attrs = dict(frame.attrs)
    return out


@dataclass(frozen=True)
class ProximityResult:
    """Distances of Kreise and accounts to the nearest sales location, and coverage."""

    sites: pd.DataFrame
    centroids: pd.DataFrame
    kreis_distance: pd.DataFrame
    account_distance: pd.DataFrame
    coverage: pd.DataFrame


def proximity_analysis(
    kreis_frame: pd.DataFrame,
    placed_accounts: pd.DataFrame,
    outcomes: pd.DataFrame,
    plz_map: pd.DataFrame,
    kreis_codes: pd.Series,
    *,
    sales_locations: str | Sequence[str],
    radius_km: float,
    exposure: str,
    gemeinden: pd.DataFrame | None = None,
    geometry: pd.DataFrame | None = None,
) -> ProximityResult:
    """Kreise and accounts against the nearest sales location, with coverage at three radii.

    Parameters
    ----------
    kreis_frame : DataFrame
        One row per Kreis with ``ags``, ``expected``, ``hc_count`` and ``exposure``.
    placed_accounts : DataFrame
        Accounts placed in Kreise (``account_id``, ``plz5``, ``share``).
    outcomes : DataFrame
        ``account_id`` and ``is_customer``.
    plz_map : DataFrame
        Postcode map (for postcode coordinates).
    kreis_codes : Series
        Kreis codes to locate.
    sales_locations : str or sequence of str
        Postcodes of the sales locations.
    radius_km : float
        The coverage radius of interest (coverage is also given at 50 km and twice it).
    exposure : str
        Exposure column of ``kreis_frame`` (also reported as covered share).

    Returns
    -------
    ProximityResult
        ``coverage`` has rows accounts, customers, expected customers (potential),
        Hidden Champions, ``exposure`` and columns ``≤ R km``.
    """
    centroids = kreis_centroids(kreis_codes, gemeinden=gemeinden, geometry=geometry)
    points = plz_coordinates(plz_map, centroids, gemeinden=gemeinden)
    sites = sales_sites(sales_locations, points)
    kreis_points = kreis_frame.merge(centroids, on="ags", how="left")
    kreis_distance = pd.concat(
        [kreis_points, nearest_site(kreis_points["lat"], kreis_points["lon"], sites)], axis=1
    )
    account_points = (
        placed_accounts.merge(points, left_on="plz5", right_on="plz", how="left")
        .merge(outcomes[["account_id", "is_customer"]], on="account_id", how="left")
        .reset_index(drop=True)
    )
    account_distance = pd.concat(
        [account_points, nearest_site(account_points["lat"], account_points["lon"], sites)],
        axis=1,
    )
    account_distance = account_distance.assign(
        customer=account_distance["share"] * account_distance["is_customer"].astype(float)
    )
    radii = sorted({50, radius_km, 2 * radius_km})
    table = pd.concat(
        [
            coverage_table(account_distance, {"accounts": "share", "customers": "customer"}, radii),
            coverage_table(
                kreis_distance,
                {
                    "expected customers (potential)": "expected",
                    "Hidden Champions": "hc_count",
                    exposure: exposure,
                },
                radii,
            ),
        ]
    )
    return ProximityResult(sites, centroids, kreis_distance, account_distance, table)
