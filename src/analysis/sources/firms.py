"""Reader for Hidden-Champion firm lists (CSV or XLSX).

No open list of Hidden Champions exists: companies license one (Weltmarktführer-Index,
commercial directories) or research their own. This module reads such a list in the
schema below, normalizes what can be normalized (and reports every normalization),
reports what cannot be used (naming row and column) and never loses a row silently:
every data row ends up either in :attr:`FirmList.frame` or in
:attr:`FirmList.quarantine`, blank rows are counted in :attr:`FirmList.report`.

Firm-list schema
----------------
One row per firm, one header row. The header may sit below a title block (an XLSX
with the header in row 3 is fine: the reader finds the first row that holds at least
three known labels including the firm name, and reports where it found it). Labels
are matched case-insensitively, ignoring umlaut spelling (``ä``/``ae``), spaces,
punctuation and a trailing unit in brackets (``Umsatz (EUR)`` = ``umsatz``).

==================  ========  =============================================================
column              required  accepted header labels (German or English) and content
==================  ========  =============================================================
firm_id             no        firm_id, id, firmen_id, company_id — a stable key of the list
name                yes       name, firma, firmenname, unternehmen, company, company_name,
                              firm
plz                 yes [1]   plz, postleitzahl, postcode, post_code, postal_code, zip,
                              zip_code — 5 digits; 4 digits get their lost leading zero
                              back (reported); ``D-37073`` loses the ``D-`` (reported)
ags                 yes [1]   ags, ags8, ags5, gemeindeschluessel, kreisschluessel,
                              amtlicher_gemeindeschluessel, municipality_code — 8-digit
                              Gemeinde or 5-digit Kreis key (7 or 4 digits: leading zero
                              restored, reported). Wins over the postcode for placing.
city                no        city, ort, stadt, sitz, town, standort
sector              yes       sector, wz, wz2008, wz_2008, wz_code, nace, nace_code, branche,
                              wirtschaftszweig, industry — WZ 2008 / NACE Rev. 2 code such as
                              ``28.41``, ``28.4``, ``28`` or ``C28.41`` (section letter
                              dropped, reported); ``wz_division`` (2 digits) is derived
revenue_eur         yes       revenue_eur, revenue, umsatz, umsatz_eur, turnover, sales —
                              EUR. Numbers or text: ``1,2 Mrd. €``, ``850 Mio``,
                              ``850 Mio. EUR``, ``1.234.567``, ``1,234,567``, ``12,5``,
                              ``120 Tsd``; text amounts, thousands separators and decimal
                              commas are normalized and reported
employees           no        employees, mitarbeiter, beschaeftigte, anzahl_mitarbeiter,
                              staff, headcount — number (separators as above)
export_share        yes       export_share, share_abroad, foreign_share, auslandsanteil,
                              auslandsquote, exportquote, exportanteil — share of revenue
                              abroad as a fraction 0–1 or in percent (``65 %``; a column
                              with any plain value above 1 is read as percent, reported)
market_rank         yes       market_rank, rank, rang, position, marktposition,
                              weltmarktposition — rank of the firm in its market segment
                              (``1``, ``Nr. 1``, ``#2``)
market_segment      no        market_segment, segment, marktsegment, product, produkt
market_scope        yes       market_scope, scope, markt, marktraum, continent, kontinent,
                              region — the market the rank refers to: ``world`` (Welt,
                              weltweit, global) or a continent: ``Europe``, ``Asia``,
                              ``North America``, ``South America``, ``Africa``,
                              ``Oceania`` (German names accepted)
continents          yes       continents, continents_present, n_continents, kontinente,
                              anzahl_kontinente, praesenz_kontinente — number of continents
                              the firm is present on (1–7)
founded             no        founded, founding_year, year_founded, gruendungsjahr,
                              gegruendet, gruendung — year
public_awareness    yes       public_awareness, awareness, bekanntheit, bekanntheitsgrad —
                              ``low`` / ``medium`` / ``high`` (gering/niedrig, mittel, hoch;
                              ``little known`` / ``wenig bekannt`` = low)
source              no        source, quelle — where the row comes from
source_date         no        source_date, quelldatum, stand, datum, as_of — ISO or German
                              date (``31.12.2024`` → ``2024-12-31``)
==================  ========  =============================================================

[1] at least one of ``plz`` and ``ags`` must be present as a column; a row needs one of
them to be placed (rows without either are placed by nobody and listed as unplaced by
:func:`analysis.champions.locate_firms`).

Other columns are ignored (reported once). Empty cells and ``k. A.``, ``n/a``, ``-``,
``?`` are missing values. A missing value makes a definition that needs it *unknown*
(NA), see :mod:`analysis.champions`.

Row numbers in messages are physical lines for CSV (1-based, as an editor shows them)
and Excel row numbers for XLSX. CSV: UTF-8 (with or without byte-order mark) or
Windows-1252; ``;``, ``,`` or tab separated (sniffed from the header). Numbers whose
separator is ambiguous (``1.234``, ``1,234``) are read by the file's convention,
inferred from its unambiguous numbers (German decimal comma when in doubt), and
reported.

Duplicated firms (same normalized name — case, umlaut spelling, punctuation and legal
form such as GmbH, AG, SE & Co. KG ignored — and same postcode, or AGS where the
postcode is missing) are flagged: the first occurrence is kept, later ones go to the
quarantine with the row they duplicate.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.names import normalize_company_name
from analysis.sources.text import decode, read_bytes, regular_file

SOURCE_LABEL = "Hidden-Champion firm list"

#: Canonical columns of :attr:`FirmList.frame`, in order (``row`` is the source row).
COLUMNS: tuple[str, ...] = (
    "firm_id",
    "name",
    "plz",
    "ags",
    "city",
    "sector",
    "wz_division",
    "revenue_eur",
    "employees",
    "export_share",
    "market_rank",
    "market_segment",
    "market_scope",
    "continents",
    "founded",
    "public_awareness",
    "source",
    "source_date",
    "name_key",
    "row",
)

#: Columns a list must have (plus at least one of ``plz`` and ``ags``).
REQUIRED: tuple[str, ...] = (
    "name",
    "sector",
    "revenue_eur",
    "export_share",
    "market_rank",
    "market_scope",
    "continents",
    "public_awareness",
)
LOCATION_COLUMNS: tuple[str, ...] = ("plz", "ags")

#: Accepted header labels per canonical column (after :func:`_label_key`).
ALIASES: dict[str, tuple[str, ...]] = {
    "firm_id": ("firm_id", "id", "firmen_id", "firmenid", "company_id", "unternehmens_id"),
    "name": (
        "name",
        "firma",
        "firmenname",
        "unternehmen",
        "unternehmensname",
        "company",
        "company_name",
        "firm",
        "firm_name",
    ),
    "plz": ("plz", "postleitzahl", "postcode", "post_code", "postal_code", "zip", "zip_code"),
    "ags": (
        "ags",
        "ags8",
        "ags5",
        "gemeindeschluessel",
        "kreisschluessel",
        "amtlicher_gemeindeschluessel",
        "municipality_code",
    ),
    "city": ("city", "ort", "stadt", "sitz", "town", "standort"),
    "sector": (
        "sector",
        "wz",
        "wz2008",
        "wz_2008",
        "wz_code",
        "nace",
        "nace_code",
        "branche",
        "wirtschaftszweig",
        "industry",
    ),
    "revenue_eur": ("revenue_eur", "revenue", "umsatz", "umsatz_eur", "turnover", "sales"),
    "employees": (
        "employees",
        "mitarbeiter",
        "beschaeftigte",
        "anzahl_mitarbeiter",
        "staff",
        "headcount",
    ),
    "export_share": (
        "export_share",
        "share_abroad",
        "foreign_share",
        "auslandsanteil",
        "auslandsquote",
        "exportquote",
        "exportanteil",
    ),
    "market_rank": (
        "market_rank",
        "rank",
        "rang",
        "position",
        "marktposition",
        "weltmarktposition",
    ),
    "market_segment": ("market_segment", "segment", "marktsegment", "product", "produkt"),
    "market_scope": (
        "market_scope",
        "scope",
        "markt",
        "marktraum",
        "continent",
        "kontinent",
        "region",
    ),
    "continents": (
        "continents",
        "continents_present",
        "n_continents",
        "kontinente",
        "anzahl_kontinente",
        "praesenz_kontinente",
    ),
    "founded": (
        "founded",
        "founding_year",
        "year_founded",
        "gruendungsjahr",
        "gegruendet",
        "gruendung",
    ),
    "public_awareness": ("public_awareness", "awareness", "bekanntheit", "bekanntheitsgrad"),
    "source": ("source", "quelle"),
    "source_date": ("source_date", "quelldatum", "stand", "datum", "as_of"),
}

#: Continents (and "world") as written in lists, to their canonical names.
SCOPES: dict[str, str] = {
    "world": "world",
    "welt": "world",
    "weltweit": "world",
    "global": "world",
    "worldwide": "world",
    "weltmarkt": "world",
    "europe": "Europe",
    "europa": "Europe",
    "asia": "Asia",
    "asien": "Asia",
    "north_america": "North America",
    "nordamerika": "North America",
    "south_america": "South America",
    "suedamerika": "South America",
    "lateinamerika": "South America",
    "latin_america": "South America",
    "africa": "Africa",
    "afrika": "Africa",
    "oceania": "Oceania",
    "ozeanien": "Oceania",
    "australia": "Oceania",
    "australien": "Oceania",
}

AWARENESS: dict[str, str] = {
    "low": "low",
    "gering": "low",
    "niedrig": "low",
    "little_known": "low",
    "wenig_bekannt": "low",
    "kaum_bekannt": "low",
    "medium": "medium",
    "mittel": "medium",
    "moderate": "medium",
    "high": "high",
    "hoch": "high",
    "well_known": "high",
    "bekannt": "high",
}

_MISSING = {"", "-", "–", "?", "n/a", "na", "nan", "none", "k.a.", "k. a.", "ka", "unbekannt"}
_HEADER_SCAN_ROWS = 30
_MIN_HEADER_LABELS = 3

_MULTIPLIERS: tuple[tuple[re.Pattern, float, str], ...] = (
    (re.compile(r"^(mrd|milliarde|milliarden|bn|bln)\.?$"), 1e9, "billion"),
    (re.compile(r"^(mio|million|millionen|mn|m)\.?$"), 1e6, "million"),
    (re.compile(r"^(tsd|tausend|thousand|t|k)\.?$"), 1e3, "thousand"),
)
_CURRENCY = re.compile(r"(?i)(€|\beur\b|\beuro\b)")
_AMOUNT = re.compile(r"^(?P<num>[+-]?[\d.,'\u00a0\u202f ]*\d[\d.,]*)\s*(?P<word>[^\d\s].*)?$")


@dataclass(frozen=True)
class FirmList:
    """A firm list as read: usable rows, what was done to them and what was set aside.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per usable firm, columns :data:`COLUMNS`. ``row`` is the physical
        line (CSV) or Excel row (XLSX) the firm came from.
    report : pandas.DataFrame
        One row per normalization or problem: ``row``, ``column`` (the header label
        as written in the file), ``kind``, ``severity`` (``info``: normalized, value
        kept; ``warning``: value unusable, set to missing; ``quarantine``: row set
        aside), ``original``, ``value`` and a ``message`` naming file, row and column.
    quarantine : pandas.DataFrame
        Rows set aside (duplicates, rows without a name): ``row``, ``reason``,
        ``name``, ``plz``, ``ags`` and, for duplicates, ``duplicate_of`` (the kept row).
    path : Path
        The file read.
    header_row : int
        Row (line) of the header, 1-based.
    n_rows : int
        Non-blank data rows read; always ``len(frame) + len(quarantine)``.
    """

    frame: pd.DataFrame
    report: pd.DataFrame
    quarantine: pd.DataFrame
    path: Path
    header_row: int
    n_rows: int

    def summary(self) -> pd.DataFrame:
        """Counts of reported items by ``kind`` and ``severity`` (a small table)."""
        if self.report.empty:
            return pd.DataFrame({"kind": [], "severity": [], "n": []})
        return (
            self.report.groupby(["severity", "kind"], as_index=False)
            .size()
            .rename(columns={"size": "n"})
            .sort_values(["severity", "n"], ascending=[True, False], ignore_index=True)
        )


# --------------------------------------------------------------------------- public


def read_firm_list(path: str | Path, *, sheet: str | None = None) -> FirmList:
    """Read, validate and normalize a Hidden-Champion firm list (CSV or XLSX).

    The schema and accepted header labels are documented in the module docstring.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.txt`` or ``.xlsx``/``.xlsm`` file.
    sheet : str, optional
        XLSX sheet name (default: the first sheet).

    Returns
    -------
    FirmList
        Usable firms, the report of normalizations and problems, and the quarantine.

    Raises
    ------
    InputError
        If the file cannot be read, no header row is found, a column is given twice
        or required columns are missing (the message names them and the expected
        set).

    Examples
    --------
    >>> firms = read_firm_list("data/raw/firms/hidden_champions.csv")  # doctest: +SKIP
    >>> firms.summary()  # doctest: +SKIP
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows, unit = _xlsx_rows(path, sheet), "row"
    else:
        rows, unit = _csv_rows(path), "line"
    result = _Builder(path, unit).build(rows)
    try:
        from analysis.notebook import note_input

        dates = result.frame["source_date"].dropna()
        sources = sorted(result.frame["source"].dropna().unique())
        note_input(
            path,
            source=f"{SOURCE_LABEL} ({path.name})",
            credit="; ".join(sources[:3]) + (" …" if len(sources) > 3 else ""),
            reference_date=str(dates.max()) if len(dates) else "",
        )
    except Exception:  # pragma: no cover - noting inputs must never break reading
        pass
    return result


def normalize_firm_name(name: str) -> str:
    """Key for duplicate detection: the package's one company-name key.

    The same key as account matching uses (:func:`analysis.names.normalize_company_name`:
    case, umlaut spelling, accents, punctuation, legal forms, connectors and common
    abbreviations ignored), so de-duplicating the list and matching it agree.

    Examples
    --------
    >>> normalize_firm_name("Müller Antriebstechnik GmbH & Co. KG")
    'mueller antriebstechnik'
    """
    return normalize_company_name(name)


def parse_amount(cell: object, *, decimal: str = ",") -> tuple[float | None, list[str]]:
    """Parse a money amount or count written as a number or as text.

    Parameters
    ----------
    cell : object
        A number (taken as is) or text such as ``"1,2 Mrd. €"``, ``"850 Mio"``,
        ``"1.234.567"``, ``"1,234,567"``, ``"12,5"``.
    decimal : {",", "."}
        The file's decimal mark, used only where a single separator followed by
        exactly three digits is ambiguous (``1.234``).

    Returns
    -------
    value : float or None
        ``None`` for a missing cell.
    notes : list of str
        Normalization kinds applied (``text_amount``, ``thousands_separator``,
        ``decimal_comma``, ``ambiguous_separator``).

    Raises
    ------
    ValueError
        If the text is not an amount.

    Examples
    --------
    >>> parse_amount("1,2 Mrd. €")
    (1200000000.0, ['decimal_comma', 'text_amount'])
    >>> parse_amount("1,234,567")
    (1234567.0, ['thousands_separator'])
    """
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return None, []
    if isinstance(cell, bool):
        raise ValueError(f"expected an amount, found {cell!r}")
    if isinstance(cell, (int, float, np.integer, np.floating)):
        return float(cell), []
    text = str(cell).strip()
    if text.lower() in _MISSING:
        return None, []
    text = _CURRENCY.sub(" ", text).strip()
    m = _AMOUNT.match(text)
    if not m:
        raise ValueError(
            f"expected an amount such as 850000000, '850 Mio' or '1,2 Mrd. €', found {cell!r}"
        )
    notes: list[str] = []
    factor = 1.0
    word = (m["word"] or "").strip().lower()
    if word:
        for pattern, mult, _ in _MULTIPLIERS:
            if pattern.match(word):
                factor = mult
                notes.append("text_amount")
                break
        else:
            raise ValueError(
                f"unknown unit {m['word'].strip()!r} in {cell!r} (expected Tsd, Mio, Mrd, "
                "k, m, bn, € or EUR)"
            )
    number, sep_notes = _parse_number(m["num"], decimal)
    return number * factor, sep_notes + notes


# --------------------------------------------------------------------------- input rows


@dataclass(frozen=True)
class _Rows:
    cells: list[list[object]]  # every physical row, cells as read
    numbers: list[int]  # the row/line number of each
    where: str  # "" or ", sheet 'X'"
    delimiter: str | None  # CSV only


def _csv_rows(path: Path) -> _Rows:
    # One encoding rule for every text reader: UTF-8 (BOM or not), else Windows-1252;
    # binary data, UTF-16 and undecodable bytes are errors with line and column.
    text, _ = decode(read_bytes(path), path)
    if not text.strip():
        raise InputError(path, "the file is empty (expected a header line and firm rows)")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    cells: list[list[object]] = []
    numbers: list[int] = []
    start = 1
    try:
        for record in reader:
            cells.append(list(record))
            numbers.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV ({exc})", line=reader.line_num) from None
    return _Rows(cells, numbers, "", delimiter)


def _sniff_delimiter(text: str) -> str:
    """The delimiter under which the header-like lines yield the most known labels."""
    head = text.splitlines()[:_HEADER_SCAN_ROWS]
    best, best_score = ";", -1
    for delimiter in (";", ",", "\t"):
        rows = list(csv.reader(io.StringIO("\n".join(head)), delimiter=delimiter))
        score = max((sum(_canonical(c) is not None for c in r) for r in rows), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _xlsx_rows(path: Path, sheet: str | None) -> _Rows:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise InputError(path, "reading XLSX needs openpyxl") from None
    regular_file(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise InputError(path, f"not a readable XLSX workbook ({exc})") from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise InputError(path, f"no sheet {sheet!r}; the workbook has {book.sheetnames}")
        cells: list[list[object]] = []
        numbers: list[int] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells.append(list(values))
            numbers.append(number)
        title = ws.title
    finally:
        book.close()
    return _Rows(cells, numbers, f", sheet '{title}'", None)


# --------------------------------------------------------------------------- building


def _fold(text: str) -> str:
    text = str(text).strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _label_key(label: object) -> str:
    text = _fold("" if label is None else str(label))
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text)  # a unit in brackets
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


_ALIAS_TO_COLUMN = {alias: col for col, aliases in ALIASES.items() for alias in aliases}


def _canonical(label: object) -> str | None:
    return _ALIAS_TO_COLUMN.get(_label_key(label))


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _parse_number(num: str, decimal: str) -> tuple[float, list[str]]:
    """Parse the numeric part of an amount; returns the value and notes."""
    notes: list[str] = []
    s = num.strip()
    if re.search(r"['\u00a0\u202f ]", s):
        s = re.sub(r"['\u00a0\u202f ]", "", s)
        notes.append("thousands_separator")
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    n_dot, n_comma = s.count("."), s.count(",")
    if n_dot and n_comma:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        thou = "," if dec == "." else "."
        intpart, _, frac = s.rpartition(dec)
        if intpart.count(dec) or not _grouped(intpart, thou):
            raise ValueError(f"cannot read the number {num!r}")
        notes.append("thousands_separator")
        if dec == ",":
            notes.append("decimal_comma")
        return sign * float(intpart.replace(thou, "") + "." + frac), notes
    sep = "." if n_dot else "," if n_comma else ""
    if not sep:
        return sign * float(s), notes
    count = n_dot or n_comma
    if count > 1:
        if not _grouped(s, sep):
            raise ValueError(f"cannot read the number {num!r}")
        notes.append("thousands_separator")
        return sign * float(s.replace(sep, "")), notes
    intpart, _, frac = s.partition(sep)
    if not intpart.isdigit() and intpart != "":
        raise ValueError(f"cannot read the number {num!r}")
    if len(frac) == 3 and intpart not in ("", "0"):
        # 1.234 / 1,234: a thousands separator or a decimal mark; the file decides.
        notes.append("ambiguous_separator")
        if sep == decimal:
            return sign * float((intpart or "0") + "." + frac), notes
        return sign * float(intpart + frac), notes
    if sep == ",":
        notes.append("decimal_comma")
    return sign * float((intpart or "0") + "." + frac), notes


def _grouped(s: str, sep: str) -> bool:
    parts = s.split(sep)
    return (
        1 <= len(parts[0]) <= 3
        and parts[0].isdigit()
        and all(len(p) == 3 and p.isdigit() for p in parts[1:])
    )


def _vote_decimal(cells: list[object]) -> tuple[int, int]:
    """Votes (comma, point) for the decimal mark from unambiguous numeric text cells."""
    comma = point = 0
    for cell in cells:
        if not isinstance(cell, str):
            continue
        m = _AMOUNT.match(_CURRENCY.sub(" ", cell).strip())
        if not m:
            continue
        s = re.sub(r"[^\d.,]", "", m["num"])
        n_dot, n_comma = s.count("."), s.count(",")
        if n_dot and n_comma:
            if s.rfind(",") > s.rfind("."):
                comma += 1
            else:
                point += 1
        elif n_dot > 1:
            comma += 1  # 1.234.567: points group thousands, so the comma is decimal
        elif n_comma > 1:
            point += 1
        elif n_comma == 1 and len(s.partition(",")[2]) != 3:
            comma += 1
        elif n_dot == 1 and len(s.partition(".")[2]) != 3:
            point += 1
    return comma, point


class _Builder:
    """Turns raw rows into a :class:`FirmList` (one instance per file)."""

    def __init__(self, path: Path, unit: str) -> None:
        self.path = path
        self.unit = unit
        self.issues: list[dict] = []

    # -- messages
    def where(self, row: int | None, label: str | None) -> str:
        parts = [self.path.name + self.sheet]
        if row is not None:
            parts.append(f"{self.unit} {row}")
        if label is not None:
            parts.append(f"column '{label}'")
        return ", ".join(parts)

    def note(
        self,
        row: int | None,
        label: str | None,
        kind: str,
        severity: str,
        text: str,
        original: object = None,
        value: object = None,
    ) -> None:
        self.issues.append(
            {
                "row": row,
                "column": label,
                "kind": kind,
                "severity": severity,
                "original": None if original is None else str(original),
                "value": None if value is None else str(value),
                "message": f"{self.where(row, label)}: {text}",
            }
        )

    # -- main
    def build(self, rows: _Rows) -> FirmList:
        self.sheet = rows.where
        header_index = self._find_header(rows)
        header_row = rows.numbers[header_index]
        labels = [_cell_text(c) for c in rows.cells[header_index]]
        if header_index > 0:
            self.note(
                header_row,
                None,
                "header_row",
                "info",
                f"header found in {self.unit} {header_row} "
                f"({header_index} {self.unit}(s) above it skipped)",
                value=header_row,
            )
        columns = self._map_columns(labels, header_row)
        body = list(
            zip(rows.numbers[header_index + 1 :], rows.cells[header_index + 1 :], strict=True)
        )
        blank = [all(_is_blank(c) for c in cells) for _, cells in body]
        # Trailing blank rows (an XLSX's formatted but empty rows) are not worth a note.
        last = max((i for i, b in enumerate(blank) if not b), default=-1)
        records, numbers = [], []
        for i, (number, cells) in enumerate(body):
            if blank[i]:
                if i < last:
                    self.note(number, None, "blank_row", "info", "blank row skipped")
                continue
            if len(cells) > len(labels) and any(not _is_blank(c) for c in cells[len(labels) :]):
                self.note(
                    number,
                    None,
                    "extra_fields",
                    "warning",
                    f"{len(cells)} fields, header has {len(labels)}: the extra fields are ignored",
                )
            cells = (list(cells) + [None] * len(labels))[: len(labels)]
            records.append(cells)
            numbers.append(number)
        raw = {col: [r[i] for r in records] for col, (i, _) in columns.items()}
        label_of = {col: label for col, (_, label) in columns.items()}
        frame = self._normalize(raw, label_of, numbers, rows.delimiter)
        frame, quarantine = self._quarantine(frame)
        report = pd.DataFrame(
            self.issues,
            columns=["row", "column", "kind", "severity", "original", "value", "message"],
        ).astype({"row": "Int64"})
        report = report.sort_values("row", kind="stable", ignore_index=True)
        return FirmList(
            frame=frame,
            report=report,
            quarantine=quarantine,
            path=self.path,
            header_row=header_row,
            n_rows=len(numbers),
        )

    def _find_header(self, rows: _Rows) -> int:
        for i, cells in enumerate(rows.cells[:_HEADER_SCAN_ROWS]):
            known = [_canonical(c) for c in cells if not _is_blank(c)]
            if "name" in known and sum(k is not None for k in known) >= _MIN_HEADER_LABELS:
                return i
        expected = ", ".join(f"{c} ({'/'.join(ALIASES[c][:3])})" for c in ("name", *REQUIRED[1:]))
        raise InputError(
            self.path,
            f"no header row found in the first {_HEADER_SCAN_ROWS} {self.unit}s"
            f"{self.sheet}: expected a row with the firm name and at least "
            f"{_MIN_HEADER_LABELS} known labels such as {expected}",
        )

    def _map_columns(self, labels: list[str], header_row: int) -> dict[str, tuple[int, str]]:
        columns: dict[str, tuple[int, str]] = {}
        for i, label in enumerate(labels):
            if not label:
                continue
            col = _canonical(label)
            if col is None:
                self.note(header_row, label, "ignored_column", "info", "unknown column ignored")
                continue
            if col in columns:
                raise InputError(
                    self.path,
                    f"columns {columns[col][1]!r} and {label!r} both mean {col!r}; keep one",
                    line=header_row,
                    column=label,
                )
            columns[col] = (i, label)
            if _label_key(label) != col:
                self.note(header_row, label, "header_alias", "info", f"read as {col!r}", label, col)
        missing = [c for c in REQUIRED if c not in columns]
        if not any(c in columns for c in LOCATION_COLUMNS):
            missing.append("plz or ags")
        if missing:
            expected = ", ".join([*REQUIRED[:1], "plz and/or ags", *REQUIRED[1:]])

            def _hint(c: str) -> str:
                if c == "plz or ags":
                    return "plz or ags (postcode, Postleitzahl, Gemeindeschlüssel)"
                return f"{c} (e.g. {', '.join(ALIASES[c][1:4])})"

            raise InputError(
                self.path,
                f"missing required column(s) {'; '.join(_hint(c) for c in missing)}"
                f"{self.sheet}; required columns are: {expected}; found: "
                f"{', '.join(repr(lb) for lb in labels if lb)}",
                line=header_row,
            )
        for col in COLUMNS:
            if col not in columns and col in ALIASES and col not in ("plz", "ags"):
                self.note(
                    header_row, None, "absent_column", "info", f"optional column {col!r} absent"
                )
        return columns

    # -- per column
    def _normalize(
        self,
        raw: dict[str, list[object]],
        label_of: dict[str, str],
        numbers: list[int],
        delimiter: str | None,
    ) -> pd.DataFrame:
        n = len(numbers)
        empty: list[object] = [None] * n
        numeric_cells = [c for col in ("revenue_eur", "employees") for c in raw.get(col, [])]
        comma, point = _vote_decimal(numeric_cells)
        decimal = "." if point > comma or (point == comma and delimiter == ",") else ","
        if comma and point:
            self.note(
                None,
                None,
                "mixed_decimal_marks",
                "info",
                f"numbers use both decimal marks ({comma} with comma, {point} with point); "
                f"ambiguous numbers are read with decimal {decimal!r}",
            )

        def cells(col: str) -> list[object]:
            return raw.get(col, empty)

        out: dict[str, object] = {}
        out["firm_id"] = self._text_column(cells("firm_id"))
        out["name"] = [re.sub(r"\s+", " ", _cell_text(c)) or None for c in cells("name")]
        out["plz"] = self._codes(cells("plz"), numbers, label_of.get("plz"), "plz")
        out["ags"] = self._codes(cells("ags"), numbers, label_of.get("ags"), "ags")
        out["city"] = self._text_column(cells("city"))
        sector, division = self._sectors(cells("sector"), numbers, label_of.get("sector"))
        out["sector"], out["wz_division"] = sector, division
        out["revenue_eur"] = self._amounts(
            cells("revenue_eur"), numbers, label_of.get("revenue_eur"), decimal, minimum=0.0
        )
        employees = self._amounts(
            cells("employees"), numbers, label_of.get("employees"), decimal, minimum=0.0
        )
        out["employees"] = pd.array(
            [None if np.isnan(v) else round(v) for v in employees], dtype="Int64"
        )
        out["export_share"] = self._shares(
            cells("export_share"), numbers, label_of.get("export_share"), decimal
        )
        out["market_rank"] = self._integers(
            cells("market_rank"), numbers, label_of.get("market_rank"), 1, 10_000, "a rank"
        )
        out["market_segment"] = self._text_column(cells("market_segment"))
        out["market_scope"] = self._mapped(
            cells("market_scope"),
            numbers,
            label_of.get("market_scope"),
            SCOPES,
            "'world' or a continent (Europe, Asia, North America, South America, Africa, Oceania)",
        )
        out["continents"] = self._integers(
            cells("continents"), numbers, label_of.get("continents"), 1, 7, "1 to 7 continents"
        )
        this_year = dt.date.today().year
        out["founded"] = self._integers(
            cells("founded"), numbers, label_of.get("founded"), 1000, this_year, "a year"
        )
        out["public_awareness"] = self._mapped(
            cells("public_awareness"),
            numbers,
            label_of.get("public_awareness"),
            AWARENESS,
            "low, medium or high (gering, mittel, hoch)",
        )
        out["source"] = self._text_column(cells("source"))
        out["source_date"] = self._dates(cells("source_date"), numbers, label_of.get("source_date"))
        out["name_key"] = [None if v is None else normalize_firm_name(v) for v in out["name"]]
        out["row"] = numbers
        frame = pd.DataFrame(out, columns=list(COLUMNS))
        str_cols = [
            "firm_id",
            "name",
            "plz",
            "ags",
            "city",
            "sector",
            "wz_division",
            "market_segment",
            "market_scope",
            "public_awareness",
            "source",
            "source_date",
            "name_key",
        ]
        return frame.astype({c: "str" for c in str_cols} | {"row": "int64"})

    @staticmethod
    def _text_column(cells: list[object]) -> list[object]:
        return [_cell_text(c) or None for c in cells]

    def _codes(self, cells, numbers, label, kind: str) -> list[object]:
        lengths = (5,) if kind == "plz" else (5, 8)
        out: list[object] = []
        for cell, row in zip(cells, numbers, strict=True):
            text = _cell_text(cell)
            if text.lower() in _MISSING:
                out.append(None)
                continue
            code = text
            if kind == "plz" and re.fullmatch(r"(?i)d\s*-\s*\d+", code):
                code = re.sub(r"\D", "", code)
                self.note(
                    row, label, "plz_prefix", "info", f"'{text}' read as '{code}'", text, code
                )
            if re.fullmatch(r"\d+", code) and len(code) + 1 in lengths:
                padded = "0" + code
                self.note(
                    row,
                    label,
                    "leading_zero",
                    "info",
                    f"{kind} '{text}' has {len(code)} digits: leading zero restored ('{padded}')",
                    text,
                    padded,
                )
                code = padded
            if re.fullmatch(r"\d+", code) and len(code) in lengths:
                out.append(code)
                continue
            want = "5 digits" if kind == "plz" else "5 (Kreis) or 8 (Gemeinde) digits"
            self.note(
                row, label, f"bad_{kind}", "warning", f"expected {want}, found {text!r}", text
            )
            out.append(None)
        return out

    def _sectors(self, cells, numbers, label) -> tuple[list[object], list[object]]:
        sectors: list[object] = []
        divisions: list[object] = []
        for cell, row in zip(cells, numbers, strict=True):
            text = _cell_text(cell)
            if text.lower() in _MISSING:
                sectors.append(None)
                divisions.append(None)
                continue
            if isinstance(cell, float) and not cell.is_integer():
                text = f"{cell:.2f}".rstrip("0")  # an Excel number 28.4 for WZ 28.4
            if re.fullmatch(r"\d{3,5}", text):
                # "2841" / "28410": the WZ class or subclass written without points
                text = f"{text[:2]}.{text[2:4]}" + (f".{text[4]}" if len(text) == 5 else "")
                self.note(
                    row,
                    label,
                    "sector_code",
                    "info",
                    f"'{_cell_text(cell)}' read as '{text}'",
                    _cell_text(cell),
                    text,
                )
            m = re.fullmatch(
                r"(?i)(?:wz\s*(?:2008)?\s*:?\s*)?([a-u])?\s*(\d{2}(?:\.\d{1,2}(?:\.\d)?)?)", text
            )
            if not m:
                self.note(
                    row,
                    label,
                    "bad_sector",
                    "warning",
                    f"expected a WZ 2008 / NACE code such as '28.41', found {text!r}",
                    text,
                )
                sectors.append(None)
                divisions.append(None)
                continue
            code = m[2]
            if code != text and not re.fullmatch(r"\d{3,5}", _cell_text(cell)):
                self.note(
                    row, label, "sector_code", "info", f"'{text}' read as '{code}'", text, code
                )
            sectors.append(code)
            divisions.append(code[:2])
        return sectors, divisions

    def _amounts(self, cells, numbers, label, decimal, *, minimum) -> np.ndarray:
        out = np.full(len(numbers), np.nan)
        for i, (cell, row) in enumerate(zip(cells, numbers, strict=True)):
            try:
                value, notes = parse_amount(cell, decimal=decimal)
            except ValueError as exc:
                self.note(row, label, "bad_number", "warning", str(exc), cell)
                continue
            if value is None:
                continue
            if value < minimum:
                self.note(
                    row,
                    label,
                    "bad_number",
                    "warning",
                    f"expected ≥ {minimum:g}, found {cell!r}",
                    cell,
                )
                continue
            out[i] = value
            for kind in notes:
                self.note(
                    row,
                    label,
                    kind,
                    "info",
                    _NOTE_TEXT[kind].format(cell=cell, value=value, decimal=decimal),
                    cell,
                    f"{value:.15g}",
                )
        return out

    def _shares(self, cells, numbers, label, decimal) -> np.ndarray:
        values = np.full(len(numbers), np.nan)
        percent = np.zeros(len(numbers), dtype=bool)
        for i, (cell, row) in enumerate(zip(cells, numbers, strict=True)):
            text = cell
            if isinstance(cell, str) and "%" in cell:
                text = cell.replace("%", "").strip()
                percent[i] = True
            try:
                value, notes = parse_amount(text, decimal=decimal)
            except ValueError:
                self.note(
                    row,
                    label,
                    "bad_share",
                    "warning",
                    f"expected a share (0.65, 0,65 or 65 %), found {cell!r}",
                    cell,
                )
                continue
            if value is not None:
                values[i] = value
                for kind in notes:
                    self.note(
                        row,
                        label,
                        kind,
                        "info",
                        _NOTE_TEXT[kind].format(cell=cell, value=value, decimal=decimal),
                        cell,
                        f"{value:.15g}",
                    )
        plain_over_one = (~percent) & (values > 1)
        column_percent = bool(plain_over_one.any())
        if column_percent:
            self.note(
                None,
                label,
                "percent_column",
                "info",
                "plain numbers above 1 found: the column's plain numbers are read as percent",
            )
        scale = np.where(percent | column_percent, 0.01, 1.0)
        shares = values * scale
        for i, row in enumerate(numbers):
            if np.isnan(shares[i]):
                continue
            if percent[i]:
                self.note(
                    row,
                    label,
                    "percent",
                    "info",
                    f"{cells[i]!r} read as {shares[i]:.4g}",
                    cells[i],
                    f"{shares[i]:.15g}",
                )
            if not 0.0 <= shares[i] <= 1.0:
                self.note(
                    row,
                    label,
                    "bad_share",
                    "warning",
                    f"expected a share between 0 and 100 %, found {cells[i]!r}",
                    cells[i],
                )
                shares[i] = np.nan
        return shares

    def _integers(self, cells, numbers, label, lo, hi, what) -> pd.array:
        out: list[object] = []
        for cell, row in zip(cells, numbers, strict=True):
            if isinstance(cell, (dt.date, dt.datetime)):
                cell = cell.year
            text = _cell_text(cell)
            if text.lower() in _MISSING:
                out.append(None)
                continue
            m = re.fullmatch(
                r"(?i)(?:nr\.?|no\.?|#|platz|rang|rank)?\s*(\d+)\.?(?:\s*[^\W\d]+)?", text
            )
            value = int(m[1]) if m else None
            if value is None or not lo <= value <= hi:
                self.note(
                    row,
                    label,
                    "bad_integer",
                    "warning",
                    f"expected {what} ({lo}–{hi}), found {text!r}",
                    text,
                )
                out.append(None)
                continue
            if text != str(value):
                self.note(
                    row, label, "integer_text", "info", f"'{text}' read as {value}", text, value
                )
            out.append(value)
        return pd.array(out, dtype="Int64")

    def _mapped(self, cells, numbers, label, mapping, what) -> list[object]:
        out: list[object] = []
        canonical = set(mapping.values())
        translated: dict[tuple[str, str], list[int]] = {}
        for cell, row in zip(cells, numbers, strict=True):
            text = _cell_text(cell)
            if text.lower() in _MISSING:
                out.append(None)
                continue
            value = mapping.get(_label_key(text))
            if value is None:
                self.note(
                    row, label, "bad_category", "warning", f"expected {what}, found {text!r}", text
                )
            elif text not in canonical:
                translated.setdefault((text, value), []).append(row)
            out.append(value)
        self._note_translations(label, "category_alias", translated)
        return out

    def _note_translations(self, label, kind, translated) -> None:
        # A label translated the same way in every row is one normalization, not one
        # per row: noted once per column and spelling, with the number of rows.
        for (text, value), rows in translated.items():
            self.note(
                rows[0],
                label,
                kind,
                "info",
                f"'{text}' read as '{value}' in {len(rows)} row(s) (first: {self.unit} {rows[0]})",
                text,
                value,
            )

    def _dates(self, cells, numbers, label) -> list[object]:
        out: list[object] = []
        translated: dict[tuple[str, str], list[int]] = {}
        for cell, row in zip(cells, numbers, strict=True):
            if isinstance(cell, (dt.datetime, dt.date)):
                out.append(cell.strftime("%Y-%m-%d"))
                continue
            text = _cell_text(cell)
            if text.lower() in _MISSING:
                out.append(None)
                continue
            m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
            if m:
                iso = f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}"
                translated.setdefault((text, iso), []).append(row)
                out.append(iso)
            elif re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
                out.append(text)
            else:
                self.note(
                    row,
                    label,
                    "bad_date",
                    "warning",
                    f"expected a date (2024-12-31 or 31.12.2024), found {text!r}",
                    text,
                )
                out.append(None)
        self._note_translations(label, "german_date", translated)
        return out

    # -- rows set aside
    def _quarantine(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        no_name = frame["name"].isna()
        place = frame["plz"].fillna(frame["ags"]).fillna("")
        key = frame["name_key"].fillna("") + "|" + place
        duplicated = key.duplicated(keep="first") & ~no_name
        first_row = frame.loc[~no_name].groupby(key[~no_name])["row"].transform("first")
        duplicate_of = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        duplicate_of.loc[first_row.index] = first_row.astype("Int64")
        for row in frame.loc[no_name, "row"]:
            self.note(
                int(row), None, "no_name", "quarantine", "the firm name is empty: row set aside"
            )
        dups = frame.loc[duplicated]
        for row, name, of in zip(dups["row"], dups["name"], duplicate_of[duplicated], strict=True):
            self.note(
                int(row),
                None,
                "duplicate",
                "quarantine",
                f"duplicate of {self.unit} {of} (same name {name!r} and postcode/AGS): "
                "first occurrence kept",
                name,
            )
        set_aside = no_name | duplicated
        quarantine = frame.loc[set_aside, ["row", "name", "plz", "ags"]].assign(
            reason=np.where(no_name[set_aside], "name missing", "duplicate"),
            duplicate_of=duplicate_of[set_aside].where(duplicated[set_aside]),
        )
        quarantine = quarantine[["row", "reason", "name", "plz", "ags", "duplicate_of"]]
        return frame.loc[~set_aside].reset_index(drop=True), quarantine.reset_index(drop=True)


_NOTE_TEXT = {
    "text_amount": "{cell!r} read as {value:,.0f}",
    "thousands_separator": "{cell!r}: thousands separators removed ({value:.15g})",
    "decimal_comma": "{cell!r}: decimal comma read as {value:.15g}",
    "ambiguous_separator": (
        "{cell!r} is ambiguous (thousands separator or decimal mark): read with the file's "
        "decimal mark {decimal!r} as {value:.15g}"
    ),
}
