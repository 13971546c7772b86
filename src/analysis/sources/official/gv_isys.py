"""Destatis Gemeindeverzeichnis (GV-ISys) workbooks: Länder, Kreise and Gemeinden.

The "Auszug" workbook (``AuszugGV…Aktuell.xlsx``) has one sheet of records under a
multi-row header. Column A is the *Satzart* (record type): 10 Land, 20
Regierungsbezirk, 30 Region (Baden-Württemberg's Regionen), 40 Kreis, 50
Gemeindeverband, 60 Gemeinde. The *Textkennzeichen* says what kind of Kreis or
Gemeinde it is; the regional key is split over the columns Land, RB, Kreis, VB,
Gem. Only Gemeinde records carry area, population, postcode, coordinates (decimal
comma text) and the degree of urbanisation.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError

#: Textkennzeichen of Kreise (Satzart 40), Gemeindeverbände (50) and Gemeinden (60).
TEXTKENNZEICHEN: dict[str, str] = {
    "41": "Kreisfreie Stadt",
    "42": "Stadtkreis",
    "43": "Kreis",
    "44": "Landkreis",
    "45": "Regionalverband",
    "50": "Verbandsfreie Gemeinde",
    "51": "Amt",
    "52": "Samtgemeinde",
    "53": "Verbandsgemeinde",
    "54": "Verwaltungsgemeinschaft",
    "55": "Kirchspielslandgemeinde",
    "56": "Verwaltungsverband",
    "57": "Verwaltungsgemeinschaft (Trägermodell)",
    "58": "Erfüllende Gemeinde",
    "60": "Markt",
    "61": "Kreisfreie Stadt",
    "62": "Stadtkreis",
    "63": "Stadt",
    "64": "Kreisangehörige Gemeinde",
    "65": "Gemeindefreies Gebiet, bewohnt",
    "66": "Gemeindefreies Gebiet, unbewohnt",
    "67": "Große Kreisstadt",
}

CREDIT = "© Statistisches Bundesamt (Destatis), Gemeindeverzeichnis GV-ISys"

#: Header label fragments (lower case, hyphens removed) → canonical column.
_HEADER = {
    "satzart": "satzart",
    "textkennzeichen": "textkennzeichen",
    "gemeindename": "name",
    "land": "land",
    "rb": "rb",
    "kreis": "kreis",
    "vb": "vb",
    "gem": "gem",
    "insgesamt": "population",
    "männlich": "population_male",
    "weiblich": "population_female",
    "je km2": "density_per_km2",
    "längengrad": "lon",
    "breitengrad": "lat",
}
_REQUIRED = ("satzart", "textkennzeichen", "name", "land", "rb", "kreis", "vb", "gem")
_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def read_gv_isys(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read a GV-ISys "Auszug" workbook into one frame per record type.

    Parameters
    ----------
    path : str or Path
        ``AuszugGV…Aktuell.xlsx`` as published by Destatis.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"laender"`` (Satzart 10: ``land_code``, ``name``),
        ``"regierungsbezirke"`` (20: ``rb_code`` 3 digits, ``name``),
        ``"kreise"`` (40: ``ags5``, ``name``, ``textkennzeichen``, ``kreis_type``,
        ``land_code``, ``land_name``, ``rb_code``, ``rb_name``, and summed over its
        Gemeinden: ``area_km2``, ``population``, ``population_male``,
        ``population_female``, ``n_gemeinden``),
        ``"gemeindeverbaende"`` (50: ``ars9``, ``name``, ``textkennzeichen``,
        ``verband_type``, ``kreis_ags``) and
        ``"gemeinden"`` (60: ``ags8``, ``ars12``, ``name``, ``kreis_ags``,
        ``land_code``, ``textkennzeichen``, ``gemeinde_type``, ``area_km2``,
        ``population``, ``population_male``, ``population_female``,
        ``density_per_km2``, ``plz`` (of the town hall, 5 digits), ``lon``,
        ``lat`` (WGS84 degrees, from decimal-comma text; NaN where the workbook
        has none or the placeholder 0/0), ``travel_region_code``,
        ``travel_region``, ``urbanisation_code``, ``urbanisation``).
        Codes are zero-padded strings; numbers float64 (population Int64).
        Every frame's ``attrs``: ``path``, ``gebietsstand`` (ISO date),
        ``population_date``, ``area_date``, ``plz_date``, ``population_basis``
        ("Zensus 2011" or "Zensus 2022"), ``population_basis_inferred`` (True
        when the workbook does not name the basis and it was inferred from the
        reference date), ``title``, ``licence_text``, ``footnotes``, ``credit``.

    Raises
    ------
    InputError
        Not an xlsx workbook, no sheet with the GV-ISys header (the message
        names the expected columns), a record with a malformed key or number
        (with the sheet row and column).
    """
    rows, sheet = _load_rows(path)
    header_at, columns = _find_header(rows, path)
    first, last = _record_span(rows, header_at)
    meta = _metadata(rows, header_at, first, last, columns)
    records = [(i + 1, row) for i, row in enumerate(rows[first:last], start=first)]
    by_type: dict[str, list] = {}
    for line, row in records:
        satzart = _text(row[columns["satzart"]])
        if not satzart:
            continue
        by_type.setdefault(satzart, []).append((line, row))
    unknown = sorted(set(by_type) - {"10", "20", "30", "40", "50", "60"})
    if unknown:
        line = by_type[unknown[0]][0][0]
        raise InputError(
            path,
            f"expected Satzart 10, 20, 30, 40, 50 or 60, found {unknown[0]!r}",
            line=line,
            column="Satzart",
        )
    if "60" not in by_type or "40" not in by_type:
        raise InputError(
            path,
            "expected Kreis (Satzart 40) and Gemeinde (Satzart 60) records, found none",
            line=first + 1,
        )
    gemeinden = _gemeinden(by_type["60"], columns, path)
    laender = _simple(by_type.get("10", []), columns, ("land",), "land_code", path)
    bezirke = _simple(by_type.get("20", []), columns, ("land", "rb"), "rb_code", path)
    kreise = _kreise(by_type["40"], columns, laender, bezirke, gemeinden, path)
    verbaende = _verbaende(by_type.get("50", []), columns, path)
    attrs = {"path": str(path), "sheet": sheet, **meta, "credit": CREDIT}
    out = {
        "laender": laender,
        "regierungsbezirke": bezirke,
        "kreise": kreise,
        "gemeindeverbaende": verbaende,
        "gemeinden": gemeinden,
    }
    for name, frame in out.items():
        frame.attrs = {**attrs, "table": name, "n_rows": len(frame)}
    return out


def read_gv_kreise(path: str | Path) -> pd.DataFrame:
    """The Kreise of a GV-ISys workbook (see :func:`read_gv_isys`)."""
    return read_gv_isys(path)["kreise"]


def read_gv_gemeinden(path: str | Path) -> pd.DataFrame:
    """The Gemeinden of a GV-ISys workbook (see :func:`read_gv_isys`)."""
    return read_gv_isys(path)["gemeinden"]


def gv_isys_tidy(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Area and population of Kreise and Gemeinden in the tidy long layout.

    Parameters
    ----------
    tables : dict
        As returned by :func:`read_gv_isys`.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`analysis.sources.official.genesis.TIDY_COLUMNS`: level
        ``KREISE`` (sums over the Gemeinden) or ``GEMEINDE``, measures
        ``area_km2`` (unit ``km2``, time = area date) and ``population``,
        ``population_male``, ``population_female`` (unit ``Anzahl``, time =
        population date); ``statistic`` is ``"GV-ISys"``.
    """
    from analysis.sources.official.genesis import TIDY_COLUMNS

    attrs = tables["gemeinden"].attrs
    parts = []
    for level, frame, key in (
        ("KREISE", tables["kreise"], "ags5"),
        ("GEMEINDE", tables["gemeinden"], "ags8"),
    ):
        for measure, label, unit, date in (
            ("area_km2", "Fläche", "km2", attrs.get("area_date", "")),
            ("population", "Bevölkerung insgesamt", "Anzahl", attrs.get("population_date", "")),
            ("population_male", "Bevölkerung männlich", "Anzahl", attrs.get("population_date", "")),
            (
                "population_female",
                "Bevölkerung weiblich",
                "Anzahl",
                attrs.get("population_date", ""),
            ),
        ):
            parts.append(
                pd.DataFrame(
                    {
                        "statistic": "GV-ISys",
                        "level": level,
                        "ags": frame[key],
                        "region_name": frame["name"],
                        "time": date,
                        "period_start": pd.Timestamp(date) if date else pd.NaT,
                        "measure": measure,
                        "measure_label": label,
                        "unit": unit,
                        "value": frame[measure].astype("float64"),
                        "flag": "",
                        "quality": "",
                    }
                )
            )
    tidy = pd.concat(parts, ignore_index=True)
    tidy = tidy.astype({c: "str" for c in TIDY_COLUMNS if c not in ("value", "period_start")})
    tidy["period_start"] = tidy["period_start"].astype("datetime64[ns]")
    tidy.attrs = {**attrs, "variant": "gv_isys", "n_rows": len(tidy)}
    return tidy


# --------------------------------------------------------------------------- workbook


def _load_rows(path) -> tuple[list[tuple], str]:
    """All rows of the sheet holding the records (openpyxl, read-only)."""
    import zipfile

    import openpyxl

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(
            path, f"expected an xlsx workbook (GV-ISys Auszug), cannot open it: {exc}"
        ) from None
    try:
        for sheet in workbook.worksheets:
            # Only the record sheet has Satzart in column A; read up to its header first.
            head = list(sheet.iter_rows(min_row=1, max_row=12, values_only=True))
            if any(_norm(row[0]) == "satzart" for row in head if row):
                return list(sheet.iter_rows(values_only=True)), sheet.title
    finally:
        workbook.close()
    raise InputError(
        path,
        "expected a sheet with the GV-ISys header (Satzart; Textkennzeichen; Amtlicher "
        "Regionalschlüssel (ARS): Land, RB, Kreis, VB, Gem; Gemeindename; Fläche; Bevölkerung; "
        "…) in its first rows, found none",
    )


def _norm(cell) -> str:
    return re.sub(r"\s+", " ", str(cell or "").replace("-", "").replace("\n", " ")).strip().lower()


def _find_header(rows: list[tuple], path) -> tuple[int, dict[str, int]]:
    header_at = next(i for i, row in enumerate(rows) if row and _norm(row[0]) == "satzart")
    block = rows[header_at : header_at + 3]
    columns: dict[str, int] = {}
    for row in block:
        for j, cell in enumerate(row):
            label = _norm(cell)
            label = re.sub(r"\s*\d\)$", "", label)  # footnote marks: "Fläche km2 1)"
            if not label:
                continue
            for fragment, name in _HEADER.items():
                if name not in columns and (label == fragment or label.startswith(fragment + " ")):
                    columns[name] = j
            if label.startswith("fläche") and "area_km2" not in columns:
                columns["area_km2"] = j
            if label.startswith("postleit") and "plz" not in columns:
                columns["plz"] = j
            if label.startswith("reisegebiet") and "travel_region_code" not in columns:
                columns["travel_region_code"] = j
                columns["travel_region"] = j + 1
            if label.startswith("grad der verstädterung") and "urbanisation_code" not in columns:
                columns["urbanisation_code"] = j
                columns["urbanisation"] = j + 1
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise InputError(
            path,
            f"GV-ISys header incomplete: expected the columns {', '.join(_REQUIRED)}, "
            f"missing {', '.join(missing)}",
            line=header_at + 1,
        )
    return header_at, columns


def _record_span(rows: list[tuple], header_at: int) -> tuple[int, int]:
    first = next(
        (
            i
            for i in range(header_at + 1, len(rows))
            if rows[i] and re.fullmatch(r"\d{2}", _text(rows[i][0]))
        ),
        len(rows),
    )
    last = first
    while last < len(rows) and (
        not any(rows[last]) or re.fullmatch(r"\d{2}", _text(rows[last][0]))
    ):
        last += 1
    return first, last


def _metadata(rows, header_at: int, first: int, last: int, columns: dict[str, int]) -> dict:
    above = [_text(c) for row in rows[:first] for c in row if _text(c)]
    below = [_text(row[0]) for row in rows[last:] if row and _text(row[0])]
    text = " ".join(above + below)
    title = _text(rows[0][0]) if rows and rows[0] else ""

    def date_after(pattern: str) -> str:
        m = re.search(pattern + r"[^0-9]{0,40}?(\d{1,2}\.\d{1,2}\.\d{4})", text, re.IGNORECASE)
        return _iso(m[1]) if m else ""

    def column_date(name: str) -> str:
        """The date printed in the header block under a column (e.g. '31.12.2022 (Jahr)')."""
        j = columns.get(name)
        for row in rows[header_at:first]:
            if j is not None and j < len(row) and _DATE.search(_text(row[j])):
                return _iso(_text(row[j]))
        return ""

    gebietsstand = date_after(r"Gebietsstand")
    population_date = column_date("population")
    area_date = column_date("area_km2")
    plz_date = date_after(r"Zuordnungsstand")
    if "zensus 2022" in text.lower():
        basis, inferred = "Zensus 2022", False
    elif "zensus 2011" in text.lower():
        basis, inferred = "Zensus 2011", False
    else:
        # Destatis rolled populations forward on the Zensus 2011 basis up to the
        # 31.12.2022 figures in its 2024 publications; later dates use Zensus 2022.
        basis = (
            "Zensus 2011" if population_date and population_date <= "2022-12-31" else "Zensus 2022"
        )
        inferred = True
    licence = [
        line for line in below if "©" in line or "Vervielfältigung" in line or "Destatis" in line
    ]
    footnotes = [line for line in below if line not in licence]
    return {
        "title": title,
        "gebietsstand": gebietsstand,
        "population_date": population_date,
        "area_date": area_date,
        "plz_date": plz_date,
        "population_basis": basis,
        "population_basis_inferred": inferred,
        "licence_text": "\n".join(licence),
        "footnotes": "\n".join(footnotes),
    }


def _iso(german: str) -> str:
    m = _DATE.search(german)
    return f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}" if m else ""


# --------------------------------------------------------------------------- records


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _code(row, columns, name: str, width: int, line: int, path, *, required: bool = True) -> str:
    """A zero-padded key part (Excel may have turned "01" into 1)."""
    value = _text(row[columns[name]]) if columns.get(name) is not None else ""
    if not value:
        if required:
            raise InputError(
                path, f"expected a {width}-digit code, found an empty cell", line=line, column=name
            )
        return ""
    if not value.isdigit() or len(value) > width:
        raise InputError(
            path, f"expected a {width}-digit code, found {value!r}", line=line, column=name
        )
    return value.zfill(width)


def _number(row, columns, name: str, line: int, path) -> float:
    j = columns.get(name)
    if j is None or j >= len(row):
        return np.nan
    cell = row[j]
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return np.nan
    if isinstance(cell, int | float):
        return float(cell)
    text = str(cell).strip().replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise InputError(
            path, f"expected a number, found {cell!r}", line=line, column=name
        ) from None


def _optional_text(row, columns, name: str) -> str:
    j = columns.get(name)
    return _text(row[j]) if j is not None and j < len(row) else ""


def _simple(records, columns, parts: tuple[str, ...], key: str, path) -> pd.DataFrame:
    widths = {"land": 2, "rb": 1}
    rows = [
        {
            key: "".join(_code(row, columns, p, widths[p], line, path) for p in parts),
            "name": _text(row[columns["name"]]),
        }
        for line, row in records
    ]
    return pd.DataFrame(rows, columns=[key, "name"]).astype("str")


def _gemeinden(records, columns, path) -> pd.DataFrame:
    rows = []
    for line, row in records:
        land = _code(row, columns, "land", 2, line, path)
        rb = _code(row, columns, "rb", 1, line, path)
        kreis = _code(row, columns, "kreis", 2, line, path)
        vb = _code(row, columns, "vb", 4, line, path, required=False)
        gem = _code(row, columns, "gem", 3, line, path)
        tk = _text(row[columns["textkennzeichen"]])
        plz = _optional_text(row, columns, "plz")
        if plz and not (plz.isdigit() and len(plz) <= 5):
            raise InputError(
                path, f"expected a 5-digit postcode, found {plz!r}", line=line, column="plz"
            )
        urban = _optional_text(row, columns, "urbanisation_code")
        rows.append(
            {
                "ags8": land + rb + kreis + gem,
                "ars12": land + rb + kreis + vb + gem if vb else "",
                "name": _text(row[columns["name"]]),
                "kreis_ags": land + rb + kreis,
                "land_code": land,
                "textkennzeichen": tk,
                "gemeinde_type": TEXTKENNZEICHEN.get(tk, ""),
                "area_km2": _number(row, columns, "area_km2", line, path),
                "population": _number(row, columns, "population", line, path),
                "population_male": _number(row, columns, "population_male", line, path),
                "population_female": _number(row, columns, "population_female", line, path),
                "density_per_km2": _number(row, columns, "density_per_km2", line, path),
                "plz": plz.zfill(5) if plz else "",
                "lon": _number(row, columns, "lon", line, path),
                "lat": _number(row, columns, "lat", line, path),
                "travel_region_code": _optional_text(row, columns, "travel_region_code"),
                "travel_region": _optional_text(row, columns, "travel_region"),
                "urbanisation_code": urban.zfill(2) if urban else "",
                "urbanisation": _optional_text(row, columns, "urbanisation"),
            }
        )
    frame = pd.DataFrame(rows)
    # (0, 0) is a placeholder for areas without a centre (e.g. the German-Luxembourg
    # condominium), not a place in the Gulf of Guinea.
    placeholder = frame["lon"].eq(0) & frame["lat"].eq(0)
    frame.loc[placeholder, ["lon", "lat"]] = np.nan
    text_cols = [c for c in frame.columns if frame[c].dtype == object]
    frame = frame.astype({c: "str" for c in text_cols})
    for name in ("population", "population_male", "population_female"):
        frame[name] = frame[name].astype("Int64")
    return frame


def _kreise(records, columns, laender, bezirke, gemeinden, path) -> pd.DataFrame:
    rows = []
    for line, row in records:
        land = _code(row, columns, "land", 2, line, path)
        rb = _code(row, columns, "rb", 1, line, path)
        kreis = _code(row, columns, "kreis", 2, line, path)
        tk = _text(row[columns["textkennzeichen"]])
        rows.append(
            {
                "ags5": land + rb + kreis,
                "name": _text(row[columns["name"]]),
                "textkennzeichen": tk,
                "kreis_type": TEXTKENNZEICHEN.get(tk, ""),
                "land_code": land,
                "rb_code": land + rb,
            }
        )
    kreise = pd.DataFrame(rows).astype("str")
    sums = gemeinden.groupby("kreis_ags").agg(
        area_km2=("area_km2", "sum"),
        population=("population", "sum"),
        population_male=("population_male", "sum"),
        population_female=("population_female", "sum"),
        n_gemeinden=("ags8", "size"),
    )
    land_names = dict(zip(laender["land_code"], laender["name"], strict=True))
    rb_names = dict(zip(bezirke["rb_code"], bezirke["name"], strict=True))
    out = kreise.assign(
        land_name=kreise["land_code"].map(land_names).fillna("").astype("str"),
        rb_name=kreise["rb_code"].map(rb_names).fillna("").astype("str"),
    ).merge(sums, left_on="ags5", right_index=True, how="left")
    out["n_gemeinden"] = out["n_gemeinden"].fillna(0).astype("int64")
    order = [
        "ags5", "name", "textkennzeichen", "kreis_type", "land_code", "land_name", "rb_code",
        "rb_name", "area_km2", "population", "population_male", "population_female", "n_gemeinden",
    ]  # fmt: skip
    return out[order].reset_index(drop=True)


def _verbaende(records, columns, path) -> pd.DataFrame:
    rows = []
    for line, row in records:
        land = _code(row, columns, "land", 2, line, path)
        rb = _code(row, columns, "rb", 1, line, path)
        kreis = _code(row, columns, "kreis", 2, line, path)
        vb = _code(row, columns, "vb", 4, line, path)
        tk = _text(row[columns["textkennzeichen"]])
        rows.append(
            {
                "ars9": land + rb + kreis + vb,
                "name": _text(row[columns["name"]]),
                "textkennzeichen": tk,
                "verband_type": TEXTKENNZEICHEN.get(tk, ""),
                "kreis_ags": land + rb + kreis,
            }
        )
    columns_out = ["ars9", "name", "textkennzeichen", "verband_type", "kreis_ags"]
    return pd.DataFrame(rows, columns=columns_out).astype("str")
