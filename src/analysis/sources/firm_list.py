"""The result of reading a firm list (:class:`FirmList`) and the raw rows it is built from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class FirmList:
    """A firm list as read: usable rows, what was done to them and what was set aside.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per usable firm, columns
        :data:`analysis.sources.firm_schema.COLUMNS`. ``row`` is the physical
        line (CSV) or Excel row (XLSX) the firm came from.
    report : pandas.DataFrame
        One row per normalization or problem: ``row``, ``column`` (the header label
        as written in the file), ``kind``, ``severity`` (``info``: normalized, value
        kept; ``warning``: value unusable, set to missing; ``quarantine``: row set
        aside), ``original``, ``value`` and a ``message`` naming file, row and column.
    quarantine : pandas.DataFrame
        Rows set aside (duplicates, rows without a name): ``row``, ``reason``,
        ``name``, ``plz``, ``ags`` and, for duplicates, ``duplicate_of`` (the kept row).
    path : Path
        The file read.
    header_row : int
        Row (line) of the header, 1-based.
    n_rows : int
        Non-blank data rows read; always ``len(frame) + len(quarantine)``.
    """

    frame: pd.DataFrame
    report: pd.DataFrame
    quarantine: pd.DataFrame
    path: Path
    header_row: int
    n_rows: int

    def summary(self) -> pd.DataFrame:
        """Counts of reported items by ``kind`` and ``severity`` (a small table)."""
        if self.report.empty:
            return pd.DataFrame({"kind": [], "severity": [], "n": []})
        return (
            self.report.groupby(["severity", "kind"], as_index=False)
            .size()
            .rename(columns={"size": "n"})
            .sort_values(["severity", "n"], ascending=[True, False], ignore_index=True)
        )


@dataclass(frozen=True)
class Rows:
    cells: list[list[object]]  # every physical row, cells as read
    numbers: list[int]  # the row/line number of each
    where: str  # "" or ", sheet 'X'"
    delimiter: str | None  # CSV only
