"""Reader for a Kreis list in the layout ``ags5,name,kreis_type,textkennzeichen,…``.

This is the layout of the mirror's derived ``gv_isys_2024/kreise_2024.csv`` (the
400 Kreise of GV-ISys with Land, Regierungsbezirk, NUTS-3, area and the population
summed from the Gemeinden) and of the demo dataset's Kreis list. It is not a
publisher format: the official route to the same facts is the GV-ISys workbook
(:mod:`analysis.sources.official.gv_isys`).

:func:`read_kreis_codes` needs only the standard library, so that parameter
validation can check a Kreis code without importing pandas.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from analysis.errors import InputError

#: Columns the reader requires (the derived layout has more; they are kept).
REQUIRED = ("ags5", "name", "kreis_type", "land_code", "land_name")

#: Integer and float columns of the layout, converted when present.
_INTEGER = ("textkennzeichen", "population_2022_12_31", "pop_male", "pop_female", "n_gemeinden")
_FLOAT = ("area_km2", "density_per_km2")


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not path.is_file():
        raise InputError(path, "file not found; expected a Kreis list CSV (ags5,name,kreis_type,…)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path, f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x}", line=line
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(
            path, "empty file, expected a header ags5,name,kreis_type,…", line=1
        ) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            path,
            f"expected columns {', '.join(REQUIRED)}; missing {', '.join(missing)} "
            f"(found {','.join(header)})",
            line=1,
        )
    rows = []
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != len(header):
            raise InputError(
                path,
                f"expected {len(header)} fields, found {len(fields)} (truncated or misquoted line?)",
                line=reader.line_num,
            )
        rows.append((reader.line_num, fields))
    if not rows:
        raise InputError(path, "expected at least one Kreis below the header, found none", line=2)
    return header, rows


def _check_code(path: Path, line: int, code: str) -> str:
    if not (len(code) == 5 and code.isdigit()):
        raise InputError(
            path, f"expected a 5-digit Kreis code, found {code!r}", line=line, column="ags5"
        )
    return code


def read_kreis_codes(path: str | Path) -> frozenset[str]:
    """The Kreis codes of a Kreis list, using only the standard library (fast).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    frozenset of str
        5-digit codes.

    Raises
    ------
    InputError
        Missing file or columns, a malformed line or code.
    """
    path = Path(path)
    header, rows = _rows(path)
    at = header.index("ags5")
    return frozenset(_check_code(path, line, fields[at].strip()) for line, fields in rows)


def read_kreis_list(path: str | Path):
    """Read a Kreis list into a frame with canonical column names.

    Parameters
    ----------
    path : str or Path
        ``kreise_2024.csv`` (derived GV-ISys layout) or the demo's Kreis list.

    Returns
    -------
    pandas.DataFrame
        One row per Kreis in file order: ``ags`` (from ``ags5``), ``name``,
        ``kreis_type`` (as in the file: Kreisfreie Stadt, Stadtkreis, Kreis,
        Landkreis, Regionalverband), ``land_code``, ``land_name`` and, when present,
        ``textkennzeichen``, ``rb_code``, ``rb_name``, ``nuts3``, ``area_km2``,
        ``population_2022_12_31``, ``pop_male``, ``pop_female``,
        ``density_per_km2``, ``n_gemeinden`` (numbers typed; empty → missing).
        ``attrs``: ``path``, ``n_rows``.

    Raises
    ------
    InputError
        Missing file or required columns, a line with the wrong number of fields,
        a code that is not 5 digits, a duplicated code, or a number that does not
        parse (the message names file, line and column).
    """
    import pandas as pd

    path = Path(path)
    header, rows = _rows(path)
    columns: dict[str, list] = {name: [] for name in header}
    seen: dict[str, int] = {}
    for line, fields in rows:
        for name, value in zip(header, fields, strict=True):
            value = value.strip()
            if name == "ags5":
                _check_code(path, line, value)
                if value in seen:
                    raise InputError(
                        path,
                        f"Kreis {value} listed twice (first on line {seen[value]})",
                        line=line,
                        column="ags5",
                    )
                seen[value] = line
            elif name in _INTEGER or name in _FLOAT:
                if value == "":
                    value = None
                else:
                    try:
                        value = int(value) if name in _INTEGER else float(value)
                    except ValueError:
                        kind = "an integer" if name in _INTEGER else "a number"
                        raise InputError(
                            path, f"expected {kind}, found {value!r}", line=line, column=name
                        ) from None
            columns[name].append(value)
    frame = pd.DataFrame(columns).rename(columns={"ags5": "ags"})
    for name in _INTEGER:
        if name in frame:
            frame[name] = frame[name].astype("Int64")
    for name in _FLOAT:
        if name in frame:
            frame[name] = frame[name].astype("float64")
    frame.attrs = {"path": str(path), "n_rows": len(frame)}
    return frame
