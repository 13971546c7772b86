"""Interrupted time series: segmented regression on a monthly outcome.

The model for a monthly outcome ``y_t`` (for example the win rate of the deals
closed in month ``t``) around an intervention month ``T0`` is

    y_t = b0 + b1 t + b2 post_t + b3 (t - T0) post_t + month-of-year effects
          + transition pulses + e_t,

where ``post_t = 1`` from ``T0`` on. ``b2`` is the **level change** at ``T0`` and
``b3`` the **slope change**. Months of a transition window right after ``T0`` get
one pulse dummy each, which is the same as leaving them out of the fit (for the
point estimates) while keeping the series contiguous for the autocorrelation
models.

Months without a usable outcome (too few deals) stay missing on the regular
monthly index ``t``: no method treats the months either side of a gap as
neighbours. Five ways to get an interval (:data:`METHODS`; details and references in
:mod:`analysis.sales.its_inference`):

``reml`` (recommended)
    GLS with AR(1) errors on the month index, REML, Satterthwaite degrees of freedom
    (Turner et al. 2021 found this closest to nominal coverage for ITS).
``hac``
    OLS with Newey–West (Bartlett) standard errors on the month distance, ``maxlags``
    by ``floor(4 (n/100)^(2/9))``, and fixed-b critical values (Kiefer and
    Vogelsang 2005). No ad-hoc small-sample factors.
``ols``
    Classical OLS standard errors (assumes independent errors).
``glsar``
    Prais–Winsten feasible GLS with AR(1) errors on the month index.
``sarimax``
    Regression with AR(1) errors by maximum likelihood (``statsmodels`` SARIMAX;
    the Kalman filter skips missing months).

Besides the level change ``b2`` the result carries the effect ``h`` months after
``T0``, ``b2 + h b3`` (:func:`effects_at`, 6 and 12 months by default), with the
same inference. ``validation/its_coverage.py`` measures the coverage of each method
on simulated series (nominal, strong autocorrelation, ramp-in, mix shift, late
losses); ``docs/validation.md`` has the table.

Functions here know nothing about sales; :mod:`analysis.sales` builds the monthly
series.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.sales.its_inference import fit_method, interval

__all__ = [
    "HORIZONS",
    "LEVERAGE",
    "METHODS",
    "ItsResult",
    "compare_methods",
    "design",
    "effects_at",
    "newey_west_lags",
    "placebo_dates",
    "segmented_regression",
    "transition_sensitivity",
]

METHODS = ("reml", "hac", "ols", "glsar", "sarimax")
HORIZONS = (6, 12)
SEASONALITY = ("month", "fourier", "none")


@dataclass(frozen=True)
class ItsResult:
    """The level and slope change of one segmented-regression fit.

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    level_change, se, ci_low, ci_high, p_value : float
        Estimate of ``b2`` (in the outcome's units), its standard error, the
        ``1 - alpha`` interval and the two-sided p-value.
    slope_change, slope_change_ci_low, slope_change_ci_high : float
        ``b3`` per month and its interval.
    n_months : int
        Months in the fit (including transition months, which have pulses).
    df_resid : float
        Degrees of freedom of the level-change t reference (Satterthwaite for
        ``reml``; ``inf`` for SARIMAX and fixed-b HAC, which use their own
        critical values).
    maxlags : int or None
        Newey–West lags (``hac`` only).
    rho : float or None
        AR(1) coefficient of the errors (``glsar``, ``sarimax``).
    alpha : float
    fitted : DataFrame
        ``month, observed, fitted, counterfactual, transition``: the counterfactual
        continues the pre-period line (no level or slope change).
    params : Series
        All coefficients.
    cov : ndarray
        Their covariance.
    effects : DataFrame
        :func:`effects_at` at :data:`HORIZONS` (level change + h x slope change).
    """

    method: str
    level_change: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    slope_change: float
    slope_change_ci_low: float
    slope_change_ci_high: float
    n_months: int
    df_resid: float
    maxlags: int | None
    rho: float | None
    alpha: float
    fitted: pd.DataFrame = field(repr=False)
    params: pd.Series = field(repr=False)
    cov: np.ndarray | None = field(repr=False, default=None)
    contrast_df: Callable[[np.ndarray], float] | None = field(repr=False, default=None)
    critical: Callable[[float, float], float] | None = field(repr=False, default=None)
    effects: pd.DataFrame | None = field(repr=False, default=None)

    def as_row(self) -> dict:
        """The scalar fields as a dict (one row of a comparison table)."""
        return {
            "method": self.method,
            "level_change": self.level_change,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "slope_change": self.slope_change,
            "slope_change_ci_low": self.slope_change_ci_low,
            "slope_change_ci_high": self.slope_change_ci_high,
            "n_months": self.n_months,
            "df_resid": self.df_resid,
            "maxlags": self.maxlags,
            "rho": self.rho,
            **self._effect_columns(),
        }

    def _effect_columns(self) -> dict:
        if self.effects is None:
            return {}
        out = {}
        for row in self.effects.itertuples(index=False):
            tag = f"effect_{row.months_after}m"
            out.update(
                {tag: row.effect, f"{tag}_ci_low": row.ci_low, f"{tag}_ci_high": row.ci_high}
            )
        return out


def newey_west_lags(n: int) -> int:
    """The usual Newey–West truncation lag ``floor(4 (n/100)^(2/9))``.

    Examples
    --------
    >>> newey_west_lags(60)
    3
    """
    return int(math.floor(4 * (n / 100) ** (2 / 9)))


def _month_start(value) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            "intervention", f"expected a date like 2023-04-01, got {value!r}"
        ) from exc
    if pd.isna(stamp):
        raise ParameterError("intervention", f"expected a date, got {value!r}")
    return stamp.to_period("M").to_timestamp()


def design(
    monthly: pd.DataFrame,
    *,
    intervention,
    outcome: str = "y",
    date_col: str = "month",
    transition_months: int = 0,
    seasonality: str = "month",
    fourier_terms: int = 2,
    keep_missing: bool = False,
    ramp_in: int = 0,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Design matrix of the segmented regression.

    Parameters
    ----------
    monthly : DataFrame
        One row per month: ``date_col`` (any day in the month) and ``outcome``.
        Rows with a missing outcome are dropped (their months stay counted in t).
    intervention : date-like
        The intervention date; its month is ``T0``.
    outcome, date_col : str
        Column names.
    transition_months : int
        Months from ``T0`` on that get a pulse dummy each (excluded from the fit).
    seasonality : {"month", "fourier", "none"}
        Month-of-year dummies (11), ``fourier_terms`` sine/cosine pairs, or none.
    fourier_terms : int
    keep_missing : bool
        Keep months with a missing outcome, and add the months missing from
        ``monthly`` between its first and last, as rows with a NaN outcome (a
        regular monthly index for models that handle gaps).
    ramp_in : int
        0: the level change is a jump at ``T0``. ``m > 0``: it phases in linearly
        over ``m`` months (``post`` = 1/m, 2/m, ... 1), and ``b2`` is the full change.

    Returns
    -------
    frame : DataFrame
        ``month, t, post, ramp, transition`` and the outcome, for the rows used.
    y : Series
    X : DataFrame
        Columns ``const, t, post, ramp``, pulses ``transition_k``, seasonal terms.

    Raises
    ------
    ParameterError
        Unknown seasonality, a negative transition window, or an intervention
        without enough months before or after it.
    """
    if seasonality not in SEASONALITY:
        raise ParameterError("seasonality", f"expected one of {SEASONALITY}, got {seasonality!r}")
    if transition_months < 0:
        raise ParameterError("transition_months", f"expected >= 0, got {transition_months}")
    t0 = _month_start(intervention)
    frame = monthly.assign(
        month=pd.to_datetime(monthly[date_col]).dt.to_period("M").dt.to_timestamp()
    )
    if frame["month"].duplicated().any():
        raise ParameterError(date_col, "expected one row per month")
    if keep_missing and len(frame):
        calendar = pd.date_range(frame["month"].min(), frame["month"].max(), freq="MS")
        frame = frame.set_index("month").reindex(calendar).rename_axis("month").reset_index()
    else:
        frame = frame.loc[frame[outcome].notna()]
    frame = frame.sort_values("month").reset_index(drop=True)
    first = frame["month"].iloc[0] if len(frame) else t0
    t = (frame["month"].dt.year - first.year) * 12 + (frame["month"].dt.month - first.month)
    i0 = (t0.year - first.year) * 12 + (t0.month - first.month)
    post = (t >= i0).astype(float)
    observed = frame[outcome].notna().to_numpy()
    n_pre = int(((t < i0) & observed).sum())
    n_post = int(((t >= i0 + transition_months) & observed).sum())
    if n_pre < 3 or n_post < 3:
        raise ParameterError(
            "intervention",
            f"need at least 3 months on each side of {t0.date()} (outside the transition "
            f"window); found {n_pre} before and {n_post} after",
        )
    if ramp_in < 0:
        raise ParameterError("ramp_in", f"expected >= 0, got {ramp_in}")
    level = np.clip((t - i0 + 1) / ramp_in, 0, 1) * post if ramp_in else post
    X = pd.DataFrame(
        {"const": 1.0, "t": t.astype(float), "post": level, "ramp": (t - i0) * post},
        index=frame.index,
    )
    in_transition = (t >= i0) & (t < i0 + transition_months)
    for k in range(transition_months):
        pulse = (t == i0 + k).astype(float)
        if pulse.any():
            X[f"transition_{k}"] = pulse
    moy = frame["month"].dt.month
    if seasonality == "month":
        for m in range(2, 13):
            column = (moy == m).astype(float)
            if column.any():
                X[f"month_{m:02d}"] = column
    elif seasonality == "fourier":
        for h in range(1, fourier_terms + 1):
            X[f"sin_{h}"] = np.sin(2 * np.pi * h * moy / 12)
            X[f"cos_{h}"] = np.cos(2 * np.pi * h * moy / 12)
    frame = frame.assign(t=t, post=post, ramp=X["ramp"], transition=in_transition)
    return frame, frame[outcome].astype(float), X


LEVERAGE = ("none", "hc3", "hc2")


def segmented_regression(
    monthly: pd.DataFrame,
    *,
    intervention,
    outcome: str = "y",
    date_col: str = "month",
    method: str = "reml",
    transition_months: int = 0,
    seasonality: str = "month",
    maxlags: int | None = None,
    leverage: str = "none",
    alpha: float = 0.05,
    ramp_in: int = 0,
    horizons: tuple[int, ...] = HORIZONS,
) -> ItsResult:
    """Fit the segmented regression and return the level and slope change.

    Parameters
    ----------
    monthly : DataFrame
        One row per month with ``date_col`` and ``outcome``; months with a missing
        outcome, and months absent between the first and last, are gaps on the
        monthly index (never treated as neighbours).
    intervention : date-like
        Intervention date (its month is ``T0``).
    outcome, date_col : str
    method : {"reml", "hac", "ols", "glsar", "sarimax"}
        How the interval is obtained (see the module docstring).
    transition_months : int
        Months from ``T0`` on that are excluded (pulse dummies).
    seasonality : {"month", "fourier", "none"}
    maxlags : int, optional
        Newey–West lags (``hac``); default :func:`newey_west_lags` of the months used.
    leverage : {"none", "hc3", "hc2"}
        Residual rescaling in the HAC meat (``hac`` only; default none).
    alpha : float
        1 - confidence level.
    ramp_in : int
        Months over which the level change phases in (0: a jump; see :func:`design`).
    horizons : tuple of int
        Months after ``T0`` at which :func:`effects_at` is reported.

    Returns
    -------
    ItsResult

    Raises
    ------
    ParameterError
        Unknown method, or a series too short around the intervention.

    Examples
    --------
    >>> months = pd.date_range("2020-01-01", periods=36, freq="MS")
    >>> y = 0.2 + 0.05 * (months >= "2021-07-01")
    >>> fit = segmented_regression(pd.DataFrame({"month": months, "y": y}),
    ...                            intervention="2021-07-01", seasonality="none",
    ...                            method="ols")
    >>> round(fit.level_change, 6)
    0.05
    """
    if method not in METHODS:
        raise ParameterError("method", f"expected one of {METHODS}, got {method!r}")
    if not 0 < alpha < 1:
        raise ParameterError("alpha", f"expected a number between 0 and 1, got {alpha}")
    if leverage not in LEVERAGE:
        raise ParameterError("leverage", f"expected one of {LEVERAGE}, got {leverage!r}")
    frame, y, X = design(
        monthly,
        intervention=intervention,
        outcome=outcome,
        date_col=date_col,
        transition_months=transition_months,
        seasonality=seasonality,
        keep_missing=True,
        ramp_in=ramp_in,
    )
    names = list(X.columns)
    j_post, j_ramp = names.index("post"), names.index("ramp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params, cov, df_rule, critical, rho, lags = fit_method(
            method,
            y.to_numpy(dtype=float),
            X.to_numpy(),
            frame["t"].to_numpy(float),
            newey_west_lags(int(y.notna().sum())) if maxlags is None else int(maxlags),
            leverage,
        )
    unit = np.eye(len(names))
    df = float(df_rule(unit[j_post]))
    crit = (lambda a, _c=critical: _c(a)) if critical is not None else None
    se = float(np.sqrt(cov[j_post, j_post]))
    lo, hi, p = interval(float(params[j_post]), se, df, alpha, crit)
    se_ramp = float(np.sqrt(cov[j_ramp, j_ramp]))
    ramp_lo, ramp_hi, _ = interval(
        float(params[j_ramp]), se_ramp, df_rule(unit[j_ramp]), alpha, crit
    )
    coef = pd.Series(params, index=names)
    counterfactual_x = X.assign(post=0.0, ramp=0.0)
    counterfactual_x[[c for c in names if c.startswith("transition_")]] = 0.0
    fitted = pd.DataFrame(
        {
            "month": frame["month"],
            "observed": y.to_numpy(),
            "fitted": X.to_numpy() @ params,
            "counterfactual": counterfactual_x.to_numpy() @ params,
            "transition": frame["transition"].to_numpy(),
        }
    )
    result = ItsResult(
        method=method,
        level_change=float(params[j_post]),
        se=se,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        slope_change=float(params[j_ramp]),
        slope_change_ci_low=ramp_lo,
        slope_change_ci_high=ramp_hi,
        n_months=int(y.notna().sum()),
        df_resid=df,
        maxlags=lags,
        rho=rho,
        alpha=alpha,
        fitted=fitted,
        params=coef,
        cov=cov,
        contrast_df=df_rule,
        critical=crit,
    )
    return replace(result, effects=effects_at(result, horizons))


def effects_at(result: ItsResult, horizons: tuple[int, ...] = HORIZONS) -> pd.DataFrame:
    """The effect ``h`` months after ``T0``: level change + h x slope change, with its interval.

    Parameters
    ----------
    result : ItsResult
    horizons : tuple of int
        Months after ``T0`` (0 is the level change itself).

    Returns
    -------
    DataFrame
        ``months_after, effect, se, ci_low, ci_high, p_value, df`` (same inference
        as the level change: Satterthwaite df per contrast for ``reml``).
    """
    names = list(result.params.index)
    rows = []
    for h in horizons:
        c = np.zeros(len(names))
        c[names.index("post")] = 1.0
        c[names.index("ramp")] = float(h)
        effect = float(c @ result.params.to_numpy())
        se = float(np.sqrt(c @ result.cov @ c))
        df = float(result.contrast_df(c)) if result.contrast_df is not None else np.inf
        lo, hi, p = interval(effect, se, df, result.alpha, result.critical)
        rows.append((int(h), effect, se, lo, hi, p, df))
    return pd.DataFrame(
        rows, columns=["months_after", "effect", "se", "ci_low", "ci_high", "p_value", "df"]
    )


def compare_methods(
    monthly: pd.DataFrame,
    *,
    intervention,
    methods: tuple[str, ...] = METHODS,
    **kwargs,
) -> pd.DataFrame:
    """One row per method: level change, interval, slope change, rho.

    Parameters
    ----------
    monthly : DataFrame
    intervention : date-like
    methods : tuple of str
    **kwargs
        Passed on to :func:`segmented_regression`.

    Returns
    -------
    DataFrame
        The fields of :meth:`ItsResult.as_row`, one row per method.
    """
    rows = [
        segmented_regression(monthly, intervention=intervention, method=m, **kwargs).as_row()
        for m in methods
    ]
    return pd.DataFrame(rows)


def placebo_dates(
    monthly: pd.DataFrame,
    *,
    intervention,
    outcome: str = "y",
    date_col: str = "month",
    method: str = "reml",
    seasonality: str = "month",
    min_months: int = 9,
    alpha: float = 0.05,
    **kwargs,
) -> pd.DataFrame:
    """Refit on the pre-period only with fake intervention dates (in-time placebos).

    Each placebo fit uses the main model (same method, seasonality and options as
    :func:`segmented_regression` gets; pass the same ``**kwargs``). With no
    intervention in the pre-period, about ``alpha`` of the placebo intervals should
    exclude zero, and the real estimate should stand out from the placebo estimates.
    Dates that leave fewer residual degrees of freedom than 3 are skipped.

    Parameters
    ----------
    monthly : DataFrame
    intervention : date-like
        The real date; only months before it are used.
    outcome, date_col, method : str
    seasonality : str
        As in the main fit (month-of-year dummies by default).
    min_months : int
        Months required on each side of a fake date.
    alpha : float
    **kwargs
        Further options of :func:`segmented_regression` (``transition_months``, ...).

    Returns
    -------
    DataFrame
        ``placebo_date, level_change, ci_low, ci_high, excludes_zero``; ``attrs``
        has ``share_excluding_zero`` and ``n_placebos``.
    """
    t0 = _month_start(intervention)
    months = pd.to_datetime(monthly[date_col]).dt.to_period("M").dt.to_timestamp()
    pre = monthly.loc[(months < t0) & monthly[outcome].notna()]
    pre_months = months[pre.index].sort_values().reset_index(drop=True)
    rows = []
    for i in range(min_months, len(pre_months) - min_months + 1):
        fake = pre_months.iloc[i]
        _, _, X = design(
            pre, intervention=fake, outcome=outcome, date_col=date_col, seasonality=seasonality
        )
        if X.shape[0] - X.shape[1] < 3:
            continue
        fit = segmented_regression(
            pre,
            intervention=fake,
            outcome=outcome,
            date_col=date_col,
            method=method,
            seasonality=seasonality,
            alpha=alpha,
            **kwargs,
        )
        rows.append(
            {
                "placebo_date": fake,
                "level_change": fit.level_change,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
                "excludes_zero": bool(fit.ci_low > 0 or fit.ci_high < 0),
            }
        )
    result = pd.DataFrame(
        rows, columns=["placebo_date", "level_change", "ci_low", "ci_high", "excludes_zero"]
    )
    result.attrs = {
        "n_placebos": len(result),
        "share_excluding_zero": float(result["excludes_zero"].mean())
        if len(result)
        else float("nan"),
    }
    return result


def transition_sensitivity(
    monthly: pd.DataFrame,
    *,
    intervention,
    windows: tuple[int, ...] = (0, 1, 2, 3, 6),
    **kwargs,
) -> pd.DataFrame:
    """The level change when 0, 1, 2, ... months after the date are excluded.

    Parameters
    ----------
    monthly : DataFrame
    intervention : date-like
    windows : tuple of int
        Transition windows to try.
    **kwargs
        Passed on to :func:`segmented_regression` (not ``transition_months``).

    Returns
    -------
    DataFrame
        ``transition_months`` plus the fields of :meth:`ItsResult.as_row`.
    """
    rows = []
    for k in windows:
        fit = segmented_regression(
            monthly, intervention=intervention, transition_months=k, **kwargs
        )
        rows.append({"transition_months": k, **fit.as_row()})
    return pd.DataFrame(rows)
