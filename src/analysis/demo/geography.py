"""A fictional geography of Germany for the demo dataset.

The demo needs places that behave like the real ones (16 real Länder, about 400 Kreise,
Gemeinden, postcodes, a map) without pretending to be real: every Kreis, Gemeinde and
postcode is invented, and every Kreis code is shaped like an AGS with the real Land
prefix but uses a third digit (``8`` for kreisfreie Städte, ``9`` for Landkreise; ``6`` in
Nordrhein-Westfalen, whose Regierungsbezirk Arnsberg has 059xx) that
no real Kreis has carried since 1990. A report run on the demo can therefore never be
mistaken for, or silently joined to, real statistics.

Layout
    The map is a hexagonal grid (cells of :data:`CELL_AREA_KM2`) inside a rough outline
    of Germany. Cells are split among the Länder by a power diagram around each Land's
    approximate centre, sized by the Land's real area; within a Land the same method
    splits cells among the Landkreise, and kreisfreie Städte take one to three cells
    out of them (so, as in reality, many cities are enclaves in a Landkreis).

Magnitudes
    Land populations are rounded public figures (total about 83.5 million). A latent,
    standardized ``mint_score`` per Kreis drives the MINT share of students, the
    employment rate and population growth; :data:`TRUTH` holds the coefficients so that
    tests and notebooks can check that an analysis recovers them.

Everything is drawn from ``numpy.random.default_rng(SeedSequence([seed, crc32(b"geography")]))``:
the same seed gives the same geography, on any machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.demo import part_rng
from analysis.demo._names import unique_names

#: Kreis playing "our Göttingen": a mid-size university Landkreis in Niedersachsen.
DEMO_REGION = "03917"
#: Kreis playing "our München": the big kreisfreie Stadt of Bayern.
DEMO_COMPARE = "09801"

#: Third digit of every demo kreisfreie Stadt (no real Kreis code has an 8 there).
CITY_DIGIT = "8"


def landkreis_digit(land_code: str) -> str:
    """Third digit of the demo Landkreise of a Land: 9, but 6 in Nordrhein-Westfalen.

    Real third digits (Regierungsbezirk) since 1990: 0-7 in every Land and 9 only in
    Nordrhein-Westfalen (Arnsberg, 059xx); 8 is never used, 6 not in NRW.
    """
    return "6" if land_code == "05" else "9"


#: Area of one hexagonal map cell in km².
CELL_AREA_KM2 = 150.0

# Projection used for the grid: a plain equirectangular map around 51° N, good enough
# for a fictional map (distances within a few per cent).
_LAT0 = 51.0
_LON0 = 10.0
_KX = 111.32 * math.cos(math.radians(_LAT0))  # km per degree of longitude
_KY = 111.2  # km per degree of latitude
_HEX_R = math.sqrt(2 * CELL_AREA_KM2 / (3 * math.sqrt(3)))  # circumradius in km


@dataclass(frozen=True)
class Land:
    """Static facts about one Land used to shape the fictional geography."""

    code: str
    name: str
    n_kreise: int  # as in reality (400 in total)
    n_cities: int  # kreisfreie Städte among them
    population: float  # rounded, in millions
    area_km2: float  # rounded
    lat: float  # approximate centre
    lon: float
    plz_regions: tuple[str, ...]  # two-digit postcode regions (Leitregionen)
    gemeinden_per_landkreis: int  # typical count (kept below reality for speed)
    east: bool


LANDS: tuple[Land, ...] = (
    Land(
        "01", "Schleswig-Holstein", 15, 4, 2.95, 15800, 54.20, 9.80, ("23", "24", "25"), 40, False
    ),
    Land("02", "Hamburg", 1, 1, 1.86, 755, 53.55, 10.00, ("20", "22"), 1, False),
    Land(
        "03",
        "Niedersachsen",
        45,
        8,
        8.00,
        47700,
        52.75,
        9.20,
        ("26", "29", "30", "31", "37", "38", "49"),
        16,
        False,
    ),
    Land("04", "Bremen", 2, 2, 0.70, 420, 53.10, 8.80, ("28",), 1, False),
    Land(
        "05",
        "Nordrhein-Westfalen",
        53,
        22,
        18.00,
        34100,
        51.45,
        7.55,
        (
            "32",
            "33",
            "40",
            "41",
            "42",
            "44",
            "45",
            "46",
            "47",
            "48",
            "50",
            "51",
            "52",
            "53",
            "57",
            "58",
            "59",
        ),
        10,
        False,
    ),
    Land(
        "06",
        "Hessen",
        26,
        5,
        6.28,
        21100,
        50.60,
        9.00,
        ("34", "35", "36", "60", "61", "63", "64", "65"),
        14,
        False,
    ),
    Land(
        "07",
        "Rheinland-Pfalz",
        36,
        12,
        4.13,
        19850,
        49.90,
        7.40,
        ("54", "55", "56", "67"),
        40,
        False,
    ),
    Land(
        "08",
        "Baden-Württemberg",
        44,
        9,
        11.25,
        35750,
        48.55,
        9.00,
        ("68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "88", "89"),
        20,
        False,
    ),
    Land(
        "09",
        "Bayern",
        96,
        25,
        13.25,
        70550,
        48.90,
        11.40,
        (
            "80",
            "81",
            "82",
            "83",
            "84",
            "85",
            "86",
            "87",
            "90",
            "91",
            "92",
            "93",
            "94",
            "95",
            "96",
            "97",
        ),
        18,
        False,
    ),
    Land("10", "Saarland", 6, 0, 1.01, 2570, 49.40, 6.95, ("66",), 9, False),
    Land("11", "Berlin", 1, 1, 3.69, 890, 52.52, 13.40, ("10", "12", "13"), 1, True),
    Land("12", "Brandenburg", 18, 4, 2.56, 29650, 52.35, 13.30, ("03", "14", "15", "16"), 20, True),
    Land(
        "13",
        "Mecklenburg-Vorpommern",
        8,
        2,
        1.57,
        23300,
        53.75,
        12.50,
        ("17", "18", "19"),
        50,
        True,
    ),
    Land(
        "14", "Sachsen", 13, 3, 4.04, 18450, 51.05, 13.30, ("01", "02", "04", "08", "09"), 30, True
    ),
    Land("15", "Sachsen-Anhalt", 14, 3, 2.14, 20450, 51.95, 11.70, ("06", "39"), 16, True),
    Land("16", "Thüringen", 22, 5, 2.10, 16200, 50.90, 11.00, ("07", "98", "99"), 25, True),
)

LAND_NAMES: dict[str, str] = {land.code: land.name for land in LANDS}

#: Coefficients of the relations the generator injects (copied into TRUTH.json).
TRUTH: dict[str, dict[str, float]] = {
    # logit(MINT students / students) = intercept + slope * mint_score + N(0, noise_sd)
    "mint_share_logit": {
        "intercept": math.log(0.37 / 0.63),
        "slope_mint_score": 0.45,
        "noise_sd": 0.25,
    },
    # log(employees / population) = intercept + city + slope * mint_score + N(0, noise_sd)
    "employment_rate_log": {
        "intercept_landkreis": math.log(0.31),
        "intercept_city": math.log(0.565),
        "slope_mint_score": 0.10,
        "noise_sd": 0.12,
    },
    # growth 2023 -> 2024 = intercept + city + slope * mint_score + east + N(0, noise_sd)
    "population_growth": {
        "intercept": 0.0015,
        "city": 0.004,
        "slope_mint_score": 0.002,
        "east": -0.005,
        "noise_sd": 0.003,
    },
}

# A rough, hand-drawn outline of Germany (lon, lat), clockwise from the Danish border.
_OUTLINE = (
    (8.65, 54.91),
    (9.45, 54.83),
    (10.0, 54.55),
    (11.1, 54.45),
    (10.9, 54.0),
    (11.6, 54.1),
    (12.3, 54.35),
    (13.0, 54.45),
    (13.4, 54.65),
    (14.25, 53.95),
    (14.4, 53.3),
    (14.15, 52.85),
    (14.6, 52.55),
    (14.75, 52.05),
    (14.95, 51.45),
    (15.0, 51.0),
    (14.3, 50.85),
    (13.2, 50.5),
    (12.3, 50.2),
    (12.4, 49.85),
    (12.9, 49.35),
    (13.85, 48.75),
    (13.45, 48.55),
    (12.8, 48.1),
    (13.0, 47.5),
    (12.2, 47.6),
    (11.2, 47.4),
    (10.4, 47.3),
    (9.6, 47.55),
    (8.8, 47.7),
    (7.6, 47.58),
    (7.55, 48.1),
    (8.2, 48.97),
    (7.1, 49.15),
    (6.35, 49.45),
    (6.1, 50.15),
    (6.0, 50.75),
    (6.0, 51.2),
    (6.1, 51.85),
    (6.75, 51.95),
    (7.05, 52.25),
    (7.0, 52.65),
    (7.2, 53.25),
    (7.0, 53.6),
    (7.8, 53.75),
    (8.5, 53.6),
    (8.65, 53.9),
    (8.9, 53.9),
    (8.85, 54.3),
    (8.6, 54.5),
)


def _empty_cells() -> pd.DataFrame:
    return pd.DataFrame({"cell": [], "kreis_ags": [], "col": [], "row": [], "lon": [], "lat": []})


@dataclass(frozen=True)
class Geography:
    """The fictional geography every demo part builds on.

    Attributes
    ----------
    kreise : pandas.DataFrame
        One row per Kreis: ``ags`` (5 digits), ``name``, ``kreis_type`` ("Kreisfreie
        Stadt" or "Landkreis"), ``land_code``, ``land_name``, ``lat``, ``lon``,
        ``area_km2``, ``population`` (31.12.2024), ``population_prev`` (31.12.2023),
        ``employees`` (SV-Beschäftigte am Arbeitsort), ``students_total``,
        ``mint_students`` (HS-FG04 + HS-FG08), ``mint_score`` (latent, mean 0, sd 1
        with ddof 0); extra: ``university_town`` (bool), ``is_capital`` (bool, seat
        of the Land government), ``city_row_ags8`` (the 8-digit code of a big
        Gemeinde reported separately in GENESIS tables, or "").
    gemeinden : pandas.DataFrame
        ``ags8``, ``name``, ``kreis_ags``, ``lat``, ``lon``; extra: ``population``
        (sums to the Kreis population) and ``osm_id`` (fictional relation id).
    plz : pandas.DataFrame
        ``plz`` (5 digits as text), ``ags8``, ``kreis_ags``, ``ort``, ``share``: one
        row per postcode and Gemeinde; the shares of a postcode sum to 1. About 3 %
        of postcodes span two Kreise.
    cells : pandas.DataFrame
        The map grid: ``cell``, ``kreis_ags``, ``col``, ``row``, ``lon``, ``lat`` (the
        centre). :func:`kreis_polygons` turns it into outlines.
    """

    kreise: pd.DataFrame
    gemeinden: pd.DataFrame
    plz: pd.DataFrame
    cells: pd.DataFrame = field(default_factory=_empty_cells)


# --------------------------------------------------------------------------- grid


def _project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(lon) - _LON0) * _KX, (np.asarray(lat) - _LAT0) * _KY


def _unproject(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(x) / _KX + _LON0, np.asarray(y) / _KY + _LAT0


def _inside(x: np.ndarray, y: np.ndarray, poly_x: np.ndarray, poly_y: np.ndarray) -> np.ndarray:
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


def _hex_center(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # pointy-top hexagons, odd rows shifted by half a column
    width = math.sqrt(3) * _HEX_R
    x = col * width + (row % 2) * width / 2
    y = row * 1.5 * _HEX_R
    return x, y


def _grid() -> pd.DataFrame:
    """Hexagon cells whose centre lies inside the outline (seed-independent)."""
    ox, oy = _project(np.array([p[0] for p in _OUTLINE]), np.array([p[1] for p in _OUTLINE]))
    width = math.sqrt(3) * _HEX_R
    cols = np.arange(math.floor(ox.min() / width) - 1, math.ceil(ox.max() / width) + 2)
    rows = np.arange(
        math.floor(oy.min() / (1.5 * _HEX_R)) - 1, math.ceil(oy.max() / (1.5 * _HEX_R)) + 2
    )
    col, row = np.meshgrid(cols, rows)
    col, row = col.ravel(), row.ravel()
    x, y = _hex_center(col, row)
    keep = _inside(x, y, ox, oy)
    return pd.DataFrame({"col": col[keep], "row": row[keep], "x": x[keep], "y": y[keep]})


def _power_assign(
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


def _round_to_total(values: np.ndarray, total: int, minimum: int = 0) -> np.ndarray:
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


def _farthest_points(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` well-spread points (randomized farthest-point sampling)."""
    chosen = [int(rng.integers(len(x)))]
    dist = (x - x[chosen[0]]) ** 2 + (y - y[chosen[0]]) ** 2
    for _ in range(n - 1):
        score = dist * rng.uniform(0.6, 1.0, len(x))
        nxt = int(score.argmax())
        chosen.append(nxt)
        dist = np.minimum(dist, (x - x[nxt]) ** 2 + (y - y[nxt]) ** 2)
    return np.array(chosen)


# ----------------------------------------------------------------------- builder


def _kreis_codes(land: Land) -> tuple[list[str], list[str]]:
    """Seed-independent codes: cities ``LL8KK``, Landkreise ``LL9KK`` (KK from 01)."""
    n_lk = land.n_kreise - land.n_cities
    cities = [f"{land.code}{CITY_DIGIT}{k:02d}" for k in range(1, land.n_cities + 1)]
    landkreise = [f"{land.code}{landkreis_digit(land.code)}{k:02d}" for k in range(1, n_lk + 1)]
    return cities, landkreise


def _layout(rng: np.random.Generator, grid: pd.DataFrame) -> pd.DataFrame:
    """Assign every grid cell to a Kreis; returns cells with ``kreis_ags``."""
    x, y = grid["x"].to_numpy(), grid["y"].to_numpy()
    ax, ay = _project(np.array([la.lon for la in LANDS]), np.array([la.lat for la in LANDS]))
    area = np.array([la.area_km2 for la in LANDS])
    target = _round_to_total(area, len(grid), minimum=2)
    # city-states first: the cells nearest their centre (a power diagram would push a
    # small region away from a big neighbour's centre); then the other Länder
    land_of_cell = np.full(len(grid), -1)
    for li, land in enumerate(LANDS):
        if land.n_kreise == land.n_cities:
            d = np.where(land_of_cell < 0, (x - ax[li]) ** 2 + (y - ay[li]) ** 2, np.inf)
            land_of_cell[np.argsort(d, kind="stable")[: target[li]]] = li
    rest = np.flatnonzero(land_of_cell < 0)
    others = np.array([li for li, land in enumerate(LANDS) if land.n_kreise != land.n_cities])
    land_of_cell[rest] = others[
        _power_assign(x[rest], y[rest], ax[others], ay[others], target[others])
    ]

    kreis = np.empty(len(grid), dtype=object)
    for li, land in enumerate(LANDS):
        idx = np.flatnonzero(land_of_cell == li)
        cities, landkreise = _kreis_codes(land)
        if not landkreise:  # city-states: the cities share the Land
            if len(cities) == 1:
                kreis[idx] = cities[0]
            else:  # Bremen-like: the larger city gets most cells
                order = np.argsort((x[idx] - x[idx].mean()) ** 2 + (y[idx] - y[idx].mean()) ** 2)
                kreis[idx] = cities[0]
                kreis[idx[order[-max(1, len(idx) // 4) :]]] = cities[1]
            continue
        n_city_cells = {c: 1 for c in cities}
        if DEMO_COMPARE in n_city_cells:
            n_city_cells[DEMO_COMPARE] = 2
        available = len(idx) - sum(n_city_cells.values())
        lk_weights = rng.lognormal(0.0, 0.45, len(landkreise))
        lk_target = _round_to_total(
            lk_weights, available, minimum=min(2, available // len(landkreise))
        )
        seeds = _farthest_points(rng, x[idx], y[idx], len(landkreise))
        # sites are the seed cells; the diagram is computed on all Land cells, then
        # cities are cut out of it, so the Landkreis targets include the city cells
        target_all = lk_target.copy()
        order = rng.permutation(len(landkreise))
        for k, n_cells in enumerate(n_city_cells.values()):
            target_all[order[k % len(landkreise)]] += n_cells
        owner = _power_assign(x[idx], y[idx], x[idx][seeds], y[idx][seeds], target_all)
        owner[seeds] = np.arange(len(landkreise))  # a seed always belongs to its Kreis
        kreis[idx] = np.array(landkreise, dtype=object)[owner]
        # cities: one cell (two for the big one) taken from a Landkreis, never a seed
        taken = set(seeds.tolist())
        for k, (city, n_cells) in enumerate(n_city_cells.items()):
            host = order[k % len(landkreise)]
            candidates = [i for i in np.flatnonzero(owner == host) if i not in taken]
            if not candidates:
                candidates = [i for i in range(len(idx)) if i not in taken]
            first = candidates[int(rng.integers(len(candidates)))]
            chosen = [first]
            if n_cells > 1:
                d = (x[idx] - x[idx][first]) ** 2 + (y[idx] - y[idx][first]) ** 2
                for j in np.argsort(d, kind="stable"):
                    if len(chosen) >= n_cells:
                        break
                    if j not in taken and j not in chosen:
                        chosen.append(int(j))
            for j in chosen:
                taken.add(j)
                kreis[idx[j]] = city
    lon, lat = _unproject(x, y)
    return pd.DataFrame(
        {
            "cell": np.arange(len(grid)),
            "kreis_ags": kreis.astype(str),
            "col": grid["col"].to_numpy(),
            "row": grid["row"].to_numpy(),
            "lon": lon,
            "lat": lat,
        }
    )


def _members(cells: pd.DataFrame) -> dict[str, np.ndarray]:
    """Kreis AGS -> positions of its cells in ``cells``."""
    codes = cells["kreis_ags"].to_numpy()
    order = np.argsort(codes, kind="stable")
    unique, starts = np.unique(codes[order], return_index=True)
    bounds = [*starts[1:], len(codes)]
    return {str(u): order[a:b] for u, a, b in zip(unique, starts, bounds, strict=True)}


def _kreis_frame(rng: np.random.Generator, cells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for land in LANDS:
        cities, landkreise = _kreis_codes(land)
        for code in cities:
            rows.append((code, "Kreisfreie Stadt", land))
        for code in landkreise:
            rows.append((code, "Landkreis", land))
    kreise = pd.DataFrame(
        {
            "ags": [r[0] for r in rows],
            "kreis_type": [r[1] for r in rows],
            "land_code": [r[2].code for r in rows],
            "land_name": [r[2].name for r in rows],
        }
    )
    # position: centre of the Kreis' cells, snapped to one of its own cells
    members = _members(cells)
    cx, cy = _project(cells["lon"].to_numpy(), cells["lat"].to_numpy())
    lon_all, lat_all = cells["lon"].to_numpy(), cells["lat"].to_numpy()
    lat, lon, n_cells = [], [], []
    for code in kreise["ags"]:
        idx = members[code]
        mx, my = cx[idx].mean(), cy[idx].mean()
        j = idx[int(((cx[idx] - mx) ** 2 + (cy[idx] - my) ** 2).argmin())]
        lon.append(float(lon_all[j]))
        lat.append(float(lat_all[j]))
        n_cells.append(len(idx))
    kreise = kreise.assign(
        lat=np.round(lat, 5),
        lon=np.round(lon, 5),
        area_km2=np.round(np.array(n_cells) * CELL_AREA_KM2, 2),
    )

    # names: a Landkreis is usually named after its Kreisstadt; some are "...kreis"
    # or double names after a merger
    names = unique_names(rng, kreise["land_code"].tolist())
    is_lk = (kreise["kreis_type"] == "Landkreis").to_numpy()
    style = rng.random(len(kreise))
    extra = unique_names(rng, kreise["land_code"].tolist(), taken=set(names))
    final = []
    for i, name in enumerate(names):
        if is_lk[i] and style[i] < 0.08:
            final.append(name + "kreis")
        elif is_lk[i] and style[i] < 0.14:
            final.append(f"{name}-{extra[i]}")
        else:
            final.append(name)
    return kreise.assign(name=final)


def _populations(rng: np.random.Generator, kreise: pd.DataFrame) -> pd.DataFrame:
    n = len(kreise)
    is_city = (kreise["kreis_type"] == "Kreisfreie Stadt").to_numpy()
    east = kreise["land_code"].isin([la.code for la in LANDS if la.east]).to_numpy()
    raw = np.where(
        is_city,
        np.clip(rng.lognormal(math.log(120_000), 0.7, n), 35_000, 700_000),
        np.clip(
            rng.lognormal(np.log(np.where(east, 150_000, 185_000)), 0.45, n), 55_000, 1_000_000
        ),
    )
    # the Land capital: the largest city of a Land (or its largest Landkreis' seat)
    is_capital = np.zeros(n, dtype=bool)
    pinned = {
        DEMO_COMPARE: 1_500_000 * math.exp(rng.normal(0, 0.02)),
        DEMO_REGION: 330_000 * math.exp(rng.normal(0, 0.02)),
    }
    population = np.zeros(n, dtype=np.int64)
    for land in LANDS:
        idx = np.flatnonzero(kreise["land_code"].to_numpy() == land.code)
        total = int(round(land.population * 1e6 * math.exp(rng.normal(0, 0.004)), -2))
        values = raw[idx].copy()
        city_idx = idx[is_city[idx]]
        if len(city_idx):
            pinned_city = [i for i in city_idx if kreise["ags"].iloc[i] == DEMO_COMPARE]
            big = pinned_city[0] if pinned_city else city_idx[np.argmax(raw[city_idx])]
            is_capital[big] = True
            if land.n_kreise > 2:
                values[idx == big] *= 2.0
        if land.code == "04":  # Bremen-like: a big city and a small port town
            values = np.array([0.84, 0.16])
        fixed = np.array([kreise["ags"].iloc[i] in pinned for i in idx])
        fixed_values = np.array(
            [round(pinned[kreise["ags"].iloc[i]]) for i in idx if kreise["ags"].iloc[i] in pinned],
            dtype=np.int64,
        )
        free_total = total - int(fixed_values.sum())
        alloc = np.zeros(len(idx), dtype=np.int64)
        alloc[fixed] = fixed_values
        alloc[~fixed] = _round_to_total(values[~fixed], free_total, minimum=0)
        population[idx] = alloc
    return kreise.assign(population=population, is_capital=is_capital)


def _indicators(rng: np.random.Generator, kreise: pd.DataFrame) -> pd.DataFrame:
    n = len(kreise)
    is_city = (kreise["kreis_type"] == "Kreisfreie Stadt").to_numpy()
    east = kreise["land_code"].isin([la.code for la in LANDS if la.east]).to_numpy()
    pop = kreise["population"].to_numpy().astype(float)
    codes = kreise["ags"].to_numpy()

    # latent MINT strength; the two showcase Kreise sit near the top
    raw = 0.5 * is_city + 0.25 * np.log(pop / np.median(pop)) + rng.normal(0, 1, n)
    raw[codes == DEMO_REGION] = np.quantile(raw, 0.93)
    raw[codes == DEMO_COMPARE] = np.quantile(raw, 0.975)
    mint_score = (raw - raw.mean()) / raw.std()

    # universities: almost every city, some Landkreise (more likely when MINT-strong)
    p_hs = np.where(
        is_city, 0.92, 1 / (1 + np.exp(-(-0.3 + 0.8 * mint_score + 0.8 * np.log(pop / 185_000))))
    )
    has_hs = rng.random(n) < p_hs
    has_hs[np.isin(codes, [DEMO_REGION, DEMO_COMPARE])] = True
    # a few university towns with very many students per inhabitant
    candidates = np.flatnonzero(
        is_city & has_hs & (pop > 90_000) & (pop < 350_000) & (mint_score > 0)
    )
    n_towns = min(6, len(candidates))
    towns = (
        rng.choice(candidates, size=n_towns, replace=False) if n_towns else np.array([], dtype=int)
    )
    university_town = np.zeros(n, dtype=bool)
    university_town[towns] = True
    university_town[codes == DEMO_REGION] = True

    rate = np.where(
        is_city, rng.lognormal(math.log(45), 0.7, n), rng.lognormal(math.log(9), 0.9, n)
    )
    rate[university_town] = rng.uniform(150, 260, n)[university_town]
    rate[codes == DEMO_REGION] = rng.uniform(90, 110)
    rate[codes == DEMO_COMPARE] = rng.uniform(80, 95)
    rate = np.minimum(rate, 300)
    # scale the ordinary Kreise so that Germany has about 2.85 million students
    pinned = university_town | np.isin(codes, [DEMO_REGION, DEMO_COMPARE])
    target = 2_850_000 * math.exp(rng.normal(0, 0.02))
    fixed = (pop * rate / 1000 * has_hs)[pinned].sum()
    free = (pop * rate / 1000 * has_hs)[~pinned].sum()
    rate = np.where(pinned, rate, np.minimum(rate * (target - fixed) / free, 300))
    students = np.where(has_hs, np.maximum(np.round(pop * rate / 1000), 150), 0).astype(np.int64)

    t = TRUTH["mint_share_logit"]
    logit = t["intercept"] + t["slope_mint_score"] * mint_score + rng.normal(0, t["noise_sd"], n)
    mint_share = 1 / (1 + np.exp(-logit))
    mint_students = rng.binomial(students, mint_share).astype(np.int64)

    e = TRUTH["employment_rate_log"]
    log_rate = (
        np.where(is_city, e["intercept_city"], e["intercept_landkreis"])
        + e["slope_mint_score"] * mint_score
        + rng.normal(0, e["noise_sd"], n)
    )
    employees = np.round(pop * np.exp(log_rate)).astype(np.int64)

    g = TRUTH["population_growth"]
    growth = (
        g["intercept"]
        + g["city"] * is_city
        + g["slope_mint_score"] * mint_score
        + g["east"] * east
        + rng.normal(0, g["noise_sd"], n)
    )
    population_prev = np.round(pop / (1 + growth)).astype(np.int64)
    return kreise.assign(
        population_prev=population_prev,
        employees=employees,
        students_total=students,
        mint_students=mint_students,
        mint_score=mint_score,
        university_town=university_town,
    )


def _gemeinden(
    rng: np.random.Generator, kreise: pd.DataFrame, cells: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str]]:
    lands = {la.code: la for la in LANDS}
    members = _members(cells)
    cell_lon, cell_lat = cells["lon"].to_numpy(), cells["lat"].to_numpy()
    # three big Landkreise get a dominant city that GENESIS reports on its own (8 digits)
    lk = kreise[kreise["kreis_type"] == "Landkreis"]
    city_row_kreise = set(lk.nlargest(3, "population")["ags"])
    out = []
    city_row = {}
    for k in kreise.itertuples(index=False):
        land = lands[k.land_code]
        if k.kreis_type == "Kreisfreie Stadt":
            out.append((k.ags + "000", k.name, k.ags, k.lat, k.lon, int(k.population)))
            continue
        n = max(3, int(rng.poisson(land.gemeinden_per_landkreis)))
        # the seat carries the Kreis' name unless the Kreis has a "...kreis" or double name
        seat_is_named = "-" not in k.name and not k.name.endswith("kreis")
        drawn = unique_names(
            rng, [k.land_code] * (n - seat_is_named), taken={k.name}, prefix_p=0.15
        )
        names = [k.name, *drawn] if seat_is_named else drawn
        weights = rng.lognormal(0.0, 1.1, n)
        weights[0] = weights.sum() * (0.8 if k.ags in city_row_kreise else rng.uniform(0.15, 0.4))
        pops = _round_to_total(weights, int(k.population), minimum=50)
        # coordinates: the seat at the Kreis position, the others in random cells
        own = members[k.ags]
        pick = own[rng.integers(len(own), size=n)]
        radius = 0.75 * _HEX_R * math.sqrt(3) / 2 * np.sqrt(rng.random(n))
        angle = rng.uniform(0, 2 * math.pi, n)
        px, py = _project(cell_lon[pick], cell_lat[pick])
        glon, glat = _unproject(px + radius * np.cos(angle), py + radius * np.sin(angle))
        glon[0], glat[0] = k.lon, k.lat
        order = sorted(range(n), key=lambda i: names[i])
        for number, i in enumerate(order, start=1):
            ags8 = f"{k.ags}{number:03d}"
            if i == 0 and k.ags in city_row_kreise:
                city_row[k.ags] = ags8
            out.append(
                (
                    ags8,
                    names[i],
                    k.ags,
                    round(float(glat[i]), 5),
                    round(float(glon[i]), 5),
                    int(pops[i]),
                )
            )
    gemeinden = pd.DataFrame(out, columns=["ags8", "name", "kreis_ags", "lat", "lon", "population"])
    osm = 100_000 + rng.choice(19_900_000, size=len(gemeinden), replace=False)
    gemeinden = gemeinden.assign(osm_id=osm.astype(np.int64))
    return gemeinden, city_row


def _postcodes(rng: np.random.Generator, gemeinden: pd.DataFrame) -> pd.DataFrame:
    lands = {la.code: la for la in LANDS}
    ags8 = gemeinden["ags8"].tolist()
    kreis = gemeinden["kreis_ags"].tolist()
    names = gemeinden["name"].tolist()
    pops = gemeinden["population"].tolist()
    rows = []  # (plz, ags8, kreis_ags, ort, weight)
    by_land: dict[str, list[int]] = {}
    for i, code in enumerate(kreis):  # gemeinden are ordered by Kreis, then number
        by_land.setdefault(code[:2], []).append(i)
    for land_code in sorted(by_land):
        land = lands[land_code]
        # postcode "slots": big Gemeinden get one per ~16,000 inhabitants, small
        # neighbouring Gemeinden of a Kreis share one postcode
        slots: list[list[tuple[int, float]]] = []
        small: list[tuple[int, float]] = []
        group_size = int(rng.integers(1, 4))
        previous = None
        for i in by_land[land_code]:
            if kreis[i] != previous and small:
                slots.append(small)
                small, group_size = [], int(rng.integers(1, 4))
            previous = kreis[i]
            if pops[i] >= 12_000:
                k = max(1, round(pops[i] / 16_000))
                slots.extend([[(i, pops[i] / k)] for _ in range(k)])
            else:
                small.append((i, float(pops[i])))
                if len(small) >= group_size:
                    slots.append(small)
                    small, group_size = [], int(rng.integers(1, 4))
        if small:
            slots.append(small)
        # spread the postcodes over the Land's regions, in Kreis order, with gaps
        capacity = 1000 * len(land.plz_regions)
        step = capacity / len(slots)
        jitter = rng.uniform(0, 0.8 * max(step - 1, 0), len(slots))
        offsets = np.floor(np.arange(len(slots)) * step + jitter).astype(int)
        for slot, offset in zip(slots, offsets, strict=True):
            plz = f"{land.plz_regions[offset // 1000]}{offset % 1000:03d}"
            rows.extend((plz, i, weight) for i, weight in slot)

    # about 3 % of postcodes reach into the nearest Gemeinde of a neighbouring Kreis
    first_of: dict[str, int] = {}
    weight_of: dict[str, float] = {}
    kreise_of: dict[str, set[str]] = {}
    for plz, i, weight in rows:
        first_of.setdefault(plz, i)
        weight_of[plz] = weight_of.get(plz, 0.0) + weight
        kreise_of.setdefault(plz, set()).add(kreis[i])
    candidates = sorted(
        plz
        for plz, i in first_of.items()
        if len(kreise_of[plz]) == 1 and not ags8[i].endswith("000")
    )
    n_span = min(round(0.03 * len(first_of)), len(candidates))
    chosen = sorted(rng.choice(np.array(candidates), size=n_span, replace=False).tolist())
    gx, gy = _project(gemeinden["lon"].to_numpy(), gemeinden["lat"].to_numpy())
    g_land = np.array([k[:2] for k in kreis])
    g_kreis = np.array(kreis)
    for plz in chosen:
        i = first_of[plz]
        d = (gx - gx[i]) ** 2 + (gy - gy[i]) ** 2
        d = np.where((g_land == kreis[i][:2]) & (g_kreis != kreis[i]), d, np.inf)
        j = int(d.argmin())
        if np.isfinite(d[j]):
            rows.append((plz, j, weight_of[plz] * rng.uniform(0.05, 0.4)))

    table = pd.DataFrame(
        {
            "plz": [r[0] for r in rows],
            "ags8": [ags8[r[1]] for r in rows],
            "kreis_ags": [kreis[r[1]] for r in rows],
            "ort": [names[r[1]] for r in rows],
            "weight": [r[2] for r in rows],
        }
    )
    table = table.groupby(["plz", "ags8", "kreis_ags", "ort"], as_index=False, sort=True)[
        "weight"
    ].sum()
    share = (table["weight"] / table.groupby("plz")["weight"].transform("sum")).round(6)
    # each postcode's shares sum to 1: its largest row takes the rounding rest
    largest = share.groupby(table["plz"]).idxmax()
    rest = share.drop(index=largest).groupby(table["plz"]).sum()
    share = share.copy()
    share.loc[largest] = 1.0 - rest.reindex(table.loc[largest, "plz"]).fillna(0.0).to_numpy()
    return table.drop(columns="weight").assign(share=share)


def build_geography(seed: int) -> Geography:
    """Build the fictional geography for a seed.

    Parameters
    ----------
    seed : int
        Seed of the demo dataset; the same seed gives an identical geography.

    Returns
    -------
    Geography
        Kreise, Gemeinden, postcodes and the map grid (see :class:`Geography`).

    Examples
    --------
    >>> geo = build_geography(1)
    >>> len(geo.kreise)
    400
    """
    rng = part_rng(seed, "geography")
    cells = _layout(rng, _grid())
    kreise = _kreis_frame(rng, cells)
    kreise = _populations(rng, kreise)
    kreise = _indicators(rng, kreise)
    gemeinden, city_row = _gemeinden(rng, kreise, cells)
    kreise = kreise.assign(city_row_ags8=kreise["ags"].map(city_row).fillna("").astype(str))
    plz = _postcodes(rng, gemeinden)
    columns = [
        "ags",
        "name",
        "kreis_type",
        "land_code",
        "land_name",
        "lat",
        "lon",
        "area_km2",
        "population",
        "population_prev",
        "employees",
        "students_total",
        "mint_students",
        "mint_score",
        "university_town",
        "is_capital",
        "city_row_ags8",
    ]
    return Geography(
        kreise=kreise[columns].reset_index(drop=True),
        gemeinden=gemeinden.reset_index(drop=True),
        plz=plz.reset_index(drop=True),
        cells=cells,
    )


# ---------------------------------------------------------------------- geometry


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


def kreis_polygons(geo: Geography) -> dict[str, list[list[list[tuple[float, float]]]]]:
    """Outline of every Kreis as a list of polygons, each a list of closed rings.

    Rings follow the convention of the real VG2500 GeoJSON (outer rings clockwise,
    holes counter-clockwise); coordinates are (lon, lat) and the first point repeats
    at the end.

    Parameters
    ----------
    geo : Geography

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
    width = math.sqrt(3) * _HEX_R
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
                    (k[0] * width / 2 / _KX + _LON0, k[1] * _HEX_R / 2 / _KY + _LAT0)
                    for k in ring + ring[:1]
                ]
                for ring in poly
            ]
            for poly in polygons
        ]
    return out
