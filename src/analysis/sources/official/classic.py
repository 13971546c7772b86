"""Classic regionalstatistik.de table downloads ("Tabelle als CSV") as tidy frames.

The layout, as the Regionaldatenbank writes it (ISO-8859-1, ``;``-separated)::

    GENESIS-Tabelle: 12411-01-01-4                         ← table code
    Bevölkerungsstand: Bevölkerung nach Geschlecht;;;;      ← title (may wrap over lines)
    - Stichtag 31.12. -;;;;
    regionale Tiefe: Kreise und krfr. Städte;;;;            ← regional depth
    Fortschreibung des Bevölkerungsstandes;;;;              ← the statistic
    Bevölkerungsstand (Anzahl);;;;                          ← optional: measure (unit) or a time
    ;;31.12.2015;31.12.2015;31.12.2015                      ← 1-4 header rows over the value
    ;;Insgesamt;männlich;weiblich                              columns (time, measure, variable,
    DG;Deutschland;82175684;40514123;41661561                  attribute, unit rows)
    01;  Schleswig-Holstein;2858714;1399458;1459256         ← data: [time;] code; indented name;
    01001;      Flensburg, Kreisfreie Stadt;85942;…            [row dimension;] values
    __________                                              ← footer: footnotes, licence, Stand
    "zu ""gesamter Tabelle"": …"
    "© Statistische Ämter des Bundes und der Länder, …"
    Stand: 14.12.2017 / 15:51:18
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis.errors import InputError
from analysis.sources.official.genesis import CREDIT, LICENCE, TIDY_COLUMNS
from analysis.sources.text import (
    block_size,
    decode,
    encoding_note,
    level_of,
    parse_time,
    parse_times,
    parse_values,
    read_bytes,
    record_lines,
)

_FOOTER_LINE = re.compile(r"(?m)^_{5,}[ \t;]*\r?$")
_AGS = re.compile(r"^(DG|\d{2}|\d{3}|\d{5}|\d{8}|\d{9}|\d{12})$")
_TABLE = re.compile(r"GENESIS-Tabelle:\s*(\S+)")
_MEASURE_UNIT = re.compile(r"^(?P<measure>.+?)\s*\((?P<unit>[^()]+)\)$")
_UNIT_WORDS = (
    r"(?:Anzahl|Personen|EUR|Euro|t|kg|m²|m³|qm|cbm|ha|km|km²|qkm|MWh|kWh|GWh|TJ|%|Prozent|"
    r"Promille|‰|Jahre|Tage|Stunden|Std\.|Betten|Stück)"
)
_UNIT = re.compile(
    rf"^(?:(?:\d[\d .]*|Tsd\.|Mill\.|Mio\.|Mrd\.)\s*)?{_UNIT_WORDS}$|^(?:\d[\d .]*|Tsd\.|Mill\.|Mio\.)$"
    r"|(?:^|\s)je\s"
)
#: Attribute label sets that name their variable when the header gives no name.
_KNOWN_ATTRIBUTES: dict[frozenset[str], str] = {
    frozenset({"insgesamt", "männlich", "weiblich"}): "Geschlecht",
}


def read_classic(path: str | Path) -> pd.DataFrame:
    """Read a classic regionalstatistik table CSV into the tidy long frame.

    Parameters
    ----------
    path : str or Path
        A table as downloaded from www.regionalstatistik.de ("Werteabruf" →
        CSV), usually ISO-8859-1.

    Returns
    -------
    pandas.DataFrame
        One row per value with the columns of
        :data:`analysis.sources.official.genesis.TIDY_COLUMNS`: ``statistic`` (the 5-digit
        statistic number of the table code), ``level`` (from the key length:
        ``DG`` → DINSG, 2 → DLAND, 3 → REGBEZ, 5 → KREISE, 8 → GEMEINDE),
        ``ags``, ``region_name`` (indentation removed), ``time`` and
        ``period_start`` (from a header row, the title block or the first
        column), ``measure`` and ``measure_label`` (the measure's label: classic
        tables carry no codes), ``unit``, ``value``, ``flag``, ``quality``
        (``""``, or ``()`` / a quality letter written beside a number such as
        ``(12)`` or ``12 p``), then one column per further dimension: row dimensions
        (a text column beside the region, e.g. the school type) and column
        dimensions from the header rows, named by the variable label in the
        header (e.g. ``Nationalität``) or, when the header only lists
        attributes, from the title's "nach …" part or the attribute set
        (Insgesamt/männlich/weiblich → ``Geschlecht``). They hold the attribute
        *label* as printed (``Insgesamt`` for the total), NA where a value column
        does not have that dimension.

        ``frame.attrs``: ``path``, ``encoding``, ``encoding_note``, ``variant``
        (``"classic"``), ``n_rows``, ``table`` (e.g. ``12411-01-01-4``),
        ``title``, ``statistic_label``, ``regional_depth``, ``footnotes``,
        ``licence_text``, ``stand``, ``header_rows``, ``credit``, ``licence``.

    Raises
    ------
    InputError
        Empty, binary or undecodable file; no regional key column (not a classic
        table); a data line with the wrong number of fields; no footer line
        ``__________`` (truncated download); a value that is neither a number nor
        a special symbol. The message names file, line and column.
    """
    data = read_bytes(path)
    text, encoding = decode(data, path)
    lines = text.split("\n")
    footer = _FOOTER_LINE.search(text)
    footer_at = text.count("\n", 0, footer.start()) if footer else None  # 0-based line
    body_end = footer_at if footer_at is not None else len(lines)
    while body_end > 0 and not lines[body_end - 1].strip(" \t\r;"):
        body_end -= 1
    # The title and header block is short: parse it line by line.
    top: list[list[str]] = []
    data_start = None
    for i in range(body_end):
        row = _split(lines[i])
        if _is_data_row(row):
            data_start = i
            break
        top.append(row)
    if data_start is None:
        raise InputError(
            path,
            "not a classic regionalstatistik table: expected data lines with a regional key "
            "(DG, 01, 031, 03159, 03159016) in one of the first columns, found none",
            line=1,
        )
    if footer_at is None:
        raise InputError(
            path,
            "expected the footer line '__________' after the data (is the file truncated?), "
            "found none",
            line=body_end,
        )
    header_start = data_start
    while header_start > 0 and _is_header_row(top[header_start - 1]):
        header_start -= 1
    title_rows = top[:header_start]
    header_rows = top[header_start:data_start]
    first_row = _split(lines[data_start])
    width = len(first_row)
    block = _read_block(lines[data_start:body_end], width, data_start + 1, path)

    def line_of(pos: int) -> int:
        return data_start + 1 + pos

    title = _parse_title(title_rows)
    n_key = _key_width(header_rows, first_row, width)
    keys = _classify_keys(block, n_key, line_of, path)
    columns = _classify_header(header_rows, n_key, width, title)
    frame = _tidy(block, keys, columns, title, path, line_of)
    footer = _parse_footer(record_lines("\n".join(lines[footer_at + 1 :])))
    frame.attrs = {
        "path": str(path),
        "encoding": encoding,
        "encoding_note": encoding_note(encoding),
        "variant": "classic",
        "n_rows": len(frame),
        "table": title["table"],
        "title": title["title"],
        "statistic_label": title["statistic_label"],
        "regional_depth": title["regional_depth"],
        "notes": title["notes"],
        "header_rows": len(header_rows),
        **footer,
        "credit": CREDIT,
        "licence": LICENCE,
    }
    return frame


# --------------------------------------------------------------------------- structure


def _is_header_row(row: list[str]) -> bool:
    return len(row) > 1 and row[0].strip() == "" and any(cell.strip() for cell in row[1:])


def _split(line: str) -> list[str]:
    """One physical line as fields (quotes honoured)."""
    line = line.rstrip("\r")
    if '"' not in line:
        return line.split(";")
    return next(csv.reader([line], delimiter=";"), [])


def _is_data_row(row: list[str]) -> bool:
    """A key in the first cell, something beside it, and a regional key among the first cells."""
    return (
        len(row) > 1
        and bool(row[0].strip())
        and any(cell.strip() for cell in row[1:])
        and any(_AGS.match(cell.strip()) for cell in row[:4])
    )


def _read_block(lines: list[str], width: int, first_line: int, path) -> pa.Table:
    """The data lines as an all-string Arrow table with columns "0", "1", …."""
    for offset, line in enumerate(lines):
        if not line.strip(" \t\r"):
            raise InputError(
                path,
                f"expected {width} ';'-separated fields as on the first data line, found an "
                "empty line",
                line=first_line + offset,
            )
    body = "\n".join(lines).encode("utf-8")
    names = [str(k) for k in range(width)]
    bad: list = []

    def on_invalid(row) -> str:
        bad.append((row.number, row.actual_columns))
        return "error"

    def parse(handler) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=block_size(body)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=";",
                newlines_in_values=b'"' in body,
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        # The row handler slows parsing down: use it only to locate a known problem.
        return parse(None)
    except pa.ArrowInvalid:
        pass
    try:
        return parse(on_invalid)
    except pa.ArrowInvalid as exc:
        if bad:
            number, found = bad[0]
            if number is None:
                number, found = next(
                    (
                        (i + 1, len(row))
                        for i, row in enumerate(csv.reader(lines, delimiter=";"))
                        if len(row) != width
                    ),
                    (None, found),
                )
            line = first_line + number - 1 if number is not None else None
            raise InputError(
                path,
                f"expected {width} ';'-separated fields as on the first data line, found "
                f"{found}" + (" (is the file truncated?)" if found < width else ""),
                line=line,
                column=min(found, width) + 1,
            ) from None
        raise InputError(path, f"cannot parse the data lines: {exc}", line=first_line) from None


def _parse_title(rows: list[list[str]]) -> dict:
    lines = [" ".join(cell.strip() for cell in row if cell.strip()) for row in rows]
    lines = [line for line in lines if line]
    info = {
        "table": "",
        "title": "",
        "statistic_label": "",
        "regional_depth": "",
        "measure": None,
        "unit": "",
        "time": None,
        "notes": [],
    }
    title_parts: list[str] = []
    depth_at = next((i for i, line in enumerate(lines) if "regionale Tiefe" in line), None)
    for i, line in enumerate(lines):
        m = _TABLE.search(line)
        if m:
            info["table"] = m[1]
            continue
        if depth_at is None or i < depth_at:
            title_parts.append(line)
        elif i == depth_at:
            # Sometimes the line also ends the title: "- Jahr - regionale Tiefe: Kreise …".
            before, _, after = line.partition("regionale Tiefe")
            if before.strip():
                title_parts.append(before.strip())
            info["regional_depth"] = after.lstrip(" :").strip()
        elif i == depth_at + 1:
            info["statistic_label"] = line
        else:
            _classify_title_extra(line, info)
    if depth_at is None and title_parts:
        # Without the "regionale Tiefe" line, trailing measure/time lines still count.
        while len(title_parts) > 1 and _title_extra_kind(title_parts[-1]):
            _classify_title_extra(title_parts.pop(), info)
    info["title"] = " ".join(title_parts)
    return info


def _title_extra_kind(line: str) -> str | None:
    if parse_time(line)[1] is not pd.NaT:
        return "time"
    if _MEASURE_UNIT.match(line):
        return "measure"
    return None


def _classify_title_extra(line: str, info: dict) -> None:
    kind = _title_extra_kind(line)
    if kind == "time" and info["time"] is None:
        info["time"] = line
    elif kind == "measure" and info["measure"] is None:
        m = _MEASURE_UNIT.match(line)
        info["measure"], info["unit"] = m["measure"].strip(), m["unit"].strip()
    else:
        info["notes"].append(line)


def _key_width(header_rows: list[list[str]], first_row: list[str], width: int) -> int:
    """Number of leading key columns (region, name, time, row dimensions)."""
    if header_rows:
        leading = []
        for row in header_rows:
            n = 0
            while n < len(row) and not row[n].strip():
                n += 1
            leading.append(n)
        return max(1, min(min(leading), width - 1))
    # No header: keys are the leading cells of the first data row that are not values.
    row = first_row
    n = 0
    while n < width - 1 and not _looks_like_value(row[n]):
        n += 1
    return max(n, 2)


def _looks_like_value(cell: str) -> bool:
    cell = cell.strip()
    return bool(re.fullmatch(r"[+-]?\d[\d.]*(,\d+)?|-|\.|x|/|\.\.\.", cell)) and not _AGS.match(
        cell
    )


def _key(block: pa.Table, k: int) -> pa.Array:
    return pc.utf8_trim_whitespace(block.column(str(k)).combine_chunks())


def _classify_keys(block: pa.Table, n_key: int, line_of, path) -> dict:
    """Find the region code, name, time and row-dimension columns among the keys."""
    cells = [set(pc.unique(_key(block, k)).to_pylist()) for k in range(n_key)]
    ags_col, best = None, 0.5
    for k in range(n_key):
        filled = [c for c in cells[k] if c]
        share = sum(bool(_AGS.match(c)) for c in filled) / len(filled) if filled else 0.0
        if share > best:
            ags_col, best = k, share
    if ags_col is None:
        raise InputError(
            path,
            "not a classic regionalstatistik table: expected a column of regional keys "
            "(DG, 01, 031, 03159, …) before the value columns, found none",
            line=line_of(0),
        )
    ags = _key(block, ags_col)
    not_key = pc.invert(pc.match_substring_regex(ags, _AGS.pattern))
    if pc.any(not_key).as_py():
        pos = int(np.flatnonzero(not_key.to_numpy(zero_copy_only=False))[0])
        raise InputError(
            path,
            f"expected a regional key (DG or 2, 3, 5, 8 digits), found {ags[pos].as_py()!r}",
            line=line_of(pos),
            column=ags_col + 1,
        )
    name_col = ags_col + 1 if ags_col + 1 < n_key else None
    time_col = None
    row_dims = []
    for k in range(n_key):
        if k in (ags_col, name_col):
            continue
        filled = [c for c in cells[k] if c]
        if time_col is None and filled and all(parse_time(c)[1] is not pd.NaT for c in filled):
            time_col = k
        else:
            row_dims.append(k)
    return {"ags": ags_col, "name": name_col, "time": time_col, "row_dims": row_dims}


def _is_time_row(row: list[str]) -> bool:
    filled = {c.strip() for c in row if c.strip()}
    return bool(filled) and all(parse_time(c)[1] is not pd.NaT for c in filled)


def _is_unit_row(row: list[str]) -> bool:
    filled = {c.strip() for c in row if c.strip()}
    return bool(filled) and all(_UNIT.search(c) for c in filled)


def _is_variable_row(row: list[str], below: list[str]) -> bool:
    """A row of variable names above a row of their attributes."""
    pairs = {
        (a.strip(), b.strip()) for a, b in zip(row, below, strict=True) if a.strip() or b.strip()
    }
    names = {a for a, _ in pairs if a}
    if not names or any(a and not b for a, b in pairs) or any(b and not a for a, b in pairs):
        return False
    if any(name.lower() == "insgesamt" for name in names):
        return False
    return len(names) < len(pairs)


def _classify_header(header_rows, n_key: int, width: int, title: dict) -> dict:
    """Per value column: time, measure, unit and the column dimensions."""
    cols = list(range(n_key, width))
    rows = [[row[k] if k < len(row) else "" for k in cols] for row in header_rows]
    n = len(cols)
    out = {
        "index": cols,
        "time": [title["time"] or ""] * n,
        "measure": [title["measure"] or ""] * n,
        "unit": [title["unit"]] * n,
        "dims": [],  # list of (name or None, [label per column])
    }
    rest = []
    for row in rows:
        if _is_time_row(row):
            out["time"] = [c.strip() for c in row]
        else:
            rest.append(row)
    if rest and _is_unit_row(rest[-1]) and (title["measure"] is None or len(rest) > 1):
        out["unit"] = [c.strip() for c in rest.pop()]
    if title["measure"] is None and rest:
        out["measure"] = [c.strip() for c in rest.pop(0)]
    i = 0
    while i < len(rest):
        if i + 1 < len(rest) and _is_variable_row(rest[i], rest[i + 1]):
            names = [c.strip() for c in rest[i]]
            labels = [c.strip() for c in rest[i + 1]]
            for name in dict.fromkeys(x for x in names if x):
                out["dims"].append(
                    (
                        name,
                        [
                            lab if nm == name else None
                            for nm, lab in zip(names, labels, strict=True)
                        ],
                    )
                )
            i += 2
        else:
            out["dims"].append((None, [c.strip() or None for c in rest[i]]))
            i += 1
    return out


def _title_candidates(title: str) -> list[str]:
    """Variable names from the title's "nach A, B und C" part."""
    # Parenthesised remarks ("(79)", "(über Gemeindegrenzen und …)") are not names.
    plain = re.sub(r"\s*\([^()]*\)", "", title)
    m = re.search(r"\bnach\s+(.+?)(?:\s+-\s|\s+-$|\s*$)", plain)
    if not m:
        return []
    parts = re.split(r",\s*|\s+und\s+|\s+sowie\s+", m[1])
    return [p.strip() for p in parts if p.strip()]


def _name_dimensions(row_dim_count: int, column_dims: list, title: dict) -> tuple[list, list]:
    used = {name.lower() for name, _ in column_dims if name}
    candidates = [c for c in _title_candidates(title["title"]) if c.lower() not in used]
    column_names = []
    for name, labels in column_dims:
        if name is None:
            attrs = frozenset(lab.lower() for lab in labels if lab)
            name = next((v for k, v in _KNOWN_ATTRIBUTES.items() if attrs <= k), None)
            if name and name.lower() in {c.lower() for c in candidates}:
                candidates = [c for c in candidates if c.lower() != name.lower()]
        column_names.append(name)
    row_names = []
    for _ in range(row_dim_count):
        row_names.append(candidates.pop(0) if candidates else None)
    for i, name in enumerate(column_names):
        if name is None:
            column_names[i] = candidates.pop(0) if candidates else None
    taken: set[str] = set(TIDY_COLUMNS)
    final_rows, final_cols = [], []
    counter = 1
    for names, final in ((row_names, final_rows), (column_names, final_cols)):
        for name in names:
            if name is None:
                name = f"dimension_{counter}"
                counter += 1
            base, k = name, 2
            while name in taken:
                name = f"{base}_{k}"
                k += 1
            taken.add(name)
            final.append(name)
    return final_rows, final_cols


# --------------------------------------------------------------------------- tidy


def _tidy(block: pa.Table, keys: dict, columns: dict, title: dict, path, line_of) -> pd.DataFrame:
    n_rows = block.num_rows
    value_cols = columns["index"]
    m = len(value_cols)
    value_parts, flag_parts, mark_parts = [], [], []
    for k in value_cols:
        values, flags, marks = parse_values(
            block.column(str(k)), path, column=k + 1, line_of=line_of
        )
        value_parts.append(values)
        flag_parts.append(flags)
        mark_parts.append(marks)
    # Long rows in table order: region by region, the value columns within. The parsed
    # columns are concatenated column by column, so take them in that order.
    row_index = np.repeat(np.arange(n_rows), m)
    col_index = np.tile(np.arange(m), n_rows)
    interleave = pa.array(col_index * n_rows + row_index)
    by_row = pa.array(row_index)
    by_col = pa.array(col_index)
    everywhere = pa.array(np.zeros(n_rows * m, dtype=np.int64))

    def key_column(k: int | None) -> pa.Array:
        if k is None:
            return pa.array([""], pa.string()).take(everywhere)
        return _key(block, k).take(by_row)

    def header_column(labels: list) -> pa.Array:
        return pa.array(labels, pa.string()).take(by_col)

    ags = _key(block, keys["ags"])
    encoded = pc.dictionary_encode(ags)
    levels = pa.array([level_of(c) for c in encoded.dictionary.to_pylist()], pa.string())
    if keys["time"] is not None:
        times = key_column(keys["time"])
    else:
        times = header_column(columns["time"])
    time_iso, period_start = parse_times(times)
    statistic = title["table"].split("-", 1)[0] if title["table"] else ""
    measure = header_column(columns["measure"])
    table = {
        "statistic": pa.array([statistic], pa.string()).take(everywhere),
        "level": levels.take(encoded.indices).take(by_row),
        "ags": ags.take(by_row),
        "region_name": key_column(keys["name"]),
        "time": time_iso,
        "period_start": period_start,
        "measure": measure,
        "measure_label": measure,
        "unit": header_column(columns["unit"]),
        "value": pa.concat_arrays(value_parts).take(interleave),
        "flag": pa.concat_arrays(flag_parts).take(interleave),
        "quality": pa.concat_arrays(mark_parts).take(interleave),
    }
    row_names, col_names = _name_dimensions(len(keys["row_dims"]), columns["dims"], title)
    for name, k in zip(row_names, keys["row_dims"], strict=True):
        table[name] = key_column(k)
    for name, (_, labels) in zip(col_names, columns["dims"], strict=True):
        table[name] = header_column(labels)
    return pa.table(table).to_pandas()


def _parse_footer(records) -> dict:
    footnotes, licence, stand = [], [], ""
    for _, row in records:
        text = ";".join(row).strip().strip(";").strip()
        if not text:
            continue
        if text.startswith("Stand:"):
            stand = text.split(":", 1)[1].strip()
        elif "©" in text or "Datenlizenz" in text or "lizensiert" in text or "lizenziert" in text:
            licence.append(text)
        else:
            footnotes.append(text)
    return {
        "footnotes": "\n".join(footnotes),
        "licence_text": "\n".join(licence),
        "stand": stand,
    }
