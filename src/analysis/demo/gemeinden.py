"""Gemeinden and postcodes of the fictional demo geography.

:func:`build_gemeinden` splits each Landkreis' population over invented Gemeinden placed in
its cells (three big Landkreise get a dominant city that GENESIS reports on its
own); :func:`build_postcodes` numbers postcode areas within each Land's real postcode
regions and lets about 3 % of them reach into a neighbouring Kreis.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.demo.hexmap import HEX_R, cell_members, project, round_to_total, unproject
from analysis.demo.land_facts import LANDS
from analysis.demo.placenames import unique_names


def build_gemeinden(
    rng: np.random.Generator, kreise: pd.DataFrame, cells: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Gemeinden of every Kreis, their populations (summing to the Kreis) and places.

    Parameters
    ----------
    rng : numpy.random.Generator
        The geography's generator.
    kreise : DataFrame
        Kreise with ``ags, name, kreis_type, land_code, lat, lon, population``.
    cells : DataFrame
        The map grid with ``kreis_ags, lon, lat``.

    Returns
    -------
    DataFrame
        ``ags8, name, kreis_ags, lat, lon, population, osm_id``.
    dict
        Kreis AGS -> 8-digit code of its dominant city (three big Landkreise).
    """
    lands = {la.code: la for la in LANDS}
    members = cell_members(cells)
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
        pops = round_to_total(weights, int(k.population), minimum=50)
        # coordinates: the seat at the Kreis position, the others in random cells
        own = members[k.ags]
        pick = own[rng.integers(len(own), size=n)]
        radius = 0.75 * HEX_R * math.sqrt(3) / 2 * np.sqrt(rng.random(n))
        angle = rng.uniform(0, 2 * math.pi, n)
        px, py = project(cell_lon[pick], cell_lat[pick])
        glon, glat = unproject(px + radius * np.cos(angle), py + radius * np.sin(angle))
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


def build_postcodes(rng: np.random.Generator, gemeinden: pd.DataFrame) -> pd.DataFrame:
    """Postcodes of the Gemeinden, with the share of each Gemeinde in a postcode.

    Parameters
    ----------
    rng : numpy.random.Generator
        The geography's generator.
    gemeinden : DataFrame
        :func:`build_gemeinden`'s table, ordered by Kreis, then number.

    Returns
    -------
    DataFrame
        ``plz, ags8, kreis_ags, ort, share``; the shares of a postcode sum to 1.
    """
    lands = {la.code: la for la in LANDS}
    kreis = gemeinden["kreis_ags"].tolist()
    pops = gemeinden["population"].tolist()
    rows = []  # (plz, gemeinde position, weight)
    by_land: dict[str, list[int]] = {}
    for i, code in enumerate(kreis):  # gemeinden are ordered by Kreis, then number
        by_land.setdefault(code[:2], []).append(i)
    for land_code in sorted(by_land):
        slots = _slots(rng, by_land[land_code], kreis, pops)
        # spread the postcodes over the Land's regions, in Kreis order, with gaps
        regions = lands[land_code].plz_regions
        step = 1000 * len(regions) / len(slots)
        jitter = rng.uniform(0, 0.8 * max(step - 1, 0), len(slots))
        offsets = np.floor(np.arange(len(slots)) * step + jitter).astype(int)
        for slot, offset in zip(slots, offsets, strict=True):
            plz = f"{regions[offset // 1000]}{offset % 1000:03d}"
            rows.extend((plz, i, weight) for i, weight in slot)
    rows += _spanning(rng, rows, gemeinden)
    return _shares(rows, gemeinden)


def _slots(
    rng: np.random.Generator, members: list[int], kreis: list[str], pops: list[int]
) -> list[list[tuple[int, float]]]:
    """Postcode "slots" of one Land: big Gemeinden get one per ~16,000 inhabitants,
    small neighbouring Gemeinden of a Kreis share one postcode."""
    slots: list[list[tuple[int, float]]] = []
    small: list[tuple[int, float]] = []
    group_size = int(rng.integers(1, 4))
    previous = None
    for i in members:
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
    return slots


def _spanning(
    rng: np.random.Generator, rows: list[tuple[str, int, float]], gemeinden: pd.DataFrame
) -> list[tuple[str, int, float]]:
    """Rows by which about 3 % of postcodes reach into the nearest Gemeinde of a
    neighbouring Kreis of the same Land."""
    ags8 = gemeinden["ags8"].tolist()
    kreis = gemeinden["kreis_ags"].tolist()
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
    gx, gy = project(gemeinden["lon"].to_numpy(), gemeinden["lat"].to_numpy())
    g_land = np.array([k[:2] for k in kreis])
    g_kreis = np.array(kreis)
    extra = []
    for plz in chosen:
        i = first_of[plz]
        d = (gx - gx[i]) ** 2 + (gy - gy[i]) ** 2
        d = np.where((g_land == kreis[i][:2]) & (g_kreis != kreis[i]), d, np.inf)
        j = int(d.argmin())
        if np.isfinite(d[j]):
            extra.append((plz, j, weight_of[plz] * rng.uniform(0.05, 0.4)))
    return extra


def _shares(rows: list[tuple[str, int, float]], gemeinden: pd.DataFrame) -> pd.DataFrame:
    """One row per postcode and Gemeinde; shares rounded so each postcode sums to 1."""
    ags8 = gemeinden["ags8"].tolist()
    kreis = gemeinden["kreis_ags"].tolist()
    names = gemeinden["name"].tolist()
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
