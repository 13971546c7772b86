"""Small-sample inference for a segmented regression on a monthly series with gaps.

Months without a usable outcome stay missing on the regular monthly index ``t``:
every error model here works with the month distance ``t_j - t_i``, so the months
either side of a gap are two months apart, never neighbours.

``reml``
    Generalised least squares with AR(1) errors, ``corr(e_i, e_j) = rho^|t_i - t_j|``
    (the continuous-index AR(1) of ``nlme::corCAR1`` at monthly spacing), ``rho``
    and ``sigma^2`` by restricted maximum likelihood, and a t reference with
    Satterthwaite degrees of freedom for each contrast (Satterthwaite 1946; as in
    Kenward and Roger 1997 without the bias correction of the variance). This is the
    method Turner et al. found to have the coverage closest to nominal among those
    used for interrupted time series (BMC Med Res Methodol 2021, 21:181,
    "Evaluation of statistical methods used in the analysis of interrupted time
    series studies: a simulation study").
``glsar``
    Prais–Winsten feasible GLS (Prais and Winsten 1954): ``rho`` from the lag-1
    autocorrelation of the residuals of months exactly one apart, iterated; a t
    reference with ``n - k - 1`` degrees of freedom.
``hac``
    OLS with Newey–West (Bartlett) standard errors on the month distance, and
    *fixed-b* critical values (Kiefer and Vogelsang 2005, "A new asymptotic theory
    for heteroskedasticity-autocorrelation robust tests", Econometric Theory
    21:1130-1164; their cubic in ``b = (maxlags + 1) / n`` for the Bartlett
    kernel), which account for the noise of the HAC variance itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = [
    "Inference",
    "fit_method",
    "fixed_b_critical_value",
    "hac_gaps",
    "interval",
    "prais_winsten",
    "reml_ar1",
]


@dataclass(frozen=True)
class Inference:
    """Coefficients, their covariance and a degrees-of-freedom rule for contrasts."""

    params: np.ndarray
    cov: np.ndarray
    df: Callable[[np.ndarray], float]
    rho: float | None = None
    critical: Callable[[float, float], float] | None = None


def _transform(times: np.ndarray, rho: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Whitening weights of the gap-aware AR(1): ``w_i = (e_i - a_i e_{i-1}) / s_i``.

    Returns ``a`` (``rho^d``, 0 for the first month), ``s`` and ``log|R|``.
    """
    d = np.diff(times)
    a = np.concatenate([[0.0], rho**d])
    s2 = np.concatenate([[1.0], 1 - rho ** (2 * d)])
    s2 = np.clip(s2, 1e-12, None)
    return a, np.sqrt(s2), float(np.log(s2).sum())


def _whiten(values: np.ndarray, a: np.ndarray, s: np.ndarray) -> np.ndarray:
    lagged = np.concatenate([np.zeros((1, *values.shape[1:])), values[:-1]])
    factor = a if values.ndim == 1 else a[:, None]
    scale = s if values.ndim == 1 else s[:, None]
    return (values - factor * lagged) / scale


def _gls(y, X, times, rho):
    a, s, logdet = _transform(times, rho)
    yw, xw = _whiten(y, a, s), _whiten(X, a, s)
    xtx = xw.T @ xw
    beta = np.linalg.lstsq(xw, yw, rcond=None)[0]
    rss = float(((yw - xw @ beta) ** 2).sum())
    sign, logdet_xtx = np.linalg.slogdet(xtx)
    return beta, rss, logdet, logdet_xtx, xtx


def _reml_loglik(y, X, times, log_sigma2, rho) -> float:
    n, k = X.shape
    _, rss, logdet, logdet_xtx, _ = _gls(y, X, times, rho)
    sigma2 = np.exp(log_sigma2)
    return -0.5 * ((n - k) * log_sigma2 + logdet + logdet_xtx + rss / sigma2)


def reml_ar1(y: np.ndarray, X: np.ndarray, times: np.ndarray) -> Inference:
    """GLS with gap-aware AR(1) errors by REML; Satterthwaite df per contrast.

    Parameters
    ----------
    y, X : ndarray
        Observed months only (no NaN).
    times : ndarray
        Month index of each row (increasing integers; gaps allowed).

    Returns
    -------
    Inference
    """
    n, k = X.shape

    def profile(rho):
        _, rss, logdet, logdet_xtx, _ = _gls(y, X, times, rho)
        return 0.5 * ((n - k) * np.log(rss / (n - k)) + logdet + logdet_xtx)

    rho = float(optimize.minimize_scalar(profile, bounds=(-0.95, 0.95), method="bounded").x)
    beta, rss, _, _, xtx = _gls(y, X, times, rho)
    sigma2 = rss / (n - k)
    theta = np.array([np.log(sigma2), rho])

    def variance(th, c):
        xtx_th = _gls(y, X, times, th[1])[4]
        return float(np.exp(th[0]) * c @ np.linalg.solve(xtx_th, c))

    def loglik(th):
        return _reml_loglik(y, X, times, th[0], th[1])

    hess = _hessian(loglik, theta)
    try:
        acov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        acov = None

    def satterthwaite(c):
        v = variance(theta, c)
        if acov is None or not np.all(np.isfinite(acov)):
            return float(n - k)
        g = _gradient(lambda th: variance(th, c), theta)
        var_v = float(g @ acov @ g)
        if not np.isfinite(var_v) or var_v <= 0:
            return float(n - k)
        return float(np.clip(2 * v**2 / var_v, 1.0, n - k))

    cov = sigma2 * np.linalg.inv(xtx)
    return Inference(params=beta, cov=cov, df=satterthwaite, rho=rho)


def _gradient(f, x, h=1e-4):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _hessian(f, x, h=1e-3):
    m = x.size
    out = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            ei = np.zeros(m)
            ej = np.zeros(m)
            ei[i] = h
            ej[j] = h
            out[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h * h
            )
    return (out + out.T) / 2


def prais_winsten(y: np.ndarray, X: np.ndarray, times: np.ndarray, maxiter: int = 50) -> Inference:
    """Iterated Prais–Winsten GLS with gap-aware AR(1) errors; t with ``n - k - 1`` df."""
    n, k = X.shape
    rho = 0.0
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    adjacent = np.flatnonzero(np.diff(times) == 1)
    for _ in range(maxiter):
        resid = y - X @ beta
        denom = float((resid**2).sum())
        new = float((resid[adjacent + 1] * resid[adjacent]).sum() / denom) if denom > 0 else 0.0
        new = float(np.clip(new, -0.95, 0.95))
        beta, rss, _, _, xtx = _gls(y, X, times, new)
        if abs(new - rho) < 1e-8:
            rho = new
            break
        rho = new
    df = float(n - k - 1)
    cov = rss / df * np.linalg.inv(xtx)
    return Inference(params=beta, cov=cov, df=lambda c: df, rho=rho)


def fixed_b_critical_value(b: float, alpha: float = 0.05) -> float:
    """Two-sided fixed-b critical value of a Bartlett-kernel HAC t test.

    Kiefer and Vogelsang (2005) fit ``cv(b) = z + c1 b + c2 b^2 + c3 b^3`` to the
    simulated fixed-b quantiles; for the 97.5 % quantile (two-sided 5 %) of the
    Bartlett kernel ``c = (2.9694, 0.4160, -0.5324)``. Other levels scale that
    polynomial by ``z_{1 - alpha/2} / 1.96`` (an approximation).
    """
    z = stats.norm.ppf(1 - alpha / 2)
    return float(z * (1 + (2.9694 * b + 0.4160 * b**2 - 0.5324 * b**3) / 1.959964))


def hac_gaps(
    y: np.ndarray,
    X: np.ndarray,
    times: np.ndarray,
    maxlags: int,
    *,
    leverage: str = "none",
) -> Inference:
    """OLS with Newey–West covariance on the month distance; fixed-b critical values.

    Score pairs enter the lag-``l`` autocovariance only when their months are
    exactly ``l`` apart. ``leverage="hc3"``/``"hc2"`` rescale residuals by
    ``1/(1-h)`` / ``1/sqrt(1-h)`` (MacKinnon and White 1985) before the kernel
    sum; the default is none.
    """
    n, k = X.shape
    xtx_inv = np.linalg.pinv(X.T @ X)
    beta = xtx_inv @ X.T @ y
    u = y - X @ beta
    if leverage != "none":
        h = np.einsum("ij,jk,ik->i", X, xtx_inv, X)
        power = 1.0 if leverage == "hc3" else 0.5
        u = np.where(h < 1 - 1e-10, u / np.clip(1 - h, 1e-10, None) ** power, 0.0)
    scores = X * u[:, None]
    meat = scores.T @ scores
    distance = times[None, :] - times[:, None]
    for lag in range(1, maxlags + 1):
        i, j = np.nonzero(distance == lag)
        if i.size:
            gamma = scores[j].T @ scores[i]
            meat += (1 - lag / (maxlags + 1)) * (gamma + gamma.T)
    cov = xtx_inv @ meat @ xtx_inv
    b = (maxlags + 1) / n
    return Inference(
        params=beta,
        cov=cov,
        df=lambda c: float("inf"),
        critical=lambda alpha, _b=b: fixed_b_critical_value(_b, alpha),
    )


def interval(estimate, se, df, alpha, critical=None) -> tuple[float, float, float]:
    """Interval and two-sided p-value from a t (or fixed-b) reference."""
    from scipy import stats

    if not np.isfinite(se) or se <= 0:
        return float("nan"), float("nan"), float("nan")
    if critical is not None:
        q = critical(alpha)
        # p-value: the fixed-b reference scaled to the normal (approximate)
        p = 2 * stats.norm.sf(abs(estimate) / se * stats.norm.ppf(1 - alpha / 2) / q)
        return estimate - q * se, estimate + q * se, float(p)
    dist = stats.t(df) if np.isfinite(df) else stats.norm()
    q = dist.ppf(1 - alpha / 2)
    p = 2 * dist.sf(abs(estimate) / se)
    return estimate - q * se, estimate + q * se, float(p)


def fit_method(method, y, X, times, maxlags, leverage):
    """Coefficients, covariance, df rule, critical rule and rho of one method."""
    import statsmodels.api as sm

    n, k = X.shape
    observed = np.isfinite(y)
    yo, xo, to = y[observed], X[observed], times[observed]
    if method == "reml":
        r = reml_ar1(yo, xo, to)
        return r.params, r.cov, r.df, None, r.rho, None
    if method == "glsar":
        r = prais_winsten(yo, xo, to)
        return r.params, r.cov, r.df, None, r.rho, None
    if method == "hac":
        lags = int(maxlags)
        r = hac_gaps(yo, xo, to, lags, leverage=leverage)
        return r.params, r.cov, r.df, r.critical, None, lags
    if method == "ols":
        fit = sm.OLS(yo, xo).fit()
        df = float(fit.df_resid)
        return np.asarray(fit.params), np.asarray(fit.cov_params()), lambda c: df, None, None, None
    # SARIMAX on the full regular index: the Kalman filter skips missing months
    model = sm.tsa.SARIMAX(y, exog=X, order=(1, 0, 0), trend="n")
    fit = model.fit(disp=False, maxiter=200)
    params = np.asarray(fit.params)
    return (
        params[:k],
        np.asarray(fit.cov_params())[:k, :k],
        lambda c: np.inf,
        None,
        float(params[k]),
        None,
    )
