"""White space: Kreise with fewer customers than their potential, publishable tables and sentences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.market.limits import chance_of_flag_below, check_level
from analysis.market.not_customers import count_text
from analysis.market.potential import (
    STATUS_LABELS,
    LocatedAccounts,
    PotentialModel,
)

# --------------------------------------------------------------------------- white space


def white_space(
    model: PotentialModel,
    *,
    potential_quantile: float = 0.75,
    min_expected: float | None = None,
    level: float = 0.95,
    max_ratio: float | None = None,
) -> pd.DataFrame:
    """Kreise with high potential and low coverage, ranked by shortfall.

    A Kreis is white space when its expected value is high — at least
    ``min_expected``, or by default at least the ``potential_quantile`` of the
    expected values of all fitted Kreise — *and* its coverage is low: the observed
    value lies below the lower control limit at ``level`` (significantly below
    E: the exact one-sided tail probability ``P(X <= O)`` under the model, with its
    dispersion, is below ``(1 - level) / 2``), or, when ``max_ratio`` is given, O/E
    is below it.

    Parameters
    ----------
    model : PotentialModel
    potential_quantile : float
        Quantile of E that counts as high potential (ignored with ``min_expected``).
    min_expected : float, optional
        Absolute threshold for E.
    level : float
        Two-sided level of the control limit (0.95: one-sided 2.5 %).
    max_ratio : float, optional
        Also flag O/E below this value.

    Returns
    -------
    DataFrame
        Ranked (``rank`` 1 = largest shortfall): ``ags``, ``name`` (if present),
        ``expected``, ``observed``, ``ratio``, ``ratio_ci_low``, ``ratio_ci_high``,
        ``shortfall`` (E − O), ``p_below``, ``hc_count``, the model's exposure
        (e.g. ``employees``), ``reason``. ``attrs``: ``min_expected`` (the threshold used), ``level``,
        ``max_ratio``, ``n_high_potential``.
    """
    check_level(level)
    frame = model.frame[model.frame["expected"].notna()]
    if min_expected is None:
        if not 0 <= potential_quantile <= 1:
            raise ParameterError("potential_quantile", f"expected [0, 1], got {potential_quantile}")
        min_expected = float(frame["expected"].quantile(potential_quantile))
    high = frame[frame["expected"] >= min_expected]
    tail = (1 - level) / 2
    phi = model.dispersion_used
    # decided on the exact tail probability, not on the interpolated drawing limit
    significant = high["p_below"].to_numpy() < tail
    below_ratio = (
        high["ratio"].to_numpy() < max_ratio - 1e-12
        if max_ratio is not None
        else np.zeros(len(high), bool)
    )
    pct = f"{level * 100:g} %"
    reason = np.where(
        significant & below_ratio,
        f"below the {pct} limit; O/E < {max_ratio}",
        np.where(significant, f"below the {pct} limit", f"O/E < {max_ratio}"),
    )
    chosen = high.assign(shortfall=high["expected"] - high["observed"], reason=reason)[
        significant | below_ratio
    ]
    columns = [
        c
        for c in (
            "ags",
            "name",
            "expected",
            "observed",
            "ratio",
            "ratio_ci_low",
            "ratio_ci_high",
            "shortfall",
            "p_below",
            "hc_count",
            model.exposure,
            "reason",
        )
        if c in chosen.columns
    ]
    ranked = (
        chosen.sort_values(["shortfall", "ags"], ascending=[False, True])[columns]
        .reset_index(drop=True)
        .astype({"reason": "str"})
    )
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    # How many Kreise on target would be flagged by these rules by chance alone
    # (the same count distribution, with the model's dispersion, as the flags).
    if model.count:
        cut = (max_ratio or 0.0) * high["expected"].to_numpy()
        by_chance = float(
            chance_of_flag_below(high["expected"].to_numpy(), tail, phi, cut=cut).sum()
        )
    else:
        by_chance = float("nan")
    ranked.attrs = {
        "min_expected": float(min_expected),
        "level": level,
        "max_ratio": max_ratio,
        "n_high_potential": int(len(high)),
        "n_significant": int(significant.sum()),
        "expected_by_chance": by_chance,
    }
    return ranked


# --------------------------------------------------------------------------- report helpers


def publishable(
    table: pd.DataFrame,
    count_col: str,
    dependent: Sequence[str] = (),
    *,
    threshold: int = 5,
    decimals: int | dict[str, int] = 1,
    label: str = f"<{5}",
) -> pd.DataFrame:
    """A report version of a table with customer counts: small counts hidden.

    Rows whose ``count_col`` is below ``threshold`` (zeros included) show ``label``
    in ``count_col`` and ``"x"`` in every ``dependent`` column (values derived from
    the count, e.g. O/E, shortfall, revenue), so that nothing reveals the hidden
    count. Uses :func:`analysis.privacy.suppress_small_cells` for the rule; shown
    numbers are formatted as text with ``decimals`` (thousands separators).

    Returns
    -------
    DataFrame
        The table with ``count_col`` and ``dependent`` as text columns; ``attrs``
        ``n_suppressed`` and ``note``.
    """
    from analysis.privacy import suppress_small_cells

    columns = [count_col, *dependent]
    part = table[columns].apply(pd.to_numeric, errors="coerce")
    hidden = suppress_small_cells(
        part, counts=count_col, threshold=threshold, label=label, include_zeros=True
    )
    mask = hidden.attrs["suppressed"][count_col].to_numpy()
    out = table.copy()
    for col in columns:
        places = decimals.get(col, 1) if isinstance(decimals, dict) else decimals
        text = part[col].map(lambda v, p=places: "–" if pd.isna(v) else f"{v:,.{p}f}")
        out[col] = text.where(~mask, label if col == count_col else "x").astype("str")
    out.attrs = {
        "n_suppressed": int(mask.sum()),
        "note": (
            f"{label} = fewer than {threshold} customers (including none); x = hidden "
            "because it would reveal such a count."
        ),
    }
    return out


def count_table(counts: pd.Series, *, threshold: int = 5, label: str = "accounts") -> pd.DataFrame:
    """A one-column table of record counts with a total, small counts hidden.

    Counts from 1 to ``threshold - 1`` show ``x``, and so does whatever else would
    reveal them through the total (complementary suppression with
    :func:`analysis.privacy.suppress_small_cells`); zeros are shown.

    Parameters
    ----------
    counts : Series
        Counts by category (no total).
    label : str
        Name of the count column.

    Returns
    -------
    DataFrame
        Index: the categories and ``Total``; ``label`` and ``share`` (text).
        ``attrs["note"]``.
    """
    from analysis.privacy import suppress_small_cells

    frame = counts.astype("float64").to_frame(label)
    hidden = suppress_small_cells(frame, threshold=threshold, totals="columns")
    mask = hidden.attrs["suppressed"][label].to_numpy()
    total = float(frame[label].sum())
    values = [*frame[label].tolist(), total]
    out = pd.DataFrame(
        {
            label: ["x" if m else f"{v:,.0f}" for v, m in zip(values, mask, strict=True)],
            "share": [
                "x" if m else (f"{v / total:.1%}" if total else "–")
                for v, m in zip(values, mask, strict=True)
            ],
        },
        index=pd.Index([*frame.index, "Total"], name=counts.index.name),
    )
    out.attrs = {"note": hidden.attrs["note"], "n_suppressed": int(mask.sum())}
    return out


def location_table(located: LocatedAccounts, threshold: int = 5) -> pd.DataFrame:
    """:attr:`LocatedAccounts.summary` for a report: accounts by status, small counts hidden.

    See :func:`count_table`; the total always shows every account.
    """
    counts = located.summary.set_index("status")["accounts"].drop("total")
    return count_table(counts.rename_axis("status"), threshold=threshold)


def location_sentence(located: LocatedAccounts) -> str:
    """One sentence on how many accounts were placed and why the others were not."""
    s = located.summary.set_index("status")
    n = located.n_accounts
    placed = int(s.loc[STATUS_LABELS["placed"], "accounts"])
    parts = [
        f"{count_text(s.loc[label, 'accounts'])} {label.split(' (')[0]}"
        for key, label in STATUS_LABELS.items()
        if key != "placed" and s.loc[label, "accounts"] > 0
    ]
    rest = "; ".join(parts) if parts else "none left over"
    share = placed / n if n else float("nan")
    return (
        f"{placed:,} of {n:,} accounts ({share:.1%}) were placed in a Kreis by their billing "
        f"postcode; the others are counted apart, not dropped: {rest}."
    )


_PER = {"employees": "employee", "population": "inhabitant", "firms_listed": "listed firm"}


def model_sentence(model: PotentialModel) -> str:
    """What the potential model says, in words (rate ratios with intervals)."""
    pct = f"{model.level * 100:g} %"
    per = _PER.get(model.exposure, model.exposure.replace("_", " "))
    parts = []
    labels = {
        "hc_log": "1 + Hidden Champions per 100,000 inhabitants",
        "mint_log": "1 + MINT students per 1,000 inhabitants",
    }
    for row in model.coefficients.itertuples():
        if row.term == "intercept":
            continue
        outcome = model.outcome.replace("_", " ")
        if row.term in labels:  # log covariates: an elasticity
            parts.append(
                f"doubling {labels[row.term]} multiplies the expected {outcome} per {per} by "
                f"{2**row.coef:.2f} ({pct} CI {2**row.ci_low:.2f}–{2**row.ci_high:.2f})"
            )
        else:
            parts.append(
                f"one unit more {row.term} multiplies the expected {outcome} per {per} by "
                f"{row.rate_ratio:.2f} ({pct} CI {row.rate_ratio_ci_low:.2f}–"
                f"{row.rate_ratio_ci_high:.2f})"
            )
    flags = model.frame["funnel"].value_counts()
    below = int(flags.get("below 95 %", 0) + flags.get("below 99.8 %", 0))
    above = int(flags.get("above 95 %", 0) + flags.get("above 99.8 %", 0))
    effects = "; ".join(parts) if parts else "no covariates"
    phi = model.dispersion_used
    spread = (
        f"counts vary about {phi:.1f} times as much as pure chance (Poisson) would make them "
        "vary, and every interval and limit allows for that"
        if phi > 1.05
        else "counts vary about as much as pure chance would make them vary"
    )
    return (
        f"Fitted on {model.n_used} Kreise (exposure: {model.exposure.replace('_', ' ')}; "
        f"dispersion {model.dispersion:.2f}): {effects}. Between Kreise, {spread}. Outside the "
        f"95 % funnel: {below} Kreise below and {above} above expectation (chance alone would put "
        f"at most about {0.05 * model.n_used:.0f} there). What the model can tell: where the "
        "company has clearly fewer or more customers than Kreise of the same size and potential. "
        "What it cannot tell: why (an association, not a cause), whether a Kreis left unflagged "
        "is on target (small Kreise have wide limits), or anything about potential the two "
        "covariates do not measure."
    )


def white_space_sentence(ranked: pd.DataFrame, names: pd.Series | None = None) -> str:
    """What the white-space list says, with how many Kreise chance alone would flag."""
    a = ranked.attrs
    n = len(ranked)
    rule = f"significantly below expectation ({a['level'] * 100:g} % limits)"
    if a.get("max_ratio") is not None:
        rule += f" or O/E below {a['max_ratio']:g}"
    head = (
        f"Among the {a['n_high_potential']} Kreise with the highest potential (at least "
        f"{a['min_expected']:.1f} customers expected), {n} {'has' if n == 1 else 'have'} low "
        f"coverage ({rule})"
    )
    if n == 0:
        return head + ": no white space stands out from chance."
    chance = a.get("expected_by_chance", float("nan"))
    sig = a.get("n_significant", 0)
    text = f"{head}, {sig} of them significantly below expectation."
    if np.isfinite(chance):
        text += f" Chance alone would flag about {chance:.1f} Kreise under these rules, " + (
            "so the list is mostly noise: treat it as a watch list."
            if n <= 1.5 * chance + 1
            else "so most of them are real gaps."
        )
    if names is not None and n:
        top = "; ".join(str(names.get(c, c)) for c in ranked["ags"].head(3))
        text += f" Largest shortfall: {top}."
    return text


def plottable(
    frame: pd.DataFrame,
    *,
    threshold: int = 5,
    count_col: str = "observed",
    dependent: Sequence[str] = ("ratio", "ratio_ci_low", "ratio_ci_high", "observed"),
) -> pd.DataFrame:
    """The funnel-plot points a report may draw: none that reveal a hidden count.

    A point (E, O/E) gives O = E x (O/E), and the white-space table publishes E, so a
    Kreis whose count is hidden in the tables (below ``threshold``, zeros included,
    as :func:`publishable` hides it) must not be drawn either. Its ``dependent``
    columns become NaN (plotting libraries skip NaN) and ``shown`` is False.

    Parameters
    ----------
    frame : DataFrame
        :attr:`PotentialModel.frame` (``expected``, ``observed``, ``ratio``).
    threshold : int
    count_col : str
        The count that decides.
    dependent : sequence of str
        Columns derived from the count (present ones are blanked).

    Returns
    -------
    DataFrame
        A copy with ``shown``; ``attrs["n_hidden"]`` and ``attrs["note"]`` (say it
        under the figure).
    """
    if count_col not in frame.columns:
        raise ParameterError("count_col", f"no column {count_col!r} in the frame")
    shown = frame[count_col].astype(float) >= threshold
    blank = {c: frame[c].where(shown) for c in dependent if c in frame.columns}
    out = frame.assign(**blank, shown=shown.to_numpy())
    hidden = int((~shown & frame.get("expected", frame[count_col]).notna()).sum())
    out.attrs = {
        **frame.attrs,
        "n_hidden": hidden,
        "note": (
            f"{hidden} Kreise with fewer than {threshold} customers (including none) are not "
            "drawn: their point would reveal the count hidden in the tables."
        ),
    }
    return out
