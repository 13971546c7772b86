"""The Salesforce Data Export file format: Ids, field formatting and the CSV writer.

18-character Ids with their case checksum (:func:`salesforce_id18`, :func:`new_ids`),
fields formatted as the export writes them (:func:`fmt_datetime`, :func:`fmt_date`,
:func:`fmt_bool`, :func:`fmt_number`), stale duplicate rows
(:func:`append_stale_duplicates`), Pardot's wall-clock times
(:func:`berlin_wall_time`) and the writer of one export file (:func:`write_csv`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

#: One export file before writing: header, columns by name, row count, writer options.
ExportTable = tuple[list[str], dict[str, object], int, dict]

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _checksum(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for i, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def salesforce_id18(id15: str) -> str:
    """Extend a 15-character Salesforce Id with its 3-character case checksum.

    Parameters
    ----------
    id15 : str
        A case-sensitive 15-character Id.

    Returns
    -------
    str
        The 18-character, case-insensitive Id.

    Examples
    --------
    >>> salesforce_id18("0064600000J5S5T")
    '0064600000J5S5TAAV'
    """
    if len(id15) != 15:
        raise ValueError(f"expected a 15-character Id, got {id15!r}")
    return id15 + _checksum(id15)


def new_ids(prefix: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct, increasing 18-character Ids with a key prefix."""
    start = int(rng.integers(62**5, 62**6))
    # Ids of one object increase with creation; a random stride keeps them irregular.
    numbers = start + np.cumsum(rng.integers(1, 40, size=count, dtype=np.int64))
    alphabet = np.frombuffer(_BASE62.encode(), dtype=np.uint8)
    digits = np.empty((count, 7), dtype=np.uint8)
    rest = numbers.copy()
    for pos in range(6, -1, -1):
        digits[:, pos] = alphabet[rest % 62]
        rest //= 62
    head = np.frombuffer(f"{prefix}8a000".encode(), dtype=np.uint8)
    chars = np.concatenate([np.broadcast_to(head, (count, head.size)), digits], axis=1)
    upper = (chars >= ord("A")) & (chars <= ord("Z"))
    bits = (upper.reshape(count, 3, 5) * (1 << np.arange(5))).sum(axis=2)
    check = np.frombuffer(_CHECKSUM_ALPHABET.encode(), dtype=np.uint8)[bits]
    full = np.ascontiguousarray(np.concatenate([chars, check], axis=1))
    return full.view("S18").ravel().astype(str).astype(object)


# ---------------------------------------------------------------- formatting


def fmt_datetime(values) -> np.ndarray:
    """Datetimes as ``YYYY-MM-DD HH:MM:SS`` (NaT becomes an empty string)."""
    arr = np.asarray(values, dtype="datetime64[s]")
    text = np.strings.replace(np.datetime_as_string(arr, unit="s"), "T", " ")
    return np.where(np.isnat(arr), "", text).astype(object)


def fmt_date(values) -> np.ndarray:
    """Date fields as Data Export writes them: ``YYYY-MM-DD 00:00:00``."""
    arr = np.asarray(values, dtype="datetime64[D]")
    text = np.strings.add(np.datetime_as_string(arr, unit="D"), " 00:00:00")
    return np.where(np.isnat(arr), "", text).astype(object)


def fmt_bool(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "1", "0").astype(object)


def fmt_number(values, decimals: int = 2) -> np.ndarray:
    """Numbers without trailing zeros (``15000``, ``1234.5``); NaN becomes empty."""
    v = np.round(np.asarray(values, dtype=float), decimals)
    missing = np.isnan(v)
    v = np.where(missing, 0.0, v) + 0.0  # + 0.0 turns -0.0 into 0.0
    whole = v == np.floor(v)
    text = v.astype(np.int64).astype(str).astype(object)
    text[~whole] = v[~whole].astype(str)  # shortest round-trip repr, e.g. 1234.5
    text[missing] = ""
    return text


def write_csv(
    path: Path,
    header: list[str],
    columns: dict[str, object],
    n: int,
    *,
    encoding: str = "utf-8",
    quoting: str = "all",
    bom: bool = False,
) -> int:
    """Write one export file; columns not given are written empty. Returns row count.

    Data Export files (every field quoted) go through pyarrow's CSV writer, which
    is several times faster than :mod:`csv`; the Pardot files use :mod:`csv`.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    unknown = set(columns) - set(header)
    if unknown:  # a typo here would silently drop a column
        raise KeyError(f"{path.name}: columns not in header: {sorted(unknown)}")
    empty = np.full(n, "", dtype=object)
    cols = []
    for name in header:
        value = columns.get(name, empty)
        if isinstance(value, str):
            value = np.full(n, value, dtype=object)
        if len(value) != n:
            raise ValueError(f"{path.name}: column {name} has {len(value)} rows, expected {n}")
        cols.append(value)
    if quoting in ("all", "values"):
        if quoting == "values":  # quote values, write empty ones bare: ,,
            cols = [np.where(np.asarray(c, dtype=object) == "", None, c) for c in cols]
        table = pa.table([pa.array(c, type=pa.string()) for c in cols], names=header)
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(quoting_style="all_valid", quoting_header="all_valid")
        pacsv.write_csv(table, sink, options)
        data = sink.getvalue().to_pybytes()
        if encoding.lower().replace("-", "") != "utf8":
            data = data.decode("utf-8").encode(encoding)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return n
    with open(path, "w", encoding=encoding, newline="") as handle:
        if bom:
            handle.write("\ufeff")
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*cols, strict=True))
    return n


def berlin_wall_time(utc: np.ndarray) -> np.ndarray:
    """UTC datetimes shown in Europe/Berlin wall time (what Pardot's export API writes)."""
    index = pd.DatetimeIndex(np.asarray(utc, dtype="datetime64[s]")).tz_localize("UTC")
    return index.tz_convert("Europe/Berlin").tz_localize(None).values.astype("datetime64[s]")


def append_stale_duplicates(cols: dict, rows: np.ndarray, stale: dict, created: np.ndarray) -> dict:
    """Append copies of ``rows`` with older LastModifiedDate and stale field values."""
    out = {}
    older = fmt_datetime(created[rows] + np.timedelta64(3600, "s"))
    n = None
    for name, value in cols.items():
        if isinstance(value, str):
            out[name] = value
            continue
        n = len(value)
        extra = value[rows].copy()
        if name in stale:
            extra = np.full(rows.size, stale[name], dtype=object)
        if name in ("LastModifiedDate", "SystemModstamp"):
            extra = older
        out[name] = np.concatenate(
            [np.asarray(value, dtype=object), np.asarray(extra, dtype=object)]
        )
    assert n is not None
    return out
