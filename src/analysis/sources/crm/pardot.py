"""Pardot (Marketing Cloud Account Engagement) prospect exports.

Two formats are read (``crm_formats.md`` §1.4):

* **UI export**: UTF-8 with BOM, label headers (``Prospect Id,First Name,…,Created
  Date,Owner,Lifecycle Stage,Created by Marketing``), dates in the user's locale
  (``MM/DD/YYYY`` in the known sample; ``DD.MM.YYYY`` is sniffed too).
* **Export API**: no BOM, snake_case (v3/v4: ``id,campaign_id,…,created_at,updated_at``)
  or camelCase (v5) field names, datetimes ``YYYY-MM-DD HH:MM:SS`` in the exporting
  user's time zone (pass ``timezone`` to convert them to UTC; otherwise they stay
  local and ``info['timezone']`` says so).

Column names are normalised to snake_case before they are matched, so the label,
snake and camel spellings are one name. Only allow-listed columns are read
(:data:`analysis.privacy.ALLOWED_COLUMNS['PardotProspect']`): the name, e-mail,
phone, address, company, comments, notes and the ``Owner`` (an e-mail) never are.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputError
from analysis.privacy.ingest import allowed_columns, normalize_name
from analysis.sources.crm import exports, parsers, textfile
from analysis.sources.crm.exports import (
    SOURCE,
    WORKERS,
    ObjectData,
    Problems,
    describe_header,
    empty_quarantine,
    finalize,
    key_source,
    not_used,
    noted_sha256,
    quarantine_frame,
)

OBJECT = "PardotProspect"

#: canonical name → (accepted normalised names, kind)
PROSPECT_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "prospect_id": (("prospect_id", "id"), "pardot_id"),
    "crm_lead_fid": (("crm_lead_fid", "crm_lead_id", "salesforce_lead_id"), "id"),
    "crm_contact_fid": (("crm_contact_fid", "crm_contact_id", "salesforce_contact_id"), "id"),
    "crm_account_fid": (("crm_account_fid",), "id"),
    "score": (("score",), "number"),
    "grade": (("grade",), "text"),
    "source": (("source",), "text"),
    "campaign": (("campaign", "campaign_id"), "text"),
    "lifecycle_stage": (("lifecycle_stage",), "text"),
    "created_by_marketing": (("created_by_marketing",), "bool"),
    "country": (("country",), "text"),
    "industry": (("industry",), "text"),
    "created_at": (("created_at", "created_date"), "datetime"),
    "updated_at": (("updated_at", "updated_date"), "datetime"),
    "last_activity_at": (("last_activity_at", "last_activity_date"), "datetime"),
}
_REQUIRED = ("prospect_id", "created_at")


def empty_prospects() -> pd.DataFrame:
    """The canonical, typed, empty prospects frame."""
    columns = {}
    for name, (_, kind) in PROSPECT_FIELDS.items():
        if kind == "number":
            columns[name] = pd.Series(dtype="float64")
        elif kind == "bool":
            columns[name] = pd.Series(dtype="boolean")
        elif kind == "datetime":
            columns[name] = pd.Series(dtype="datetime64[us]")
        else:
            columns[name] = pd.Series(dtype="str")
    return pd.DataFrame(columns)


def read_prospects(
    path: str | Path,
    *,
    encoding: str | None = None,
    timezone: str | None = None,
    date_order: str | None = None,
    key: bytes | None = None,
) -> ObjectData:
    """Read one Pardot prospect export (UI or export API).

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        Default: sniffed (UTF-8 with/without BOM, else Windows-1252).
    timezone : str, optional
        IANA zone of the export's local times (e.g. ``"Europe/Berlin"``): converted
        to UTC. Without it the times stay as written.
    date_order : {"mdy/", "dmy.", "dmy/", "ymd-"}, optional
        Shape of UI-export dates; default sniffed (``MM/DD/YYYY`` when undecided).
    key : bytes, optional
        Pseudonym key for quarantined record ids.

    Returns
    -------
    ObjectData
        ``frame``: ``prospect_id, crm_lead_fid, crm_contact_fid, crm_account_fid,
        score, grade, source, campaign, lifecycle_stage, created_by_marketing
        (nullable boolean: NA when the export lacks it), country, industry,
        created_at, updated_at, last_activity_at``.

    Raises
    ------
    InputError
        Structural problems; a missing ``Prospect Id``/``id`` or created-date column.
    """
    from analysis.provenance import note_input

    path = Path(path)
    tf = textfile.open_text(path, encoding=encoding, delimiter=None, kind="Pardot export")
    source_of, ignored = _map_header(tf)
    ui_format = " " in tf.header[0] or any(" " in h for h in tf.header)
    used = list(dict.fromkeys(source_of.values()))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        noted = pool.submit(note_input, path, source=f"{SOURCE}: Pardot prospect export")
        table = textfile.read_columns(tf, used)
        n = table.num_rows
        present = [(c, kind) for c, (_, kind) in PROSPECT_FIELDS.items() if c in source_of]
        columns = [table.column(source_of[c]) for c, _ in present]
        parsed = list(
            pool.map(
                _parse_column,
                columns,
                [kind for _, kind in present],
                [source_of[c] for c, _ in present],
                [date_order] * len(present),
                [timezone] * len(present),
            )
        )
        noted.result()
    problems = Problems()
    by_name: dict = {}
    date_orders: dict[str, str] = {}
    for (canonical, kind), (values, found, order) in zip(present, parsed, strict=True):
        by_name[canonical] = values
        problems.extend(found)
        if kind == "datetime":
            date_orders[canonical] = order
    data: dict = {
        canonical: by_name[canonical] if canonical in by_name else _missing(kind, n)
        for canonical, (_, kind) in PROSPECT_FIELDS.items()
    }
    del table
    info = {
        "path": str(path),
        "format": "pardot_ui" if ui_format else "pardot_api",
        "encoding": tf.encoding,
        "ignored_columns": ignored,
        "missing_optional_columns": [c for c in PROSPECT_FIELDS if c not in source_of],
        "date_order": date_orders,
        "timezone": timezone or "as exported (the exporting user's local time)",
        "sha256": noted_sha256(path),
    }
    line_of = functools.partial(textfile.row_lines, tf, n)
    return finalize(
        OBJECT,
        data,
        problems,
        info,
        line_of,
        key_source(key),
        id_column="prospect_id",
        id_label=source_of["prospect_id"],
    )


def _map_header(tf: textfile.TextFile) -> tuple[dict[str, str], list[str]]:
    """Canonical name → column of the file (allow-listed only), and the ignored columns."""
    read, ignored = allowed_columns(OBJECT, tf.header)
    by_norm: dict[str, str] = {}
    for name in read:
        by_norm.setdefault(normalize_name(name), name)
    source_of: dict[str, str] = {}
    for canonical, (aliases, _) in PROSPECT_FIELDS.items():
        for alias in aliases:
            if alias in by_norm:
                source_of[canonical] = by_norm[alias]
                break
    aliases = {a for names, _ in PROSPECT_FIELDS.values() for a in names}
    known_labels = [h for h in tf.header if normalize_name(h) in aliases]
    labels = {
        "prospect_id": "'Prospect Id' (UI) or 'id' (export API)",
        "created_at": "'Created Date' (UI) or 'created_at' (export API)",
    }
    for canonical in _REQUIRED:
        if canonical not in source_of:
            raise InputError(
                tf.path,
                f"missing required column {labels[canonical]}; a Pardot prospect export needs "
                f"{labels['prospect_id']} and {labels['created_at']}; found "
                f"{describe_header(tf.header, known_labels)}",
                line=tf.header_line,
                column=canonical,
            )
    return source_of, ignored


def _parse_column(values, kind: str, column: str, date_order: str | None, timezone: str | None):
    """Parse one prospect column (in a worker thread): values, problems, date shape."""
    problems = Problems()
    order = ""
    if kind == "pardot_id":
        out = parsers.text_column(values)
        digits = parsers.as_numpy(pc.utf8_is_digit(out))
        if not digits.all():
            problems.add(
                ~digits, column, exports.bad_values(out, ~digits, "a numeric Pardot prospect id")
            )
    elif kind == "id":
        out, bad = parsers.parse_ids(values)
        if bad.any():
            problems.add(
                bad,
                column,
                exports.bad_values(values, bad, "a 15- or 18-character Salesforce Id"),
            )
    elif kind == "number":
        out, bad = parsers.parse_plain_numbers(values)
        if bad.any():
            problems.add(bad, column, exports.bad_values(values, bad, "a number"))
    elif kind == "bool":
        flags, bad = parsers.parse_bools(values)
        if bad.any():
            problems.add(bad, column, exports.bad_values(values, bad, "TRUE or FALSE"))
        out = pd.array(flags, dtype="boolean")
    elif kind == "datetime":
        out, bad, order = _parse_pardot_times(values, date_order)
        if bad.any():
            what = {
                "iso": "a datetime YYYY-MM-DD HH:MM:SS",
                "mdy/": "a date MM/DD/YYYY",
                "dmy.": "a date DD.MM.YYYY",
                "dmy/": "a date DD/MM/YYYY",
                "ymd-": "a date YYYY-MM-DD",
            }[order]
            reasons = exports.bad_values(
                values, bad, what, shape=exports.DATE_SHAPE, shape_note=exports.DATE_SHAPE_NOTE
            )
            problems.add(bad, column, reasons)
        if timezone:
            out = _to_utc(out, timezone)
    else:
        out = parsers.text_column(values)
    return out, problems, order


def _missing(kind: str, n: int):
    if kind == "number":
        return np.full(n, np.nan)
    if kind == "bool":
        return pd.array([pd.NA] * n, dtype="boolean")
    if kind == "datetime":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    return pa.array([""] * n, pa.string())


def _parse_pardot_times(values, date_order: str | None):
    sample = [v for v in parsers.as_array(values).slice(0, 2000).to_pylist() if v and v.strip()][
        :500
    ]
    machine = sum(1 for v in sample if v.strip()[:4].isdigit() and v.strip()[4:5] == "-")
    if date_order is None and (not sample or machine == len(sample)):
        out, bad = parsers.parse_datetimes(values)
        return out, bad, "iso"
    order = date_order or parsers.sniff_date_order(sample, default="mdy/")
    out, bad = parsers.parse_locale_datetimes(values, order)
    return out, bad, order


def _to_utc(values: np.ndarray, timezone: str) -> np.ndarray:
    local = pd.Series(values).dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    return local.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")


def load_prospects(
    location: Path,
    *,
    key: bytes | None = None,
    timezone: str | None = None,
    required: bool = False,
) -> ObjectData | None:
    """Read a prospect export, or every CSV in a folder of them.

    When a folder holds both export-API and UI files, the export-API files are used
    (full timestamps; the UI files are typically the same prospects) and the UI files
    are listed in ``info['ignored_files']`` and, read, in ``info['ignored_exports']``
    (every row counted as not used). Prospects found in several files keep
    the most recently updated record; the others are quarantined.

    Returns
    -------
    ObjectData or None
        None when ``location`` does not exist (and ``required`` is False).
    """
    location = Path(location)
    if location.is_file():
        return read_prospects(location, timezone=timezone, key=key)
    if not location.is_dir():
        if required:
            raise InputError(location, "no Pardot export found (expected a CSV file or a folder)")
        return None
    files = sorted(p for p in location.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        if required:
            raise InputError(location, "no Pardot prospect export (*.csv) in the folder")
        return None
    parts = [read_prospects(p, timezone=timezone, key=key) for p in files]
    api = [p for p in parts if p.info["format"] == "pardot_api"]
    chosen = api if api else parts
    ignored_files = [p.info["path"] for p in parts if p not in chosen]
    reason = "a UI export, not used: the export-API files in the folder are (full timestamps)"
    ignored = [not_used(p, reason) for p in parts if p not in chosen]
    if len(chosen) == 1:
        only = chosen[0]
        only.info["ignored_files"] = ignored_files
        only.info["ignored_exports"] = ignored
        return only
    frames = [p.frame.assign(_part=i, _row=p.rows) for i, p in enumerate(chosen)]
    frame = pd.concat(frames, ignore_index=True)
    recency = frame["updated_at"].fillna(frame["created_at"])
    order = frame.assign(_recency=recency).sort_values(["_recency", "_part", "_row"], kind="stable")
    winners = order.drop_duplicates("prospect_id", keep="last").index
    losers = frame.index.difference(winners)
    quarantine = [p.quarantine for p in chosen]
    keys = key_source(key)
    if len(losers):
        lost = frame.loc[losers]
        for part, group in lost.groupby("_part"):
            source = chosen[int(part)]
            quarantine.append(
                quarantine_frame(
                    source.info["path"],
                    source.line_of(group["_row"].to_numpy()),
                    "prospect_id",
                    "the prospect is in a more recently updated record of another export file",
                    group["prospect_id"].reset_index(drop=True),
                    keys,
                    "duplicate",
                )
            )
    kept = frame.loc[winners.sort_values()].reset_index(drop=True)
    rows = kept["_row"].to_numpy()
    kept = kept.drop(columns=["_part", "_row"])
    counts = {k: sum(p.counts[k] for p in chosen) for k in chosen[0].counts}
    counts["n_duplicates"] += len(losers)
    counts["n_rows_used"] -= len(losers)
    info = {
        "path": ", ".join(p.info["path"] for p in chosen),
        "format": chosen[0].info["format"],
        "encoding": ", ".join(sorted({p.info["encoding"] for p in chosen})),
        "files": [p.info for p in chosen],
        "ignored_files": ignored_files,
        "ignored_exports": ignored,
    }
    merged = pd.concat([empty_quarantine(), *quarantine], ignore_index=True)
    # Rows of several files: line numbers cannot be told from a row alone any more.
    return ObjectData(OBJECT, kept, merged, counts, info, rows, None, keys, "prospect_id")
