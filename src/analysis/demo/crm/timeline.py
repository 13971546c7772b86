"""The demo CRM's time frame: months from go-live to the snapshot, and dated draws.

:class:`Clock` holds the months and the snapshot's last second; :func:`win_probabilities`
is the monthly win-rate model (trend, uplift, seasonality, transition dip and AR(1)
noise) and :func:`random_times` draws business-hour times inside given months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo.crm.params import (
    AS_OF,
    GO_LIVE,
    UNIFICATION_DATE,
    WIN_RATE_SEASON,
    CrmParameters,
)


@dataclass(frozen=True)
class Clock:
    """Months of the CRM's life and the instants every stage compares against."""

    months: pd.DatetimeIndex  # month starts from GO_LIVE to AS_OF
    moy: np.ndarray  # month of year (0 = January) of each month
    as_of_end: np.datetime64  # last minute of the snapshot day (seconds)
    unif: np.datetime64  # the unification instant (seconds)


def clock() -> Clock:
    """The demo company's :class:`Clock` (from :data:`GO_LIVE` to :data:`AS_OF`).

    Returns
    -------
    Clock
    """
    months = month_starts(GO_LIVE, AS_OF)
    return Clock(
        months=months,
        moy=months.month.values - 1,
        as_of_end=np.datetime64(AS_OF + pd.Timedelta(hours=23, minutes=59), "s"),
        unif=np.datetime64(UNIFICATION_DATE, "s"),
    )


def month_starts(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS")


def month_index(dates: np.ndarray, origin: pd.Timestamp) -> np.ndarray:
    """Whole months from ``origin``'s month to each date's month."""
    d = np.asarray(dates, dtype="datetime64[M]").astype(int)
    return d - np.datetime64(origin.to_period("M").to_timestamp(), "M").astype(int)


def win_probabilities(
    params: CrmParameters, months: pd.DatetimeIndex, rng: np.random.Generator
) -> np.ndarray:
    """Probability that a deal closed in each month is won (the segmented model).

    Parameters
    ----------
    params : CrmParameters
        Base, trend, uplift, slope change, transition dip and AR(1) noise.
    months : pandas.DatetimeIndex
        Month starts.
    rng : numpy.random.Generator
        Source of the noise (two draws: the first value, then the innovations).

    Returns
    -------
    numpy.ndarray
        One probability per month, clipped to [0.01, 0.99].
    """
    t = month_index(months.values, UNIFICATION_DATE)
    post = (t >= 0).astype(float)
    transition = ((t >= 0) & (t < params.transition_months)).astype(float)
    noise = np.empty(len(months))
    sd_stationary = params.noise_sd / np.sqrt(1 - params.noise_ar**2)
    noise[0] = rng.normal(0, sd_stationary)
    innovations = rng.normal(0, params.noise_sd, len(months))
    for i in range(1, len(months)):
        noise[i] = params.noise_ar * noise[i - 1] + innovations[i]
    p = (
        params.win_rate_base
        + params.win_rate_trend_per_month * t
        + params.win_rate_uplift * post
        + params.win_rate_slope_change * t * post
        + WIN_RATE_SEASON[months.month.values - 1]
        + params.transition_dip * transition
        + noise
    )
    return np.clip(p, 0.01, 0.99)


def random_times(rng: np.random.Generator, firsts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Random business-hour datetimes (UTC) inside the given months."""
    starts = np.repeat(firsts.astype("datetime64[s]"), counts)
    days_in_month = (
        (np.repeat(firsts.astype("datetime64[M]"), counts) + 1).astype("datetime64[D]")
        - np.repeat(firsts.astype("datetime64[D]"), counts)
    ).astype(int)
    day = np.floor(rng.random(starts.size) * days_in_month).astype(int)
    second = rng.integers(6 * 3600, 17 * 3600, size=starts.size)
    return starts + (day * 86400 + second).astype("timedelta64[s]")
