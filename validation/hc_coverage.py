"""Coverage of the Hidden-Champion elasticity interval, by simulation of Kreis counts.

Simulates at the level the estimator sees: one row per Kreis (400 Kreise on a
600 x 800 km rectangle, 16 Länder as a 4 x 4 grid, population log-normal) with

    log E[count] = log(population) - 10.4 + beta * mint_log + land effect + s_i,

``beta = 0.4`` (the estimand), counts negative binomial (NB2, alpha 0.3) around
that mean, and ``mint_log`` the log MINT indicator. The model of notebook 03
(:func:`analysis.champions.fit_count_models`: NB2 GLM with Land effects and HC3
standard errors) is fitted and the share of 95 % intervals that contain ``beta`` is
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


def one_rep(task: tuple[str, int]) -> dict:
    """Fit the notebook's count models on one simulated table."""
    from analysis.champions import fit_count_models

    scenario, seed = task
    warnings.filterwarnings("ignore")
    frame = simulate(scenario, np.random.default_rng([seed, SCENARIOS.index(scenario)]))
    models = fit_count_models(frame)
    return {
        "scenario": scenario,
        "seed": seed,
        "estimate": models.elasticity.estimate,
        "se": models.elasticity.se,
        "covered": bool(models.elasticity.covers(BETA)),
        "covered_poisson": bool(models.elasticity_poisson.covers(BETA)),
    }


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Coverage (NB and Poisson) with Monte-Carlo standard errors."""
    rows = []
    for scenario, part in results.groupby("scenario", sort=False):
        for model, col in (("negbin HC3", "covered"), ("poisson HC3", "covered_poisson")):
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
