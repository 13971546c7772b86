"""Disclosure control of published tables: small cells, complementary suppression, teams.

No published table shows a cell with fewer than the threshold of records; secondary
cells are hidden so that totals do not reveal a suppressed one (checked as a linear
program), and sales reps appear only pooled by team.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

# --------------------------------------------------------------------------- small cells

TOTAL = "Total"
SUPPRESSION_NOTE = (
    "x = suppressed: fewer than {threshold} records, or hidden so that totals do not "
    "reveal such a cell"
)


def _extended(counts: np.ndarray, totals: str) -> tuple[np.ndarray, list[list[tuple[int, float]]]]:
    """The table with margins and its additive relations (each sums to zero)."""
    n_rows, n_cols = counts.shape
    row_totals = totals in ("both", "rows")
    col_totals = totals in ("both", "columns")
    ext = np.zeros((n_rows + col_totals, n_cols + row_totals))
    ext[:n_rows, :n_cols] = counts
    if row_totals:
        ext[:n_rows, n_cols] = counts.sum(axis=1)
    if col_totals:
        ext[n_rows, :n_cols] = counts.sum(axis=0)
    if row_totals and col_totals:
        ext[n_rows, n_cols] = counts.sum()
    width = ext.shape[1]
    relations = []
    if row_totals:
        for i in range(ext.shape[0]):
            relations.append(
                [(i * width + j, 1.0) for j in range(n_cols)] + [(i * width + n_cols, -1.0)]
            )
    if col_totals:
        for j in range(ext.shape[1]):
            relations.append(
                [(i * width + j, 1.0) for i in range(n_rows)] + [(n_rows * width + j, -1.0)]
            )
    return ext, relations


def _determined(cells: list[int], relations: list[list[tuple[int, float]]]) -> np.ndarray:
    """Which suppressed cells the published relations pin down (exactly, over the reals)."""
    if not cells:
        return np.zeros(0, dtype=bool)
    where = {c: k for k, c in enumerate(cells)}
    rows = []
    for rel in relations:
        vec = np.zeros(len(cells))
        for cell, coef in rel:
            if cell in where:
                vec[where[cell]] = coef
        if vec.any():
            rows.append(vec)
    if not rows:
        return np.zeros(len(cells), dtype=bool)
    a = np.array(rows)
    # Null space of A: free directions of the suppressed cells given the relations.
    _, sing, vt = np.linalg.svd(a)
    rank = int((sing > 1e-9 * max(a.shape)).sum())
    null = vt[rank:].T
    if null.shape[1] == 0:
        return np.ones(len(cells), dtype=bool)
    return np.linalg.norm(null, axis=1) < 1e-9


def suppression_pattern(
    counts: pd.DataFrame,
    *,
    threshold: int = 5,
    totals: str = "both",
    include_zeros: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Primary and complementary suppression for a two-way table of counts.

    Primary: every cell (margins included) with fewer than ``threshold`` records
    (zeros only with ``include_zeros``). Complementary: further cells, cheapest
    first (small interior cells before margins, never empty cells, which cannot
    hide anything), until no hidden cell is determined by the published cells and
    totals - checked exactly with the null space of the additive relations, and
    with linear programming for non-negativity (a cycle through an empty cell can
    pin a value, or narrow a small cell's range) when at most 400 cells are hidden:
    the feasible interval of every primary cell must keep the whole suppression
    range (``1 .. threshold - 1``, from 0 with ``include_zeros``), as
    :func:`analysis.privacy.protection_check` requires. Meant for report tables (up to
    a few hundred cells); for a Kreis map merge sparse Kreise into larger regions
    instead.

    Parameters
    ----------
    counts : DataFrame
        Counts without margins (rows × columns).
    threshold : int
    totals : {"both", "rows", "columns", "none"}
        Which totals are published: ``"rows"`` adds a Total column (a total per
        row), ``"columns"`` a Total row, ``"both"`` both and the grand total.
    include_zeros : bool
        Treat empty cells as small.

    Returns
    -------
    table : DataFrame
        The counts with the requested margins (labelled ``"Total"``).
    primary, complementary : DataFrame of bool
        Aligned with ``table``.

    Raises
    ------
    ParameterError
        For a bad ``totals`` or negative counts.
    """
    if totals not in ("both", "rows", "columns", "none"):
        raise ParameterError(
            "totals", f"expected 'both', 'rows', 'columns' or 'none', got {totals!r}"
        )
    values = counts.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any():
        raise ParameterError("counts", "expected non-negative counts without missing values")
    ext, relations = _extended(values, totals)
    n_rows, n_cols = values.shape
    height, width = ext.shape
    flat = ext.ravel()
    small = (flat < threshold) & ((flat > 0) | include_zeros)
    primary = set(np.flatnonzero(small).tolist())
    suppressed = set(primary)
    is_margin = np.zeros(ext.shape, dtype=bool)
    is_margin[n_rows:, :] = True
    is_margin[:, n_cols:] = True
    # Cost of hiding a cell: its size; margins only as a last resort, never a zero.
    cost = flat + np.where(is_margin.ravel(), 1e9, 0.0)
    if height > n_rows and width > n_cols:
        cost[-1] += 1e12  # the grand total last of all
    cost[flat <= 0] = np.inf
    member_of: dict[int, list[int]] = {}
    for r, rel in enumerate(relations):
        for cell, _ in rel:
            member_of.setdefault(cell, []).append(r)
    allow_zeros = False
    for _ in range(2 * flat.size):
        cells = sorted(suppressed)
        determined = _determined(cells, relations)
        exposed = [c for c, d in zip(cells, determined, strict=True) if d]
        pinned = False
        if not exposed:
            # Non-negativity can pin a cell that linear algebra leaves free (a cycle
            # through an empty cell); check with linear programming on small tables.
            need = (0.0 if include_zeros else 1.0, float(threshold - 1))
            exposed = (
                _pinned(flat, cells, relations, primary=primary, need=need)
                if len(cells) <= 400
                else []
            )
            pinned = True
        if not exposed:
            break
        step_cost = np.where(flat <= 0, 1e15, cost) if allow_zeros else cost
        if _protect_one(
            exposed, pinned, suppressed, relations, member_of, step_cost, (width, n_rows, n_cols)
        ):
            continue
        if not allow_zeros:
            allow_zeros = True  # last resort: empty cells as complements
            continue
        raise ParameterError(
            "counts", "cannot protect the small cells of this table; publish it without totals"
        )
    index = list(counts.index) + ([TOTAL] if height > n_rows else [])
    columns = list(counts.columns) + ([TOTAL] if width > n_cols else [])
    table = pd.DataFrame(ext, index=index, columns=columns)
    if np.issubdtype(counts.to_numpy().dtype, np.integer):
        table = table.astype("int64")
    prim = np.zeros(flat.size, dtype=bool)
    prim[list(primary)] = True
    comp = np.zeros(flat.size, dtype=bool)
    comp[list(suppressed - primary)] = True
    primary_frame = pd.DataFrame(prim.reshape(ext.shape), index=index, columns=columns)
    comp_frame = pd.DataFrame(comp.reshape(ext.shape), index=index, columns=columns)
    return table, primary_frame, comp_frame


def _protect_one(
    exposed: list[int],
    pinned: bool,
    suppressed: set[int],
    relations: list[list[tuple[int, float]]],
    member_of: dict[int, list[int]],
    cost: np.ndarray,
    shape: tuple[int, int, int],
) -> bool:
    """Hide one more cell (or a rectangle) to protect an exposed cell; False if none can."""
    width, n_rows, n_cols = shape
    for target in exposed:
        candidates = sorted(
            {c for r in member_of.get(target, []) for c, _ in relations[r]} - suppressed,
            key=lambda c: cost[c],
        )
        candidates = [c for c in candidates if np.isfinite(cost[c])]
        if not pinned:
            for cand in candidates:
                trial = sorted(suppressed | {cand})
                if not _determined(trial, relations)[trial.index(target)]:
                    suppressed.add(cand)
                    return True
            rect = _cheapest_rectangle(target, width, n_rows, n_cols, cost, suppressed)
            if rect:
                suppressed |= rect
                return True
        if candidates:
            suppressed.add(candidates[0])
            return True
    return False


def _pinned(
    flat: np.ndarray,
    cells: list[int],
    relations,
    *,
    primary: set[int] | None = None,
    need: tuple[float, float] | None = None,
) -> list[int]:
    """Hidden cells the published cells fix, or (primary cells) narrow below ``need``.

    A primary cell is exposed when its feasible interval (non-negative counts) no
    longer contains the whole suppression range ``need`` (e.g. 1-4): a published
    table that leaves a small cell only the values 3-7 tells the reader it is 3 or 4.
    """
    if not cells:
        return []
    from scipy.optimize import linprog

    where = {c: k for k, c in enumerate(cells)}
    a_eq, b_eq = [], []
    for rel in relations:
        vec = np.zeros(len(cells))
        rhs = 0.0
        for cell, coef in rel:
            if cell in where:
                vec[where[cell]] = coef
            else:
                rhs -= coef * flat[cell]
        if vec.any():
            a_eq.append(vec)
            b_eq.append(rhs)
    if not a_eq:
        return []
    a, b = np.array(a_eq), np.array(b_eq)
    out = []
    for k, cell in enumerate(cells):
        objective = np.zeros(len(cells))
        objective[k] = 1.0
        low = linprog(objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if low.status != 0:
            continue
        upper = np.inf if high.status == 3 else -high.fun
        if upper - low.fun < 0.5:
            out.append(cell)
        elif primary is not None and need is not None and cell in primary:
            if low.fun > need[0] + 1e-6 or upper < need[1] - 1e-6:
                out.append(cell)
    return out


def _cheapest_rectangle(
    target: int, width: int, n_rows: int, n_cols: int, cost: np.ndarray, suppressed: set[int]
) -> set[int]:
    """Three interior cells completing a rectangle with an interior target cell."""
    r, c = divmod(target, width)
    if r >= n_rows or c >= n_cols:
        return set()
    grid = cost.reshape(-1, width)[:n_rows, :n_cols].copy()
    for cell in suppressed:
        i, j = divmod(cell, width)
        if i < n_rows and j < n_cols:
            grid[i, j] = 0.0
    total = grid[r, :][None, :] + grid[:, c][:, None] + grid
    total[r, :] = np.inf
    total[:, c] = np.inf
    if not np.isfinite(total).any():
        return set()
    i, j = np.unravel_index(np.argmin(total), total.shape)
    return {r * width + j, i * width + c, i * width + j} - suppressed


def suppress_small_cells(
    table: pd.DataFrame,
    counts: pd.DataFrame | str | None = None,
    threshold: int = 5,
    totals: str = "both",
    *,
    label: str = "x",
    include_zeros: bool = False,
) -> pd.DataFrame:
    """Publishable version of a table: small cells and their complements hidden.

    Parameters
    ----------
    table : DataFrame
        Either a two-way table of counts or additive values (sums) without margins,
        or a long table with a count column (then give ``counts`` as its name).
    counts : DataFrame, str or None
        ``None``: ``table`` holds the counts. A DataFrame: the counts behind
        ``table`` (same shape); suppression follows the counts. A column name:
        ``table`` is long; rows with fewer than ``threshold`` records have all
        numeric cells hidden (long tables carry no totals).
    threshold : int
        Smallest publishable number of records (5).
    totals : {"both", "rows", "columns", "none"}
        Margins to publish (see :func:`suppression_pattern`).
    label : str
        Shown instead of a hidden number; the same for primary and complementary
        cells (different labels would say which hidden cells are large).
    include_zeros : bool

    Returns
    -------
    DataFrame
        Object dtype: numbers or ``label``. ``attrs`` holds ``suppressed`` (bool
        mask), ``n_primary``, ``n_complementary`` and ``note`` (a footnote).

    Examples
    --------
    >>> counts = pd.DataFrame({"a": [10, 3], "b": [12, 20]}, index=["x", "y"])
    >>> suppress_small_cells(counts).loc["y", "a"]
    'x'
    """
    note = SUPPRESSION_NOTE.format(threshold=threshold).replace("x =", f"{label} =")
    if isinstance(counts, str):
        if counts not in table.columns:
            raise ParameterError("counts", f"no column {counts!r} in the table")
        small = table[counts].to_numpy(dtype=float) < threshold
        if not include_zeros:
            small &= table[counts].to_numpy(dtype=float) > 0
        numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
        shown = table.astype({c: object for c in numeric})
        mask = pd.DataFrame(False, index=table.index, columns=table.columns)
        for col in numeric:
            shown[col] = shown[col].where(~small, label)
            mask[col] = small
        shown.attrs = {
            "suppressed": mask,
            "n_primary": int(small.sum()),
            "n_complementary": 0,
            "note": note,
        }
        return shown
    count_table = table if counts is None else counts
    if counts is not None and counts.shape != table.shape:
        raise ParameterError("counts", "expected the same shape as the table")
    published, primary, complementary = suppression_pattern(
        count_table, threshold=threshold, totals=totals, include_zeros=include_zeros
    )
    if counts is not None:
        published, _ = _with_margins(table, totals)
    hidden = primary | complementary
    shown = published.astype(object).where(~hidden, label)
    shown.attrs = {
        "suppressed": hidden,
        "n_primary": int(primary.to_numpy().sum()),
        "n_complementary": int(complementary.to_numpy().sum()),
        "note": note,
    }
    return shown


def _with_margins(values: pd.DataFrame, totals: str) -> tuple[pd.DataFrame, None]:
    ext, _ = _extended(values.to_numpy(dtype=float), totals)
    index = list(values.index) + ([TOTAL] if ext.shape[0] > values.shape[0] else [])
    columns = list(values.columns) + ([TOTAL] if ext.shape[1] > values.shape[1] else [])
    return pd.DataFrame(ext, index=index, columns=columns), None


def disclosure_intervals(
    counts: pd.DataFrame, suppressed: pd.DataFrame, totals: str = "both"
) -> pd.DataFrame:
    """What an attacker can infer about each hidden cell from the published ones.

    Solves two linear programmes per hidden cell (minimise and maximise it subject
    to the published cells, the totals and non-negativity). A hidden cell is safe
    when its interval is wider than zero; an interval of width zero means the
    published table reveals it.

    Parameters
    ----------
    counts : DataFrame
        The true counts without margins.
    suppressed : DataFrame of bool
        The mask returned by :func:`suppression_pattern` (with margins).
    totals : str
        As used for the suppression.

    Returns
    -------
    DataFrame
        ``row, column, value, lower, upper`` for every hidden cell.
    """
    from scipy.optimize import linprog

    ext, relations = _extended(counts.to_numpy(dtype=float), totals)
    mask = suppressed.to_numpy(dtype=bool).ravel()
    if mask.size != ext.size:
        raise ParameterError(
            "suppressed", "expected the mask with margins from suppression_pattern"
        )
    flat = ext.ravel()
    hidden = np.flatnonzero(mask)
    where = {c: k for k, c in enumerate(hidden)}
    a_eq, b_eq = [], []
    for rel in relations:
        vec = np.zeros(hidden.size)
        rhs = 0.0
        for cell, coef in rel:
            if cell in where:
                vec[where[cell]] = coef
            else:
                rhs -= coef * flat[cell]
        if vec.any():
            a_eq.append(vec)
            b_eq.append(rhs)
    rows = []
    labels_r = list(suppressed.index)
    labels_c = list(suppressed.columns)
    width = ext.shape[1]
    for k, cell in enumerate(hidden):
        objective = np.zeros(hidden.size)
        objective[k] = 1.0
        bounds = []
        for sense in (1.0, -1.0):
            if a_eq:
                res = linprog(
                    sense * objective,
                    A_eq=np.array(a_eq),
                    b_eq=np.array(b_eq),
                    bounds=(0, None),
                    method="highs",
                )
                # status 3: unbounded, which only a maximisation can be
                bounds.append(
                    sense * res.fun if res.status == 0 else (np.inf if sense < 0 else 0.0)
                )
            else:
                bounds.append(0.0 if sense > 0 else np.inf)
        r, c = divmod(int(cell), width)
        rows.append((labels_r[r], labels_c[c], flat[cell], bounds[0], bounds[1]))
    return pd.DataFrame(rows, columns=["row", "column", "value", "lower", "upper"])


# --------------------------------------------------------------------------- teams

OTHER_TEAMS = "other teams"
UNKNOWN_TEAM = "(unknown team)"


def team_only(
    frame: pd.DataFrame,
    owner_col: str,
    users: pd.DataFrame,
    *,
    team_col: str = "team",
    min_team_size: int = 3,
    period_col: str | None = None,
) -> pd.DataFrame:
    """Replace the owner (a sales rep) by the owner's team, pooling small teams.

    Team size is the number of distinct owners of a team *in each period row*
    (``period_col``; the whole frame without it). Teams below ``min_team_size`` in a
    period are pooled into ``"other teams"`` for that period; when that pool itself
    has fewer than ``min_team_size`` reps, the next smallest team joins it until it
    reaches the size (or every team of the period is pooled). A period with fewer
    reps than ``min_team_size`` altogether cannot be shown by team: its rows keep
    ``"other teams"`` and the period is listed in ``attrs["periods_below_min"]``
    (publish it only in a total, or not at all). A "team" of one is the rep
    (works-council rules).

    Parameters
    ----------
    frame : DataFrame
    owner_col : str
        Column of user Ids (e.g. ``owner_id``); removed from the result.
    users : DataFrame
        ``user_id`` and ``team`` (``CrmData.users``).
    team_col : str
    min_team_size : int
    period_col : str, optional
        Column of the period rows a table will show (e.g. ``"period"`` with
        ``pre``/``post``); sizes are counted per period.

    Returns
    -------
    DataFrame
        ``frame`` without ``owner_col`` and with ``team_col``; ``attrs``:
        ``pooled_teams`` (teams pooled in any period), ``pooled_by_period``
        (period -> teams pooled) and ``periods_below_min``.
    """
    if owner_col not in frame.columns:
        raise ParameterError("owner_col", f"no column {owner_col!r} in the frame")
    if period_col is not None and period_col not in frame.columns:
        raise ParameterError("period_col", f"no column {period_col!r} in the frame")
    missing = {"user_id", "team"} - set(users.columns)
    if missing:
        raise ParameterError(
            "users", f"expected columns user_id and team, missing {sorted(missing)}"
        )
    team_of = users.drop_duplicates("user_id").set_index("user_id")["team"].astype("str")
    owner = frame[owner_col].astype("str")
    team = owner.map(team_of).fillna(UNKNOWN_TEAM).replace("", UNKNOWN_TEAM).astype("str")
    period = (
        frame[period_col].astype("str") if period_col is not None else pd.Series("", frame.index)
    )
    pooled_by_period: dict[str, list[str]] = {}
    below: list[str] = []
    out_team = team.copy()
    for key, rows in team.groupby(period.to_numpy()).groups.items():
        sizes = owner.loc[rows].groupby(team.loc[rows].to_numpy()).nunique().sort_values()
        pool = _pool(sizes, owner.loc[rows], team.loc[rows], min_team_size)
        if pool:
            pooled_by_period[str(key)] = pool
            chosen = rows[team.loc[rows].isin(pool).to_numpy()]
            out_team.loc[chosen] = OTHER_TEAMS
            if owner.loc[chosen].nunique() < min_team_size:
                below.append(str(key))
    out = frame.drop(columns=[owner_col]).assign(**{team_col: out_team.to_numpy()})
    out.attrs = {
        **frame.attrs,
        "pooled_teams": sorted({t for teams in pooled_by_period.values() for t in teams}),
        "pooled_by_period": pooled_by_period,
        "periods_below_min": below,
    }
    return out


def _pool(sizes: pd.Series, owner: pd.Series, team: pd.Series, minimum: int) -> list[str]:
    """Teams to pool in one period: all small ones, plus the smallest others until the pool has ``minimum`` reps."""
    pool = [t for t, n in sizes.items() if n < minimum]
    if not pool:
        return []
    rest = [t for t in sizes.index if t not in pool]
    while owner[team.isin(pool).to_numpy()].nunique() < minimum and rest:
        pool.append(rest.pop(0))
    return sorted(pool)


# --------------------------------------------------------------------------- display


def html_safe(text: object) -> str:
    """Escape text for HTML: ``<script>`` is shown as text, never run.

    Examples
    --------
    >>> html_safe("<script>alert(1)</script> & Co")
    '&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co'
    """
    return html.escape("" if text is None else str(text), quote=True)


def safe_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and label HTML-escaped.

    ``DataFrame.to_html`` and the report renderer already escape; use this for
    paths that do not (``Styler`` with ``escape=False``, Markdown built from
    values, custom HTML).
    """

    def esc(value: object) -> object:
        return html_safe(value) if isinstance(value, str) else value

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(esc, na_action="ignore")
    out.index = out.index.map(esc)
    out.columns = out.columns.map(esc)
    return out
