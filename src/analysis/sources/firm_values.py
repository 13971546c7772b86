"""Numbers as firm lists write them: ``1,2 Mrd. €``, ``850.000.000``, ``12,5 %`` (reported)."""

from __future__ import annotations

import re

import numpy as np

from analysis.sources.firm_schema import MISSING

_MULTIPLIERS: tuple[tuple[re.Pattern, float, str], ...] = (
    (re.compile(r"^(mrd|milliarde|milliarden|bn|bln)\.?$"), 1e9, "billion"),
    (re.compile(r"^(mio|million|millionen|mn|m)\.?$"), 1e6, "million"),
    (re.compile(r"^(tsd|tausend|thousand|t|k)\.?$"), 1e3, "thousand"),
)
_CURRENCY = re.compile(r"(?i)(€|\beur\b|\beuro\b)")
_AMOUNT = re.compile(r"^(?P<num>[+-]?[\d.,'\u00a0\u202f ]*\d[\d.,]*)\s*(?P<word>[^\d\s].*)?$")


def parse_amount(cell: object, *, decimal: str = ",") -> tuple[float | None, list[str]]:
    """Parse a money amount or count written as a number or as text.

    Parameters
    ----------
    cell : object
        A number (taken as is) or text such as ``"1,2 Mrd. €"``, ``"850 Mio"``,
        ``"1.234.567"``, ``"1,234,567"``, ``"12,5"``.
    decimal : {",", "."}
        The file's decimal mark, used only where a single separator followed by
        exactly three digits is ambiguous (``1.234``).

    Returns
    -------
    value : float or None
        ``None`` for a missing cell.
    notes : list of str
        Normalization kinds applied (``text_amount``, ``thousands_separator``,
        ``decimal_comma``, ``ambiguous_separator``).

    Raises
    ------
    ValueError
        If the text is not an amount.

    Examples
    --------
    >>> parse_amount("1,2 Mrd. €")
    (1200000000.0, ['decimal_comma', 'text_amount'])
    >>> parse_amount("1,234,567")
    (1234567.0, ['thousands_separator'])
    """
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return None, []
    if isinstance(cell, bool):
        raise ValueError(f"expected an amount, found {cell!r}")
    if isinstance(cell, (int, float, np.integer, np.floating)):
        return float(cell), []
    text = str(cell).strip()
    if text.lower() in MISSING:
        return None, []
    text = _CURRENCY.sub(" ", text).strip()
    m = _AMOUNT.match(text)
    if not m:
        raise ValueError(
            f"expected an amount such as 850000000, '850 Mio' or '1,2 Mrd. €', found {cell!r}"
        )
    notes: list[str] = []
    factor = 1.0
    word = (m["word"] or "").strip().lower()
    if word:
        for pattern, mult, _ in _MULTIPLIERS:
            if pattern.match(word):
                factor = mult
                notes.append("text_amount")
                break
        else:
            raise ValueError(
                f"unknown unit {m['word'].strip()!r} in {cell!r} (expected Tsd, Mio, Mrd, "
                "k, m, bn, € or EUR)"
            )
    number, sep_notes = parse_number(m["num"], decimal)
    return number * factor, sep_notes + notes


def parse_number(num: str, decimal: str) -> tuple[float, list[str]]:
    """Parse the numeric part of an amount; returns the value and notes."""
    notes: list[str] = []
    s = num.strip()
    if re.search(r"['\u00a0\u202f ]", s):
        s = re.sub(r"['\u00a0\u202f ]", "", s)
        notes.append("thousands_separator")
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    n_dot, n_comma = s.count("."), s.count(",")
    if n_dot and n_comma:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        thou = "," if dec == "." else "."
        intpart, _, frac = s.rpartition(dec)
        if intpart.count(dec) or not _grouped(intpart, thou):
            raise ValueError(f"cannot read the number {num!r}")
        notes.append("thousands_separator")
        if dec == ",":
            notes.append("decimal_comma")
        return sign * float(intpart.replace(thou, "") + "." + frac), notes
    sep = "." if n_dot else "," if n_comma else ""
    if not sep:
        return sign * float(s), notes
    count = n_dot or n_comma
    if count > 1:
        if not _grouped(s, sep):
            raise ValueError(f"cannot read the number {num!r}")
        notes.append("thousands_separator")
        return sign * float(s.replace(sep, "")), notes
    intpart, _, frac = s.partition(sep)
    if not intpart.isdigit() and intpart != "":
        raise ValueError(f"cannot read the number {num!r}")
    if len(frac) == 3 and intpart not in ("", "0"):
        # 1.234 / 1,234: a thousands separator or a decimal mark; the file decides.
        notes.append("ambiguous_separator")
        if sep == decimal:
            return sign * float((intpart or "0") + "." + frac), notes
        return sign * float(intpart + frac), notes
    if sep == ",":
        notes.append("decimal_comma")
    return sign * float((intpart or "0") + "." + frac), notes


def _grouped(s: str, sep: str) -> bool:
    parts = s.split(sep)
    return (
        1 <= len(parts[0]) <= 3
        and parts[0].isdigit()
        and all(len(p) == 3 and p.isdigit() for p in parts[1:])
    )


def vote_decimal(cells: list[object]) -> tuple[int, int]:
    """Votes (comma, point) for the decimal mark from unambiguous numeric text cells."""
    comma = point = 0
    for cell in cells:
        if not isinstance(cell, str):
            continue
        m = _AMOUNT.match(_CURRENCY.sub(" ", cell).strip())
        if not m:
            continue
        s = re.sub(r"[^\d.,]", "", m["num"])
        n_dot, n_comma = s.count("."), s.count(",")
        if n_dot and n_comma:
            if s.rfind(",") > s.rfind("."):
                comma += 1
            else:
                point += 1
        elif n_dot > 1:
            comma += 1  # 1.234.567: points group thousands, so the comma is decimal
        elif n_comma > 1:
            point += 1
        elif n_comma == 1 and len(s.partition(",")[2]) != 3:
            comma += 1
        elif n_dot == 1 and len(s.partition(".")[2]) != 3:
            point += 1
    return comma, point


NOTE_TEXT = {
    "text_amount": "{cell!r} read as {value:,.0f}",
    "thousands_separator": "{cell!r}: thousands separators removed ({value:.15g})",
    "decimal_comma": "{cell!r}: decimal comma read as {value:.15g}",
    "ambiguous_separator": (
        "{cell!r} is ambiguous (thousands separator or decimal mark): read with the file's "
        "decimal mark {decimal!r} as {value:.15g}"
    ),
}
