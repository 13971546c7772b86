"""Building a :class:`FirmList` from the rows of a firm list: header, columns, values, rows set aside."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.names import normalize_company_name
from analysis.sources.firm_list import FirmList, Rows
from analysis.sources.firm_schema import (
    ALIASES,
    AWARENESS,
    COLUMNS,
    HEADER_SCAN_ROWS,
    LOCATION_COLUMNS,
    MIN_HEADER_LABELS,
    MISSING,
    REQUIRED,
    SCOPES,
    canonical,
    cell_text,
    is_blank,
    label_key,
)
from analysis.sources.firm_values import NOTE_TEXT, parse_amount, vote_decimal


class FirmListBuilder:
    """Turns raw rows into a :class:`FirmList` (one instance per file)."""

    def __init__(self, path: Path, unit: str) -> None:
        self.path = path
        self.unit = unit
        self.issues: list[dict] = []

    # -- messages
    def where(self, row: int | None, label: str | None) -> str:
        parts = [self.path.name + self.sheet]
        if row is not None:
            parts.append(f"{self.unit} {row}")
        if label is not None:
            parts.append(f"column '{label}'")
        return ", ".join(parts)

    def note(
        self,
        row: int | None,
        label: str | None,
        kind: str,
        severity: str,
        text: str,
        original: object = None,
        value: object = None,
    ) -> None:
        self.issues.append(
            {
                "row": row,
                "column": label,
                "kind": kind,
                "severity": severity,
                "original": None if original is None else str(original),
                "value": None if value is None else str(value),
                "message": f"{self.where(row, label)}: {text}",
            }
        )

    # -- main
    def build(self, rows: Rows) -> FirmList:
        self.sheet = rows.where
        header_index = self._find_header(rows)
        header_row = rows.numbers[header_index]
        labels = [cell_text(c) for c in rows.cells[header_index]]
        if header_index > 0:
            self.note(
                header_row,
                None,
                "header_row",
                "info",
                f"header found in {self.unit} {header_row} "
                f"({header_index} {self.unit}(s) above it skipped)",
                value=header_row,
            )
        columns = self._map_columns(labels, header_row)
        body = list(
            zip(rows.numbers[header_index + 1 :], rows.cells[header_index + 1 :], strict=True)
        )
        blank = [all(is_blank(c) for c in cells) for _, cells in body]
        # Trailing blank rows (an XLSX's formatted but empty rows) are not worth a note.
        last = max((i for i, b in enumerate(blank) if not b), default=-1)
        records, numbers = [], []
        for i, (number, cells) in enumerate(body):
            if blank[i]:
                if i < last:
                    self.note(number, None, "blank_row", "info", "blank row skipped")
                continue
            if len(cells) > len(labels) and any(not is_blank(c) for c in cells[len(labels) :]):
                self.note(
                    number,
                    None,
                    "extra_fields",
                    "warning",
                    f"{len(cells)} fields, header has {len(labels)}: the extra fields are ignored",
                )
            cells = (list(cells) + [None] * len(labels))[: len(labels)]
            records.append(cells)
            numbers.append(number)
        raw = {col: [r[i] for r in records] for col, (i, _) in columns.items()}
        label_of = {col: label for col, (_, label) in columns.items()}
        frame = self._normalize(raw, label_of, numbers, rows.delimiter)
        frame, quarantine = self._quarantine(frame)
        report = pd.DataFrame(
            self.issues,
            columns=["row", "column", "kind", "severity", "original", "value", "message"],
        ).astype({"row": "Int64"})
        report = report.sort_values("row", kind="stable", ignore_index=True)
        return FirmList(
            frame=frame,
            report=report,
            quarantine=quarantine,
            path=self.path,
            header_row=header_row,
            n_rows=len(numbers),
        )

    def _find_header(self, rows: Rows) -> int:
        for i, cells in enumerate(rows.cells[:HEADER_SCAN_ROWS]):
            known = [canonical(c) for c in cells if not is_blank(c)]
            if "name" in known and sum(k is not None for k in known) >= MIN_HEADER_LABELS:
                return i
        expected = ", ".join(f"{c} ({'/'.join(ALIASES[c][:3])})" for c in ("name", *REQUIRED[1:]))
        raise InputError(
            self.path,
            f"no header row found in the first {HEADER_SCAN_ROWS} {self.unit}s"
            f"{self.sheet}: expected a row with the firm name and at least "
            f"{MIN_HEADER_LABELS} known labels such as {expected}",
        )

    def _map_columns(self, labels: list[str], header_row: int) -> dict[str, tuple[int, str]]:
        columns: dict[str, tuple[int, str]] = {}
        for i, label in enumerate(labels):
            if not label:
                continue
            col = canonical(label)
            if col is None:
                self.note(header_row, label, "ignored_column", "info", "unknown column ignored")
                continue
            if col in columns:
                raise InputError(
                    self.path,
                    f"columns {columns[col][1]!r} and {label!r} both mean {col!r}; keep one",
                    line=header_row,
                    column=label,
                )
            columns[col] = (i, label)
            if label_key(label) != col:
                self.note(header_row, label, "header_alias", "info", f"read as {col!r}", label, col)
        missing = [c for c in REQUIRED if c not in columns]
        if not any(c in columns for c in LOCATION_COLUMNS):
            missing.append("plz or ags")
        if missing:
            expected = ", ".join([*REQUIRED[:1], "plz and/or ags", *REQUIRED[1:]])

            def _hint(c: str) -> str:
                if c == "plz or ags":
                    return "plz or ags (postcode, Postleitzahl, Gemeindeschlüssel)"
                return f"{c} (e.g. {', '.join(ALIASES[c][1:4])})"

            raise InputError(
                self.path,
                f"missing required column(s) {'; '.join(_hint(c) for c in missing)}"
                f"{self.sheet}; required columns are: {expected}; found: "
                f"{', '.join(repr(lb) for lb in labels if lb)}",
                line=header_row,
            )
        for col in COLUMNS:
            if col not in columns and col in ALIASES and col not in ("plz", "ags"):
                self.note(
                    header_row, None, "absent_column", "info", f"optional column {col!r} absent"
                )
        return columns

    # -- per column
    def _normalize(
        self,
        raw: dict[str, list[object]],
        label_of: dict[str, str],
        numbers: list[int],
        delimiter: str | None,
    ) -> pd.DataFrame:
        n = len(numbers)
        empty: list[object] = [None] * n
        decimal = self._decimal(raw, delimiter)

        def cells(col: str) -> list[object]:
            return raw.get(col, empty)

        out: dict[str, object] = {}
        out["firm_id"] = self._text_column(cells("firm_id"))
        out["name"] = [re.sub(r"\s+", " ", cell_text(c)) or None for c in cells("name")]
        out["plz"] = self._codes(cells("plz"), numbers, label_of.get("plz"), "plz")
        out["ags"] = self._codes(cells("ags"), numbers, label_of.get("ags"), "ags")
        out["city"] = self._text_column(cells("city"))
        sector, division = self._sectors(cells("sector"), numbers, label_of.get("sector"))
        out["sector"], out["wz_division"] = sector, division
        out["revenue_eur"] = self._amounts(
            cells("revenue_eur"), numbers, label_of.get("revenue_eur"), decimal, minimum=0.0
        )
        employees = self._amounts(
            cells("employees"), numbers, label_of.get("employees"), decimal, minimum=0.0
        )
        out["employees"] = pd.array(
            [None if np.isnan(v) else round(v) for v in employees], dtype="Int64"
        )
        out["export_share"] = self._shares(
            cells("export_share"), numbers, label_of.get("export_share"), decimal
        )
        out["market_rank"] = self._integers(
            cells("market_rank"), numbers, label_of.get("market_rank"), 1, 10_000, "a rank"
        )
        out["market_segment"] = self._text_column(cells("market_segment"))
        out["market_scope"] = self._mapped(
            cells("market_scope"),
            numbers,
            label_of.get("market_scope"),
            SCOPES,
            "'world' or a continent (Europe, Asia, North America, South America, Africa, Oceania)",
        )
        out["continents"] = self._integers(
            cells("continents"), numbers, label_of.get("continents"), 1, 7, "1 to 7 continents"
        )
        this_year = dt.date.today().year
        out["founded"] = self._integers(
            cells("founded"), numbers, label_of.get("founded"), 1000, this_year, "a year"
        )
        out["public_awareness"] = self._mapped(
            cells("public_awareness"),
            numbers,
            label_of.get("public_awareness"),
            AWARENESS,
            "low, medium or high (gering, mittel, hoch)",
        )
        out["source"] = self._text_column(cells("source"))
        out["source_date"] = self._dates(cells("source_date"), numbers, label_of.get("source_date"))
        out["name_key"] = [None if v is None else normalize_company_name(v) for v in out["name"]]
        out["row"] = numbers
        return _typed(pd.DataFrame(out, columns=list(COLUMNS)))

    def _decimal(self, raw: dict[str, list[object]], delimiter: str | None) -> str:
        """The file's decimal mark, voted by its amounts (a mixed file is noted)."""
        numeric_cells = [c for col in ("revenue_eur", "employees") for c in raw.get(col, [])]
        comma, point = vote_decimal(numeric_cells)
        decimal = "." if point > comma or (point == comma and delimiter == ",") else ","
        if comma and point:
            self.note(
                None,
                None,
                "mixed_decimal_marks",
                "info",
                f"numbers use both decimal marks ({comma} with comma, {point} with point); "
                f"ambiguous numbers are read with decimal {decimal!r}",
            )
        return decimal

    @staticmethod
    def _text_column(cells: list[object]) -> list[object]:
        return [cell_text(c) or None for c in cells]

    def _codes(self, cells, numbers, label, kind: str) -> list[object]:
        lengths = (5,) if kind == "plz" else (5, 8)
        out: list[object] = []
        for cell, row in zip(cells, numbers, strict=True):
            text = cell_text(cell)
            if text.lower() in MISSING:
                out.append(None)
                continue
            code = text
            if kind == "plz" and re.fullmatch(r"(?i)d\s*-\s*\d+", code):
                code = re.sub(r"\D", "", code)
                self.note(
                    row, label, "plz_prefix", "info", f"'{text}' read as '{code}'", text, code
                )
            if re.fullmatch(r"\d+", code) and len(code) + 1 in lengths:
                padded = "0" + code
                self.note(
                    row,
                    label,
                    "leading_zero",
                    "info",
                    f"{kind} '{text}' has {len(code)} digits: leading zero restored ('{padded}')",
                    text,
                    padded,
                )
                code = padded
            if re.fullmatch(r"\d+", code) and len(code) in lengths:
                out.append(code)
                continue
            want = "5 digits" if kind == "plz" else "5 (Kreis) or 8 (Gemeinde) digits"
            self.note(
                row, label, f"bad_{kind}", "warning", f"expected {want}, found {text!r}", text
            )
            out.append(None)
        return out

    def _sectors(self, cells, numbers, label) -> tuple[list[object], list[object]]:
        sectors: list[object] = []
        divisions: list[object] = []
        for cell, row in zip(cells, numbers, strict=True):
            text = cell_text(cell)
            if text.lower() in MISSING:
                sectors.append(None)
                divisions.append(None)
                continue
            if isinstance(cell, float) and not cell.is_integer():
                text = f"{cell:.2f}".rstrip("0")  # an Excel number 28.4 for WZ 28.4
            if re.fullmatch(r"\d{3,5}", text):
                # "2841" / "28410": the WZ class or subclass written without points
                text = f"{text[:2]}.{text[2:4]}" + (f".{text[4]}" if len(text) == 5 else "")
                self.note(
                    row,
                    label,
                    "sector_code",
                    "info",
                    f"'{cell_text(cell)}' read as '{text}'",
                    cell_text(cell),
                    text,
                )
            m = re.fullmatch(
                r"(?i)(?:wz\s*(?:2008)?\s*:?\s*)?([a-u])?\s*(\d{2}(?:\.\d{1,2}(?:\.\d)?)?)", text
            )
            if not m:
                self.note(
                    row,
                    label,
                    "bad_sector",
                    "warning",
                    f"expected a WZ 2008 / NACE code such as '28.41', found {text!r}",
                    text,
                )
                sectors.append(None)
                divisions.append(None)
                continue
            code = m[2]
            if code != text and not re.fullmatch(r"\d{3,5}", cell_text(cell)):
                self.note(
                    row, label, "sector_code", "info", f"'{text}' read as '{code}'", text, code
                )
            sectors.append(code)
            divisions.append(code[:2])
        return sectors, divisions

    def _amounts(self, cells, numbers, label, decimal, *, minimum) -> np.ndarray:
        out = np.full(len(numbers), np.nan)
        for i, (cell, row) in enumerate(zip(cells, numbers, strict=True)):
            try:
                value, notes = parse_amount(cell, decimal=decimal)
            except ValueError as exc:
                self.note(row, label, "bad_number", "warning", str(exc), cell)
                continue
            if value is None:
                continue
            if value < minimum:
                self.note(
                    row,
                    label,
                    "bad_number",
                    "warning",
                    f"expected ≥ {minimum:g}, found {cell!r}",
                    cell,
                )
                continue
            out[i] = value
            for kind in notes:
                self.note(
                    row,
                    label,
                    kind,
                    "info",
                    NOTE_TEXT[kind].format(cell=cell, value=value, decimal=decimal),
                    cell,
                    f"{value:.15g}",
                )
        return out

    def _shares(self, cells, numbers, label, decimal) -> np.ndarray:
        values = np.full(len(numbers), np.nan)
        percent = np.zeros(len(numbers), dtype=bool)
        for i, (cell, row) in enumerate(zip(cells, numbers, strict=True)):
            text = cell
            if isinstance(cell, str) and "%" in cell:
                text = cell.replace("%", "").strip()
                percent[i] = True
            try:
                value, notes = parse_amount(text, decimal=decimal)
            except ValueError:
                self.note(
                    row,
                    label,
                    "bad_share",
                    "warning",
                    f"expected a share (0.65, 0,65 or 65 %), found {cell!r}",
                    cell,
                )
                continue
            if value is not None:
                values[i] = value
                for kind in notes:
                    self.note(
                        row,
                        label,
                        kind,
                        "info",
                        NOTE_TEXT[kind].format(cell=cell, value=value, decimal=decimal),
                        cell,
                        f"{value:.15g}",
                    )
        plain_over_one = (~percent) & (values > 1)
        column_percent = bool(plain_over_one.any())
        if column_percent:
            self.note(
                None,
                label,
                "percent_column",
                "info",
                "plain numbers above 1 found: the column's plain numbers are read as percent",
            )
        scale = np.where(percent | column_percent, 0.01, 1.0)
        shares = values * scale
        for i, row in enumerate(numbers):
            if np.isnan(shares[i]):
                continue
            if percent[i]:
                self.note(
                    row,
                    label,
                    "percent",
                    "info",
                    f"{cells[i]!r} read as {shares[i]:.4g}",
                    cells[i],
                    f"{shares[i]:.15g}",
                )
            if not 0.0 <= shares[i] <= 1.0:
                self.note(
                    row,
                    label,
                    "bad_share",
                    "warning",
                    f"expected a share between 0 and 100 %, found {cells[i]!r}",
                    cells[i],
                )
                shares[i] = np.nan
        return shares

    def _integers(self, cells, numbers, label, lo, hi, what) -> pd.array:
        out: list[object] = []
        for cell, row in zip(cells, numbers, strict=True):
            if isinstance(cell, (dt.date, dt.datetime)):
                cell = cell.year
            text = cell_text(cell)
            if text.lower() in MISSING:
                out.append(None)
                continue
            m = re.fullmatch(
                r"(?i)(?:nr\.?|no\.?|#|platz|rang|rank)?\s*(\d+)\.?(?:\s*[^\W\d]+)?", text
            )
            value = int(m[1]) if m else None
            if value is None or not lo <= value <= hi:
                self.note(
                    row,
                    label,
                    "bad_integer",
                    "warning",
                    f"expected {what} ({lo}–{hi}), found {text!r}",
                    text,
                )
                out.append(None)
                continue
            if text != str(value):
                self.note(
                    row, label, "integer_text", "info", f"'{text}' read as {value}", text, value
                )
            out.append(value)
        return pd.array(out, dtype="Int64")

    def _mapped(self, cells, numbers, label, mapping, what) -> list[object]:
        out: list[object] = []
        canonical = set(mapping.values())
        translated: dict[tuple[str, str], list[int]] = {}
        for cell, row in zip(cells, numbers, strict=True):
            text = cell_text(cell)
            if text.lower() in MISSING:
                out.append(None)
                continue
            value = mapping.get(label_key(text))
            if value is None:
                self.note(
                    row, label, "bad_category", "warning", f"expected {what}, found {text!r}", text
                )
            elif text not in canonical:
                translated.setdefault((text, value), []).append(row)
            out.append(value)
        self._note_translations(label, "category_alias", translated)
        return out

    def _note_translations(self, label, kind, translated) -> None:
        # A label translated the same way in every row is one normalization, not one
        # per row: noted once per column and spelling, with the number of rows.
        for (text, value), rows in translated.items():
            self.note(
                rows[0],
                label,
                kind,
                "info",
                f"'{text}' read as '{value}' in {len(rows)} row(s) (first: {self.unit} {rows[0]})",
                text,
                value,
            )

    def _dates(self, cells, numbers, label) -> list[object]:
        out: list[object] = []
        translated: dict[tuple[str, str], list[int]] = {}
        for cell, row in zip(cells, numbers, strict=True):
            if isinstance(cell, (dt.datetime, dt.date)):
                out.append(cell.strftime("%Y-%m-%d"))
                continue
            text = cell_text(cell)
            if text.lower() in MISSING:
                out.append(None)
                continue
            m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
            if m:
                iso = f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}"
                translated.setdefault((text, iso), []).append(row)
                out.append(iso)
            elif re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
                out.append(text)
            else:
                self.note(
                    row,
                    label,
                    "bad_date",
                    "warning",
                    f"expected a date (2024-12-31 or 31.12.2024), found {text!r}",
                    text,
                )
                out.append(None)
        self._note_translations(label, "german_date", translated)
        return out

    # -- rows set aside
    def _quarantine(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        no_name = frame["name"].isna()
        place = frame["plz"].fillna(frame["ags"]).fillna("")
        key = frame["name_key"].fillna("") + "|" + place
        duplicated = key.duplicated(keep="first") & ~no_name
        first_row = frame.loc[~no_name].groupby(key[~no_name])["row"].transform("first")
        duplicate_of = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        duplicate_of.loc[first_row.index] = first_row.astype("Int64")
        for row in frame.loc[no_name, "row"]:
            self.note(
                int(row), None, "no_name", "quarantine", "the firm name is empty: row set aside"
            )
        dups = frame.loc[duplicated]
        for row, name, of in zip(dups["row"], dups["name"], duplicate_of[duplicated], strict=True):
            self.note(
                int(row),
                None,
                "duplicate",
                "quarantine",
                f"duplicate of {self.unit} {of} (same name {name!r} and postcode/AGS): "
                "first occurrence kept",
                name,
            )
        set_aside = no_name | duplicated
        quarantine = frame.loc[set_aside, ["row", "name", "plz", "ags"]].assign(
            reason=np.where(no_name[set_aside], "name missing", "duplicate"),
            duplicate_of=duplicate_of[set_aside].where(duplicated[set_aside]),
        )
        quarantine = quarantine[["row", "reason", "name", "plz", "ags", "duplicate_of"]]
        return frame.loc[~set_aside].reset_index(drop=True), quarantine.reset_index(drop=True)


#: Text columns of a firm-list frame (the rest are numbers and the row).
_TEXT_COLUMNS = (
    "firm_id",
    "name",
    "plz",
    "ags",
    "city",
    "sector",
    "wz_division",
    "market_segment",
    "market_scope",
    "public_awareness",
    "source",
    "source_date",
    "name_key",
)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({c: "str" for c in _TEXT_COLUMNS} | {"row": "int64"})
