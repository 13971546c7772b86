"""Import layouts for regional data that is not open data but that a user may have.

MINT employment by occupation (Bundesagentur für Arbeit, Beschäftigungsstatistik on
request) and wages (Entgeltatlas) are not open data. A user who has them puts them
into ``data/raw/licensed/`` in these layouts (documented in ``data/raw/README.md``)
and the region reports use them as indicators; reports name the indicators they used.

``ba_mint_employment.csv`` — UTF-8 (BOM allowed), ``;`` separated, one row per Kreis::

    ags;stichtag;mint_employees;employees_total
    03159;2024-06-30;21500;139800

``entgeltatlas_wages.csv`` — same conventions, median gross monthly wage of full-time
employees in EUR (decimal comma or point)::

    ags;year;occupation_group;median_monthly_wage_eur
    03159;2024;MINT;4812
    03159;2024;all;3960

``occupation_group`` is ``MINT`` or ``all``. Kreis codes must have five digits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd

from analysis.errors import InputError

BA_FILE = "ba_mint_employment.csv"
WAGES_FILE = "entgeltatlas_wages.csv"
BA_COLUMNS = ("ags", "stichtag", "mint_employees", "employees_total")
WAGE_COLUMNS = ("ags", "year", "occupation_group", "median_monthly_wage_eur")


def _rows(path: Path, expected: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, "expected UTF-8 text", line=line) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(path, f"empty file; expected the header {';'.join(expected)}") from None
    missing = [c for c in expected if c not in header]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {', '.join(missing)}; expected the header {';'.join(expected)}",
            line=1,
        )
    rows = []
    for number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise InputError(
                path, f"expected {len(header)} fields, found {len(fields)}", line=number
            )
        rows.append((number, dict(zip(header, (f.strip() for f in fields), strict=True))))
    return rows


def _ags(path: Path, line: int, value: str) -> str:
    if not (value.isdigit() and len(value) == 5):
        raise InputError(
            path, f"expected a 5-digit Kreis code, found {value!r}", line=line, column="ags"
        )
    return value


def _number(path: Path, line: int, column: str, value: str) -> float:
    text = value.replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise InputError(
            path, f"expected a number, found {value!r}", line=line, column=column
        ) from None
    if number < 0:
        raise InputError(
            path, f"expected a non-negative number, found {value!r}", line=line, column=column
        )
    return number


def read_ba_mint_employment(path: str | Path) -> pd.DataFrame:
    """Read MINT employment per Kreis (layout in the module docstring).

    Returns
    -------
    DataFrame
        ``ags``, ``stichtag`` (Timestamp), ``mint_employees``, ``employees_total``.

    Raises
    ------
    InputError
        Naming file, line and column for a missing column, a bad code, number or date,
        MINT employees above the total, or a Kreis listed twice for one date.
    """
    path = Path(path)
    records = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _rows(path, BA_COLUMNS):
        ags = _ags(path, line, row["ags"])
        try:
            stichtag = dt.date.fromisoformat(row["stichtag"])
        except ValueError:
            raise InputError(
                path,
                f"expected a date YYYY-MM-DD, found {row['stichtag']!r}",
                line=line,
                column="stichtag",
            ) from None
        mint = _number(path, line, "mint_employees", row["mint_employees"])
        total = _number(path, line, "employees_total", row["employees_total"])
        if mint > total:
            raise InputError(
                path,
                f"MINT employees {mint:g} exceed the total {total:g}",
                line=line,
                column="mint_employees",
            )
        key = (ags, stichtag.isoformat())
        if key in seen:
            raise InputError(
                path,
                f"Kreis {ags} at {stichtag} already on line {seen[key]}",
                line=line,
                column="ags",
            )
        seen[key] = line
        records.append((ags, pd.Timestamp(stichtag), mint, total))
    return pd.DataFrame(records, columns=list(BA_COLUMNS))


def read_entgeltatlas(path: str | Path) -> pd.DataFrame:
    """Read median wages per Kreis and occupation group (layout in the module docstring).

    Returns
    -------
    DataFrame
        ``ags``, ``year`` (int), ``occupation_group`` (MINT or all),
        ``median_monthly_wage_eur``.
    """
    path = Path(path)
    records = []
    for line, row in _rows(path, WAGE_COLUMNS):
        ags = _ags(path, line, row["ags"])
        if not (row["year"].isdigit() and len(row["year"]) == 4):
            raise InputError(
                path, f"expected a year, found {row['year']!r}", line=line, column="year"
            )
        group = row["occupation_group"]
        if group not in {"MINT", "all"}:
            raise InputError(
                path,
                f"expected occupation_group MINT or all, found {group!r}",
                line=line,
                column="occupation_group",
            )
        wage = _number(path, line, "median_monthly_wage_eur", row["median_monthly_wage_eur"])
        records.append((ags, int(row["year"]), group, wage))
    return pd.DataFrame(records, columns=list(WAGE_COLUMNS))
