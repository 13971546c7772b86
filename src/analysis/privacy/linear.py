"""Joint disclosure check: what the published numbers of a report leave open for a hidden one.

A report publishes tables, totals, sentence counts and plot coordinates. Each
published number, and each identity that ties numbers together (a total is the
sum of its rows, a status list partitions the firms, O = ratio x E), is a linear
relation. An attacker who collects them all can bound every hidden count by
linear programming: minimise and maximise it subject to the relations and the
attacker's prior bounds (counts are non-negative, a cell marked ``<5`` lies in 0-4).
A hidden count is protected when that feasible interval still contains the whole
suppression range (a hidden 1-4 could still be any of 1-4, or 0-4 when zeros are
suppressed too).

This is the audit the statistical offices apply to tabular data (Hundepool et al.,
*Statistical Disclosure Control*, Wiley 2012, ch. 4.2: "feasibility intervals"
and the "protection interval" requirement), solved with ``scipy.optimize.linprog``
(HiGHS). It works on names, not on tables, so that the numbers of several tables,
sentences and reports of one plan run can be checked together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

__all__ = [
    "DisclosureError",
    "PublishedNumbers",
    "assert_protected",
    "feasible_intervals",
    "protection_check",
]


class DisclosureError(ValueError):
    """Published numbers let an attacker narrow a hidden count below its suppression range."""


@dataclass
class PublishedNumbers:
    """What one report (or all reports of one run) lets a reader know.

    Attributes
    ----------
    values : dict
        Published number by name (``"teams/north/pre/n_won"``, ``"sentence/n_total"``).
    hidden : dict
        Hidden number by name -> the attacker's prior bounds ``(low, high)``
        (``high`` may be ``inf``). The true values are never stored here.
    relations : list of (dict, float)
        Linear identities ``sum(coef * number) == rhs`` over published and hidden
        names.
    """

    values: dict[str, float] = field(default_factory=dict)
    hidden: dict[str, tuple[float, float]] = field(default_factory=dict)
    relations: list[tuple[dict[str, float], float]] = field(default_factory=list)

    def publish(self, name: str, value: float) -> None:
        """Record a published number."""
        self.values[name] = float(value)

    def hide(self, name: str, low: float = 0.0, high: float = np.inf) -> None:
        """Record a hidden number and what the reader knows about its range."""
        self.hidden[name] = (float(low), float(high))

    def relate(self, coefficients: Mapping[str, float], rhs: float = 0.0) -> None:
        """Record an identity ``sum(coef * number) == rhs``."""
        self.relations.append((dict(coefficients), float(rhs)))

    def sum_of(self, total: str, parts: Iterable[str]) -> None:
        """Record ``total == sum(parts)``."""
        coefficients = {p: 1.0 for p in parts}
        coefficients[total] = coefficients.get(total, 0.0) - 1.0
        self.relate(coefficients)

    def merge(self, other: PublishedNumbers) -> PublishedNumbers:
        """The numbers of two reports together (a name is one cell; published in either wins)."""
        values = {**self.values, **other.values}
        hidden = {k: v for k, v in {**self.hidden, **other.hidden}.items() if k not in values}
        return PublishedNumbers(
            values=values,
            hidden=hidden,
            relations=[*self.relations, *other.relations],
        )


def feasible_intervals(
    numbers: PublishedNumbers, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Smallest and largest value each hidden number can take given everything published.

    Parameters
    ----------
    numbers : PublishedNumbers
    names : sequence of str, optional
        Hidden names to bound (default: all).

    Returns
    -------
    DataFrame
        ``name, lower, upper`` (``upper`` is ``inf`` when unbounded).

    Raises
    ------
    ParameterError
        A relation naming a number neither published nor hidden, or published
        numbers that contradict the relations (infeasible).
    """
    from scipy.optimize import linprog

    hidden = list(numbers.hidden)
    names = hidden if names is None else list(names)
    where = {n: k for k, n in enumerate(hidden)}
    rows, rhs = [], []
    for coefficients, constant in numbers.relations:
        vec = np.zeros(len(hidden))
        value = constant
        for name, coef in coefficients.items():
            if name in where:
                vec[where[name]] += coef
            elif name in numbers.values:
                value -= coef * numbers.values[name]
            else:
                raise ParameterError("relations", f"{name!r} is neither published nor hidden")
        if vec.any():
            rows.append(vec)
            rhs.append(value)
        elif abs(value) > 1e-6 * max(1.0, abs(constant)):
            raise ParameterError("relations", f"published numbers contradict {coefficients}")
    bounds = [(lo, None if not np.isfinite(hi) else hi) for lo, hi in numbers.hidden.values()]
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    out = []
    for name in names:
        if name not in where:
            raise ParameterError("names", f"{name!r} is not a hidden number")
        objective = np.zeros(len(hidden))
        objective[where[name]] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 2 or high.status == 2:
            raise ParameterError("numbers", "the published numbers are inconsistent (infeasible)")
        upper = np.inf if high.status == 3 else -float(high.fun)
        out.append((name, float(low.fun), upper))
    return pd.DataFrame(out, columns=["name", "lower", "upper"])


def protection_check(
    numbers: PublishedNumbers,
    sensitive: Mapping[str, float],
    *,
    threshold: int = 5,
    include_zeros: bool = True,
) -> pd.DataFrame:
    """For each small hidden count: is its whole suppression range still feasible?

    Parameters
    ----------
    numbers : PublishedNumbers
    sensitive : mapping
        Hidden name -> its true value (only the checker knows it). Counts below
        ``threshold`` must keep the range ``[0 or 1, threshold - 1]`` feasible;
        larger hidden counts (complements) must not be pinned (width > 0).
    threshold : int
    include_zeros : bool
        Whether the suppression range starts at 0 (zeros hidden too) or 1.

    Returns
    -------
    DataFrame
        ``name, value, lower, upper, required_low, required_high, protected``.
    """
    bounds = feasible_intervals(numbers, list(sensitive)).set_index("name")
    start = 0.0 if include_zeros else 1.0
    rows = []
    for name, value in sensitive.items():
        low, high = bounds.loc[name, "lower"], bounds.loc[name, "upper"]
        if value < threshold:
            need = (start if value >= start else 0.0, float(threshold - 1))
            ok = low <= need[0] + 1e-6 and high >= need[1] - 1e-6
        else:
            need = (np.nan, np.nan)
            ok = high - low > 0.5
        rows.append((name, float(value), low, high, need[0], need[1], bool(ok)))
    return pd.DataFrame(
        rows,
        columns=["name", "value", "lower", "upper", "required_low", "required_high", "protected"],
    )


def assert_protected(
    numbers: PublishedNumbers,
    sensitive: Mapping[str, float],
    *,
    threshold: int = 5,
    include_zeros: bool = True,
) -> pd.DataFrame:
    """:func:`protection_check`, raising :class:`DisclosureError` for any exposed count.

    Returns
    -------
    DataFrame
        The check table when every count is protected.

    Raises
    ------
    DisclosureError
        Naming each exposed number and the interval an attacker can derive.
    """
    check = protection_check(numbers, sensitive, threshold=threshold, include_zeros=include_zeros)
    bad = check[~check["protected"]]
    if len(bad):
        detail = "; ".join(
            f"{r.name}: feasible [{r.lower:g}, {r.upper:g}]" for r in bad.itertuples(index=False)
        )
        raise DisclosureError(f"published numbers narrow hidden counts: {detail}")
    return check
