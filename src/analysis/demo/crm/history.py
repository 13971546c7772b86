"""OpportunityHistory rows: stage changes plus amount, close-date and probability edits.

Each opportunity gets a stage path (won deals pass the open stages, skipping some;
lost deals stop at a random stage; open deals reach a stage in proportion to their
age; now and then a deal falls back one stage), one row per stage change, and about
as many edit rows that repeat the current stage (a slipped close date, a changed
amount, a probability override). Only the paths are built in a Python loop; times,
values and close dates are vectorised. :func:`history_rows` is the entry point.
"""

from __future__ import annotations

import numpy as np

from analysis.demo.crm.params import OPEN_STAGES_POST, OPEN_STAGES_PRE, STAGES

_STAGE_CODE = {name: k for k, name in enumerate(s[0] for s in STAGES)}
_WON, _LOST = _STAGE_CODE["Closed Won"], _STAGE_CODE["Closed Lost"]


def history_rows(
    rng: np.random.Generator,
    *,
    created: np.ndarray,
    close_date: np.ndarray,
    is_closed: np.ndarray,
    is_won: np.ndarray,
    amount: np.ndarray,
    cycle_days: np.ndarray,
    as_of_end: np.datetime64,
    unif: np.datetime64,
) -> dict:
    """The history rows of all opportunities and the final state they leave.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    created, close_date, is_closed, is_won, amount, cycle_days : numpy.ndarray
        Per opportunity, as simulated.
    as_of_end : numpy.datetime64
        End of the snapshot day (open deals' rows end there).
    unif : numpy.datetime64
        The unification (deals created after it pass the added stage).

    Returns
    -------
    dict
        Rows ``opp, time, stage, amount, close`` ordered by opportunity and time;
        per opportunity ``final_stage, final_close, final_amount, last_change,
        last_stage_change``; ``n_repeat`` (edit rows repeating the stage).
    """
    n = created.size
    created_s = np.asarray(created, dtype="datetime64[s]").astype(np.int64)
    close_d = np.asarray(close_date, dtype="datetime64[D]").astype(np.int64)
    end_s = int(np.datetime64(as_of_end, "s").astype(np.int64))
    post = created_s >= int(np.datetime64(unif, "s").astype(np.int64))
    n_open = np.where(post, len(OPEN_STAGES_POST), len(OPEN_STAGES_PRE))
    reach_open = np.minimum(
        n_open,
        1 + (n_open * ((end_s - created_s) / 86400) / np.maximum(cycle_days, 1.0)).astype(int),
    )
    paths = _stage_paths(rng, n_open, reach_open, is_closed, is_won)
    n_stage_rows = np.array([len(p) for p in paths])
    stage_code = np.fromiter(
        (c for p in paths for c in p), dtype=np.int64, count=n_stage_rows.sum()
    )
    close_time = close_d * 86400 + rng.integers(8 * 3600, 18 * 3600, size=n)
    end = np.where(is_closed, np.maximum(close_time, created_s + 60), end_s)
    span = np.maximum(end - created_s, n_stage_rows * 60 + 60)
    stage_opp = np.repeat(np.arange(n), n_stage_rows)
    stage_time = _stage_times(rng, stage_opp, n_stage_rows, created_s, span, end, is_closed)
    edit_opp, edit_time, edit_kind = _edits(rng, n_stage_rows, created_s, span, end, is_closed)
    rows = _merge(stage_opp, stage_time, stage_code, edit_opp, edit_time, edit_kind)
    close_row = _close_dates(rng, rows, created_s, close_d, cycle_days)
    value = _amounts(rng, rows, np.asarray(amount, dtype=float))
    opp, time, codes = rows["opp"], rows["time"], rows["codes"]
    last_rows = np.flatnonzero(np.r_[opp[1:] != opp[:-1], True])
    stage_names = np.array([s[0] for s in STAGES], dtype=object)
    return {
        "opp": opp,
        "time": time.astype("datetime64[s]"),
        "stage": stage_names[codes],
        "amount": value,
        "close": close_row.astype("datetime64[D]"),
        "final_stage": stage_names[codes[last_rows]],
        "final_close": close_row[last_rows].astype("datetime64[D]"),
        "final_amount": value[last_rows],
        "last_change": time[last_rows].astype("datetime64[s]"),
        "last_stage_change": time[rows["latest_stage_row"][last_rows]].astype("datetime64[s]"),
        "n_repeat": int((~rows["is_stage"]).sum()),
    }


def _stage_paths(
    rng: np.random.Generator,
    n_open: np.ndarray,
    reach_open: np.ndarray,
    is_closed: np.ndarray,
    is_won: np.ndarray,
) -> list[list[int]]:
    """Stage codes each opportunity passes, in order."""
    n = n_open.size
    skip = rng.random((n, len(OPEN_STAGES_POST))) < 0.25
    reach_closed = np.floor(rng.random(n) * n_open).astype(int) + 1
    back = rng.random(n) < 0.08
    back_at = rng.random(n)
    paths = []
    for i in range(n):
        k_open = int(n_open[i])
        if is_closed[i] and is_won[i]:
            path = [0] + [k for k in range(1, k_open) if not skip[i, k]] + [_WON]
        elif is_closed[i]:
            path = list(range(int(reach_closed[i]))) + [_LOST]
        else:
            path = list(range(int(reach_open[i])))
        if back[i] and len(path) >= 4:
            k = 2 + int(back_at[i] * (len(path) - 3))
            path = path[:k] + [path[k - 2]] + path[k - 1 :]
        paths.append(path)
    return paths


def _stage_times(
    rng: np.random.Generator,
    stage_opp: np.ndarray,
    n_stage_rows: np.ndarray,
    created_s: np.ndarray,
    span: np.ndarray,
    end: np.ndarray,
    is_closed: np.ndarray,
) -> np.ndarray:
    """First row at creation, closing row at the close, the rest in between (seconds)."""
    first_of = np.r_[0, np.cumsum(n_stage_rows)[:-1]]
    offset = 60 + np.floor(rng.random(stage_opp.size) * (span[stage_opp] - 60)).astype(np.int64)
    # sort the middle offsets within each opportunity, then pin the first and the closing row
    offset = offset[np.lexsort((offset, stage_opp))]
    stage_time = created_s[stage_opp] + offset
    stage_time[first_of] = created_s
    last_of = first_of + n_stage_rows - 1
    stage_time[last_of[is_closed]] = end[is_closed]
    return stage_time


def _edits(
    rng: np.random.Generator,
    n_stage_rows: np.ndarray,
    created_s: np.ndarray,
    span: np.ndarray,
    end: np.ndarray,
    is_closed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edit rows (about one per stage row): opportunity, time, kind in [0, 1)."""
    n_edit = rng.poisson(n_stage_rows)
    edit_opp = np.repeat(np.arange(n_stage_rows.size), n_edit)
    edit_time = (
        created_s[edit_opp]
        + 30
        + np.floor(rng.random(edit_opp.size) * (span[edit_opp] - 90)).astype(np.int64)
    )
    edit_time = np.where(is_closed[edit_opp], np.minimum(edit_time, end[edit_opp] - 1), edit_time)
    edit_kind = rng.random(edit_opp.size)  # < 0.5 slip, < 0.85 amount, else probability
    return edit_opp, edit_time, edit_kind


def _merge(
    stage_opp: np.ndarray,
    stage_time: np.ndarray,
    stage_code: np.ndarray,
    edit_opp: np.ndarray,
    edit_time: np.ndarray,
    edit_kind: np.ndarray,
) -> dict[str, np.ndarray]:
    """Stage rows and edit rows ordered by time within opportunity, with their stage."""
    opp = np.r_[stage_opp, edit_opp]
    time = np.r_[stage_time, edit_time]
    is_stage = np.r_[np.ones(stage_opp.size, bool), np.zeros(edit_opp.size, bool)]
    row_stage_code = np.r_[stage_code, np.full(edit_opp.size, -1)]
    kind = np.r_[np.full(stage_opp.size, 9.0), edit_kind]
    # stage rows first on ties, so an edit at creation time follows the first row
    order = np.lexsort((~is_stage, time, opp))
    opp, time, is_stage = opp[order], time[order], is_stage[order]
    row_stage_code, kind = row_stage_code[order], kind[order]
    pos = np.arange(opp.size)
    # each row carries the stage of the latest stage row (the first row is one)
    latest_stage_row = np.maximum.accumulate(np.where(is_stage, pos, 0))
    return {
        "opp": opp,
        "time": time,
        "is_stage": is_stage,
        "kind": kind,
        "pos": pos,
        "latest_stage_row": latest_stage_row,
        "codes": row_stage_code[latest_stage_row],
        "closing": is_stage & ((row_stage_code == _WON) | (row_stage_code == _LOST)),
        "group_first": np.r_[True, opp[1:] != opp[:-1]],
    }


def _close_dates(
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    created_s: np.ndarray,
    close_d: np.ndarray,
    cycle_days: np.ndarray,
) -> np.ndarray:
    """Close date per row (days): optimistic at first, slipping 2-8 weeks with slip edits."""
    opp, is_stage, group_first = rows["opp"], rows["is_stage"], rows["group_first"]
    slip = np.where(~is_stage & (rows["kind"] < 0.5), rng.integers(14, 61, size=opp.size), 0)
    cum = np.cumsum(slip)
    cum_before_group = np.maximum.accumulate(np.where(group_first, cum - slip, 0))
    planned0 = created_s // 86400 + np.maximum(
        14, cycle_days * 0.6 * np.exp(rng.normal(0, 0.3, size=created_s.size))
    ).astype(np.int64)
    close_row = planned0[opp] + (cum - cum_before_group)
    return np.where(rows["closing"], close_d[opp], close_row)


def _amounts(
    rng: np.random.Generator, rows: dict[str, np.ndarray], amount: np.ndarray
) -> np.ndarray:
    """Amount per row: a first estimate at creation, amount edits, the final one at closing."""
    opp, is_stage, kind = rows["opp"], rows["is_stage"], rows["kind"]
    group_first, closing = rows["group_first"], rows["closing"]
    first_estimate = np.round(amount * np.exp(rng.normal(0, 0.15, size=amount.size)), -1)
    edited = np.where(
        rng.random(opp.size) < 0.5,
        amount[opp],
        np.round(amount[opp] * np.exp(rng.normal(0, 0.1, opp.size)), -1),
    )
    setter = group_first | closing | (~is_stage & (kind >= 0.5) & (kind < 0.85))
    value_set = np.where(group_first, first_estimate[opp], np.where(closing, amount[opp], edited))
    return value_set[np.maximum.accumulate(np.where(setter, rows["pos"], 0))]
