"""Shared record machinery of the CRM readers: results, quarantine and finalising.

:class:`ObjectData` is what every reader returns for one object (a Salesforce Data
Export, a report export, a Pardot export); :func:`finalize` turns parsed columns and
the problems found into it (deleted and merged rows dropped, bad rows and superseded
duplicates quarantined with file, line, column and the rule broken).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.privacy.ingest import load_key, pseudonymize
from analysis.sources.crm.parsers import as_array, as_numpy, duplicated_ids

# --------------------------------------------------------------------------- problems


@dataclass
class Problems:
    """Collects rows that cannot be used: one entry per (row, column, reason)."""

    rows: list[np.ndarray] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    reasons: list[np.ndarray | str] = field(default_factory=list)

    def add(self, mask_or_rows, column: str, reason) -> None:
        """Add rows (a boolean mask or positions) failing ``column`` for ``reason``.

        ``reason`` is one string or an array of strings parallel to the rows.
        """
        rows = np.asarray(mask_or_rows)
        if rows.dtype == bool:
            if isinstance(reason, np.ndarray) and reason.shape == rows.shape:
                reason = reason[rows]
            rows = np.flatnonzero(rows)
        if rows.size:
            self.rows.append(rows.astype(np.int64))
            self.columns.append(column)
            self.reasons.append(reason)

    def extend(self, other: Problems) -> None:
        """Append the problems another collector found (e.g. in a worker thread)."""
        self.rows.extend(other.rows)
        self.columns.extend(other.columns)
        self.reasons.extend(other.reasons)

    def any_rows(self, n_rows: int) -> np.ndarray:
        """Boolean mask of rows with at least one problem."""
        mask = np.zeros(n_rows, dtype=bool)
        for rows in self.rows:
            mask[rows] = True
        return mask

    def frame(self) -> pd.DataFrame:
        """``row, column, reason`` for every problem."""
        if not self.rows:
            return pd.DataFrame(
                {
                    "row": pd.Series(dtype="int64"),
                    "column": pd.Series(dtype="str"),
                    "reason": pd.Series(dtype="str"),
                }
            )
        parts = []
        for rows, column, reason in zip(self.rows, self.columns, self.reasons, strict=True):
            parts.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "column": column,
                        "reason": reason if isinstance(reason, str) else np.asarray(reason, str),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True).astype({"column": "str", "reason": "str"})


#: A cell shaped like a number with grouping, a decimal comma or a currency.
NUMBER_SHAPE = r"^[-+(]?\s*(?:[€$£]|[A-Z]{3})?\s*[\d.,' \x{00A0}]*\d[\d.,' \x{00A0}]*\s*(?:[€$£]|[A-Z]{3})?\)?$"

#: A cell shaped like a date (digits and separators) that still failed to parse.
DATE_SHAPE = r"^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}([ T,].*)?$"
DATE_SHAPE_NOTE = (
    "the value is written as a date but is no calendar date (day, month or time out of range)"
)


def bad_values(
    arr, mask: np.ndarray, what: str, *, shape: str | None = None, shape_note: str = ""
) -> np.ndarray:
    """Reason strings for the masked cells, naming the rule broken, never the content.

    A cell typed into the wrong field may hold a name, an e-mail address or a phone
    number, and reasons end up in reports and logs: so a reason says what was
    expected and, at most, how the value failed, never what it was.

    Parameters
    ----------
    arr : array-like of str
        The column's cells.
    mask : numpy.ndarray of bool
        The cells that failed.
    what : str
        What was expected (``"a date YYYY-MM-DD"``).
    shape : str, optional
        A regular expression for cells that have the expected *format* but still
        failed (an impossible calendar date); they get ``shape_note`` as reason.
    shape_note : str
        The reason for those cells.

    Returns
    -------
    numpy.ndarray of object
        One reason per cell (``""`` where the mask is false).
    """
    reasons = np.full(mask.shape, "", dtype=object)
    reasons[mask] = f"expected {what}; the value is something else (not shown)"
    if shape is not None and mask.any():
        cells = pc.utf8_trim_whitespace(as_array(arr))
        near = as_numpy(pc.fill_null(pc.match_substring_regex(cells, shape), False))
        reasons[mask & near] = f"expected {what}; {shape_note}"
    return reasons


def describe_header(header, known) -> str:
    """The header fields for a message: known labels by name, the others only counted.

    A file without a header row has a record where the header should be; its cells
    (a name, an e-mail address) must not reach a message, so only fields that are
    labels of a known export are named.
    """
    known_lower = {str(k).lower() for k in known}
    named = [h for h in header if h.strip().lower() in known_lower]
    others = len(header) - len(named)
    shown = ", ".join(named[:12]) + (", …" if len(named) > 12 else "")
    rest = f"{others} other field(s), not shown" if others else ""
    parts = [p for p in (shown, rest) if p]
    return f"{len(header)} field(s): " + ("; ".join(parts) if parts else "none")


SOURCE = "Salesforce Sales Cloud export"

#: Threads that validate columns in parallel (pyarrow and NumPy release the GIL).
WORKERS = min(4, os.cpu_count() or 1)

QUARANTINE_COLUMNS = ["file", "line", "column", "reason", "record_id", "action"]

#: What happened to a row listed in a quarantine table: set aside for a broken
#: rule, superseded by a newer duplicate, kept but flagged, or in an export not used.
ACTIONS = ("quarantined", "duplicate", "kept", "not used")

# --------------------------------------------------------------------------- results


@dataclass(eq=False)
class ObjectData:
    """What a reader returns for one object.

    Attributes
    ----------
    object_name : str
    frame : DataFrame
        Canonical columns of the usable rows.
    quarantine : DataFrame
        ``file, line, column, reason, record_id`` for rows not used.
    counts : dict
        ``n_rows_read, n_deleted, n_merged, n_duplicates, n_quarantined, n_rows_used``.
    info : dict
        ``path, format, encoding, ignored_columns, footer, ...``.
    rows : numpy.ndarray
        0-based data row in the file of each frame row (for later quarantining).
    """

    object_name: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    counts: dict
    info: dict
    rows: np.ndarray = field(repr=False, default=None)
    line_of: Callable[[np.ndarray], np.ndarray] = field(repr=False, default=None)
    key_source: Callable[[], bytes] = field(repr=False, default=None)
    id_column: str = ""
    flags: pd.DataFrame = field(repr=False, default_factory=lambda: empty_quarantine())

    def _entries(self, mask: np.ndarray, column: str, reasons, action: str) -> pd.DataFrame:
        bad = self.frame[mask]
        reason = reasons[mask] if isinstance(reasons, np.ndarray) else reasons
        id_col = self.id_column
        ids = bad[id_col] if id_col in bad else pd.Series([""] * len(bad), dtype="str")
        lines = self.line_of(self.rows[mask])
        return quarantine_frame(
            self.info["path"], lines, column, reason, ids, self.key_source, action
        )

    def flag_rows(self, mask: np.ndarray, column: str, reasons) -> ObjectData:
        """Keep the masked rows but list them, with the rule broken, in ``flags``.

        ``counts['n_flagged']`` counts flagged rows (once, however many flags).
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return self
        entries = self._entries(mask, column, reasons, "kept")
        flags = pd.concat([self.flags, entries], ignore_index=True)
        counts = dict(self.counts)
        flagged_lines = set(flags["line"].tolist())
        counts["n_flagged"] = len(flagged_lines)
        return replace(self, flags=flags, counts=counts)

    def quarantine_rows(self, mask: np.ndarray, column: str, reasons) -> ObjectData:
        """Move the masked rows of ``frame`` to the quarantine (a new ObjectData)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return self
        entries = self._entries(mask, column, reasons, "quarantined")
        counts = dict(self.counts)
        counts["n_quarantined"] += int(mask.sum())
        counts["n_rows_used"] -= int(mask.sum())
        return replace(
            self,
            frame=self.frame[~mask].reset_index(drop=True),
            quarantine=pd.concat([self.quarantine, entries], ignore_index=True),
            counts=counts,
            rows=self.rows[~mask],
        )


def not_used(obj: ObjectData, reason: str) -> ObjectData:
    """An export that was read but is not used: every usable row listed as not used.

    Parameters
    ----------
    obj : ObjectData
        What the reader returned for the file.
    reason : str
        Why the file is not used (names no content).

    Returns
    -------
    ObjectData
        An empty frame; ``counts['n_not_used']`` holds the rows that would have
        been used, each listed in ``quarantine`` with action ``"not used"``.
    """
    n = len(obj.frame)
    lines = obj.line_of(obj.rows) if n else np.zeros(0, dtype=np.int64)
    entries = quarantine_frame(
        obj.info["path"],
        lines,
        "",
        reason,
        pd.Series([""] * n, dtype="str"),
        obj.key_source,
        "not used",
    )
    counts = {**obj.counts, "n_not_used": n, "n_rows_used": 0, "n_flagged": 0}
    return replace(
        obj,
        frame=obj.frame.iloc[0:0],
        quarantine=pd.concat([obj.quarantine, entries], ignore_index=True),
        counts=counts,
        rows=obj.rows[:0],
    )


def empty_quarantine() -> pd.DataFrame:
    """The typed, empty quarantine table (:data:`QUARANTINE_COLUMNS`)."""
    return pd.DataFrame(
        {
            "file": pd.Series(dtype="str"),
            "line": pd.Series(dtype="int64"),
            "column": pd.Series(dtype="str"),
            "reason": pd.Series(dtype="str"),
            "record_id": pd.Series(dtype="str"),
            "action": pd.Series(dtype="str"),
        }
    )


def quarantine_frame(
    path, lines, column, reasons, ids: pd.Series, key_source, action: str = "quarantined"
) -> pd.DataFrame:
    """Quarantine entries: file, physical line, column, rule broken, pseudonymised Id.

    Parameters
    ----------
    path : str or Path
    lines : array-like of int
    column : str or array-like of str
    reasons : str or array-like of str
        The rule broken; never the cell's content (see :func:`bad_values`).
    ids : Series of str
        Record Ids (``""`` where none); pseudonymised with the key.
    key_source : callable
        Returns the pseudonym key (called only when an Id is present).
    action : str
        One of :data:`ACTIONS`.

    Returns
    -------
    DataFrame
        :data:`QUARANTINE_COLUMNS`.
    """
    if len(ids) == 0:
        return empty_quarantine()
    ids = pd.Series(np.asarray(ids, dtype=object), dtype="str").fillna("")
    record_ids = pseudonymize(ids, key_source()) if (ids != "").any() else ids
    return pd.DataFrame(
        {
            "file": str(path),
            "line": np.asarray(lines, dtype=np.int64),
            "column": column if isinstance(column, str) else np.asarray(column, dtype=object),
            "reason": reasons if isinstance(reasons, str) else np.asarray(reasons, dtype=object),
            "record_id": record_ids.to_numpy(),
            "action": action,
        }
    ).astype({c: "str" for c in QUARANTINE_COLUMNS if c != "line"})


def default_values(kind: str, n: int, name: str = ""):
    if kind in ("id", "text", "forecast"):
        return pa.array([""] * n, pa.string()) if n else pa.array([], pa.string())
    if kind == "bool":
        return np.zeros(n, dtype=bool)
    if kind in ("datetime", "date"):
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    return np.full(n, np.nan)


def to_frame(data: dict) -> pd.DataFrame:
    columns = {}
    for name, values in data.items():
        if isinstance(values, pa.Array | pa.ChunkedArray):
            columns[name] = values.to_pandas()
            if columns[name].dtype != "str":
                columns[name] = columns[name].astype("str")
        else:
            columns[name] = pd.Series(values)
    return pd.DataFrame(columns, copy=False)


def key_source(key: bytes | None) -> Callable[[], bytes]:
    if key is not None:
        return lambda: key
    return functools.cache(load_key)


def noted_sha256(path: Path) -> str:
    """The SHA-256 that note_input recorded for ``path`` (hashing the file once only)."""
    from analysis.paths import project_root
    from analysis.provenance import noted_inputs

    resolved = path.resolve()
    for item in noted_inputs():
        shown = Path(item.get("path", ""))
        if (shown if shown.is_absolute() else project_root() / shown) == resolved:
            return item.get("sha256", "")
    return ""


def _length(data: dict) -> int:
    return len(next(iter(data.values())))


def _filter(values, mask: np.ndarray):
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.filter(pa.array(mask))
    return values[mask]


def finalize(
    object_name: str,
    data: dict,
    problems: Problems,
    info: dict,
    line_of: Callable,
    key_source: Callable[[], bytes],
    *,
    id_column: str,
    id_label: str,
    dedupe: bool = True,
) -> ObjectData:
    """Drop deleted and merged rows, quarantine bad rows and duplicate Ids, build the frame.

    Works on the parsed arrow / NumPy columns, so that nothing is converted to
    Python objects on the happy path.

    Parameters
    ----------
    object_name : str
    data : dict
        Canonical name → parsed column (arrow or NumPy), all of one length.
    problems : Problems
        Bad cells found while parsing.
    info : dict
        ``path`` and what the reader learnt about the file.
    line_of : callable
        0-based data rows → physical lines.
    key_source : callable
        Returns the pseudonym key (asked only if a row is quarantined).
    id_column, id_label : str
        Canonical and file name of the record Id column.
    dedupe : bool
        Resolve duplicate Ids (keep the most recently modified record).

    Returns
    -------
    ObjectData
        ``counts`` add up: ``n_rows_read = n_deleted + n_merged + n_duplicates +
        n_quarantined + n_rows_used`` (a superseded duplicate is counted once, as a
        duplicate, though its row is in the quarantine table too).
    """
    data = dict(data)
    n = _length(data)
    deleted = data.pop("is_deleted", None)
    deleted = np.zeros(n, bool) if deleted is None else np.asarray(deleted, dtype=bool)
    master = data.pop("master_record_id", None)
    merged = (
        as_numpy(pc.not_equal(master, "")) & ~deleted if master is not None else np.zeros(n, bool)
    )
    bad = problems.any_rows(n) & ~deleted & ~merged
    keep = ~(deleted | merged | bad)
    ids = data.get(id_column)
    entries = [_problem_entries(problems, bad, ids, info["path"], line_of, key_source)]
    losers = np.zeros(0, dtype=np.int64)
    if ids is not None and dedupe and keep.any():
        losers, entry = _duplicate_entries(
            data, ids, keep, info["path"], line_of, key_source, id_label
        )
        keep[losers] = False
        entries.append(entry)
    quarantine = pd.concat(entries, ignore_index=True)
    quarantine = quarantine.sort_values(["line", "column"], kind="stable").reset_index(drop=True)
    counts = {
        "n_rows_read": n,
        "n_deleted": int(deleted.sum()),
        "n_merged": int(merged.sum()),
        "n_duplicates": int(losers.size),
        "n_quarantined": int(bad.sum()),
        "n_not_used": 0,
        "n_rows_used": int(keep.sum()),
        "n_flagged": 0,
    }
    data.pop("system_modstamp", None)
    rows = np.arange(n)
    if not keep.all():
        data = {name: _filter(values, keep) for name, values in data.items()}
        rows = rows[keep]
    return ObjectData(
        object_name, to_frame(data), quarantine, counts, info, rows, line_of, key_source, id_column
    )


def _problem_entries(problems, bad, ids, path, line_of, key_source) -> pd.DataFrame:
    """Quarantine entries (one per bad cell) of the rows with a problem."""
    listed = problems.frame()
    if not len(listed):
        return empty_quarantine()
    listed = listed[bad[listed["row"].to_numpy()]]
    rows = listed["row"].to_numpy()
    row_ids = ids.take(pa.array(rows)).to_pylist() if ids is not None else [""] * rows.size
    return quarantine_frame(
        path,
        line_of(rows),
        listed["column"].to_numpy(),
        listed["reason"].to_numpy(),
        pd.Series(row_ids, dtype="str"),
        key_source,
    )


def _duplicate_entries(data, ids, keep, path, line_of, key_source, id_label):
    """Rows superseded by a more recently modified record with the same Id."""
    kept_rows = np.flatnonzero(keep)
    dup_sub = duplicated_ids(ids.filter(pa.array(keep)) if not keep.all() else ids)
    if not dup_sub.any():
        return np.zeros(0, dtype=np.int64), empty_quarantine()
    dup_rows = kept_rows[dup_sub]
    dup_ids = ids.take(pa.array(dup_rows)).to_pylist()
    recency = {name: data[name][dup_rows] for name in _RECENCY if name in data}
    ranked = pd.DataFrame({**recency, "_row": dup_rows, "_id": dup_ids}).sort_values(
        [*recency, "_row"], na_position="first", kind="stable"
    )
    winners = ranked.drop_duplicates("_id", keep="last")
    winner_of = dict(zip(winners["_id"], winners["_row"], strict=True))
    losers = ranked[~ranked["_row"].isin(winners["_row"])].sort_values("_row")
    loser_rows = losers["_row"].to_numpy()
    kept_lines = line_of(np.array([winner_of[i] for i in losers["_id"]], dtype=np.int64))
    reasons = np.array(
        [
            f"duplicate Id: the more recently modified record on line {line} was kept"
            for line in kept_lines
        ],
        dtype=object,
    )
    entry = quarantine_frame(
        path,
        line_of(loser_rows),
        id_label,
        reasons,
        losers["_id"].reset_index(drop=True),
        key_source,
        "duplicate",
    )
    return loser_rows, entry


_RECENCY = ("last_modified_date", "system_modstamp", "updated_at")
