"""Streaming delimited-text files shared by the CRM and marketing-automation readers.

Design for size: a Salesforce Data Export can hold millions of rows, so the happy
path never loops over rows in Python. A file is

1. scanned once in 16 MiB blocks for its encoding (UTF-8 with or without BOM, else
   Windows-1252; an ASCII block costs almost nothing) and its physical line count;
2. parsed by :func:`pyarrow.csv.read_csv` with every column as a string and only the
   allow-listed columns converted (``include_columns``);
3. validated column by column with vectorised pyarrow / NumPy checks.

Only when something is wrong does a slow, exact scan run: the :mod:`csv` module
(with physical line numbers) to say where a structural error is, or a NumPy
quote-parity scan to map the rows that failed validation to their physical lines.

Nothing here knows a particular export; the column parsers are in :mod:`.values`, the
shared record machinery in :mod:`.exports`.
"""

from __future__ import annotations

import csv
import itertools
import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from analysis.errors import InputError
from analysis.sources.encoding import sniff_encoding
from analysis.sources.text import regular_file

#: Salesforce writes this Id for an empty lookup in Data Exports.
ID_SENTINEL = "000000000000000AAA"

_BLOCK = 1 << 24
_BOM = b"\xef\xbb\xbf"
_ID_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)


# --------------------------------------------------------------------------- file


@dataclass(frozen=True)
class TextFile:
    """A delimited text file whose encoding, delimiter and header are known.

    Attributes
    ----------
    path : Path
    encoding : str
        ``"utf-8"``, ``"utf-8-sig"`` (with byte-order mark) or ``"cp1252"``.
    delimiter : str
    header : tuple of str
        The header fields as written (byte-order mark removed).
    header_line : int
        Physical line of the header (1 unless blank lines precede it).
    n_bytes : int
    n_lines : int
        Physical lines (a last line without a line break counts).
    """

    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    header_line: int
    n_bytes: int
    n_lines: int
    notes: list[str] = field(default_factory=list, compare=False)


def scan_encoding(path: str | Path, encoding: str | None = None) -> tuple[str, int, int]:
    """Find a file's encoding and count its physical lines, streaming over a memory map.

    The encoding rule is the package's one (:func:`analysis.sources.encoding.sniff_encoding`).

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        Force an encoding (``"utf-8"`` or ``"cp1252"``); the file is still checked.

    Returns
    -------
    encoding : str
        ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"``.
    n_bytes, n_lines : int

    Raises
    ------
    InputError
        Missing, empty or not a regular file, binary data (NUL bytes, ZIP/XLSX,
        UTF-16), bytes that are neither UTF-8 nor Windows-1252, or a file that mixes
        UTF-8 with another encoding (named with line and byte column).
    """
    path = Path(path)
    n_bytes = regular_file(path)  # a device or pipe (/dev/zero) is refused before any read
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    with handle:
        first = handle.read(_BLOCK)
        if not first.strip(b" \r\n\t").strip(_BOM):
            raise InputError(path, "the file is empty (expected a header line and data lines)")
        # Memory-mapped: an ASCII block (the usual case) is checked with one NumPy
        # reduction and never copied; only blocks with high bytes are decoded.
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            found = sniff_encoding(mapped, path, encoding)
            view = np.frombuffer(mapped, dtype=np.uint8)
            try:
                n_newlines = int(np.count_nonzero(view == 10))
            finally:
                del view
            last_byte = mapped[n_bytes - 1 : n_bytes]
    n_lines = n_newlines + (0 if last_byte == b"\n" else 1)
    return found, n_bytes, n_lines


def _split_header(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def open_text(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = ",",
    kind: str = "CSV",
) -> TextFile:
    """Check a delimited text file and read its header.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        Force ``"utf-8"`` or ``"cp1252"`` (default: sniff).
    delimiter : str or None
        The expected delimiter; ``None`` sniffs ``,`` ``;`` or tab from the header.
    kind : str
        What the file should be, for messages (``"Salesforce Data Export"``).

    Returns
    -------
    TextFile

    Raises
    ------
    InputError
        See :func:`scan_encoding`; also a header that is one field containing ``;``
        or a tab while ``,`` was expected ("looks ';'-separated"), a header with
        empty or repeated names.
    """
    path = Path(path)
    enc, n_bytes, n_lines = scan_encoding(path, encoding)
    with open(path, encoding=enc, newline="") as handle:
        header_line, first = 0, ""
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                header_line, first = number, raw
                break
        if not header_line:
            raise InputError(path, "no header line found (the file holds only blank lines)")
        if delimiter is None:
            counts = {d: len(_split_header(first.rstrip("\r\n"), d)) for d in (",", ";", "\t")}
            delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        # A quoted header cell may hold a line break: then the record continues.
        lines = itertools.chain([first], handle) if first.count('"') % 2 else [first]
        header_fields = next(csv.reader(lines, delimiter=delimiter), [])
    # Names as written: pyarrow matches include_columns against the raw header.
    header = list(header_fields)
    if len(header) == 1:
        for other, name in ((";", "';'"), ("\t", "tab")):
            if other != delimiter and other in header[0]:
                raise InputError(
                    path,
                    f"the header is a single field containing {name}: the file looks "
                    f"{name}-separated, but {kind} files are {delimiter!r}-separated "
                    "(saved by a spreadsheet program with a German locale?) - re-export it "
                    "or say delimiter=" + repr(other),
                    line=header_line,
                    column=1,
                )
    for number, name in enumerate(header, start=1):
        if not name.strip():
            raise InputError(
                path,
                "expected a column name, found an empty header field",
                line=header_line,
                column=number,
            )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputError(
                path,
                f"column name {name!r} appears twice in the header",
                line=header_line,
                column=name,
            )
        seen.add(name)
    return TextFile(path, enc, delimiter, tuple(header), header_line, n_bytes, n_lines)


# --------------------------------------------------------------------------- reading


def iter_records(tf: TextFile) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first physical line, fields)`` for every non-blank record after the header.

    The slow, exact path (the :mod:`csv` module in strict mode). An unterminated
    quoted field raises :class:`InputError` naming the line where the record began.
    """
    with open(tf.path, encoding=tf.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=tf.delimiter, strict=True)
        start = 1
        try:
            for row in reader:
                line = start
                start = reader.line_num + 1
                if line <= tf.header_line:
                    continue
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                yield line, row
        except csv.Error as exc:
            raise InputError(
                tf.path,
                f"the record starting here cannot be parsed ({exc}): an unterminated quoted "
                "field - is the file truncated?",
                line=start,
            ) from None


def structure_error(tf: TextFile, detail: str = "") -> InputError:
    """Find the first structural problem of a file the fast parser rejected.

    Returns an :class:`InputError` naming the physical line and the column: a record
    with too few fields (a short last line: the file looks truncated), too many
    fields, or an unterminated quote.
    """
    expected = len(tf.header)
    previous: tuple[int, list[str]] | None = None
    try:
        for line, row in iter_records(tf):
            if previous is not None and len(previous[1]) != expected:
                return field_count_error(tf, previous[0], previous[1], is_last=False)
            previous = (line, row)
    except InputError as exc:
        return exc
    if previous is not None and len(previous[1]) != expected:
        return field_count_error(tf, previous[0], previous[1], is_last=True)
    # pyarrow quotes the offending row after the last colon; a row may hold personal
    # data, so only the parser's own words are kept.
    reason = re.split(r":\s*(?=[\"'])", detail, maxsplit=1)[0][:200]
    return InputError(tf.path, f"the CSV parser rejected the file: {reason}")


def field_count_error(tf: TextFile, line: int, row: list[str], *, is_last: bool) -> InputError:
    expected = len(tf.header)
    found = len(row)
    if found < expected:
        hint = (
            "the last record is short: the file looks truncated (export interrupted?)"
            if is_last
            else "a record is short (a stray line break or a missing delimiter?)"
        )
        return InputError(
            tf.path,
            f"expected {expected} fields like the header, found {found}: {hint}",
            line=line,
            column=tf.header[found],
        )
    return InputError(
        tf.path,
        f"expected {expected} fields like the header, found {found} (an unquoted "
        f"{tf.delimiter!r} inside a value?)",
        line=line,
        column=found,
    )


def read_columns(tf: TextFile, columns: list[str]) -> pa.Table:
    """Read the named columns as strings with pyarrow (every other column is skipped).

    Empty cells become ``""`` (never null). Structural problems become an
    :class:`InputError` with line and column via :func:`structure_error`.
    """
    read_options = pv.ReadOptions(
        encoding="utf8" if tf.encoding.startswith("utf-8") else tf.encoding,
        block_size=1 << 24,
        skip_rows=tf.header_line - 1,
    )
    convert = pv.ConvertOptions(
        column_types={c: pa.string() for c in columns},
        include_columns=columns,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )

    def parse(newlines_in_values: bool) -> pa.Table:
        options = pv.ParseOptions(delimiter=tf.delimiter, newlines_in_values=newlines_in_values)
        return pv.read_csv(
            tf.path, read_options=read_options, parse_options=options, convert_options=convert
        )

    try:
        # Fast path: without quoted line breaks pyarrow can split the file at any
        # line break. Whether the file has none is checked below by counting rows.
        table = parse(False)
        if table.num_rows + tf.header_line != tf.n_lines:
            table = parse(True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        try:
            table = parse(True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise structure_error(tf, str(exc)) from None
    return table


def row_lines(tf: TextFile, n_rows: int, rows: np.ndarray) -> np.ndarray:
    """Physical line numbers where the given data rows (0-based) begin.

    Cheap when the file has one record per line; otherwise a NumPy quote-parity
    scan (an exact :mod:`csv` scan if the parity scan disagrees with the parser).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return rows
    if n_rows + tf.header_line == tf.n_lines:
        return rows + tf.header_line + 1
    starts = _record_start_lines(tf)
    if starts.size == n_rows + 1:
        return starts[rows + 1]
    exact = np.fromiter((line for line, _ in iter_records(tf)), dtype=np.int64)
    return exact[rows]


def _record_start_lines(tf: TextFile) -> np.ndarray:
    """First physical line of every non-blank record (header included), by quote parity.

    A line break ends a record when the number of quotes before it is even (RFC 4180:
    quotes only enclose fields, and a quote inside is doubled).
    """
    end_offsets, end_lines, cr_before = [], [], []
    carry = line_base = offset = 0
    previous_last = b""
    with open(tf.path, "rb") as handle:
        while block := handle.read(_BLOCK):
            data = np.frombuffer(block, dtype=np.uint8)
            quotes = np.flatnonzero(data == 34)
            newlines = np.flatnonzero(data == 10)
            even = np.flatnonzero((carry + np.searchsorted(quotes, newlines)) % 2 == 0)
            ends = newlines[even]
            end_offsets.append(ends + offset)
            end_lines.append(line_base + even + 1)  # the line this break ends
            before = np.zeros(ends.size, dtype=bool)
            inside = ends > 0
            before[inside] = data[ends[inside] - 1] == 13
            before[~inside] = previous_last == b"\r"
            cr_before.append(before)
            carry += quotes.size
            line_base += newlines.size
            offset += len(block)
            previous_last = block[-1:]
    ends = np.concatenate(end_offsets) if end_offsets else np.zeros(0, np.int64)
    lines = np.concatenate(end_lines) if end_lines else np.zeros(0, np.int64)
    cr = np.concatenate(cr_before) if cr_before else np.zeros(0, bool)
    starts = np.concatenate(([0], ends + 1))
    start_lines = np.concatenate(([1], lines + 1))
    record_ends = np.concatenate((ends, [offset]))  # the last record ends at the end of file
    content = record_ends - starts - np.concatenate((cr.astype(np.int64), [0]))
    return start_lines[content > 0].astype(np.int64)
