"""The Kreis list, the postcode file and the VG2500 GeoJSON of the demo's regions part.

Each writer returns the file's text in the real file's layout:
:func:`kreis_list_csv` (the mirror's derived GV-ISys Kreis list, old census basis),
:func:`plz_file_csv` (OSM ``zuordnung_plz_ort.csv`` with its lost leading zeros) and
:func:`vg2500_geojson` (hexagon-cell outlines with ARS, AGS, GEN, BEZ, NUTS).
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pandas as pd

from analysis.demo.geography import Geography
from analysis.demo.hexmap import kreis_polygons

#: Relative shift of the 31.12.2022 population in the Kreis list (old census basis)
#: against the 12411 series, as between GV-ISys 2024 and 12411 in reality.
CENSUS_BASIS_SHIFT = 0.008


def _list_name(name: str, kreis_type: str, land_code: str, is_capital: bool) -> str:
    if kreis_type == "Kreisfreie Stadt":
        if land_code == "08":
            return f"{name}, Stadtkreis"
        return f"{name}, Landeshauptstadt" if is_capital else f"{name}, Stadt"
    return name


def _list_type(kreis_type: str, land_code: str) -> tuple[str, int]:
    if kreis_type == "Kreisfreie Stadt":
        return ("Stadtkreis", 42) if land_code == "08" else ("Kreisfreie Stadt", 41)
    return ("Kreis", 43) if land_code in ("01", "05") else ("Landkreis", 44)


def _plz_landkreis(name: str, kreis_type: str, land_code: str) -> str:
    if kreis_type == "Kreisfreie Stadt":
        return ""
    if name.endswith("kreis"):
        return name
    return f"Kreis {name}" if land_code in ("01", "05") else f"Landkreis {name}"


_NUTS1 = {
    "01": "DEF",
    "02": "DE6",
    "03": "DE9",
    "04": "DE5",
    "05": "DEA",
    "06": "DE7",
    "07": "DEB",
    "08": "DE1",
    "09": "DE2",
    "10": "DEC",
    "11": "DE3",
    "12": "DE4",
    "13": "DE8",
    "14": "DED",
    "15": "DEE",
    "16": "DEG",
}
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _nuts3(codes: pd.Series) -> pd.Series:
    """Fictional NUTS-3 codes (NUTS-2 digit X/Y/Z, never used by real regions)."""
    out = []
    counter: dict[str, int] = {}
    for code in codes:
        k = counter.get(code[:2], 0)
        counter[code[:2]] = k + 1
        out.append(_NUTS1[code[:2]] + "XYZ"[k // 36] + _BASE36[k % 36])
    return pd.Series(out, index=codes.index)


def kreis_list_csv(rng: np.random.Generator, geo: Geography) -> str:
    """The derived Kreis list (CSV, CRLF) with area and population on the old census basis.

    Parameters
    ----------
    rng : numpy.random.Generator
        The regions part's generator (census shift and sex ratio).
    geo : Geography
        The fictional geography.

    Returns
    -------
    str
        The file's text.
    """
    kreise = geo.kreise
    n_gemeinden = geo.gemeinden.groupby("kreis_ags").size()
    pop_2022 = np.round(
        kreise["population_prev"].to_numpy()
        * np.exp(rng.normal(math.log1p(CENSUS_BASIS_SHIFT), 0.003, len(kreise)))
    ).astype(np.int64)
    male = np.round(pop_2022 * np.clip(rng.normal(0.493, 0.008, len(kreise)), 0.46, 0.52)).astype(
        np.int64
    )
    nuts = _nuts3(kreise["ags"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "ags5",
            "name",
            "kreis_type",
            "textkennzeichen",
            "land_code",
            "land_name",
            "rb_code",
            "rb_name",
            "nuts3",
            "area_km2",
            "population_2022_12_31",
            "pop_male",
            "pop_female",
            "density_per_km2",
            "n_gemeinden",
        ]
    )
    for i, k in enumerate(kreise.itertuples(index=False)):
        list_type, kennzeichen = _list_type(k.kreis_type, k.land_code)
        writer.writerow(
            [
                k.ags,
                _list_name(k.name, k.kreis_type, k.land_code, bool(k.is_capital)),
                list_type,
                kennzeichen,
                k.land_code,
                k.land_name,
                k.land_code + "0",
                "",
                nuts.iloc[i],
                _fmt_float(k.area_km2),
                int(pop_2022[i]),
                int(male[i]),
                int(pop_2022[i] - male[i]),
                _fmt_float(round(pop_2022[i] / k.area_km2, 1)),
                int(n_gemeinden.get(k.ags, 0)),
            ]
        )
    return buffer.getvalue()


def _fmt_float(x: float) -> str:
    return repr(float(x))  # as pandas writes floats: "1650.0", "187.1"


def plz_file_csv(geo: Geography) -> str:
    """The OSM postcode file: highest postcode first, leading zeros lost.

    Parameters
    ----------
    geo : Geography
        The fictional geography.

    Returns
    -------
    str
        The file's text.
    """
    kreise = geo.kreise
    landkreis = {
        k.ags: _plz_landkreis(k.name, k.kreis_type, k.land_code)
        for k in kreise.itertuples(index=False)
    }
    land_name = dict(zip(kreise["ags"], kreise["land_name"], strict=True))
    osm = dict(zip(geo.gemeinden["ags8"], geo.gemeinden["osm_id"].tolist(), strict=True))
    codes, ags8, kreis, ort = (geo.plz[c].tolist() for c in ("plz", "ags8", "kreis_ags", "ort"))
    # the real file runs from the highest postcode down
    order = sorted(range(len(codes)), key=lambda i: (-int(codes[i]), ags8[i]))
    lines = ["osm_id,ags,ort,plz,landkreis,bundesland"]
    for i in order:
        # the real copy lost leading zeros: ags and plz are written as integers
        lines.append(
            f"{osm[ags8[i]]},{int(ags8[i])},{ort[i]},{int(codes[i])},{landkreis[kreis[i]]},{land_name[kreis[i]]}"
        )
    return "\n".join(lines) + "\n"


def vg2500_geojson(geo: Geography) -> str:
    """Kreis outlines as the VG2500 GeoJSON (Landkreise first, compact, sorted keys).

    Parameters
    ----------
    geo : Geography
        The fictional geography.

    Returns
    -------
    str
        The file's text.
    """
    nuts = dict(zip(geo.kreise["ags"], _nuts3(geo.kreise["ags"]), strict=True))
    info = {k.ags: k for k in geo.kreise.itertuples(index=False)}
    features = []
    outlines = kreis_polygons(geo)
    # Landkreise first: a renderer that fills holes still shows the enclaved cities
    for code in sorted(outlines, key=lambda c: (info[c].kreis_type == "Kreisfreie Stadt", c)):
        polygons = outlines[code]
        k = info[code]
        coords = [
            [[[round(lon, 5), round(lat, 5)] for lon, lat in ring] for ring in poly]
            for poly in polygons
        ]
        geometry = (
            {"type": "Polygon", "coordinates": coords[0]}
            if len(coords) == 1
            else {"type": "MultiPolygon", "coordinates": coords}
        )
        list_type, _ = _list_type(k.kreis_type, code[:2])
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "ARS": code,
                    "AGS": code,
                    "GEN": k.name,
                    "BEZ": list_type,
                    "NUTS": nuts[code],
                },
                "geometry": geometry,
            }
        )
    collection = {
        "type": "FeatureCollection",
        "name": "VG2500_KRS",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
    return json.dumps(collection, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
