"""The demo map: a hexagonal grid inside Germany's outline, and Kreis outlines from it.

A plain equirectangular projection around 51° N (:func:`project`, :func:`unproject`),
pointy-top hexagons of :data:`CELL_AREA_KM2` (:func:`hex_center`, :func:`grid`) and
the outline of every Kreis as VG2500-style polygons (:func:`kreis_polygons`). Nothing
here is random: the grid and the outlines depend only on the cells' assignment.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.demo.land_facts import OUTLINE

#: Area of one hexagonal map cell in km².
CELL_AREA_KM2 = 150.0

# Projection used for the grid: a plain equirectangular map around 51° N, good enough
# for a fictional map (distances within a few per cent).
LAT0 = 51.0
LON0 = 10.0
KM_PER_LON = 111.32 * math.cos(math.radians(LAT0))  # km per degree of longitude
KM_PER_LAT = 111.2  # km per degree of latitude
HEX_R = math.sqrt(2 * CELL_AREA_KM2 / (3 * math.sqrt(3)))  # circumradius in km


def project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(lon) - LON0) * KM_PER_LON, (np.asarray(lat) - LAT0) * KM_PER_LAT


def unproject(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(x) / KM_PER_LON + LON0, np.asarray(y) / KM_PER_LAT + LAT0


def inside(x: np.ndarray, y: np.ndarray, poly_x: np.ndarray, poly_y: np.ndarray) -> np.ndarray:
    """Even-odd ray casting, vectorized over points."""
    inside = np.zeros(x.shape, dtype=bool)
    n = len(poly_x)
    for i in range(n):
        x0, y0, x1, y1 = poly_x[i], poly_y[i], poly_x[(i + 1) % n], poly_y[(i + 1) % n]
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < x_cross)
    return inside


def hex_center(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # pointy-top hexagons, odd rows shifted by half a column
    width = math.sqrt(3) * HEX_R
    x = col * width + (row % 2) * width / 2
    y = row * 1.5 * HEX_R
    return x, y


def grid() -> pd.DataFrame:
    """Hexagon cells whose centre lies inside the outline (seed-independent)."""
    ox, oy = project(np.array([p[0] for p in OUTLINE]), np.array([p[1] for p in OUTLINE]))
    width = math.sqrt(3) * HEX_R
    cols = np.arange(math.floor(ox.min() / width) - 1, math.ceil(ox.max() / width) + 2)
    rows = np.arange(
        math.floor(oy.min() / (1.5 * HEX_R)) - 1, math.ceil(oy.max() / (1.5 * HEX_R)) + 2
    )
    col, row = np.meshgrid(cols, rows)
    col, row = col.ravel(), row.ravel()
    x, y = hex_center(col, row)
    keep = inside(x, y, ox, oy)
    return pd.DataFrame({"col": col[keep], "row": row[keep], "x": x[keep], "y": y[keep]})


# ------------------------------------------------------------ allocating cells


def power_assign(
    x: np.ndarray,
    y: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    target: np.ndarray,
    iterations: int = 60,
) -> np.ndarray:
    """Assign points to sites by a power diagram whose weights match target counts."""
    d2 = (x[:, None] - sx[None, :]) ** 2 + (y[:, None] - sy[None, :]) ** 2
    weights = np.zeros(len(sx))
    cell_area = CELL_AREA_KM2
    best = d2.argmin(axis=1)
    for _ in range(iterations):
        best = (d2 - weights[None, :]).argmin(axis=1)
        counts = np.bincount(best, minlength=len(sx))
        if np.array_equal(counts, target):
            break
        # growing a site's weight by w grows its region by about pi*w/... in km²
        weights = weights + 0.5 * (target - counts) * cell_area / math.pi
    return best


def round_to_total(values: np.ndarray, total: int, minimum: int = 0) -> np.ndarray:
    """Integers proportional to ``values`` that sum exactly to ``total`` (largest remainder)."""
    values = np.asarray(values, dtype=float)
    base = np.full(len(values), minimum, dtype=np.int64)
    rest = total - base.sum()
    if rest < 0:
        raise ValueError("total below the minimum allocation")
    share = values / values.sum() * rest
    floor = np.floor(share).astype(np.int64)
    remainder = rest - floor.sum()
    order = np.argsort(-(share - floor), kind="stable")
    floor[order[:remainder]] += 1
    return base + floor


def farthest_points(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` well-spread points (randomized farthest-point sampling)."""
    chosen = [int(rng.integers(len(x)))]
    dist = (x - x[chosen[0]]) ** 2 + (y - y[chosen[0]]) ** 2
    for _ in range(n - 1):
        score = dist * rng.uniform(0.6, 1.0, len(x))
        nxt = int(score.argmax())
        chosen.append(nxt)
        dist = np.minimum(dist, (x - x[nxt]) ** 2 + (y - y[nxt]) ** 2)
    return np.array(chosen)


def cell_members(cells: pd.DataFrame) -> dict[str, np.ndarray]:
    """Kreis AGS -> positions of its cells in ``cells``."""
    codes = cells["kreis_ags"].to_numpy()
    order = np.argsort(codes, kind="stable")
    unique, starts = np.unique(codes[order], return_index=True)
    bounds = [*starts[1:], len(codes)]
    return {str(u): order[a:b] for u, a, b in zip(unique, starts, bounds, strict=True)}


# ---------------------------------------------------------------- Kreis outlines


def _hex_vertices(col: int, row: int) -> list[tuple[int, int]]:
    """Integer lattice keys of a hexagon's six corners, clockwise (y up).

    Corners are keyed in units of half a column width (x) and half the circumradius
    (y), so neighbouring hexagons share exactly equal keys.
    """
    cx2 = 2 * col + (row % 2)  # centre x in half widths
    cy2 = 3 * row  # centre y in half radii
    # pointy top: corners at 90°, 30°, -30°, -90°, -150°, 150° (clockwise)
    return [
        (cx2, cy2 + 2),
        (cx2 + 1, cy2 + 1),
        (cx2 + 1, cy2 - 1),
        (cx2, cy2 - 2),
        (cx2 - 1, cy2 - 1),
        (cx2 - 1, cy2 + 1),
    ]


def _signed_area(ring: list[tuple[int, int]]) -> float:
    return 0.5 * sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def _point_in_ring(point: tuple[float, float], ring: list[tuple[int, int]]) -> bool:
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _rings(cells: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Boundary rings of a set of hexagons (clockwise outer rings, counter-clockwise holes)."""
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}
    directed = set()
    for col, row in cells:
        v = _hex_vertices(col, row)
        for a, b in zip(v, v[1:] + v[:1], strict=True):
            directed.add((a, b))
    boundary = [(a, b) for a, b in directed if (b, a) not in directed]
    for a, b in boundary:
        edges.setdefault(a, []).append(b)
    for targets in edges.values():
        targets.sort()
    rings = []
    for start in sorted(edges):
        while edges[start]:
            ring = [start]
            current = edges[start].pop(0)
            while current != start:
                ring.append(current)
                current = edges[current].pop(0)
            rings.append(_simplify(ring))
    return rings


def _simplify(ring: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Start the ring at its smallest corner, so that the output never depends on set order."""
    k = ring.index(min(ring))
    return ring[k:] + ring[:k]


def kreis_polygons(geo) -> dict[str, list[list[list[tuple[float, float]]]]]:
    """Outline of every Kreis as a list of polygons, each a list of closed rings.

    Rings follow the convention of the real VG2500 GeoJSON (outer rings clockwise,
    holes counter-clockwise); coordinates are (lon, lat) and the first point repeats
    at the end.

    Parameters
    ----------
    geo : Geography
        Anything with the map grid as ``geo.cells`` (``kreis_ags, col, row``).

    Returns
    -------
    dict
        Kreis AGS → list of polygons; a polygon is ``[outer, hole, ...]``.
    """
    out = {}
    cells_of: dict[str, list[tuple[int, int]]] = {}
    for code, col, row in zip(
        geo.cells["kreis_ags"].tolist(),
        geo.cells["col"].tolist(),
        geo.cells["row"].tolist(),
        strict=True,
    ):
        cells_of.setdefault(code, []).append((int(col), int(row)))
    width = math.sqrt(3) * HEX_R
    for code in sorted(cells_of):
        rings = _rings(cells_of[code])
        outers = [r for r in rings if _signed_area(r) < 0]
        holes = [r for r in rings if _signed_area(r) > 0]
        polygons = [[outer] for outer in outers]
        for hole in holes:
            # a corner of a hole never lies on an outer ring, so a nudged corner is inside
            probe = (hole[0][0] + 1e-3, hole[0][1] + 2e-3)
            for poly in polygons:
                if _point_in_ring(probe, poly[0]):
                    poly.append(hole)
                    break
        out[code] = [
            [
                [
                    (k[0] * width / 2 / KM_PER_LON + LON0, k[1] * HEX_R / 2 / KM_PER_LAT + LAT0)
                    for k in ring + ring[:1]
                ]
                for ring in poly
            ]
            for poly in polygons
        ]
    return out
