"""GENESIS / regionalstatistik.de flat files (``ffcsv``) as tidy frames.

Two header variants exist:

* the **current** one (``statistics_code;statistics_label;time_code;time_label;time;
  1_variable_code;1_variable_label;1_variable_attribute_code;1_variable_attribute_label;
  …;value;value_unit;value_variable_code;value_variable_label[;value_q]``), the same
  English names in German and English exports, one value per line;
* the **older** German one (``Statistik_Code;Statistik_Label;Zeit_Code;Zeit_Label;Zeit;
  1_Merkmal_Code;1_Merkmal_Label;1_Auspraegung_Code;1_Auspraegung_Label;…``) with one
  column per value variable, named ``CODE__Label__Unit`` (e.g.
  ``BEVSTD__Bevoelkerungsstand__Anzahl``) and optional ``CODE__Label__q`` quality
  columns, usually ISO-8859-1 and with German dates (``31.12.2022``).

Both become the same long frame (see :func:`read_ffcsv`).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis.errors import InputError
from analysis.sources.text import (
    block_size,
    decode,
    encoding_note,
    level_of,
    parse_times,
    parse_values,
    raise_field_count,
    read_bytes,
    record_lines,
)

#: The fixed leading columns of the tidy frame, in order; dimension columns follow.
TIDY_COLUMNS: tuple[str, ...] = (
    "statistic",
    "level",
    "ags",
    "region_name",
    "time",
    "period_start",
    "measure",
    "measure_label",
    "unit",
    "value",
    "flag",
    "quality",
)

#: GENESIS variable codes of regional classifications (the "where" dimension).
#: The levels of regionalstatistik.de, kept as the ``level`` column.
LEVELS: frozenset[str] = frozenset({"DINSG", "DLAND", "REGBEZ", "KREISE", "GEMEINDE"})
#: Further known regional variables; their ``level`` comes from the key length.
REGION_VARIABLES: frozenset[str] = LEVELS | {"GEMVB", "GVBAND", "VERBAND"}
#: GENESIS-Online / Zensus databases name regional variables GEODL1, GEOBL1, GEOLK1, GEOGM4 …
_GEO_VARIABLE = re.compile(r"^GEO(DL|BL|RB|RG|LK|KR|VB|GM|GV)\d*$")

CREDIT = "© Statistische Ämter des Bundes und der Länder, Deutschland"
LICENCE = "Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0)"

_CURRENT_KEYS = ("statistics_code", "statistics_label", "time_code", "time_label", "time")
_CURRENT_VALUE = ("value", "value_unit", "value_variable_code", "value_variable_label")
_CURRENT_DIM = re.compile(r"^(\d+)_variable_(code|label|attribute_code|attribute_label)$")
_CURRENT_PARTS = ("code", "label", "attribute_code", "attribute_label")

_OLD_KEYS = ("Statistik_Code", "Statistik_Label", "Zeit_Code", "Zeit_Label", "Zeit")
_OLD_DIM = re.compile(r"^(\d+)_(Merkmal_Code|Merkmal_Label|Auspraegung_Code|Auspraegung_Label)$")
_OLD_PARTS = ("Merkmal_Code", "Merkmal_Label", "Auspraegung_Code", "Auspraegung_Label")


def read_ffcsv(path: str | Path) -> pd.DataFrame:
    """Read a GENESIS flat file (ffcsv, either header variant) into a tidy long frame.

    Parameters
    ----------
    path : str or Path
        A ``*_flat.csv`` file as downloaded (UTF-8 with or without BOM, or
        ISO-8859-1 / Windows-1252; ``;``-separated).

    Returns
    -------
    pandas.DataFrame
        One row per value, columns in this order:

        ``statistic`` (str, e.g. ``"12411"``), ``level`` (the regional variable
        code: ``DINSG``, ``DLAND``, ``REGBEZ``, ``KREISE``, ``GEMEINDE``; for other
        regional variables such as GENESIS-Online's ``GEOBL1`` or ``GEOGM4`` the
        level of the key's length (``DG``, 2, 3, 5, 8/12 digits); ``""`` when
        the table has no regional dimension), ``ags`` (the regional attribute code
        as in the file: ``"DG"``, ``"03"``, ``"031"``, ``"03159"``, 8-digit city
        rows stay at level ``KREISE``), ``region_name``, ``time`` (ISO:
        ``2024-12-31``, ``2024``, ``2023-10P6M``), ``period_start`` (datetime64,
        start of the period), ``measure`` (value variable code), ``measure_label``,
        ``unit``, ``value`` (float64, NaN for special values), ``flag`` (the
        special symbol ``- . x / ...``, ``""`` for a number), ``quality`` (the
        ``value_q`` / ``__q`` code, ``""`` when absent), then one column per
        further dimension named by its variable code (e.g. ``GES``) holding the
        attribute code: ``""`` for the total (as in the source), missing (NA)
        on rows whose value variable does not have that dimension.

        ``frame.attrs``: ``path``, ``encoding``, ``encoding_note``, ``variant``
        (``"ffcsv"`` or ``"ffcsv_old"``), ``n_rows``, ``statistic_label``,
        ``time_code``, ``measures`` (code → label), ``dimensions`` (code →
        {"label", "attributes": code → label}), ``n_empty_values`` (empty value
        cells: NaN without a flag), ``n_unparsed_times`` (times without a
        ``period_start``), ``credit``, ``licence``. A number written with a mark
        (``(12)``, ``12 p``) keeps its value; the mark goes to ``quality`` where
        ``value_q`` is empty.

    Raises
    ------
    InputError
        Empty, binary or undecodable file; not a flat file (header neither
        variant); missing header columns (the message lists the expected ones);
        a line with the wrong number of fields (truncated file); a value that is
        neither a number nor a special symbol. The message names file, line and
        column.

    Examples
    --------
    >>> population = read_ffcsv("12411-01-01-4_de_flat.csv")  # doctest: +SKIP
    >>> kreise_only(population).query("GES == ''")["value"].sum()  # doctest: +SKIP
    83577140.0
    """
    data = read_bytes(path)
    text, encoding = decode(data, path)
    header = _header(text, path)
    variant = sniff_variant(header)
    if variant is None:
        raise InputError(
            path,
            "not a GENESIS flat file (ffcsv): expected a header starting "
            f"'{';'.join(_CURRENT_KEYS)};…' (current) or '{';'.join(_OLD_KEYS)};…' "
            f"(older), found {';'.join(header[:5])!r}",
            line=1,
        )
    layout = _current_layout(header, path) if variant == "ffcsv" else _old_layout(header, path)
    table = read_string_table(data, text, encoding, header, path)
    if table.num_rows == 0:
        raise InputError(path, "expected data lines after the header, found none", line=2)
    line_of = _line_mapper(text)
    if variant == "ffcsv":
        columns, meta = _tidy_current(table, layout, path, line_of)
    else:
        columns, meta = _tidy_old(table, layout, path, line_of)
    frame = pa.table(columns).to_pandas()
    frame.attrs = {
        "path": str(path),
        "encoding": encoding,
        "encoding_note": encoding_note(encoding),
        "variant": variant,
        "n_rows": len(frame),
        "statistic_label": meta["statistic_label"],
        "time_code": meta["time_code"],
        "measures": meta["measures"],
        "dimensions": meta["dimensions"],
        "n_empty_values": int(
            pc.sum(pc.and_(pc.equal(columns["flag"], ""), pc.is_null(columns["value"]))).as_py()
            or 0
        ),
        "n_unparsed_times": int(pc.sum(pc.is_null(columns["period_start"])).as_py() or 0),
        "credit": CREDIT,
        "licence": LICENCE,
    }
    return frame


def read_string_table(data: bytes, text: str, encoding: str, header: list[str], path) -> pa.Table:
    """Parse ``;``-separated text below a header line into an all-string Arrow table.

    Checks that every line has as many fields as the header (reporting the first
    that does not, with its physical line) and that there are no blank lines
    between data lines (trailing ones are fine).

    Parameters
    ----------
    data : bytes
        The file's bytes.
    text : str
        The decoded text (used when the bytes are not UTF-8 and for exact line
        numbers in quoted files).
    encoding : str
        As returned by :func:`analysis.sources.text.decode`.
    header : list of str
        Column names (the first line, split and stripped).
    path : str or Path
        For error messages.

    Returns
    -------
    pyarrow.Table
        One string column per header name, empty cells as ``""``.
    """
    if encoding == "utf-8-sig":
        body = data[3:]
    elif encoding == "utf-8":
        body = data
    else:
        body = text.encode("utf-8")
    body = body.rstrip(b"\r\n\t ")
    n_lines = body.count(b"\n") + 1
    if n_lines == 1:
        raise InputError(path, "expected data lines after the header, found none", line=2)
    blank = re.search(rb"\n[ \t\r]*\n", body)
    if blank is not None:
        line = body.count(b"\n", 0, blank.start()) + 2
        raise InputError(
            path, f"expected {len(header)} ';'-separated fields, found an empty line", line=line
        )
    quoted = b'"' in body
    first_bad: list = []

    def on_invalid(row) -> str:
        first_bad.append((row.number, row.actual_columns))
        return "error"

    def parse(handler) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=1, use_threads=False, block_size=block_size(body)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=";", newlines_in_values=quoted, invalid_row_handler=handler
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        # The row handler slows parsing down: use it only to locate a known problem.
        return parse(None)
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        pass
    try:
        parse(on_invalid)
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        if first_bad:
            line, found = first_bad[0]
            if line is None:
                line, found = _first_bad_record(text, len(header))
            raise_field_count(path, line, found, len(header), line == n_lines)
        raise InputError(path, f"cannot parse as ';'-separated text: {exc}") from None
    raise InputError(path, "cannot parse as ';'-separated text")  # pragma: no cover


def _first_bad_record(text: str, expected: int) -> tuple[int | None, int]:
    for line, row in record_lines(text)[1:]:
        if row and len(row) != expected:
            return line, len(row)
    return None, 0


#: Länder that are Kreise at the same time; classic tables list them only as Länder.
CITY_STATES: dict[str, str] = {"02": "02000", "11": "11000"}


def kreise_only(frame: pd.DataFrame, *, drop_abolished: bool = False) -> pd.DataFrame:
    """Keep the rows of Kreise: level ``KREISE`` with a 5-digit ``ags``.

    Drops the 8-digit rows that regionalstatistik lists at level KREISE (cities
    inside a Kreis such as 03241001 Hannover, Berlin's districts) and every other
    level. Hamburg and Berlin are Länder and Kreise at once: where a table lists
    them only as Länder (``02``, ``11``; the classic tables do), those rows are
    kept as Kreise ``02000`` and ``11000``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A tidy frame from :func:`read_ffcsv` or :func:`analysis.sources.official.classic.read_classic`.
    drop_abolished : bool
        Also drop Kreise whose every value in the frame is the special symbol ``-``
        (regionalstatistik lists Kreise that no longer exist with ``-``; on a
        Stichtag file that leaves the Kreise current at that date).

    Returns
    -------
    pandas.DataFrame
        A new frame (attrs kept); ``attrs["n_dropped_not_kreis"]`` counts the rows removed.
    """
    five_digits = frame["ags"].str.fullmatch(r"\d{5}").fillna(False).astype(bool)
    is_kreis = frame["level"].eq("KREISE") & five_digits
    present = set(frame.loc[is_kreis, "ags"])
    missing_states = {land: kreis for land, kreis in CITY_STATES.items() if kreis not in present}
    is_state = frame["level"].eq("DLAND") & frame["ags"].isin(list(missing_states))
    kreise = frame.loc[is_kreis | is_state]
    if is_state.any():
        kreise = kreise.assign(
            ags=kreise["ags"].replace(missing_states),
            level="KREISE",
        )
    if drop_abolished:
        dash = kreise["flag"].eq("-")
        all_dash = dash.groupby(kreise["ags"]).transform("all")
        kreise = kreise.loc[~all_dash]
    out = kreise.reset_index(drop=True)
    out.attrs = {**frame.attrs, "n_dropped_not_kreis": int(len(frame) - len(out))}
    return out


def sniff_variant(header: list[str]) -> str | None:
    """``"ffcsv"``, ``"ffcsv_old"`` or ``None`` from a split, stripped header line."""
    names = set(header)
    if "statistics_code" in names or ("value_variable_code" in names and "time_code" in names):
        return "ffcsv"
    if "Statistik_Code" in names or ("Zeit_Code" in names and "1_Merkmal_Code" in names):
        return "ffcsv_old"
    return None


# --------------------------------------------------------------------------- layout


def _header(text: str, path) -> list[str]:
    end = text.find("\n")
    first = (text if end < 0 else text[:end]).rstrip("\r")
    if '"' in first:
        names = next(iter(record_lines(first)), (1, []))[1]
    else:
        names = first.split(";")
    # Old exports pad the value column names with blanks ("     FLC006__…").
    return [name.strip() for name in names]


def _dimension_positions(header: list[str], pattern: re.Pattern, name_of, parts, path) -> list[int]:
    found: dict[int, set[str]] = {}
    for name in header:
        m = pattern.match(name)
        if m:
            found.setdefault(int(m[1]), set()).add(m[2])
    positions = sorted(found)
    for k in positions:
        missing = [name_of(k, p) for p in parts if p not in found[k]]
        if missing:
            expected = ";".join(name_of(k, p) for p in parts)
            raise InputError(
                path,
                f"incomplete dimension {k}: expected the columns {expected}, "
                f"missing {', '.join(missing)}",
                line=1,
            )
    if positions and positions != list(range(1, len(positions) + 1)):
        raise InputError(
            path,
            f"dimension columns must be numbered 1..{len(positions)}, found {positions}",
            line=1,
        )
    return positions


def _require(header: list[str], required, path, variant: str) -> None:
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            path,
            f"missing header column(s) {', '.join(missing)}; a {variant} flat file needs "
            f"{';'.join(required)}",
            line=1,
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(path, f"duplicated header column(s) {', '.join(duplicated)}", line=1)


def _current_layout(header: list[str], path) -> dict:
    _require(header, _CURRENT_KEYS + _CURRENT_VALUE, path, "current (ffcsv)")
    positions = _dimension_positions(
        header, _CURRENT_DIM, lambda k, p: f"{k}_variable_{p}", _CURRENT_PARTS, path
    )
    known = set(_CURRENT_KEYS + _CURRENT_VALUE + ("value_q",))
    known |= {f"{k}_variable_{p}" for k in positions for p in _CURRENT_PARTS}
    unknown = [name for name in header if name not in known]
    return {
        "positions": positions,
        "dim": lambda k, part: f"{k}_variable_{part}",
        "quality": "value_q" if "value_q" in header else None,
        "unknown": unknown,
    }


def _old_layout(header: list[str], path) -> dict:
    _require(header, _OLD_KEYS, path, "older (Statistik_Code…)")
    positions = _dimension_positions(header, _OLD_DIM, lambda k, p: f"{k}_{p}", _OLD_PARTS, path)
    keys = set(_OLD_KEYS) | {f"{k}_{p}" for k in positions for p in _OLD_PARTS}
    # A trailing ';' leaves an unnamed, empty column: not a value variable.
    rest = [name for name in header if name not in keys and name]
    quality_cols = [name for name in rest if name.lower().endswith("__q")]
    value_cols = [name for name in rest if name not in quality_cols]
    if not value_cols:
        raise InputError(
            path,
            "expected at least one value column after the dimension columns "
            "(named like 'BEVSTD__Bevoelkerungsstand__Anzahl'), found none",
            line=1,
        )
    quality_of: dict[str, str] = {}
    for q in quality_cols:
        base = q[:-3]
        match = [v for v in value_cols if v == base or v.rsplit("__", 1)[0] == base]
        if not match:
            # A quality column belongs to the value column just before it.
            before = header[: header.index(q)]
            match = [v for v in reversed(before) if v in value_cols][:1]
        if match and match[0] not in quality_of:
            quality_of[match[0]] = q
    return {
        "positions": positions,
        "dim": lambda k, part: f"{k}_{_OLD_PARTS[_CURRENT_PARTS.index(part)]}",
        "values": value_cols,
        "quality_of": quality_of,
    }


def _line_mapper(text: str):
    """Positional data-row index → 1-based physical line."""
    if '"' not in text:
        # Blank lines are rejected by the field count check, so rows map 1:1 to lines.
        return lambda pos: pos + 2
    records = record_lines(text)
    starts = [line for line, row in records[1:] if row]
    return lambda pos: starts[pos] if pos < len(starts) else None


def _split_value_column(name: str) -> tuple[str, str, str]:
    """``CODE__Label_words__Unit`` → (code, label, unit) of an older-variant value column."""
    parts = name.split("__")
    if len(parts) >= 3:
        code, label, unit = parts[0], "__".join(parts[1:-1]), parts[-1]
        return code, label.replace("_", " "), unit.replace("_", " ")
    if len(parts) == 2:
        # e.g. "Verbraucherpreisindex__CH0004": a derived rate without its own code.
        return name, f"{parts[0].replace('_', ' ')} ({parts[1]})", ""
    return name, name.replace("_", " "), ""


# --------------------------------------------------------------------------- tidy


def _col(table: pa.Table, name: str) -> pa.Array:
    """A column as one trimmed string array."""
    return pc.utf8_trim_whitespace(table.column(name).combine_chunks())


def _first_labels(codes: pa.Array, labels: pa.Array) -> dict[str, str]:
    """Code → label of its first occurrence."""
    encoded = pc.dictionary_encode(codes)
    _, first = np.unique(encoded.indices.to_numpy(zero_copy_only=False), return_index=True)
    return dict(
        zip(encoded.dictionary.to_pylist(), labels.take(pa.array(first)).to_pylist(), strict=True)
    )


_REGIONAL_KEY = r"^(DG|\d{2}|\d{3}|\d{5}|\d{8}|\d{9}|\d{12})?$"
_REGIONAL_LABEL = re.compile(
    r"gemeinde|kreis|land|länder|region|deutschland|verband", re.IGNORECASE
)


def _is_regional(codes: list[str], attr_codes: pa.Array, labels: pa.Array) -> bool:
    """A known regional variable, or one whose attributes are all official regional keys."""
    if any(code in REGION_VARIABLES or _GEO_VARIABLE.match(code) for code in codes):
        return True
    if not codes or not pc.all(pc.match_substring_regex(attr_codes, _REGIONAL_KEY)).as_py():
        return False
    return any(_REGIONAL_LABEL.search(label or "") for label in pc.unique(labels).to_pylist())


def _levels(codes: pa.Array, keys: pa.Array) -> pa.Array:
    """The regionalstatistik level as written, else the level of the key's length."""
    if pc.all(pc.is_in(codes, value_set=pa.array(sorted(LEVELS)))).as_py():
        return codes
    encoded = pc.dictionary_encode(keys)
    derived = pa.array([level_of(k or "") for k in encoded.dictionary.to_pylist()], pa.string())
    return pc.if_else(
        pc.is_in(codes, value_set=pa.array(sorted(LEVELS))),
        codes,
        derived.take(encoded.indices),
    )


def _region_and_dimensions(table: pa.Table, layout: dict) -> tuple[dict, dict, dict]:
    """Split the dimension positions into the regional one and the others."""
    dim = layout["dim"]
    n = table.num_rows
    empty = pa.array(np.full(n, "", dtype=object), pa.string())
    region = {"level": empty, "ags": empty, "region_name": empty}
    dims: dict[str, pa.Array] = {}
    labels: dict[str, dict] = {}
    region_taken = False
    null = pa.scalar(None, pa.string())
    for k in layout["positions"]:
        codes = _col(table, dim(k, "code"))
        distinct = [c for c in pc.unique(codes).to_pylist() if c]
        attr_codes = _col(table, dim(k, "attribute_code"))
        if not region_taken and _is_regional(distinct, attr_codes, _col(table, dim(k, "label"))):
            region_taken = True
            region = {
                "level": _levels(codes, attr_codes),
                "ags": attr_codes,
                "region_name": _col(table, dim(k, "attribute_label")),
            }
            continue
        var_labels = _col(table, dim(k, "label"))
        attr_labels = _col(table, dim(k, "attribute_label"))
        for code in distinct:
            column = code
            while column in TIDY_COLUMNS or column in dims:
                column = f"{column}_{k}"
            mask = pc.equal(codes, code)
            everywhere = pc.all(mask).as_py()
            dims[column] = attr_codes if everywhere else pc.if_else(mask, attr_codes, null)
            chosen = attr_codes if everywhere else attr_codes.filter(mask)
            chosen_labels = attr_labels if everywhere else attr_labels.filter(mask)
            first_label = var_labels.filter(mask)[0].as_py()
            labels[column] = {
                "label": first_label,
                "attributes": _first_labels(chosen, chosen_labels),
            }
    return region, dims, labels


def _tidy_current(table: pa.Table, layout: dict, path, line_of) -> tuple[dict, dict]:
    region, dims, labels = _region_and_dimensions(table, layout)
    values, flags, marks = parse_values(
        table.column("value"), path, column="value", line_of=line_of
    )
    time, period_start = parse_times(table.column("time"))
    quality = _merge_quality(_col(table, layout["quality"]) if layout["quality"] else None, marks)
    measure = _col(table, "value_variable_code")
    columns = {
        "statistic": _col(table, "statistics_code"),
        **region,
        "time": time,
        "period_start": period_start,
        "measure": measure,
        "measure_label": _col(table, "value_variable_label"),
        "unit": _col(table, "value_unit"),
        "value": values,
        "flag": flags,
        "quality": quality,
        **dims,
    }
    meta = {
        "statistic_label": _distinct(_col(table, "statistics_label")),
        "time_code": _distinct(_col(table, "time_code")),
        "measures": _first_labels(measure, columns["measure_label"]),
        "dimensions": labels,
    }
    return columns, meta


def _tidy_old(table: pa.Table, layout: dict, path, line_of) -> tuple[dict, dict]:
    region, dims, labels = _region_and_dimensions(table, layout)
    time, period_start = parse_times(table.column("Zeit"))
    n = table.num_rows
    value_names = layout["values"]
    m = len(value_names)
    measures: dict[str, str] = {}
    parts: dict[str, list] = {
        k: [] for k in ("measure", "measure_label", "unit", "value", "flag", "quality")
    }
    for name in value_names:
        code, label, unit = _split_value_column(name)
        measures[code] = label
        values, flags, marks = parse_values(table.column(name), path, column=name, line_of=line_of)
        q = layout["quality_of"].get(name)
        parts["measure"].append(pa.array(np.full(n, code, dtype=object), pa.string()))
        parts["measure_label"].append(pa.array(np.full(n, label, dtype=object), pa.string()))
        parts["unit"].append(pa.array(np.full(n, unit, dtype=object), pa.string()))
        parts["value"].append(values)
        parts["flag"].append(flags)
        parts["quality"].append(_merge_quality(_col(table, q) if q else None, marks))
    # Wide to long: the key columns repeat once per value column.
    repeat = pa.array(np.tile(np.arange(n, dtype=np.int64), m))

    def tile(array: pa.Array) -> pa.Array:
        return array.take(repeat) if m > 1 else array

    columns = {
        "statistic": tile(_col(table, "Statistik_Code")),
        **{key: tile(region[key]) for key in ("level", "ags", "region_name")},
        "time": tile(time),
        "period_start": tile(period_start),
        **{key: pa.concat_arrays(arrays) for key, arrays in parts.items()},
        **{name: tile(array) for name, array in dims.items()},
    }
    meta = {
        "statistic_label": _distinct(_col(table, "Statistik_Label")),
        "time_code": _distinct(_col(table, "Zeit_Code")),
        "measures": measures,
        "dimensions": labels,
    }
    return columns, meta


def _merge_quality(quality: pa.Array | None, marks: pa.Array) -> pa.Array:
    """The quality column, or the mark written into the value cell where it is empty."""
    if quality is None:
        return marks
    return pc.if_else(pc.equal(quality, ""), marks, quality)


def _distinct(array: pa.Array) -> str:
    """The distinct non-empty values of a column, joined with ' | '."""
    return " | ".join(v for v in pc.unique(array).to_pylist() if v)
