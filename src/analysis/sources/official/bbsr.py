"""Reader for the BBSR Kreis crosswalk (Umstiegsschlüssel, "Referenzdateien Kreise").

BBSR publishes one xlsx with one sheet per year (``1990-2020`` ... ``2019-2020``):
each row maps a Kreis of 31.12. of that year to a Kreis of the target Gebietsstand
(31.12.2020) with an area-proportional and a population-proportional weight, and
from 1997 on an employment-proportional weight. A Kreis that was split has one row
per target Kreis. Codes are 8-digit Kreis keys written as numbers, so the leading
zero of Länder 01-09 is lost (``1001000`` is Flensburg, AGS5 ``01001``).

Also reads the small hand-made change list for changes after the crosswalk's
target date (``kreis_changes_2020_to_2021_handmade.csv``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.sources.official.catalogue import note_catalogued

#: Weights of one source Kreis must sum to one within this tolerance.
WEIGHT_TOLERANCE = 1e-6

CROSSWALK_COLUMNS = (
    "year",
    "kreis_from",
    "name_from",
    "kreis_to",
    "name_to",
    "w_area",
    "w_pop",
    "w_emp",
    "area_km2_from",
    "pop_1000_from",
    "svb_1000_from",
    "year_to",
)

CHANGES_COLUMNS = (
    "kreis_from",
    "name_from",
    "kreis_to",
    "name_to",
    "effective_date",
    "w_area",
    "w_pop",
    "w_emp",
    "note",
)

_SHEET_NAME = re.compile(r"^\s*(\d{4})\s*-\s*(\d{4})\s*$")
_YEAR_IN_HEADER = re.compile(r"(\d{4})")


def _normal(text: object) -> str:
    return " ".join(str(text).split()).lower() if text is not None else ""


def _letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _map_header(header: tuple, path: Path, sheet: str, year: int, year_to: int) -> dict[str, int]:
    """Column name → index, found by the header texts (they vary between years)."""
    found: dict[str, int] = {}
    code_cols: list[int] = []
    name_cols: list[int] = []
    for i, cell in enumerate(header):
        text = _normal(cell)
        if not text:
            continue
        if text.startswith("kreise"):
            code_cols.append(i)
        elif text.startswith("kreisname"):
            name_cols.append(i)
        elif "schlüssel" in text or "schluessel" in text:
            if text.startswith("fläche") or text.startswith("flaeche"):
                found["w_area"] = i
            elif text.startswith("bevölkerung") or text.startswith("bevoelkerung"):
                found["w_pop"] = i
            elif text.startswith("beschäftigt") or text.startswith("beschaeftigt"):
                found["w_emp"] = i
        elif text.startswith("fläche am") or text.startswith("flaeche am"):
            found["area_km2_from"] = i
        elif text.startswith("bevölkerung am") or text.startswith("bevoelkerung am"):
            found["pop_1000_from"] = i
        elif text.startswith("sozialvers"):
            found["svb_1000_from"] = i
    # The two code columns carry their Gebietsstand ("Kreise 31.12.1990", "... 31.12.2020").
    for i in code_cols:
        years = _YEAR_IN_HEADER.findall(_normal(header[i]))
        if str(year_to) in years and "kreis_to" not in found and str(year) not in years:
            found["kreis_to"] = i
        elif str(year) in years and "kreis_from" not in found:
            found["kreis_from"] = i
    # Names follow their code column.
    for key, name_key in (("kreis_from", "name_from"), ("kreis_to", "name_to")):
        if key in found:
            after = [i for i in name_cols if i > found[key]]
            if after:
                found[name_key] = after[0]
    required = ("kreis_from", "name_from", "kreis_to", "name_to", "w_area", "w_pop")
    missing = [key for key in required if key not in found]
    if missing:
        shown = [" ".join(str(c).split()) for c in header if c is not None]
        raise InputError(
            path,
            f"sheet '{sheet}': expected the BBSR columns 'Kreise 31.12.{year}', 'Kreisname', "
            f"flächen-/bevölkerungsproportionaler Umsteigeschlüssel and 'Kreise 31.12.{year_to}'; "
            f"could not find {', '.join(missing)} among headers {shown}",
            line=1,
        )
    return found


def _kreis_code(value: object, path: Path, sheet: str, row: int, col: int) -> str:
    """AGS5 from a BBSR key: an 8-digit ``LLRKK000`` number (leading zero lost) or AGS5."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if value is not None else ""
    if text.isdigit():
        if len(text) in (7, 8) and text.endswith("000"):
            return text.zfill(8)[:5]
        if len(text) in (4, 5):
            return text.zfill(5)
    raise InputError(
        path,
        f"sheet '{sheet}': expected a Kreis key (8 digits ending in 000, or 5 digits), "
        f"found {text!r}",
        line=row,
        column=_letter(col),
    )


def _number(
    value: object, path: Path, sheet: str, row: int, col: int, *, allow_missing: bool
) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_missing:
            return np.nan
        raise InputError(
            path,
            f"sheet '{sheet}': expected a number, found an empty cell",
            line=row,
            column=_letter(col),
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            return float(str(value).replace(",", "."))
        except ValueError:
            raise InputError(
                path,
                f"sheet '{sheet}': expected a number, found {value!r}",
                line=row,
                column=_letter(col),
            ) from None
    return float(value)


def _read_sheet(ws, path: Path, sheet: str, year: int, year_to: int) -> list[dict]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise InputError(path, f"sheet '{sheet}': empty sheet, expected a header row", line=1)
    cols = _map_header(header, path, sheet, year, year_to)
    records = []
    for row_number, row in enumerate(rows, start=2):
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue

        def cell(key: str, row=row) -> object:
            i = cols.get(key)
            return row[i] if i is not None and i < len(row) else None

        rec = {
            "year": year,
            "kreis_from": _kreis_code(
                cell("kreis_from"), path, sheet, row_number, cols["kreis_from"]
            ),
            "name_from": str(cell("name_from") or "").strip(),
            "kreis_to": _kreis_code(cell("kreis_to"), path, sheet, row_number, cols["kreis_to"]),
            "name_to": str(cell("name_to") or "").strip(),
            "year_to": year_to,
        }
        for key in ("w_area", "w_pop", "w_emp"):
            if key in cols:
                rec[key] = _number(
                    cell(key), path, sheet, row_number, cols[key], allow_missing=key == "w_emp"
                )
                if (
                    not np.isnan(rec[key])
                    and not -WEIGHT_TOLERANCE <= rec[key] <= 1 + WEIGHT_TOLERANCE
                ):
                    raise InputError(
                        path,
                        f"sheet '{sheet}': expected a weight between 0 and 1, found {rec[key]}",
                        line=row_number,
                        column=_letter(cols[key]),
                    )
            else:
                rec[key] = np.nan
        for key in ("area_km2_from", "pop_1000_from", "svb_1000_from"):
            rec[key] = (
                _number(cell(key), path, sheet, row_number, cols[key], allow_missing=True)
                if key in cols
                else np.nan
            )
        records.append(rec)
    return records


def check_weights(crosswalk: pd.DataFrame, tolerance: float = WEIGHT_TOLERANCE) -> pd.DataFrame:
    """Source Kreise whose weights do not sum to one.

    Parameters
    ----------
    crosswalk : DataFrame
        As returned by :func:`read_bbsr_crosswalk`.
    tolerance : float
        Allowed absolute deviation of each weight sum from 1.

    Returns
    -------
    DataFrame
        One row per offending (year, kreis_from, weight) with the sum found;
        empty when all weights are consistent. Employment weights that are
        missing for a whole year (before 1997) are not offenders.
    """
    parts = []
    for weight in ("w_area", "w_pop", "w_emp"):
        keys = [crosswalk["year"], crosswalk["kreis_from"]]
        sums = crosswalk[weight].groupby(keys).sum(min_count=1)
        n_missing = crosswalk[weight].isna().groupby(keys).sum()
        bad = sums.notna() & ((sums - 1).abs() > tolerance)
        # A weight present for some target rows and missing for others is broken too.
        partial = sums.notna() & (n_missing > 0)
        offenders = sums[bad | partial]
        if len(offenders):
            parts.append(offenders.rename("sum").reset_index().assign(weight=weight))
    if not parts:
        return pd.DataFrame({"year": [], "kreis_from": [], "sum": [], "weight": []})
    return pd.concat(parts, ignore_index=True)[["year", "kreis_from", "weight", "sum"]]


def read_bbsr_crosswalk(path: str | Path) -> pd.DataFrame:
    """Read the BBSR Umstiegsschlüssel xlsx into one long frame.

    Parameters
    ----------
    path : str or Path
        ``ref-kreise-umrech-<target>-<first>-<last>.xlsx``: one sheet per year
        named ``<year>-<target>``.

    Returns
    -------
    DataFrame
        Columns ``year`` (Gebietsstand 31.12. of the source codes), ``kreis_from``
        (AGS5, zero-padded), ``name_from``, ``kreis_to`` (AGS5 at 31.12. of
        ``year_to``), ``name_to``, ``w_area``, ``w_pop``, ``w_emp`` (NaN before
        1997), ``area_km2_from``, ``pop_1000_from``, ``svb_1000_from`` (NaN where the
        sheet has no such column), ``year_to``. Sorted by year, kreis_from,
        kreis_to. ``attrs["path"]`` and ``attrs["year_to"]`` are set.

    Raises
    ------
    InputError
        If the file is not an xlsx, a sheet lacks the expected columns, a code or
        weight is malformed (sheet, row and column are named), a (year, kreis_from,
        kreis_to) pair repeats, or the weights of a source Kreis do not sum to one
        within 1e-6 (the offenders are listed).

    Examples
    --------
    >>> cw = read_bbsr_crosswalk("ref-kreise-umrech-2020-1990-2019.xlsx")  # doctest: +SKIP
    >>> cw.query("year == 2015 and kreis_from == '03152'")[["kreis_to", "w_pop"]]  # doctest: +SKIP
      kreis_to  w_pop
         03159    1.0
    """
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise InputError(
            path, f"expected an xlsx workbook (BBSR Umstiegsschlüssel), could not open it: {exc}"
        ) from None
    try:
        records: list[dict] = []
        targets = set()
        ignored = []
        for sheet in workbook.sheetnames:
            match = _SHEET_NAME.match(sheet)
            if not match:
                ignored.append(sheet)
                continue
            year, year_to = int(match.group(1)), int(match.group(2))
            targets.add(year_to)
            records.extend(_read_sheet(workbook[sheet], path, sheet, year, year_to))
    except zipfile.BadZipFile as exc:
        raise InputError(path, f"damaged xlsx (truncated download?): {exc}") from None
    finally:
        workbook.close()
    if not targets:
        raise InputError(
            path,
            f"expected sheets named '<year>-<target year>' (e.g. '2015-2020'), found {workbook.sheetnames}",
        )
    if len(targets) > 1:
        raise InputError(
            path, f"expected one target year in the sheet names, found {sorted(targets)}"
        )
    if not records:
        raise InputError(path, "no crosswalk rows found")

    crosswalk = (
        pd.DataFrame.from_records(records)
        .astype({"year": "int64", "year_to": "int64"})
        .sort_values(["year", "kreis_from", "kreis_to"], kind="stable")
        .reset_index(drop=True)
    )[list(CROSSWALK_COLUMNS)]

    duplicated = crosswalk.duplicated(["year", "kreis_from", "kreis_to"], keep=False)
    if duplicated.any():
        dup = crosswalk.loc[duplicated, ["year", "kreis_from", "kreis_to"]].drop_duplicates()
        shown = "; ".join(
            f"{r.year} {r.kreis_from}→{r.kreis_to}" for r in dup.head(10).itertuples()
        )
        raise InputError(
            path, f"expected one row per (year, kreis_from, kreis_to); repeated: {shown}"
        )

    offenders = check_weights(crosswalk)
    if len(offenders):
        shown = "; ".join(
            f"{r.year} {r.kreis_from} {r.weight} sums to {r.sum:.9g}"
            for r in offenders.head(10).itertuples()
        )
        raise InputError(
            path,
            f"expected the weights of each source Kreis to sum to 1 (±{WEIGHT_TOLERANCE:g}); "
            f"{len(offenders)} offender(s): {shown}",
        )
    crosswalk.attrs = {"path": str(path), "year_to": targets.pop(), "ignored_sheets": ignored}
    note_catalogued(path)
    return crosswalk


def read_kreis_changes(path: str | Path) -> pd.DataFrame:
    """Read a list of Kreis changes after the crosswalk's target date.

    The format is the one of ``kreis_changes_2020_to_2021_handmade.csv``: a
    comma-separated UTF-8 file with header ``kreis_from,name_from,kreis_to,name_to,
    effective_date,w_area,w_pop[,w_emp][,note]``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
        Columns as :data:`CHANGES_COLUMNS`; codes zero-padded to 5 digits,
        ``effective_date`` as ``datetime64``, weights as float (``w_emp`` equals
        ``w_pop`` where the file has none, which is exact for whole mergers).

    Raises
    ------
    InputError
        Missing columns, malformed codes, dates or weights (line and column named),
        or weights of one source Kreis that do not sum to one.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(path, f"expected a UTF-8 CSV of Kreis changes: {exc}") from None
    required = ("kreis_from", "kreis_to", "effective_date", "w_area", "w_pop")
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InputError(
            path, f"expected columns {', '.join(required)}; missing {', '.join(missing)}", line=1
        )
    out = {}
    for col in ("kreis_from", "kreis_to"):
        codes = raw[col].str.strip()
        bad = ~codes.str.fullmatch(r"\d{4,5}")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                path,
                f"expected a 5-digit Kreis code, found {codes.iloc[i]!r}",
                line=i + 2,
                column=col,
            )
        out[col] = codes.str.zfill(5)
    dates = pd.to_datetime(raw["effective_date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError(
            path,
            f"expected a date YYYY-MM-DD, found {raw['effective_date'].iloc[i]!r}",
            line=i + 2,
            column="effective_date",
        )
    weights = {}
    for col in ("w_area", "w_pop", "w_emp"):
        if col not in raw.columns:
            continue
        values = pd.to_numeric(raw[col].str.strip(), errors="coerce")
        if values.isna().any() or ((values < 0) | (values > 1)).any():
            i = int(np.flatnonzero((values.isna() | (values < 0) | (values > 1)).to_numpy())[0])
            raise InputError(
                path,
                f"expected a weight between 0 and 1, found {raw[col].iloc[i]!r}",
                line=i + 2,
                column=col,
            )
        weights[col] = values.astype("float64")
    weights.setdefault("w_emp", weights["w_pop"])
    changes = pd.DataFrame(
        {
            "kreis_from": out["kreis_from"],
            "name_from": raw.get("name_from", pd.Series("", index=raw.index)),
            "kreis_to": out["kreis_to"],
            "name_to": raw.get("name_to", pd.Series("", index=raw.index)),
            "effective_date": dates,
            **weights,
            "note": raw.get("note", pd.Series("", index=raw.index)),
        }
    )[list(CHANGES_COLUMNS)]
    sums = changes.groupby("kreis_from")[["w_area", "w_pop", "w_emp"]].sum()
    bad = ((sums - 1).abs() > WEIGHT_TOLERANCE).any(axis=1)
    if bad.any():
        raise InputError(
            path,
            f"expected the weights of each source Kreis to sum to 1; offenders: {list(sums.index[bad])}",
        )
    changes.attrs = {"path": str(path)}
    note_catalogued(path)
    return changes
