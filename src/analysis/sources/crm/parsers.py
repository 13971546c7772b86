"""Vectorised column parsers shared by the CRM readers: Ids, booleans, numbers, dates.

Each parser takes a column of strings (arrow or a list) and returns the parsed
values and a boolean mask of cells that are not valid; :class:`Problems` collects
those masks with the column and the rule broken.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Salesforce writes this Id for an empty lookup in Data Exports.
ID_SENTINEL = "000000000000000AAA"

_ASCII_ID = re.compile(r"[A-Za-z0-9]{15}")
_ID_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)


# --------------------------------------------------------------------------- fixed width


def chunks_of(values) -> list[pa.Array]:
    """The arrow chunks of a column (a list or array becomes one chunk)."""
    if isinstance(values, pa.ChunkedArray):
        return list(values.chunks) or [pa.array([], values.type)]
    if isinstance(values, pa.Array):
        return [values]
    return [pa.array(list(values), pa.string())]


def _joined(parts: list):
    """Concatenate per-chunk results (NumPy arrays or arrow arrays)."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return pa.chunked_array(parts)


def _lengths(arr: pa.Array) -> np.ndarray | None:
    """Byte length of every cell, read from the offsets buffer (no copy)."""
    if arr.type not in (pa.string(), pa.large_string()) or arr.null_count:
        return None
    offset_type = np.int32 if arr.type == pa.string() else np.int64
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=offset_type)[arr.offset : arr.offset + n + 1]
    return np.diff(offsets)


def _fixed_width(arr: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Cells as a ``(k, width)`` byte matrix when each is empty or exactly ``width`` bytes.

    Arrow stores a string column as one buffer of concatenated values, so such a
    column is a byte matrix without copying. Returns ``(matrix, nonblank)`` or None.
    """
    lengths = _lengths(arr)
    if lengths is None:
        return None
    nonblank = lengths != 0
    k = int(nonblank.sum())
    if k == 0:
        return np.zeros((0, width), dtype=np.uint8), nonblank
    if not (lengths[nonblank] == width).all():
        return None
    offset_type = np.int32 if arr.type == pa.string() else np.int64
    start = int(np.frombuffer(arr.buffers()[1], dtype=offset_type)[arr.offset])
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start : start + k * width]
    return data.reshape(k, width), nonblank


def _digits(matrix: np.ndarray, start: int, stop: int) -> np.ndarray:
    value = np.zeros(matrix.shape[0], dtype=np.int32)
    for col in range(start, stop):
        value = value * 10 + (matrix[:, col].astype(np.int32) - 48)
    return value


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _fixed_datetimes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``YYYY-MM-DD HH:MM:SS`` / ``YYYY-MM-DD`` cells parsed with NumPy byte arithmetic."""
    for width in (19, 10):
        fixed = _fixed_width(arr, width)
        if fixed is not None:
            break
    else:
        return None
    matrix, nonblank = fixed
    digit_cols = [0, 1, 2, 3, 5, 6, 8, 9] + ([11, 12, 14, 15, 17, 18] if width == 19 else [])
    ok = ((matrix[:, digit_cols] - np.uint8(48)) <= 9).all(axis=1)  # uint8 wraps below '0'
    ok &= (matrix[:, 4] == 45) & (matrix[:, 7] == 45)
    year, month, day = _digits(matrix, 0, 4), _digits(matrix, 5, 7), _digits(matrix, 8, 10)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + (leap & (month == 2))
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= days_in_month)
    seconds = np.zeros(matrix.shape[0], dtype=np.int64)
    if width == 19:
        ok &= ((matrix[:, 10] == 32) | (matrix[:, 10] == 84)) & (matrix[:, 13] == 58)
        ok &= matrix[:, 16] == 58
        hour, minute, second = (
            _digits(matrix, 11, 13),
            _digits(matrix, 14, 16),
            _digits(matrix, 17, 19),
        )
        ok &= (hour < 24) & (minute < 60) & (second < 60)
        seconds = hour.astype(np.int64) * 3600 + minute * 60 + second
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(ok, day - 1, 0).astype("timedelta64[D]")
    stamps = days.astype("datetime64[us]") + np.where(ok, seconds, 0).astype("timedelta64[s]")
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[us]")
    bad = np.zeros(len(arr), dtype=bool)
    positions = np.flatnonzero(nonblank)
    out[positions[ok]] = stamps[ok]
    bad[positions[~ok]] = True
    return out, bad


_ALNUM = np.zeros(256, dtype=bool)
_ALNUM[
    np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
] = True
_SENTINEL_BYTES = np.frombuffer(ID_SENTINEL.encode(), dtype=np.uint8)


def _fixed_ids(arr: pa.Array) -> tuple[pa.Array, np.ndarray] | None:
    """18-character Id cells checked as a byte matrix (the Data Export case)."""
    fixed = _fixed_width(arr, 18)
    if fixed is None:
        return None
    matrix, nonblank = fixed
    ok = _ALNUM[matrix].all(axis=1)
    sentinel = (matrix == _SENTINEL_BYTES).all(axis=1)
    positions = np.flatnonzero(nonblank)
    bad = np.zeros(len(arr), dtype=bool)
    bad[positions[~ok]] = True
    clear = sentinel | ~ok
    if clear.any():
        mask = np.zeros(len(arr), dtype=bool)
        mask[positions[clear]] = True
        arr = pc.if_else(pa.array(mask), "", arr)
    return arr, bad


def _fixed_bools(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``"0"``/``"1"`` cells (the Data Export case)."""
    fixed = _fixed_width(arr, 1)
    if fixed is None:
        return None
    matrix, nonblank = fixed
    one, zero = matrix[:, 0] == 49, matrix[:, 0] == 48
    if not (one | zero).all():
        return None
    out = np.zeros(len(arr), dtype=bool)
    out[np.flatnonzero(nonblank)[one]] = True
    return out, np.zeros(len(arr), dtype=bool)


def _fast_numbers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Cast the non-blank cells in one go; None if any cell is not a plain number."""
    lengths = _lengths(arr)
    if lengths is None:
        return None
    nonblank = lengths != 0
    subset = arr if nonblank.all() else arr.filter(pa.array(nonblank))
    try:
        values = pc.cast(subset, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not np.isfinite(values).all():
        return None  # "nan", "inf": let the exact path judge them
    out = np.full(len(arr), np.nan)
    out[nonblank] = values
    return out, np.zeros(len(arr), dtype=bool)


# --------------------------------------------------------------------------- Ids


def id15_to_18(ids: np.ndarray) -> np.ndarray:
    """Append Salesforce's case-safe checksum to 15-character Ids.

    For each 5-character chunk a 5-bit number has bit *i* set when character *i*
    is an upper-case letter; the number indexes ``A…Z0…5``.

    Parameters
    ----------
    ids : numpy.ndarray of str
        15-character Ids.

    Returns
    -------
    numpy.ndarray of str
        18-character Ids.

    Examples
    --------
    >>> id15_to_18(np.array(["0064600000J5S5T"])).tolist()
    ['0064600000J5S5TAAV']
    """
    ids = np.asarray(ids)
    if ids.size == 0:
        return ids.astype(str)
    text = ids.astype("U15")
    if not all(_ASCII_ID.fullmatch(i) for i in text.tolist()):
        raise ValueError("a 15-character Salesforce Id holds only ASCII letters and digits")
    raw = np.char.encode(text, "ascii").astype("S15")
    codes = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 15)
    upper = ((codes >= 65) & (codes <= 90)).reshape(-1, 3, 5)
    index = (upper * np.array([1, 2, 4, 8, 16], dtype=np.uint8)).sum(axis=2)
    suffix = _ID_ALPHABET[index]
    full = np.concatenate([codes, suffix], axis=1).astype(np.uint8)
    return np.char.decode(np.frombuffer(full.tobytes(), dtype="S18"), "ascii").astype(str)


def parse_ids(values: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Validate Salesforce Ids; 15-character Ids get their checksum, the sentinel becomes ``""``.

    Returns
    -------
    ids : pyarrow.Array of str
        18-character Ids, ``""`` for a blank cell or ``000000000000000AAA``.
    bad : numpy.ndarray of bool
        Cells that are neither blank nor a 15/18-character alphanumeric Id.
    """
    results = [_fixed_ids(chunk) or _parse_ids_exact(chunk) for chunk in chunks_of(values)]
    return _joined([r[0] for r in results]), _joined([r[1] for r in results])


def _parse_ids_exact(values) -> tuple[pa.Array, np.ndarray]:
    arr = as_array(values)
    arr = pc.utf8_trim_whitespace(arr)
    length = pc.utf8_length(arr)
    # Salesforce Ids are ASCII letters and digits; utf8_is_alnum would accept "é".
    alnum = pc.fill_null(pc.match_substring_regex(arr, r"^[A-Za-z0-9]*$"), False)
    is18 = pc.and_(pc.equal(length, 18), alnum)
    is15 = pc.and_(pc.equal(length, 15), alnum)
    blank = pc.or_(pc.equal(length, 0), pc.equal(arr, ID_SENTINEL))
    bad = pc.invert(pc.or_(pc.or_(is18, is15), blank)).to_numpy(zero_copy_only=False)
    out = pc.if_else(blank, "", arr)
    fifteen = is15.to_numpy(zero_copy_only=False)
    if fifteen.any():
        positions = np.flatnonzero(fifteen)
        converted = id15_to_18(np.asarray(out.take(positions).to_pylist()))
        full = np.asarray(out.to_pylist(), dtype=object)
        full[positions] = converted
        out = pa.array(full, pa.string())
    out = pc.if_else(pa.array(bad), "", out)
    return out, bad


# --------------------------------------------------------------------------- values


def as_array(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    return pa.array(list(values), pa.string())


def as_numpy(mask) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


_TRUE = pa.array(["1", "true", "yes", "wahr", "ja"], pa.string())
_FALSE = pa.array(["0", "false", "no", "falsch", "nein", ""], pa.string())


def parse_bools(values) -> tuple[np.ndarray, np.ndarray]:
    """``"1"/"0"``, ``true/false`` (any case), ``yes/no``; blank is False.

    Returns
    -------
    values, bad : numpy.ndarray of bool
    """
    results = [_fixed_bools(chunk) or _parse_bools_exact(chunk) for chunk in chunks_of(values)]
    return _joined([r[0] for r in results]), _joined([r[1] for r in results])


def _parse_bools_exact(values) -> tuple[np.ndarray, np.ndarray]:
    arr = pc.utf8_lower(pc.utf8_trim_whitespace(as_array(values)))
    true = pc.is_in(arr, value_set=_TRUE)
    false = pc.is_in(arr, value_set=_FALSE)
    bad = pc.invert(pc.or_(true, false))
    return as_numpy(true), as_numpy(bad)


_PLAIN_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def parse_plain_numbers(values) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as machines write them (``15000``, ``-3.5``, ``1E+5``); blank is NaN.

    A grouped or decimal-comma number (``12.500,00 €``) is *bad* here: Salesforce
    never writes one in a Data Export, so the row was edited by hand.
    """
    results = [_fast_numbers(chunk) or _parse_numbers_exact(chunk) for chunk in chunks_of(values)]
    return _joined([r[0] for r in results]), _joined([r[1] for r in results])


def _parse_numbers_exact(values) -> tuple[np.ndarray, np.ndarray]:
    arr = pc.utf8_trim_whitespace(as_array(values))
    ok = pc.match_substring_regex(arr, _PLAIN_NUMBER)
    blank = pc.equal(arr, "")
    numbers = pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.string())), pa.float64())
    bad = pc.invert(pc.or_(ok, blank))
    return numbers.to_numpy(zero_copy_only=False).astype(np.float64), as_numpy(bad)


_LOCALE_NUMBER = re.compile(
    r"^\s*(?P<pre>[A-Z]{3}|€|\$|£)?\s*(?P<num>[-+]?[\d.,'\u00a0\u202f ]*\d[\d.,'\u00a0\u202f ]*)"
    r"\s*(?P<post>[A-Z]{3}|€|\$|£|%)?\s*$"
)


def sniff_decimal(values: list[str] | np.ndarray, default: str = ".") -> str:
    """Decide whether a column of formatted numbers uses a decimal comma or point."""
    comma = point = 0
    for raw in values:
        m = _LOCALE_NUMBER.match(raw or "")
        if not m:
            continue
        num = m["num"].replace(" ", "")
        if re.search(r",\d{1,2}$", num) or re.search(r"\.\d{3},", num):
            comma += 1
        elif re.search(r"\.\d{1,2}$", num) or re.search(r",\d{3}\.", num):
            point += 1
        elif re.search(r"\.\d{3}$", num) and not re.search(r",", num):
            comma += 0  # "1.234": ambiguous, no vote
    if comma > point:
        return ","
    if point > comma:
        return "."
    return default


def parse_locale_numbers(values, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse formatted numbers (``1.234,56``, ``EUR 1,234.56``, ``12.500,00 €``).

    Returns
    -------
    numbers : numpy.ndarray of float (NaN for blank or bad)
    currency : numpy.ndarray of str (ISO code or symbol found in the cell, else "")
    bad : numpy.ndarray of bool
    """
    cells = [str(v) if v is not None else "" for v in (as_array(values).to_pylist())]
    numbers = np.full(len(cells), np.nan)
    currency = np.full(len(cells), "", dtype=object)
    bad = np.zeros(len(cells), dtype=bool)
    group = "." if decimal == "," else ","
    for i, cell in enumerate(cells):
        if not cell.strip():
            continue
        m = _LOCALE_NUMBER.match(cell)
        if not m:
            bad[i] = True
            continue
        num = re.sub(r"[\s'\u00a0\u202f]", "", m["num"])
        if decimal == "," and re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})*(,\d+)?|[-+]?\d+(,\d+)?", num):
            numbers[i] = float(num.replace(group, "").replace(",", "."))
        elif decimal == "." and re.fullmatch(
            r"[-+]?\d{1,3}(,\d{3})*(\.\d+)?|[-+]?\d+(\.\d+)?", num
        ):
            numbers[i] = float(num.replace(group, ""))
        else:
            bad[i] = True
            continue
        code = m["pre"] or m["post"] or ""
        currency[i] = {"€": "EUR", "$": "USD", "£": "GBP", "%": ""}.get(code, code)
    return numbers, currency.astype(str), bad


def parse_datetimes(values) -> tuple[np.ndarray, np.ndarray]:
    """Parse machine datetimes: ``YYYY-MM-DD HH:MM:SS``, ``YYYY-MM-DD``, ISO-8601 ``T…Z``.

    Offsets are converted to UTC; naive values are taken as UTC (Data Export).

    Returns
    -------
    values : numpy.ndarray of datetime64[us] (NaT for blank or bad)
    bad : numpy.ndarray of bool
        Not blank and not a valid calendar datetime in one of those shapes.
    """
    results = [
        _fixed_datetimes(chunk) or _parse_datetimes_exact(chunk) for chunk in chunks_of(values)
    ]
    return _joined([r[0] for r in results]), _joined([r[1] for r in results])


def _parse_datetimes_exact(values) -> tuple[np.ndarray, np.ndarray]:
    arr = pc.utf8_trim_whitespace(as_array(values))
    n = len(arr)
    length = pc.utf8_length(arr)
    blank = as_numpy(pc.equal(length, 0))
    parsed = pc.strptime(arr, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    canonical = pc.and_(pc.equal(length, 19), pc.is_valid(parsed))
    day_text = pc.utf8_slice_codeunits(arr, 8, 10)
    canonical = pc.and_(canonical, pc.utf8_is_digit(day_text))
    # pyarrow's strptime rolls 31 February over into March: compare the day back.
    day_text = pc.if_else(canonical, day_text, "01")
    same_day = pc.equal(pc.cast(day_text, pa.int64()), pc.day(parsed))
    ok = as_numpy(pc.and_(canonical, pc.fill_null(same_day, False)))
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    if ok.any():
        out[ok] = parsed.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)[ok]
    rest = np.flatnonzero(~ok & ~blank)
    bad = np.zeros(n, dtype=bool)
    if rest.size:
        text = pd.Series(arr.take(pa.array(rest)).to_pylist(), dtype="str")
        shape = text.str.fullmatch(
            r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?"
        )
        stamps = pd.to_datetime(text.where(shape), format="ISO8601", utc=True, errors="coerce")
        values_ = stamps.dt.tz_convert(None).astype("datetime64[us]").to_numpy()
        out[rest] = values_
        bad[rest] = np.isnat(values_)
    return out, bad


def parse_dates(values) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`parse_datetimes`, keeping the date (Data Export writes dates with 00:00:00)."""
    out, bad = parse_datetimes(values)
    return out.astype("datetime64[D]").astype("datetime64[us]"), bad


_LOCALE_DATE = {
    "dmy.": r"(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})",
    "dmy/": r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})",
    "mdy/": r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})",
    "ymd-": r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})",
}
_TIME_PART = r"(?:,?[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?\s*(?P<p>[AaPp]\.?[Mm]\.?)?(?:Z| ?[A-Z]{3,4})?)?"


def sniff_date_order(values: list[str] | np.ndarray, default: str = "mdy/") -> str:
    """Pick the date shape of a column: ``dmy.`` (31.12.2024), ``mdy/``, ``dmy/`` or ``ymd-``."""
    dotted = slashed = iso = 0
    first_over_12 = second_over_12 = False
    for raw in values:
        cell = (raw or "").strip()
        if re.match(r"^\d{1,2}\.\s?\d{1,2}\.\s?\d{4}", cell):
            dotted += 1
        elif m := re.match(r"^(\d{1,2})/(\d{1,2})/\d{4}", cell):
            slashed += 1
            first_over_12 |= int(m[1]) > 12
            second_over_12 |= int(m[2]) > 12
        elif re.match(r"^\d{4}-\d{1,2}-\d{1,2}", cell):
            iso += 1
    best = max((dotted, "dmy."), (slashed, "slash"), (iso, "ymd-"))
    if best[0] == 0:
        return default
    if best[1] == "slash":
        if first_over_12 and not second_over_12:
            return "dmy/"
        if second_over_12:
            return "mdy/"
        return default if default in ("mdy/", "dmy/") else "mdy/"
    return best[1]


def parse_locale_datetimes(values, order: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse formatted dates (``31.12.2024``, ``12/31/2024 3:15 PM``, ISO) vectorised.

    Invalid calendar dates (``31.02.2024``) and cells of another shape are *bad*.

    Returns
    -------
    values : numpy.ndarray of datetime64[us]
    bad : numpy.ndarray of bool
    """
    arr = pc.utf8_trim_whitespace(as_array(values))
    blank = as_numpy(pc.equal(pc.utf8_length(arr), 0))
    pattern = "^" + _LOCALE_DATE[order] + _TIME_PART + "$"
    parts = pc.extract_regex(arr, pattern)
    matched = as_numpy(pc.is_valid(parts))

    def field_(name: str, default: int) -> np.ndarray:
        col = pc.struct_field(parts, name)
        col = pc.if_else(pc.equal(pc.fill_null(col, ""), ""), str(default), col)
        return pc.cast(pc.fill_null(col, str(default)), pa.int64()).to_numpy(zero_copy_only=False)

    y, m, d = field_("y", 1970), field_("m", 1), field_("d", 1)
    hh, mm, ss = field_("H", 0), field_("M", 0), field_("S", 0)
    ampm = pc.utf8_lower(pc.fill_null(pc.struct_field(parts, "p"), ""))
    pm = as_numpy(pc.starts_with(ampm, "p"))
    am = as_numpy(pc.starts_with(ampm, "a"))
    hh = np.where(pm & (hh < 12), hh + 12, np.where(am & (hh == 12), 0, hh))
    valid = matched & (m >= 1) & (m <= 12) & (d >= 1) & (hh < 24) & (mm < 60) & (ss < 60)
    months = (np.where(valid, y, 1970) - 1970) * 12 + np.where(valid, m, 1) - 1
    month_start = months.astype("datetime64[M]").astype("datetime64[D]")
    next_month = (months + 1).astype("datetime64[M]").astype("datetime64[D]")
    days = month_start + (np.where(valid, d, 1) - 1).astype("timedelta64[D]")
    valid &= days < next_month
    stamp = days.astype("datetime64[us]") + (hh * 3600 + mm * 60 + ss).astype(
        "timedelta64[s]"
    ).astype("timedelta64[us]")
    out = np.where(valid, stamp, np.datetime64("NaT", "us"))
    bad = ~valid & ~blank
    return out, bad


def text_column(values) -> pa.Array:
    """Strings trimmed of surrounding white space (empty cells stay ``""``)."""
    return pc.utf8_trim_whitespace(as_array(values))


def duplicated_ids(ids) -> np.ndarray:
    """Rows whose non-blank Id occurs more than once (pandas ``keep=False``).

    Vectorised for 18-character Ids: the bytes are packed into 64-bit words and
    mixed into one hash, sorted with NumPy, and only hash collisions are compared
    exactly (hashing strings through pandas costs about four times as much).
    """
    arr = as_array(ids)
    n = len(arr)
    out = np.zeros(n, dtype=bool)
    lengths = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
    nonblank = lengths > 0
    if not nonblank.any():
        return out
    positions = np.flatnonzero(nonblank)
    sub = arr.filter(pa.array(nonblank)) if positions.size != n else arr
    if (lengths[positions] <= 18).all() and pc.all(pc.utf8_is_digit(sub)).as_py():
        # Numeric ids (Pardot): compare as integers.
        numbers = pc.cast(sub, pa.int64()).to_numpy(zero_copy_only=False)
        ordered = np.sort(numbers)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if repeated.size:
            out[positions[np.isin(numbers, repeated)]] = True
        return out
    if not (lengths[positions] == 18).all() or sub.type not in (pa.string(), pa.large_string()):
        dup = pd.Series(sub.to_pylist(), dtype="str").duplicated(keep=False).to_numpy()
        out[positions[dup]] = True
        return out
    k = len(sub)
    offset_type = np.int32 if sub.type == pa.string() else np.int64
    start = int(np.frombuffer(sub.buffers()[1], dtype=offset_type)[sub.offset])
    raw = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[start : start + 18 * k].reshape(k, 18)
    padded = np.zeros((k, 24), dtype=np.uint8)
    padded[:, :18] = raw
    words = padded.view("<u8")
    mixed = (words[:, 0] * np.uint64(0x9E3779B97F4A7C15)) ^ words[:, 1]
    mixed = (mixed * np.uint64(0xBF58476D1CE4E5B9)) ^ words[:, 2]
    ordered = np.sort(mixed)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if repeated.size == 0:
        return out
    candidates = np.flatnonzero(np.isin(mixed, repeated))
    exact = pd.Series(sub.take(pa.array(candidates)).to_pylist(), dtype="str")
    dup = exact.duplicated(keep=False).to_numpy()
    out[positions[candidates[dup]]] = True
    return out
