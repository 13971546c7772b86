"""Low-level helpers shared by the text readers of official statistics.

Encoding sniffing, physical line numbers, field counting, numbers with a decimal
comma, the statistical offices' special symbols, time codes and regional levels.
Nothing here knows a particular file format; the readers in this package do.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputError
from analysis.sources.encoding import decode, encoding_note

__all__ = ["decode", "encoding_note"]  # re-exported: the one encoding rule lives there

#: Symbols the statistical offices put in a value cell instead of a number
#: ("Zeichenerklärung"): ``-`` nothing there (also: the region did not exist),
#: ``.`` unknown or secret, ``x`` not meaningful / cell locked, ``/`` not reliable
#: enough, ``...`` not yet available. Typographic variants (en dash, ellipsis)
#: appear in files that went through office software.
SPECIAL_VALUES: frozenset[str] = frozenset({"-", ".", "x", "/", "...", "–", "…"})
_SPECIAL_ARRAY = pa.array(sorted(SPECIAL_VALUES), pa.string())

#: Regional levels by the length of the official key (AGS); "DG" is Germany.
LEVEL_BY_LENGTH: dict[int, str] = {
    2: "DLAND",
    3: "REGBEZ",
    5: "KREISE",
    8: "GEMEINDE",
    9: "GEMVB",  # Gemeindeverband (regional key ARS, 9 digits)
    12: "GEMEINDE",  # Gemeinde by its 12-digit ARS
}

_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?$")

_BOM = b"\xef\xbb\xbf"


# --------------------------------------------------------------------------- bytes

#: Largest file a reader that holds the whole file in memory accepts (1 GiB); the
#: streaming CRM readers accept any size.
MAX_IN_MEMORY_BYTES = 1 << 30


def regular_file(path: str | Path, *, max_bytes: int | None = None) -> int:
    """Check that ``path`` is a regular file (of at most ``max_bytes``); return its size.

    A device (``/dev/zero``), a pipe or a folder is refused at once, before any
    read, so that a reader never blocks or fills memory on it.

    Parameters
    ----------
    path : str or Path
    max_bytes : int, optional
        Refuse larger files (readers that hold a file in memory).

    Returns
    -------
    int
        The size in bytes.

    Raises
    ------
    InputError
        Missing, unreadable, not a regular file, or too large.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, "expected a file, found a directory")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            path,
            "expected a regular file, found a device, pipe or socket (such as /dev/zero): not read",
        )
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError(
            path,
            f"the file has {info.st_size:,} bytes; this reader holds a file in memory and "
            f"accepts at most {max_bytes:,} bytes (is it the right file?)",
        )
    return info.st_size


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file, turning OS errors and empty files into :class:`InputError`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        If the file is missing, unreadable, not a regular file, larger than
        :data:`MAX_IN_MEMORY_BYTES` or empty (or holds only white space).
    """
    regular_file(path, max_bytes=MAX_IN_MEMORY_BYTES)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not data.strip().strip(_BOM).strip():
        raise InputError(path, "the file is empty (expected a header line and data lines)")
    return data


# --------------------------------------------------------------------------- lines


def block_size(data: bytes) -> int:
    """A pyarrow CSV block size that holds ``data`` in one block without over-allocating.

    One block keeps row numbers exact in the invalid-row handler; a fixed 16 MiB
    block costs more than parsing a small file.
    """
    return max(1 << 16, min(len(data) + 1024, 1 << 26))


def record_lines(text: str, sep: str = ";") -> list[tuple[int, list[str]]]:
    """Split quoted delimited text into records with their first physical line.

    The slow, exact path (``csv`` module) for files that use quotes, where a record
    may span several lines.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    out = []
    start = 1
    for row in reader:
        out.append((start, row))
        start = reader.line_num + 1
    return out


def raise_field_count(path, line: int | None, found: int, expected: int, is_last: bool) -> None:
    """Raise the :class:`InputError` for a line with the wrong number of fields."""
    hint = " (an empty line?)" if found <= 1 else ""
    if is_last and found < expected:
        hint = " (the last line is short: is the file truncated?)"
    raise InputError(
        path,
        f"expected {expected} ';'-separated fields, found {found}{hint}",
        line=line,
        column=found + 1 if found < expected else expected + 1,
    )


# --------------------------------------------------------------------------- values


_NUMBER_RE = r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$"
#: A number with a quality mark: "(123)" (limited reliability) or "123 p" / "123p"
#: (p provisional, r revised, s estimated, e final).
_MARKED = re.compile(r"^\((?P<paren>[^()]+)\)$|^(?P<num>.*\d)\s*(?P<mark>[eprs])$")


def parse_values(
    cells,
    path: str | Path,
    *,
    column: str | int,
    line_of=None,
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Parse official value cells into floats, special-value flags and quality marks.

    A decimal comma (German exports) and a decimal point (English exports) are both
    accepted; German thousands points (``1.234,5``) are accepted when a comma is
    present too. A lone ``1.234`` is read as one point two three four: GENESIS flat
    files never group thousands. A number in parentheses (``(12)``, limited
    reliability) or with a trailing quality letter (``12 p``: provisional) keeps
    its value; the mark goes to ``marks``.

    Parameters
    ----------
    cells : pyarrow.Array, pyarrow.ChunkedArray, pandas.Series or list of str
        The cells as text.
    path : str or Path
        For error messages.
    column : str or int
        Column name or number, for error messages.
    line_of : callable, optional
        Maps a positional row index to its 1-based physical line.

    Returns
    -------
    values : pyarrow.Array of float64
        Null where the cell holds a special symbol or is empty.
    flags : pyarrow.Array of str
        The special symbol, ``""`` for a number or an empty cell.
    marks : pyarrow.Array of str
        ``"()"`` or the quality letter of a marked number, else ``""``.

    Raises
    ------
    InputError
        For a cell that is neither a number nor a known special symbol.
    """
    text = pc.utf8_trim_whitespace(_as_arrow(cells))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = pc.if_else(pc.is_null(text), "", text)
    is_number = pc.match_substring_regex(text, _NUMBER_RE)
    cleaned = pc.replace_substring(text, ",", ".")
    values = pc.cast(pc.if_else(is_number, cleaned, pa.scalar(None, pa.string())), pa.float64())
    symbolic = pc.or_(pc.is_in(text, value_set=_SPECIAL_ARRAY), pc.equal(text, ""))
    other = pc.invert(pc.or_(is_number, symbolic))
    marks = None
    if pc.any(other).as_py():
        positions = np.flatnonzero(other.to_numpy(zero_copy_only=False))
        numbers = values.to_numpy(zero_copy_only=False).copy()
        mark_list = [""] * len(text)
        for pos in positions:
            cell = text[int(pos)].as_py()
            number, mark = _parse_unusual(cell)
            if number is None:
                raise InputError(
                    path,
                    "expected a number (decimal comma or point) or one of the special "
                    f"symbols {' '.join(sorted(SPECIAL_VALUES))}, found {cell!r}",
                    line=line_of(int(pos)) if line_of is not None else None,
                    column=column,
                )
            numbers[pos] = number
            mark_list[pos] = mark
        values = pa.array(numbers, type=pa.float64(), from_pandas=True)
        marks = pa.array(mark_list, pa.string())
    flags = pc.if_else(symbolic, text, "")
    if marks is None:
        marks = pa.array(np.full(len(text), "", dtype=object), pa.string())
    return values, flags, marks


def _parse_unusual(cell: str) -> tuple[float | None, str]:
    """A grouped German number or a marked number; (None, "") if neither."""
    number = _parse_grouped(cell)
    if number is not None:
        return number, ""
    m = _MARKED.match(cell)
    if m is None:
        return None, ""
    inner = (m["paren"] if m["paren"] is not None else m["num"]).strip()
    mark = "()" if m["paren"] is not None else m["mark"]
    if re.fullmatch(_NUMBER_RE, inner):
        return float(inner.replace(",", ".")), mark
    number = _parse_grouped(inner)
    return (number, mark) if number is not None else (None, "")


def _as_arrow(cells) -> pa.Array | pa.ChunkedArray:
    if isinstance(cells, pa.Array | pa.ChunkedArray):
        return cells if cells.type == pa.string() else pc.cast(cells, pa.string())
    if isinstance(cells, pd.Series):
        return pa.array(cells.astype("str").to_numpy(dtype=object, na_value=None), pa.string())
    return pa.array(list(cells), pa.string())


def _parse_grouped(cell: str) -> float | None:
    """Parse a German number with thousands points (``1.234.567,8``); None if it is not one."""
    if _GROUPED.fullmatch(cell):
        return float(cell.replace(".", "").replace(",", "."))
    return None


# --------------------------------------------------------------------------- time

_ISO_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:P(\d+)([YMWD]))?$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})/(\d{4})$")
_SEMESTER = re.compile(
    r"^(WS|SS|WiSe|SoSe|Wintersemester|Sommersemester)\s*(\d{4})(?:/\d{2,4})?$", re.IGNORECASE
)
_SCHOOL_YEAR = re.compile(r"^(\d{4})/(\d{2}|\d{4})$")


def parse_time(cell: str) -> tuple[str, pd.Timestamp]:
    """Normalise one time cell and give the start of the period it names.

    Accepted: ISO dates and years (``2024-12-31``, ``2024``, ``2024-06``), ISO
    periods with a duration (``2023-10P6M`` winter semester, ``2024-01P3M``
    quarter), German dates (``31.12.2015`` → ``2015-12-31``), ``04/1991``,
    semesters (``WS 2023/24``, ``SS 2024``) and school years (``2015/16``).

    Parameters
    ----------
    cell : str

    Returns
    -------
    time : str
        The normalised time (ISO where possible, else the cell unchanged).
    period_start : pandas.Timestamp
        ``NaT`` when the cell is not a recognised time.
    """
    cell = cell.strip()
    m = _ISO_PERIOD.match(cell)
    if m:
        year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
        return cell, _timestamp(year, month, day)
    m = _GERMAN_DATE.match(cell)
    if m:
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        stamp = _timestamp(year, month, day)
        iso = f"{year:04d}-{month:02d}-{day:02d}" if stamp is not pd.NaT else cell
        return iso, stamp
    m = _MONTH_YEAR.match(cell)
    if m:
        month, year = int(m[1]), int(m[2])
        stamp = _timestamp(year, month, 1)
        return (f"{year:04d}-{month:02d}" if stamp is not pd.NaT else cell), stamp
    m = _SEMESTER.match(cell)
    if m:
        winter = m[1].lower() in ("ws", "wise", "wintersemester")
        year = int(m[2])
        # Winter semesters start in October, summer semesters in April.
        return (f"{year}-10P6M" if winter else f"{year}-04P6M"), _timestamp(
            year, 10 if winter else 4, 1
        )
    m = _SCHOOL_YEAR.match(cell)
    if m:
        # School years start on 1 August (the Stichtag is the start of the school year).
        return cell, _timestamp(int(m[1]), 8, 1)
    return cell, pd.NaT


def _timestamp(year: int, month: int, day: int) -> pd.Timestamp:
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError:
        return pd.NaT


def parse_times(cells) -> tuple[pa.Array, pa.Array]:
    """Vectorised :func:`parse_time` (parses each distinct cell once).

    Parameters
    ----------
    cells : pyarrow.Array, pyarrow.ChunkedArray, pandas.Series or list of str

    Returns
    -------
    time : pyarrow.Array of str
    period_start : pyarrow.Array of timestamp[ns] (null where not a time)
    """
    arr = pc.utf8_trim_whitespace(_as_arrow(cells))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    encoded = pc.dictionary_encode(arr)
    parsed = [parse_time(u or "") for u in encoded.dictionary.to_pylist()]
    iso = pa.array([p[0] for p in parsed], pa.string()).take(encoded.indices)
    starts = [None if p[1] is pd.NaT else p[1].as_unit("ns").value for p in parsed]
    start = pa.array(starts, pa.int64()).cast(pa.timestamp("ns")).take(encoded.indices)
    return iso, start


def level_of(ags: str) -> str:
    """Regional level from the length of an official key (``DG`` is Germany).

    ``DG`` → ``DINSG``, 2 digits → ``DLAND``, 3 → ``REGBEZ``, 5 → ``KREISE``,
    8 → ``GEMEINDE``; anything else → ``""``.
    """
    if ags == "DG":
        return "DINSG"
    return LEVEL_BY_LENGTH.get(len(ags), "") if ags.isdigit() else ""


def level_from_ags(ags: pd.Series) -> pd.Series:
    """:func:`level_of` for a Series of keys."""
    levels = {code: level_of(str(code)) for code in pd.unique(ags.dropna().to_numpy())}
    return ags.map(levels).fillna("").astype("str")
