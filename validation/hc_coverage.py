"""Coverage of the Hidden-Champion elasticity interval, by simulation of Kreis counts.

Simulates at the level the estimator sees: one row per Kreis (400 Kreise on a
600 x 800 km rectangle, 16 Länder as a 4 x 4 grid, population log-normal) with

    log E[count] = log(population) - 10.4 + beta * mint_log + land effect + s_i,

``beta = 0.4`` (the estimand), counts negative binomial (NB2, alpha 0.3) around
that mean, and ``mint_log`` the log MINT indicator. The model of notebook 03
(:func:`analysis.champions.fit_count_models`: NB2 GLM with Land effects and HC3
standard errors; the same steps on numpy arrays, checked equal on the first
replication of each scenario) is fitted and the share of 95 % intervals that contain ``beta`` is
reported with its Monte-Carlo standard error ``sqrt(c (1 - c) / R)``.

Scenarios
---------
nominal   ``s_i = 0``, ``mint_log`` independent across Kreise (the model holds)
spatial   ``mint_log`` and ``s_i`` are Gaussian random fields with exponential
          correlation ``exp(-d / 80 km)`` (sd 0.6 and 0.4): neighbouring Kreise share
          both their MINT strength and their unexplained champion density, so the
          counts are spatially correlated beyond the Land effects

Usage::

    .venv/bin/python validation/hc_coverage.py --reps 1000 --jobs 2

Exit code 0 when the nominal NB coverage lies in 0.93-0.97.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

NOMINAL_BAND = (0.93, 0.97)
BETA = 0.4
ALPHA = 0.3
N_KREISE = 400
RANGE_KM = 80.0
SCENARIOS = ("nominal", "spatial")


@lru_cache(maxsize=1)
def geography() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed Kreis locations, Länder, populations and the field's Cholesky factor."""
    rng = np.random.default_rng(20251203)
    xy = rng.uniform([0, 0], [600, 800], size=(N_KREISE, 2))
    land = (np.floor(xy[:, 0] / 150) * 4 + np.floor(xy[:, 1] / 200)).astype(int)
    population = rng.lognormal(11.8, 0.7, N_KREISE)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    chol = np.linalg.cholesky(np.exp(-d / RANGE_KM) + 1e-9 * np.eye(N_KREISE))
    return xy, land, population, chol


def simulate(scenario: str, rng: np.random.Generator) -> pd.DataFrame:
    """One Kreis table (``ags, land_code, population, mint_students_per_1000, hc_count``)."""
    from analysis.champions.model import MINT_SHIFT

    _, land, population, chol = geography()
    land_effect = np.linspace(-0.3, 0.3, 16)[land]
    if scenario == "spatial":
        mint_log = 1.5 + 0.6 * chol @ rng.normal(size=N_KREISE)
        field = 0.4 * chol @ rng.normal(size=N_KREISE)
    else:
        mint_log = 1.5 + 0.6 * rng.normal(size=N_KREISE)
        field = np.zeros(N_KREISE)
    mu = population * np.exp(-10.4 + BETA * mint_log + land_effect + field)
    counts = rng.poisson(rng.gamma(1 / ALPHA, ALPHA * mu))
    return pd.DataFrame(
        {
            "ags": [f"{i:05d}" for i in range(N_KREISE)],
            "land_code": [f"{c:02d}" for c in land],
            "population": population,
            "mint_students_per_1000": np.exp(mint_log) - MINT_SHIFT,
            "hc_count": counts.astype(float),
        }
    )


def fit_fast(frame: pd.DataFrame) -> dict:
    """The NB2 elasticity and HC3 interval of ``fit_count_models``, on numpy arrays.

    Same steps as :func:`analysis.champions.fit_count_models` (Poisson GLM as start,
    NB2 maximum likelihood by BFGS for alpha, NB GLM with that alpha, HC3 sandwich
    ``B (sum_i s_i s_i' / (1 - h_i)^2) B``, Land effects with the largest Land as
    reference) without its table bookkeeping; ``one_rep`` checks on the first
    replication of each scenario that both give the same numbers.
    """
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.discrete.discrete_model import NegativeBinomial

    from analysis.champions import mint_log_indicator

    land = frame["land_code"].to_numpy()
    y = frame["hc_count"].to_numpy(float)
    totals = pd.Series(y).groupby(land).transform("sum").to_numpy()
    keep = totals > 0
    y, land = y[keep], land[keep]
    codes, sizes = np.unique(land, return_counts=True)
    reference = codes[np.argmax(sizes)]
    columns = [
        np.ones(len(y)),
        mint_log_indicator(frame["mint_students_per_1000"].to_numpy()[keep]),
    ]
    columns += [(land == c).astype(float) for c in codes if c != reference]
    X = np.column_stack(columns)
    offset = np.log(frame["population"].to_numpy(float)[keep])
    poisson = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
    start = np.append(poisson.params, 0.1)
    nb_ml = NegativeBinomial(y, X, offset=offset, loglike_method="nb2").fit(
        start_params=start, method="bfgs", maxiter=500, disp=0
    )
    alpha = float(max(nb_ml.params[-1], 1e-8))
    negbin = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset).fit()
    bread = negbin.cov_params()
    scores = negbin.model.score_obs(negbin.params)
    hat = negbin.get_hat_matrix_diag()
    weight = np.where(hat < 1 - 1e-8, 1.0 / np.square(1.0 - np.minimum(hat, 1 - 1e-8)), 0.0)
    cov = bread @ (scores.T @ (scores * weight[:, None])) @ bread
    se = float(np.sqrt(cov[1, 1]))
    z = stats.norm.ppf(0.975)
    estimate = float(negbin.params[1])
    return {
        "estimate": estimate,
        "se": se,
        "ci_low": estimate - z * se,
        "ci_high": estimate + z * se,
    }


def one_rep(task: tuple[str, int]) -> dict:
    """Fit the notebook's NB model on one simulated table."""
    scenario, seed = task
    warnings.filterwarnings("ignore")
    frame = simulate(scenario, np.random.default_rng([seed, SCENARIOS.index(scenario)]))
    fit = fit_fast(frame)
    if seed == 0:  # the fast path is the notebook's estimator
        from analysis.champions import fit_count_models

        e = fit_count_models(frame).elasticity
        assert np.allclose([fit["estimate"], fit["se"]], [e.estimate, e.se], rtol=1e-5), (fit, e)
    return {
        "scenario": scenario,
        "seed": seed,
        "estimate": fit["estimate"],
        "se": fit["se"],
        "covered": bool(fit["ci_low"] <= BETA <= fit["ci_high"]),
    }


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Coverage (NB and Poisson) with Monte-Carlo standard errors."""
    rows = []
    for scenario, part in results.groupby("scenario", sort=False):
        for model, col in (("negbin HC3", "covered"),):
            c = float(part[col].mean())
            rows.append(
                {
                    "scenario": scenario,
                    "model": model,
                    "reps": len(part),
                    "coverage": c,
                    "mcse": float(np.sqrt(c * (1 - c) / len(part))),
                    "bias": float(part["estimate"].mean() - BETA),
                    "sd_estimate": float(part["estimate"].std(ddof=1)),
                    "mean_se": float(part["se"].mean()),
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="replications per scenario")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--out", type=Path, default=None, help="write the summary (CSV)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tasks = [(s, seed) for s in args.scenarios.split(",") if s for seed in range(args.reps)]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = pd.DataFrame(list(pool.map(one_rep, tasks, chunksize=20)))
    summary = summarize(results)
    if args.out is not None:
        summary.to_csv(args.out, index=False)
    with pd.option_context("display.width", 140, "display.precision", 3):
        print(summary.to_string(index=False))
    nominal = summary.query("scenario == 'nominal' and model == 'negbin HC3'")["coverage"]
    seconds = time.perf_counter() - started
    if nominal.empty:
        print(f"\nnominal not run; no verdict ({seconds:.0f} s)")
        return 0
    value = float(nominal.iloc[0])
    ok = NOMINAL_BAND[0] <= value <= NOMINAL_BAND[1]
    print(
        f"\nnominal NB coverage {value:.3f}; band {NOMINAL_BAND[0]:.2f}-{NOMINAL_BAND[1]:.2f}: "
        f"{'OK' if ok else 'OFF'} ({seconds:.0f} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
