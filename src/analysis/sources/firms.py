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
import io
from pathlib import Path

from analysis.errors import InputError
from analysis.names import normalize_company_name
from analysis.sources.firm_builder import FirmList, FirmListBuilder, Rows
from analysis.sources.firm_schema import (
    ALIASES,
    AWARENESS,
    COLUMNS,
    HEADER_SCAN_ROWS,
    LOCATION_COLUMNS,
    REQUIRED,
    SCOPES,
    SOURCE_LABEL,
    canonical,
)
from analysis.sources.firm_values import parse_amount
from analysis.sources.text import decode, read_bytes, regular_file

__all__ = [
    "ALIASES",
    "AWARENESS",
    "COLUMNS",
    "LOCATION_COLUMNS",
    "REQUIRED",
    "SCOPES",
    "SOURCE_LABEL",
    "FirmList",
    "normalize_firm_name",
    "parse_amount",
    "read_firm_list",
]

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
    result = FirmListBuilder(path, unit).build(rows)
    try:
        from analysis.provenance import note_input

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


# --------------------------------------------------------------------------- input rows


def _csv_rows(path: Path) -> Rows:
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
    return Rows(cells, numbers, "", delimiter)


def _sniff_delimiter(text: str) -> str:
    """The delimiter under which the header-like lines yield the most known labels."""
    head = text.splitlines()[:HEADER_SCAN_ROWS]
    best, best_score = ";", -1
    for delimiter in (";", ",", "\t"):
        rows = list(csv.reader(io.StringIO("\n".join(head)), delimiter=delimiter))
        score = max((sum(canonical(c) is not None for c in r) for r in rows), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _xlsx_rows(path: Path, sheet: str | None) -> Rows:
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
    return Rows(cells, numbers, f", sheet '{title}'", None)
