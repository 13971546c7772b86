"""Salesforce Data Export CSVs ("weekly export"): one object per file.

API-name headers, every field quoted, ``,``; booleans ``"0"/"1"``; datetimes
``YYYY-MM-DD HH:MM:SS`` (UTC); 18-character Ids with the null sentinel
``000000000000000AAA``; UTF-8 with or without BOM, or Windows-1252 (sniffed).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputError
from analysis.privacy.ingest import allowed_columns
from analysis.sources.crm import exports, parsers, textfile
from analysis.sources.crm.exports import (
    SOURCE,
    WORKERS,
    ObjectData,
    Problems,
    default_values,
    describe_header,
    finalize,
    key_source,
    noted_sha256,
    to_frame,
)
from analysis.sources.crm.objects import FORECAST_CATEGORIES, KEYED, SPECS, Field

# --------------------------------------------------------------------------- parsing


def parse_field(values, f: Field, problems: Problems, *, locale: dict | None = None):
    """Parse one column by kind; bad cells go to ``problems``. Returns an array."""
    kind = f.kind
    if kind == "id":
        ids, bad = parsers.parse_ids(values)
        if bad.any():
            problems.add(
                bad,
                f.api,
                exports.bad_values(values, bad, "a 15- or 18-character Salesforce Id"),
            )
        return ids
    if kind == "bool":
        out, bad = parsers.parse_bools(values)
        if bad.any():
            problems.add(
                bad, f.api, exports.bad_values(values, bad, 'a boolean ("0"/"1", true/false)')
            )
        return out
    if kind in ("datetime", "date"):
        if locale is not None and locale.get(f.name):
            out, bad = parsers.parse_locale_datetimes(values, locale[f.name])
            if kind == "date":
                out = out.astype("datetime64[D]").astype("datetime64[us]")
            what = {
                "dmy.": "a date DD.MM.YYYY",
                "mdy/": "a date M/D/YYYY",
                "dmy/": "a date D/M/YYYY",
                "ymd-": "a date YYYY-MM-DD",
            }[locale[f.name]]
        else:
            parse = parsers.parse_dates if kind == "date" else parsers.parse_datetimes
            out, bad = parse(values)
            what = "a valid date YYYY-MM-DD[ HH:MM:SS] (Data Export format)"
        if bad.any():
            reasons = exports.bad_values(
                values, bad, what, shape=exports.DATE_SHAPE, shape_note=exports.DATE_SHAPE_NOTE
            )
            problems.add(bad, f.api, reasons)
        return out
    if kind == "number":
        if locale is not None and "decimal" in locale:
            out, _, bad = parsers.parse_locale_numbers(values, locale["decimal"])
            what = "a number"
        else:
            out, bad = parsers.parse_plain_numbers(values)
            what = "a plain number like 12500.00 (Data Export format)"
        if bad.any():
            note = (
                "the value is a formatted number (grouping, decimal comma or currency): "
                "was the file edited in a spreadsheet?"
                if locale is None
                else "the value has digits but is not a number in the report's format"
            )
            reasons = exports.bad_values(
                values, bad, what, shape=exports.NUMBER_SHAPE, shape_note=note
            )
            problems.add(bad, f.api, reasons)
        return out
    text = parsers.text_column(values)
    if kind == "forecast":
        return _map_values(text, FORECAST_CATEGORIES)
    return text


def parse_field_task(values, f: Field, locale: dict | None = None):
    """Parse one column in a worker thread: its values and its own problems."""
    found = Problems()
    return parse_field(values, f, found, locale=locale), found


def _map_values(arr: pa.Array, mapping: Mapping[str, str]) -> pa.Array:
    """Map values through ``mapping`` (keys lower-case); unmapped values stay."""
    encoded = pc.dictionary_encode(arr)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = [mapping.get(v.lower(), v) for v in encoded.dictionary.to_pylist()]
    return pa.array(dictionary, pa.string()).take(encoded.indices)


def empty_frame(object_name: str) -> pd.DataFrame:
    """The canonical, typed, empty frame of an object (for a file that is absent)."""
    data = {f.name: default_values(f.kind, 0) for f in SPECS[object_name]}
    frame = to_frame(data)
    return frame.drop(columns=[c for c in _INTERNAL if c in frame.columns])


_INTERNAL = ("is_deleted", "master_record_id", "system_modstamp")


# --------------------------------------------------------------------------- Data Export


def _required(object_name: str) -> list[str]:
    return [f.api for f in SPECS[object_name] if f.required]


def _check_required(tf: textfile.TextFile, object_name: str) -> None:
    header = set(tf.header)
    required = _required(object_name)
    missing = [c for c in required if c not in header]
    if object_name == "OpportunityStage" and not ({"ApiName", "MasterLabel"} & header):
        missing.insert(0, "ApiName")
    if not missing:
        return
    looks_like_labels = sum(" " in h for h in tf.header) > len(tf.header) / 2
    hint = (
        " The header has labels with spaces: this looks like a report export - read it "
        "with read_report."
        if looks_like_labels
        else ""
    )
    shown = describe_header(tf.header, {f.api for spec in SPECS.values() for f in spec})
    raise InputError(
        tf.path,
        f"missing required column {missing[0]!r}"
        + (f" (and {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else "")
        + f"; {'an' if object_name[0] in 'AEIOU' else 'a'} {object_name} Data Export needs the "
        + "API-name columns "
        + ", ".join(required)
        + f"; found: {shown}.{hint}",
        line=tf.header_line,
        column=missing[0],
    )


def read_export(
    path: str | Path,
    object_name: str,
    *,
    allow_custom: Iterable[str] = (),
    encoding: str | None = None,
    key: bytes | None = None,
) -> ObjectData:
    """Read one Salesforce Data Export CSV (``Opportunity.csv`` …).

    Parameters
    ----------
    path : str or Path
    object_name : str
        A key of :data:`SPECS` (``"Opportunity"``, ``"OpportunityHistory"``, …).
    allow_custom : iterable of str
        Custom (``__c``) columns to read as text (named in snake_case); a name that
        looks personal (``ForecastComments__c``) is refused.
    encoding : str, optional
        ``"utf-8"`` or ``"cp1252"``; default: sniffed.
    key : bytes, optional
        Pseudonym key for quarantined record ids (default :func:`load_key`, asked
        only if a row is quarantined).

    Returns
    -------
    ObjectData

    Raises
    ------
    InputError
        Structural problems (see the module docstring).
    """
    from analysis.provenance import note_input

    path = Path(path)
    if object_name not in SPECS:
        raise InputError(path, f"unknown Salesforce object {object_name!r}; known: {sorted(SPECS)}")
    spec = SPECS[object_name]
    tf = textfile.open_text(path, encoding=encoding, delimiter=",", kind="Salesforce Data Export")
    _check_required(tf, object_name)
    extra = list(allow_custom)
    read, ignored = allowed_columns(object_name, tf.header, extra)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        # Hashing for the report's source list runs beside parsing (hashlib and
        # pyarrow release the GIL); the columns are validated in parallel too.
        noted = pool.submit(note_input, path, source=f"{SOURCE}: Data Export {object_name}")
        table = textfile.read_columns(tf, read)
        n = table.num_rows
        fields = [f for f in spec if f.api in read]
        columns = [table.column(f.api) for f in fields]
        parsed = list(pool.map(parse_field_task, columns, fields))
        noted.result()
    problems = Problems()
    by_name = {}
    for f, (values, found) in zip(fields, parsed, strict=True):
        by_name[f.name] = values
        problems.extend(found)
    data: dict = {
        f.name: by_name[f.name] if f.name in by_name else default_values(f.kind, n) for f in spec
    }
    known = {f.api for f in spec}
    for name in read:
        if name not in known:
            # An allow-listed custom field: text, named in snake_case without "__c"
            # (with "_c" if that would clash with a standard column).
            snake = _snake(name)
            data[snake if snake not in data else snake + "_c"] = parsers.text_column(
                table.column(name)
            )
    del table
    info = {
        "path": str(path),
        "format": "data_export",
        "encoding": tf.encoding,
        "ignored_columns": ignored,
        "missing_optional_columns": [f.api for f in spec if f.api not in read and not f.required],
        "sha256": noted_sha256(path),
    }
    line_of = functools.partial(textfile.row_lines, tf, n)
    return finalize(
        object_name,
        data,
        problems,
        info,
        line_of,
        key_source(key),
        id_column=spec[0].name,
        id_label=spec[0].api,
        dedupe=object_name in KEYED,
    )


def _snake(name: str) -> str:
    base = re.sub(r"__c$", "", name)
    base = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()
    return re.sub(r"[^0-9a-z]+", "_", base).strip("_")
