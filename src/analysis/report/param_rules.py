"""What values a notebook parameter accepts, read from its declaration; checked before a kernel starts.

A report notebook declares its parameters as annotated literals with a comment
(``name: type = default  # help``). Beyond the type, these rules apply:

Choices (categorical parameters), first that applies:

1. the annotation ``Literal["a", "b"]`` (then ``from typing import Literal`` may
   precede the parameters in the cell);
2. a comment with ``one of: a, b, c`` (``# definition, one of: simon, wmi, all``);
3. a comment that quotes two or more values in double quotes, the default among
   them (``# "demo" (synthetic) or "official" (data/raw)``).

Ranges for numbers, first that applies:

1. a comment with ``range: MIN..MAX`` (either end may be left out: ``range: 1..``);
2. counts (``int`` named ``peers`` or starting with ``top_`` or ``n_``): at least 1;
3. every other number: at least 0 (no parameter of the report notebooks is negative).

Formats and order by name: ``currency`` is an ISO 4217 code (three capital
letters); dates named ``*_date`` lie before ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from analysis.errors import ParameterError

_ONE_OF = re.compile(r"one of:\s*([^;()#]+)", re.IGNORECASE)
_QUOTED = re.compile(r'"([^"]+)"')
_RANGE = re.compile(r"range:\s*(-?\d+(?:\.\d+)?)?\s*\.\.\s*(-?\d+(?:\.\d+)?)?", re.IGNORECASE)
_CURRENCY = re.compile(r"[A-Z]{3}")


def infer_choices(help_text: str, default: object, literal: tuple = ()) -> tuple:
    """The allowed values of a categorical parameter (empty: not categorical).

    Parameters
    ----------
    help_text : str
        The comment after the declaration.
    default : object
        The declared default.
    literal : tuple
        Values of a ``Literal[...]`` annotation, if any.

    Returns
    -------
    tuple
    """
    if literal:
        return tuple(literal)
    match = _ONE_OF.search(help_text)
    if match:
        values = [v.strip().strip("\"'") for v in re.split(r",|\bor\b", match.group(1))]
        values = [v for v in values if v]
        if isinstance(default, int) and not isinstance(default, bool):
            try:
                return tuple(int(v) for v in values)
            except ValueError:
                return tuple(values)
        return tuple(values)
    quoted = tuple(dict.fromkeys(_QUOTED.findall(help_text)))
    if isinstance(default, str) and len(quoted) >= 2 and default in quoted:
        return quoted
    return ()


def infer_bounds(name: str, type_name: str, help_text: str) -> tuple:
    """``(minimum, maximum)`` of a number parameter (``None``: open); ``()`` for others."""
    if type_name not in {"int", "float"}:
        return ()
    match = _RANGE.search(help_text)
    if match:
        low, high = (float(g) if g is not None else None for g in match.groups())
        return (low, high)
    if type_name == "int" and (name == "peers" or name.startswith(("top_", "n_"))):
        return (1.0, None)
    return (0.0, None)


def check_choice(name: str, value: object, choices: tuple) -> None:
    """Raise ParameterError unless ``value`` is one of ``choices`` (when there are any)."""
    if choices and value not in choices:
        shown = ", ".join(str(c) for c in choices)
        raise ParameterError(name, f"expected one of {shown}, got {value!r}")


def check_bounds(name: str, value: object, bounds: tuple) -> None:
    """Raise ParameterError for a number outside ``bounds`` (or not finite)."""
    if not bounds or not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    low, high = bounds
    if not math.isfinite(value):
        raise ParameterError(name, f"expected a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(name, f"expected {describe_bounds(bounds)}, got {value!r}")


def describe_bounds(bounds: tuple) -> str:
    """``a number >= 1``, ``a number from 0 to 1`` ..."""
    low, high = (_plain(b) for b in bounds)
    if low is not None and high is not None:
        return f"a number from {low} to {high}"
    return f"a number >= {low}" if low is not None else f"a number <= {high}"


def _plain(number: float | None) -> str | None:
    if number is None:
        return None
    return str(int(number)) if float(number).is_integer() else str(number)


def check_format(name: str, value: object) -> None:
    """Formats known by name: ``currency`` is an ISO 4217 code."""
    if name == "currency" and not (isinstance(value, str) and _CURRENCY.fullmatch(value)):
        raise ParameterError(
            name,
            f"expected an ISO 4217 currency code of three capital letters (EUR), got {value!r}",
        )


def check_date_order(values: dict[str, object], date_names: list[str]) -> None:
    """Dates named ``*_date`` must lie before ``as_of`` (the snapshot date)."""
    if "as_of" not in values or "as_of" not in date_names:
        return
    as_of = dt.date.fromisoformat(str(values["as_of"]))
    for name in date_names:
        if name.endswith("_date") and dt.date.fromisoformat(str(values[name])) >= as_of:
            raise ParameterError(
                name, f"expected a date before as_of ({as_of.isoformat()}), got {values[name]!r}"
            )


def check_dates_within(values: dict[str, object], date_names: list[str], span) -> None:
    """Dates named ``*_date`` must lie inside the data, ``as_of`` not before its start.

    Parameters
    ----------
    values : dict
        The final parameter values.
    date_names : list of str
        The date parameters of the notebook.
    span : tuple of str or None
        ``(first, last)`` ISO dates of the data (e.g. the opportunities' first creation
        and last close date); None skips the check.
    """
    if span is None:
        return
    first, last = (dt.date.fromisoformat(d) for d in span)
    for name in date_names:
        value = dt.date.fromisoformat(str(values[name]))
        if name == "as_of":
            if value < first:
                raise ParameterError(
                    name,
                    f"expected a date on or after the first record ({first}), got {values[name]!r}",
                )
        elif name.endswith("_date") and not first < value <= last:
            raise ParameterError(
                name,
                f"expected a date within the data ({first} to {last}), got {values[name]!r}",
            )


def check_currency_in_data(values: dict[str, object], currencies) -> None:
    """A ``currency`` parameter must be one of the CRM org's currencies (None skips)."""
    if currencies is None or "currency" not in values:
        return
    value = str(values["currency"]).upper()
    if value not in currencies:
        raise ParameterError(
            "currency",
            f"expected one of the currencies of the CRM data ({', '.join(sorted(currencies))}), "
            f"got {values['currency']!r}",
        )
