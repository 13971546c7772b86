"""Exact count distributions with overdispersion: tail probabilities and funnel limits.

Counts of customers per Kreis vary more than Poisson (firms cluster, the CRM was
filled unevenly). The potential model estimates the dispersion φ (Pearson χ² /
residual df); a count on target is then taken to have mean E and variance φ E.
For φ > 1 the exact distribution used is the negative binomial with that mean and
variance (the "NB1" parametrisation: size ``E / (φ - 1)``, success probability
``1 / φ``), for φ ≤ 1 the Poisson. Tail probabilities are exact for integer
counts and continued in the count (regularised incomplete gamma / beta functions)
for share-weighted counts. Funnel limits follow Spiegelhalter (2005, *Funnel plots
for comparing institutional performance*, Stat Med 24:1185, appendix A.1.2:
interpolated quantiles; section 5: overdispersion), but flags are decided on the
tail probabilities, never by comparing an integer count with an interpolated limit
(which flags far more than the nominal share at small E).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.errors import ParameterError

__all__ = [
    "FUNNEL_LEVELS",
    "chance_of_flag_below",
    "check_level",
    "count_cdf",
    "count_quantile_limit",
    "count_tail_probabilities",
    "dispersion_used",
    "funnel_curve",
    "funnel_limits",
    "level_tag",
    "poisson_quantile_limit",
    "poisson_tail_probabilities",
    "ratio_interval",
]

#: Funnel levels drawn and flagged: about 2 and 3 standard deviations.
FUNNEL_LEVELS: tuple[float, float] = (0.95, 0.998)


def dispersion_used(estimate: float) -> float:
    """The φ the intervals use: the Pearson estimate, never below 1 (no underdispersion claimed)."""
    return float(max(1.0, estimate)) if np.isfinite(estimate) else 1.0


def _nb_params(mu: np.ndarray, phi: float) -> tuple[np.ndarray, float]:
    return mu / (phi - 1.0), 1.0 / phi


def count_cdf(k, expected, dispersion: float = 1.0) -> np.ndarray:
    """``P(X ≤ k)`` for integer ``k``, X on target (mean E, variance φ E)."""
    k = np.asarray(k, dtype="float64")
    mu = np.asarray(expected, dtype="float64")
    if dispersion <= 1.0:
        return stats.poisson.cdf(k, mu)
    size, prob = _nb_params(mu, dispersion)
    return stats.nbinom.cdf(k, size, prob)


def count_tail_probabilities(
    observed, expected, dispersion: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided exact p-values ``P(X ≤ O)`` and ``P(X ≥ O)`` for X on target.

    Parameters
    ----------
    observed, expected : array-like
        O (may be fractional: share-weighted counts) and E (> 0).
    dispersion : float
        φ; ≤ 1 gives the Poisson tails.

    Returns
    -------
    (below, above) : tuple of ndarray
        At integer O these are the sums of the probability mass function; in
        between they are continued smoothly.
    """
    o = np.asarray(observed, dtype="float64")
    mu = np.asarray(expected, dtype="float64")
    if dispersion <= 1.0:
        below = special.gammaincc(o + 1, mu)
        above = np.where(o > 0, special.gammainc(np.maximum(o, 1e-300), mu), 1.0)
        return below, above
    size, prob = _nb_params(mu, dispersion)
    # P(X <= k) = I_p(size, k + 1); P(X >= k) = 1 - I_p(size, k) = I_{1-p}(k, size)
    below = special.betainc(size, o + 1, prob)
    above = np.where(o > 0, special.betainc(np.maximum(o, 1e-300), size, 1 - prob), 1.0)
    return below, above


def count_quantile_limit(expected, p: float, dispersion: float = 1.0) -> np.ndarray:
    """The p-quantile of the on-target count, interpolated (Spiegelhalter 2005, A.1.2).

    With ``r`` the smallest integer whose cumulative probability ``F(r)`` reaches
    ``p``: ``r - (F(r) - p) / (F(r) - F(r - 1))``, floored at 0. For drawing the
    funnel only; flags come from :func:`count_tail_probabilities`.
    """
    mu = np.asarray(expected, dtype="float64")
    if dispersion <= 1.0:
        r = stats.poisson.ppf(p, mu)
    else:
        size, prob = _nb_params(np.maximum(mu, 1e-12), dispersion)
        r = stats.nbinom.ppf(p, size, prob)
    f_r = count_cdf(r, mu, dispersion)
    f_prev = count_cdf(r - 1, mu, dispersion)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_prev, (f_r - p) / (f_r - f_prev), 0.0)
    limit = np.maximum(r - alpha, 0.0)
    return np.where(mu > 0, limit, 0.0)


def chance_of_flag_below(expected, tail: float, dispersion: float = 1.0, cut=None) -> np.ndarray:
    """Probability that an on-target integer count is flagged low.

    Flagged means ``P(X ≤ O) < tail`` or, with ``cut``, ``O < cut``. Summed over
    Kreise this is how many chance alone would flag.
    """
    mu = np.asarray(expected, dtype="float64")
    if dispersion <= 1.0:
        r = stats.poisson.ppf(tail, mu)
    else:
        size, prob = _nb_params(np.maximum(mu, 1e-12), dispersion)
        r = stats.nbinom.ppf(tail, size, prob)
    # r is the smallest k with F(k) >= tail: counts up to r - 1 have F < tail
    flagged_up_to = r - 1
    if cut is not None:
        # O < cut for an integer O is O <= ceil(cut) - 1 (1e-9: 0.7 * 10 stays 7)
        flagged_up_to = np.maximum(flagged_up_to, np.ceil(np.asarray(cut) - 1e-9) - 1)
    return np.where(flagged_up_to >= 0, count_cdf(flagged_up_to, mu, dispersion), 0.0)


def check_level(level: float) -> None:
    """Refuse a level outside (0, 1)."""
    if not 0 < level < 1:
        raise ParameterError("level", f"expected a probability in (0, 1), got {level!r}")


def poisson_quantile_limit(expected, p: float) -> np.ndarray:
    """The p-quantile of Poisson(expected), interpolated to a continuous value.

    With ``r`` the smallest integer whose cumulative probability ``F(r)`` reaches
    ``p``, the limit is ``r - (F(r) - p) / (F(r) - F(r - 1))`` (Spiegelhalter 2005,
    *Funnel plots for comparing institutional performance*, Stat Med 24:1185,
    appendix A.1.2), floored at 0. At values of ``expected`` where ``F`` crosses ``p``
    exactly the limit is the integer quantile.

    Parameters
    ----------
    expected : array-like
        Poisson means (≥ 0).
    p : float
        Probability in (0, 1).

    Returns
    -------
    ndarray
    """
    check_level(p)
    mu = np.asarray(expected, dtype="float64")
    r = stats.poisson.ppf(p, mu)
    f_r = stats.poisson.cdf(r, mu)
    f_prev = stats.poisson.cdf(r - 1, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_prev, (f_r - p) / (f_r - f_prev), 0.0)
    limit = np.maximum(r - alpha, 0.0)
    return np.where(mu > 0, limit, 0.0)


def funnel_limits(
    expected, level: float = 0.95, *, dispersion: float | None = None, count: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits for the observed count O of a unit with expected count E.

    Parameters
    ----------
    expected : array-like
        E (≥ 0).
    level : float
        Two-sided coverage, e.g. 0.95 or 0.998: a unit on target lies inside with
        this probability.
    dispersion : float, optional
        ``None``: exact Poisson limits (:func:`poisson_quantile_limit` at
        ``(1 - level) / 2`` and ``(1 + level) / 2``). A number φ: normal limits
        ``E ± z * sqrt(φ E)`` for overdispersed or non-count outcomes (quasi-Poisson,
        e.g. revenue), floored at 0.
    count : bool
        With a ``dispersion``: the outcome is a count, and the limits are the
        interpolated quantiles of the exact count distribution with mean E and
        variance φ E (:func:`analysis.market.limits.count_quantile_limit`) instead
        of the normal approximation.

    Returns
    -------
    (lower, upper) : tuple of ndarray
        On the count scale; divide by E for O/E limits.
    """
    check_level(level)
    mu = np.asarray(expected, dtype="float64")
    tail = (1 - level) / 2
    if dispersion is None:
        return poisson_quantile_limit(mu, tail), poisson_quantile_limit(mu, 1 - tail)
    if count:
        return (
            count_quantile_limit(mu, tail, dispersion),
            count_quantile_limit(mu, 1 - tail, dispersion),
        )
    z = stats.norm.ppf(1 - tail)
    half = z * np.sqrt(dispersion * np.maximum(mu, 0))
    return np.maximum(mu - half, 0.0), mu + half


def ratio_interval(observed, expected, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence interval of O/E for a Poisson count O.

    ``lower = chi2.ppf(a/2, 2 O) / (2 E)`` (0 when O = 0), ``upper = chi2.ppf(1 -
    a/2, 2 (O + 1)) / (2 E)`` with ``a = 1 - level``. Non-integer O (share-weighted
    counts) uses the same formula with fractional degrees of freedom.

    Returns
    -------
    (lower, upper) : tuple of ndarray
        NaN where E is not positive.
    """
    check_level(level)
    o = np.asarray(observed, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    a = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(o > 0, stats.chi2.ppf(a / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
        high = stats.chi2.ppf(1 - a / 2, 2 * (o + 1)) / 2
        valid = e > 0
        return np.where(valid, low / e, np.nan), np.where(valid, high / e, np.nan)


def poisson_tail_probabilities(observed, expected) -> tuple[np.ndarray, np.ndarray]:
    """One-sided exact p-values ``P(X ≤ O)`` and ``P(X ≥ O)`` for X ~ Poisson(E).

    Computed as regularized incomplete gamma functions, which equal the Poisson sums
    at integer O and extend them continuously to share-weighted counts.
    """
    o = np.asarray(observed, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    below = special.gammaincc(o + 1, e)
    above = np.where(o > 0, special.gammainc(np.maximum(o, 1e-300), e), 1.0)
    return below, above


def level_tag(level: float) -> str:
    """0.95 → "95", 0.998 → "998"."""
    return f"{level * 100:g}".replace(".", "")


def funnel_curve(
    expected_max: float,
    levels: Sequence[float] = FUNNEL_LEVELS,
    *,
    n: int = 200,
    dispersion: float | None = None,
    expected_min: float = 0.05,
    count: bool = False,
) -> pd.DataFrame:
    """O/E control limits on a grid of E, for drawing the funnel.

    Pass ``dispersion=model.dispersion_used, count=model.count`` to draw the limits
    the flags of a :class:`PotentialModel` use.

    Returns
    -------
    DataFrame
        ``expected`` and per level ``low_<tag>``, ``high_<tag>`` on the ratio scale
        (tag: 95, 998).
    """
    grid = np.geomspace(max(expected_min, 1e-3), max(expected_max, expected_min * 2), n)
    out = {"expected": grid}
    for lv in levels:
        lo, hi = funnel_limits(grid, lv, dispersion=dispersion, count=count)
        out[f"low_{level_tag(lv)}"] = lo / grid
        out[f"high_{level_tag(lv)}"] = hi / grid
    return pd.DataFrame(out)
