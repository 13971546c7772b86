"""Dominance rules for amounts: a sum can disclose one large contributor.

Counts are protected by the small-cell rule; sums of money (deal sizes, won
revenue per cell) also need a rule on how much of the sum one or two contributors
make up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

__all__ = ["dominance_mask"]


def dominance_mask(
    frame: pd.DataFrame,
    value_col: str,
    by: str | Sequence[str],
    *,
    contributor_col: str | None = None,
    rule: str = "p",
    p: float = 10.0,
    n: int = 2,
    k: float = 85.0,
) -> pd.DataFrame:
    """Which cells of an amount table (sums of deal sizes, revenue) are dominated.

    A sum can disclose a single large contributor even when the cell has many
    records. Two standard sensitivity rules (Hundepool et al., *Statistical
    Disclosure Control*, Wiley 2012, 4.2.2):

    ``"p"`` (p % rule)
        Sensitive when the second largest contributor can estimate the largest to
        within ``p`` %: ``total - x1 - x2 < p/100 * x1``.
    ``"nk"`` ((n, k) dominance)
        Sensitive when the ``n`` largest contributors hold more than ``k`` % of the
        total.

    Parameters
    ----------
    frame : DataFrame
        One row per record (a deal) with a non-negative amount.
    value_col : str
    by : str or sequence of str
        Columns that define the published cells.
    contributor_col : str, optional
        Column that identifies a contributor (an account); records of one
        contributor are summed first. Default: each record is a contributor.
    rule : {"p", "nk"}
    p, n, k : float, int, float
        Rule parameters (10 %; 2 and 85 %).

    Returns
    -------
    DataFrame
        One row per cell: the ``by`` columns, ``total``, ``largest``, ``second``,
        ``n_contributors``, ``sensitive``.

    Raises
    ------
    ParameterError
        An unknown rule or column, or negative amounts.
    """
    by = [by] if isinstance(by, str) else list(by)
    if rule not in ("p", "nk"):
        raise ParameterError("rule", f"expected 'p' or 'nk', got {rule!r}")
    for col in [value_col, *by, *([contributor_col] if contributor_col else [])]:
        if col not in frame.columns:
            raise ParameterError("frame", f"no column {col!r}")
    amounts = frame[value_col].astype(float).fillna(0.0)
    if (amounts < 0).any():
        raise ParameterError(value_col, "expected non-negative amounts")
    work = frame[by].assign(_v=amounts.to_numpy())
    if contributor_col is not None:
        work = work.assign(_c=frame[contributor_col].to_numpy())
        work = work.groupby([*by, "_c"], as_index=False, dropna=False)["_v"].sum()
    rows = []
    for key, group in work.groupby(by, dropna=False, sort=True):
        values = np.sort(group["_v"].to_numpy())[::-1]
        total = float(values.sum())
        x1 = float(values[0]) if len(values) else 0.0
        x2 = float(values[1]) if len(values) > 1 else 0.0
        if rule == "p":
            sensitive = total > 0 and total - x1 - x2 < p / 100 * x1
        else:
            sensitive = total > 0 and values[:n].sum() > k / 100 * total
        key = key if isinstance(key, tuple) else (key,)
        rows.append((*key, total, x1, x2, len(values), bool(sensitive)))
    return pd.DataFrame(
        rows, columns=[*by, "total", "largest", "second", "n_contributors", "sensitive"]
    )
