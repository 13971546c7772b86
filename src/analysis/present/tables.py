"""Tables made for people: labelled headers with units, locale numbers, no running index.

A report table is described by :class:`Column` specs (which column, its header with the
unit, how to format it) and rendered with pandas' Styler: numbers formatted by Babel for
the report language and right-aligned, missing values as ``–``, suppressed cells as one
symbol with a footnote saying why, stable element ids (the same table renders the same
bytes). Long tables are shortened for the section (:func:`shorten`) and shown in full in
the appendix.

Examples
--------
>>> spec = [Column("name", _("Kreis"), "text"), Column("population", _("Inhabitants"), "int")]
>>> table(frame, spec, caption=_("The largest Kreise"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.present import i18n
from analysis.present.i18n import gettext as _

#: The one symbol for a cell withheld for privacy (fewer than 5 records).
SUPPRESSED = "•"
#: Kinds of column and how they are formatted.
KINDS = ("text", "formatted", "number", "int", "percent", "share", "points", "currency", "date")


@dataclass(frozen=True)
class Column:
    """How one column of a report table is shown.

    Attributes
    ----------
    name : str
        Column of the frame (or ``"index"`` for the frame's index).
    label : str
        Header in the report language, with the unit where there is one
        (``"Einwohner"``, ``"MINT-Studierende je 1.000 Einw."``).
    kind : str
        One of :data:`KINDS`: ``percent`` holds values on the 0-100 scale, ``share``
        on the 0-1 scale; both are shown as ``23,0 %``. ``formatted``: numbers already
        formatted as text (e.g. with decimals per row), shown as they are, right-aligned.
    decimals : int
        Decimals for ``number``, ``percent``, ``share``, ``points``, ``currency``.
    """

    name: str
    label: str
    kind: str = "number"
    decimals: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Column kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def format(self, value: object, language: str | None = None) -> str:
        """One cell as text in the report language."""
        if self.kind in ("text", "formatted"):
            return i18n.MISSING if _isna(value) else str(value)
        if _isna(value):
            return i18n.MISSING
        if isinstance(value, str):  # a cell withheld by analysis.privacy ("x")
            return SUPPRESSED
        if self.kind == "int":
            return i18n.fmt_int(float(value), language=language)
        if self.kind == "percent":
            return i18n.fmt_percent(float(value) / 100, self.decimals, language=language)
        if self.kind == "share":
            return i18n.fmt_percent(float(value), self.decimals, language=language)
        if self.kind == "points":
            return i18n.fmt_points(float(value), self.decimals, language=language)
        if self.kind == "currency":
            return i18n.fmt_currency(float(value), "EUR", self.decimals, language=language)
        if self.kind == "date":
            return i18n.fmt_date(value, language=language)
        return i18n.fmt_number(float(value), self.decimals, language=language)


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class Table:
    """A rendered report table: a Styler plus its footnotes.

    Displays as HTML in a notebook; ``.styler`` is the pandas Styler, ``.frame`` the
    formatted text frame (for tests and plain-text output).
    """

    def __init__(self, styler, frame: pd.DataFrame, notes: Sequence[str]) -> None:
        self.styler = styler
        self.frame = frame
        self.notes = list(notes)

    def to_html(self) -> str:
        """The table and its footnotes as one HTML fragment."""
        notes = "".join(f'<p class="wb-table-note">{html.escape(n)}</p>' for n in self.notes)
        return f'<div class="wb-table">{self.styler.to_html()}{notes}</div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        text = self.frame.to_string(index=False)
        return text + "".join("\n" + n for n in self.notes)


def table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    caption: str = "",
    notes: Sequence[str] = (),
    suppressed: pd.DataFrame | None = None,
    suppressed_note: str | None = None,
    language: str | None = None,
) -> Table:
    """A table for a report (Styler): labelled headers, locale numbers, no index.

    Parameters
    ----------
    frame : DataFrame
        The result; only the columns in ``columns`` are shown, in that order.
    columns : sequence of Column
        What to show and how.
    caption : str
        Caption above the table (in the report language).
    notes : sequence of str
        Footnotes under the table.
    suppressed : DataFrame of bool, optional
        Same index as ``frame``; True cells are shown as :data:`SUPPRESSED` and a
        footnote explains why. Cells that ``analysis.privacy`` already replaced by its
        label (a text such as ``"x"`` in a number column) are shown the same way.
    suppressed_note : str, optional
        The explanation (default: fewer than 5 records, withheld for privacy).
    language : str, optional
        Default: the active report language.

    Returns
    -------
    Table

    Raises
    ------
    KeyError
        When a column of the spec is not in the frame.
    """
    missing = [c.name for c in columns if c.name != "index" and c.name not in frame.columns]
    if missing:
        raise KeyError(f"columns not in the table: {missing}; it has {list(frame.columns)}")
    shown = {}
    withheld = False
    for column in columns:
        values = frame.index.to_series() if column.name == "index" else frame[column.name]
        cells = [column.format(v, language) for v in values]
        withheld = withheld or (column.kind not in ("text", "formatted") and SUPPRESSED in cells)
        if suppressed is not None and column.name in suppressed.columns:
            mask = suppressed[column.name].reindex(frame.index).fillna(False).astype(bool)
            cells = [SUPPRESSED if m else c for c, m in zip(cells, mask, strict=True)]
        shown[column.label] = cells
    text = pd.DataFrame(shown)
    all_notes = list(notes)
    if withheld or (suppressed is not None and bool(suppressed.to_numpy().any())):
        reason = suppressed_note or _(
            "fewer than 5 records: withheld so that no person or customer can be recognized",
            language=language,
        )
        all_notes.insert(0, f"{SUPPRESSED} {reason}.")
    numeric = [c.label for c in columns if c.kind != "text"]
    digest = hashlib.sha256(f"{list(text.columns)}{caption}{text.shape}".encode()).hexdigest()
    styler = (
        text.style.hide(axis="index")
        .format(escape="html")
        .format_index(escape="html", axis="columns")
        .set_uuid(digest[:8])
    )
    right = {
        label: [{"selector": "", "props": "text-align: right; font-variant-numeric: tabular-nums"}]
        for label in numeric
    }
    if right:
        styler = styler.set_table_styles(right, overwrite=False)
    if caption:
        styler = styler.set_caption(html.escape(caption))
    return Table(styler, text, all_notes)


def shorten(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` rows of a long table (the full one belongs in the appendix)."""
    return frame.head(n)


def shortened_note(n_shown: int, n_total: int, *, language: str | None = None) -> str:
    """Footnote for a shortened table: ``Die ersten 10 von 400 Zeilen; …``."""
    if n_shown >= n_total:
        return ""
    return _(
        "First {shown} of {total} rows; the full table is in the appendix.", language=language
    ).format(
        shown=i18n.fmt_int(n_shown, language=language),
        total=i18n.fmt_int(n_total, language=language),
    )
