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
from analysis.demo.gemeinden import build_gemeinden, build_postcodes
from analysis.demo.hexmap import (
    CELL_AREA_KM2,
    cell_members,
    farthest_points,
    grid,
    power_assign,
    project,
    round_to_total,
    unproject,
)
from analysis.demo.land_facts import LANDS, Land
from analysis.demo.placenames import unique_names

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
    ax, ay = project(np.array([la.lon for la in LANDS]), np.array([la.lat for la in LANDS]))
    area = np.array([la.area_km2 for la in LANDS])
    target = round_to_total(area, len(grid), minimum=2)
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
        power_assign(x[rest], y[rest], ax[others], ay[others], target[others])
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
        lk_target = round_to_total(
            lk_weights, available, minimum=min(2, available // len(landkreise))
        )
        seeds = farthest_points(rng, x[idx], y[idx], len(landkreise))
        # sites are the seed cells; the diagram is computed on all Land cells, then
        # cities are cut out of it, so the Landkreis targets include the city cells
        target_all = lk_target.copy()
        order = rng.permutation(len(landkreise))
        for k, n_cells in enumerate(n_city_cells.values()):
            target_all[order[k % len(landkreise)]] += n_cells
        owner = power_assign(x[idx], y[idx], x[idx][seeds], y[idx][seeds], target_all)
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
    lon, lat = unproject(x, y)
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
    members = cell_members(cells)
    cx, cy = project(cells["lon"].to_numpy(), cells["lat"].to_numpy())
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
        alloc[~fixed] = round_to_total(values[~fixed], free_total, minimum=0)
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
    cells = _layout(rng, grid())
    kreise = _kreis_frame(rng, cells)
    kreise = _populations(rng, kreise)
    kreise = _indicators(rng, kreise)
    gemeinden, city_row = build_gemeinden(rng, kreise, cells)
    kreise = kreise.assign(city_row_ags8=kreise["ags"].map(city_row).fillna("").astype(str))
    plz = build_postcodes(rng, gemeinden)
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
