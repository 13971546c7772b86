"""The one text-encoding rule of every reader: UTF-8 (with or without BOM), else Windows-1252.

Statistical offices, Salesforce (the admin chooses the encoding) and analysts saving a
firm list in Excel write UTF-8 with or without a byte-order mark or Windows-1252 (a
superset of the printable ISO-8859-1). :func:`sniff_encoding` decides which, in one
pass over any bytes-like buffer (bytes or a memory map), and refuses what no reader
can use - binary data (NUL bytes), UTF-16, a ZIP/XLSX archive, bytes that fit neither
encoding, or a file that mixes UTF-8 with another encoding (edited and re-saved) -
naming the line and byte column (and the header column where it can be told).

:func:`decode` decodes a whole file with it; the streaming CRM reader
(:func:`analysis.sources.crm.textfile.scan_encoding`) runs it over a memory map;
format sniffing (:mod:`analysis.sources`) runs it over the first 64 KiB.
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

import numpy as np

from analysis.errors import InputError

BOM = b"\xef\xbb\xbf"

#: Block size of the pass: an ASCII block costs one NumPy reduction.
BLOCK = 1 << 24

_ALIASES = {"latin-1": "cp1252", "latin1": "cp1252", "iso-8859-1": "cp1252"}
_ALIASES |= {"windows-1252": "cp1252", "utf8": "utf-8", "utf-8-sig": "utf-8"}


def sniff_encoding(buffer, path: str | Path, encoding: str | None = None) -> str:
    """The encoding of a text file's bytes: ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"``.

    Parameters
    ----------
    buffer : bytes-like
        The file's bytes (``bytes``, ``mmap``); not copied where ASCII.
    path : str or Path
        For messages.
    encoding : str, optional
        Declared encoding (``"utf-8"`` or ``"cp1252"`` and aliases); the bytes are
        still checked against it.

    Returns
    -------
    str

    Raises
    ------
    InputError
        Binary data, UTF-16, a ZIP archive, undecodable or mixed encodings, an
        unsupported declared encoding; with line and column.
    """
    wanted = _wanted(path, encoding)
    head = bytes(buffer[:4096])
    _refuse_binary(path, buffer, head)
    has_bom = head.startswith(BOM)
    mode = "cp1252" if wanted == "cp1252" else "utf-8"
    decoder = codecs.getincrementaldecoder("utf-8")()
    first_multibyte: int | None = None
    view = np.frombuffer(buffer, dtype=np.uint8)
    try:
        for offset in range(0, len(view), BLOCK):
            is_ascii = int(view[offset : offset + BLOCK].max()) < 128
            if mode == "utf-8" and (not is_ascii or decoder.getstate()[0]):
                block = bytes(buffer[offset : offset + BLOCK])
                if first_multibyte is None and not is_ascii:
                    first_multibyte = offset + re.search(rb"[\x80-\xff]", block).start()
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    _raise_or_fallback(
                        buffer, path, offset + exc.start, first_multibyte, wanted, has_bom
                    )
                    mode = "cp1252"  # no valid multi-byte UTF-8 before: it is cp1252
            if mode == "cp1252" and not is_ascii:
                _check_cp1252(buffer, path, offset)
    finally:
        del view  # release the buffer (a memory map cannot close while viewed)
    if mode == "utf-8":
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            line, col, _ = where(buffer, len(buffer) - 1)
            raise InputError(
                path,
                "the file ends inside a UTF-8 multi-byte character (truncated file?)",
                line=line,
                column=col,
            ) from None
        return "utf-8-sig" if has_bom else "utf-8"
    return "cp1252"


def decode(data: bytes, path: str | Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode a whole text file by :func:`sniff_encoding`.

    Parameters
    ----------
    data : bytes
    path : str or Path
        For messages.
    encoding : str, optional
        Declared encoding (checked).

    Returns
    -------
    text : str
        Without a byte-order mark.
    encoding : str
        ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"`` (names pandas understands).

    Raises
    ------
    InputError
        See :func:`sniff_encoding`.
    """
    found = sniff_encoding(data, path, encoding)
    if found == "utf-8-sig":
        return data[len(BOM) :].decode("utf-8"), found
    return data.decode(found), found


def decode_head(head: bytes) -> str | None:
    """The text of a file's first bytes for format sniffing, None for binary data.

    Undecodable or mixed bytes are replaced, not refused: the format is still told
    and its reader then says exactly what is wrong, with line and column.
    """
    if b"\x00" in head[:4096] or head.startswith((b"\xff\xfe", b"\xfe\xff", b"PK\x03\x04")):
        return None
    for cut in range(len(head), max(len(head) - 4, -1), -1):  # a character split at the cut
        try:
            found = sniff_encoding(head[:cut], "head")
        except InputError:
            continue
        text = head[:cut].decode("cp1252" if found == "cp1252" else "utf-8")
        return text.removeprefix("\ufeff")
    return head.decode("cp1252", errors="replace")


def encoding_note(encoding: str) -> str:
    """A sentence for ``frame.attrs['encoding_note']`` saying how the file was decoded."""
    if encoding == "cp1252":
        return "not valid UTF-8 and no byte-order mark: decoded as Windows-1252 (ISO-8859-1)"
    if encoding == "utf-8-sig":
        return "UTF-8 with byte-order mark"
    return "UTF-8 without byte-order mark"


def where(buffer, offset: int) -> tuple[int, str | int, str]:
    """Line, column (the header's name where it can be told) and a byte note of an offset."""
    view = np.frombuffer(buffer, dtype=np.uint8)
    window = max(0, offset - (1 << 20))
    try:
        line = int(np.count_nonzero(view[:offset] == 10)) + 1
        newlines = np.flatnonzero(view[window:offset] == 10)
    finally:
        del view
    start = window + int(newlines[-1]) + 1 if len(newlines) else window
    col = offset - start + 1
    first = bytes(buffer[: min(len(buffer), 1 << 20)]).split(b"\n", 1)[0]
    header = first.decode("latin-1").lstrip("\ufeff\u00ef\u00bb\u00bf").rstrip("\r")
    prefix = bytes(buffer[start:offset]).decode("latin-1")
    delimiter = max((",", ";", "\t"), key=header.count)
    names = [h.strip() for h in next(csv.reader([header], delimiter=delimiter), [])]
    in_quotes, field_index = False, 0
    for char in prefix:  # delimiters outside quotes before the byte
        if char == '"':
            in_quotes = not in_quotes
        elif char == delimiter and not in_quotes:
            field_index += 1
    note = f" (byte {col} of the line)"
    if line > 1 and field_index < len(names) and names[field_index]:
        return line, names[field_index], note
    return line, col, ""


def _wanted(path, encoding: str | None) -> str:
    wanted = (encoding or "").lower().replace("_", "-")
    wanted = _ALIASES.get(wanted, wanted)
    if wanted and wanted not in ("utf-8", "cp1252"):
        raise InputError(path, f"unsupported encoding {encoding!r}; use 'utf-8' or 'cp1252'")
    return wanted


def _refuse_binary(path, buffer, head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise InputError(
            path,
            "expected a CSV text file, found a ZIP archive (an .xlsx workbook or a zipped "
            "export?): unzip it, or read the workbook with its .xlsx reader",
            line=1,
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            path,
            "expected UTF-8 or Windows-1252 text, found UTF-16 (byte-order mark "
            f"{head[:2].hex(' ')}): re-export the file as UTF-8 CSV",
            line=1,
            column=1,
        )
    nul = bytes(buffer[: 1 << 16]).find(b"\x00")
    if nul >= 0:
        line, col, _ = where(buffer, nul)
        raise InputError(
            path,
            "expected a text file (UTF-8 or Windows-1252), found a NUL byte (UTF-16 "
            "without byte-order mark, a spreadsheet, an image or another binary file?)",
            line=line,
            column=col,
        )


def _check_cp1252(buffer, path, offset: int) -> None:
    block = bytes(buffer[offset : offset + BLOCK])
    try:
        block.decode("cp1252")
    except UnicodeDecodeError as exc:
        line, col, note = where(buffer, offset + exc.start)
        raise InputError(
            path,
            f"byte {block[exc.start]:#04x}{note} is neither UTF-8 nor Windows-1252 text: "
            "the file has an unsupported encoding",
            line=line,
            column=col,
        ) from None


def _raise_or_fallback(
    buffer, path, bad: int, first_multibyte: int | None, wanted: str, has_bom: bool
) -> None:
    """Raise for a UTF-8 decoding error unless falling back to cp1252 is sound."""
    line, col, note = where(buffer, bad)
    byte = buffer[bad]
    if wanted == "utf-8":
        raise InputError(
            path,
            f"the file was declared UTF-8, but byte {byte:#04x}{note} is not valid UTF-8 "
            "(a Windows-1252 / ISO-8859-1 file? read it with encoding='cp1252')",
            line=line,
            column=col,
        )
    if has_bom or (first_multibyte is not None and first_multibyte < bad):
        if first_multibyte is not None and not has_bom:
            first_line, _, _ = where(buffer, first_multibyte)
            hint = f" (line {first_line} holds valid UTF-8)"
        else:
            hint = " (the file starts with a UTF-8 byte-order mark)"
        raise InputError(
            path,
            f"byte {byte:#04x}{note} is not valid UTF-8, but the file is UTF-8 elsewhere{hint}: "
            "it mixes encodings (edited and re-saved in another program?); re-export it",
            line=line,
            column=col,
        )
