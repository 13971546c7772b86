"""Coverage of the ITS intervals for a win-rate level change, by simulation.

Simulates at the level the estimator sees: monthly counts of closed and won deals
(60 months, 2021-01 to 2025-12, change at 2023-04, two transition months left out,
as notebook 04 sets it up). Each month ``N ~ Poisson(90)`` deals close and
``won ~ Binomial(N, p_t)`` with

    p_t = 0.25 + 0.0005 t + 0.02 sin(2 pi month / 12) + delta * phase_t + a_t,

``a_t`` an AR(1) process, ``delta = 0.06`` the true full level change (the estimand
of every scenario) and ``phase_t`` 0 before the date, 1 after (a jump) unless the
scenario says otherwise. Months with fewer than 20 closes are missing (kept as gaps).
The segmented regression is fitted with month-of-year effects, as in the notebook,
and the share of 95 % intervals that contain ``delta`` is reported with its
Monte-Carlo standard error ``sqrt(c (1 - c) / R)``.

Scenarios
---------
nominal      AR(1) rho = 0.3, innovation sd 0.01 (the model's assumptions hold)
ar07         AR(1) rho = 0.7, innovation sd 0.03 (sizeable monthly noise: marginal sd
             0.042, as large as the binomial noise)
ramp6        the change phases in linearly over 6 months (the model fits a jump)
mix_shift    two deal types (win rates 0.35 / 0.15 before); type A's share of closes
             rises from 50 % to 65 % after the date: the crude win rate rises by 0.03
             with no change within types; delta is the within-type change
late_losses  at the snapshot, losses of the last 6 months are not yet recorded with
             probability 0.6, 0.5, ... 0.1 (newest first): recent win rates too high
gaps         nominal, plus 6 random months missing (kept as gaps on the index)

Usage::

    .venv/bin/python validation/its_coverage.py --reps 1000 --jobs 2
    .venv/bin/python validation/its_coverage.py --demo-seeds 100   # end to end, demo CRM

Exit code 0 when the nominal coverage of the ``reml`` method lies in 0.93-0.97.
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
DELTA = 0.06
START, N_MONTHS, T0, TRANSITION = "2021-01-01", 60, "2023-04-01", 2
SCENARIOS = ("nominal", "ar07", "ramp6", "mix_shift", "late_losses", "gaps")
METHODS = ("reml", "hac", "glsar", "ols")


def simulate(scenario: str, rng: np.random.Generator) -> pd.DataFrame:
    """One monthly series (``month, n_closed, win_rate``) of a scenario."""
    months = pd.date_range(START, periods=N_MONTHS, freq="MS")
    t = np.arange(N_MONTHS)
    i0 = int(np.flatnonzero(months >= T0)[0])
    post = t >= i0
    phase = post.astype(float)
    if scenario == "ramp6":
        phase = np.clip((t - i0 + 1) / 6, 0, 1) * post
    rho, sd = (0.7, 0.03) if scenario == "ar07" else (0.3, 0.01)
    a = np.zeros(N_MONTHS)
    a[0] = rng.normal(0, sd / np.sqrt(1 - rho**2))
    for i in range(1, N_MONTHS):
        a[i] = rho * a[i - 1] + rng.normal(0, sd)
    base = 0.25 + 0.0005 * t + 0.02 * np.sin(2 * np.pi * months.month / 12) + a
    n = rng.poisson(90, N_MONTHS)
    if scenario == "mix_shift":
        share_a = np.where(post, 0.65, 0.5)
        n_a = rng.binomial(n, share_a)
        p_a = np.clip(base + 0.10 + DELTA * phase, 0.01, 0.99)
        p_b = np.clip(base - 0.10 + DELTA * phase, 0.01, 0.99)
        won = rng.binomial(n_a, p_a) + rng.binomial(n - n_a, p_b)
    else:
        won = rng.binomial(n, np.clip(base + DELTA * phase, 0.01, 0.99))
    if scenario == "late_losses":
        lost = n - won
        unrecorded_p = np.clip(0.1 * (t - (N_MONTHS - 7)), 0, None)  # 0.1 .. 0.6
        lost = lost - rng.binomial(lost, unrecorded_p)
        n = won + lost
    rate = np.where(n >= 20, won / np.maximum(n, 1), np.nan)
    if scenario == "gaps":
        rate[rng.choice(np.setdiff1d(t, [i0, i0 + 1, i0 + 2]), 6, replace=False)] = np.nan
    return pd.DataFrame({"month": months, "n_closed": n, "win_rate": rate})


@lru_cache(maxsize=4)
def _template(transition_months: int = TRANSITION):
    """The design of the notebook's fit on the full calendar (it does not depend on y)."""
    from analysis.sales import its

    months = pd.date_range(START, periods=N_MONTHS, freq="MS")
    frame, _, X = its.design(
        pd.DataFrame({"month": months, "win_rate": 0.0}),
        intervention=T0,
        outcome="win_rate",
        transition_months=transition_months,
        keep_missing=True,
    )
    return X.to_numpy(), frame["t"].to_numpy(float), list(X.columns).index("post")


def fit_fast(monthly: pd.DataFrame, method: str, template) -> tuple[float, float, float]:
    """Level change and interval: the inference of ``its.segmented_regression`` on numpy.

    The design is the same for every replication; only y (and so the gaps) changes.
    ``one_rep`` checks on each scenario's first replication that this equals
    ``segmented_regression``.
    """
    from analysis.sales import its
    from analysis.sales.its_inference import fit_method, interval

    X, t, j = template
    y = monthly["win_rate"].to_numpy(float)
    lags = its.newey_west_lags(int(np.isfinite(y).sum()))
    params, cov, df_rule, critical, _, _ = fit_method(method, y, X, t, lags, "none")
    unit = np.eye(X.shape[1])[j]
    lo, hi, _ = interval(float(params[j]), float(np.sqrt(cov[j, j])), df_rule(unit), 0.05, critical)
    return float(params[j]), lo, hi


def one_rep(task: tuple[str, int, tuple[str, ...]]) -> list[dict]:
    """Fit every method on one simulated series."""
    from analysis.sales import its

    scenario, seed, methods = task
    warnings.filterwarnings("ignore")
    np.seterr(all="ignore")
    rng = np.random.default_rng([seed, SCENARIOS.index(scenario)])
    monthly = simulate(scenario, rng)
    template = _template()
    rows = []
    for method in methods:
        estimate, lo, hi = fit_fast(monthly, method, template)
        if seed == 0:  # the fast path is the notebook's estimator
            fit = its.segmented_regression(
                monthly,
                intervention=T0,
                outcome="win_rate",
                method=method,
                transition_months=TRANSITION,
            )
            assert np.allclose([estimate, lo, hi], [fit.level_change, fit.ci_low, fit.ci_high])
        rows.append(
            {
                "scenario": scenario,
                "method": method,
                "seed": seed,
                "estimate": estimate,
                "covered": bool(lo <= DELTA <= hi),
                "width": hi - lo,
            }
        )
    return rows


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Coverage with its Monte-Carlo standard error, bias and mean width."""
    out = (
        results.groupby(["scenario", "method"], sort=False)
        .agg(
            reps=("covered", "size"),
            coverage=("covered", "mean"),
            bias=("estimate", lambda e: e.mean() - DELTA),
            mean_width=("width", "mean"),
        )
        .reset_index()
    )
    return out.assign(mcse=np.sqrt(out["coverage"] * (1 - out["coverage"]) / out["reps"]))


def demo_seeds(n: int, start: int, min_closed: int = 20) -> pd.DataFrame:
    """End to end: generate the demo CRM per seed, read it back, fit as notebook 04 does."""
    import tempfile

    from analysis import sales
    from analysis.demo import crm
    from analysis.demo.geography import build_geography
    from analysis.sales import its
    from analysis.sources.crm.salesforce import load_crm

    geo = build_geography(start)
    rows = []
    for seed in range(start, start + n):
        with tempfile.TemporaryDirectory(prefix="its-coverage-") as tmp:
            truth = crm.write_part(Path(tmp), geo, seed)
            data = load_crm(Path(tmp) / "crm", key=b"its-coverage-validation-key-0000")
        monthly = sales.its_series(
            sales.monthly_win_rate(data.opportunities, as_of=truth["as_of"]), min_closed=min_closed
        )
        fit = its.segmented_regression(
            monthly,
            intervention=truth["unification_date"],
            outcome="win_rate",
            transition_months=truth["transition_months"],
        )
        rows.append(
            {
                "scenario": "demo end to end",
                "method": fit.method,
                "seed": seed,
                "estimate": fit.level_change - truth["win_rate_uplift"] + DELTA,
                "covered": bool(fit.ci_low <= truth["win_rate_uplift"] <= fit.ci_high),
                "width": fit.ci_high - fit.ci_low,
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=1000, help="replications per scenario")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--demo-seeds", type=int, default=0, help="also run N demo seeds")
    parser.add_argument("--out", type=Path, default=None, help="write the summary (CSV)")
    args = parser.parse_args(argv)
    scenarios = [s for s in args.scenarios.split(",") if s]
    methods = tuple(m for m in args.methods.split(",") if m)
    started = time.perf_counter()
    tasks = [(s, seed, methods) for s in scenarios for seed in range(args.reps)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [r for chunk in pool.map(one_rep, tasks, chunksize=20) for r in chunk]
    results = pd.DataFrame(rows)
    if args.demo_seeds:
        results = pd.concat([results, demo_seeds(args.demo_seeds, 0)], ignore_index=True)
    summary = summarize(results)
    if args.out is not None:
        summary.to_csv(args.out, index=False)
    with pd.option_context("display.width", 140, "display.precision", 3):
        print(summary.to_string(index=False))
    nominal = summary.query("scenario == 'nominal' and method == 'reml'")["coverage"]
    seconds = time.perf_counter() - started
    if nominal.empty:
        print(f"\nnominal/reml not run; no verdict ({seconds:.0f} s)")
        return 0
    value = float(nominal.iloc[0])
    ok = NOMINAL_BAND[0] <= value <= NOMINAL_BAND[1]
    print(
        f"\nnominal coverage (reml) {value:.3f}; band {NOMINAL_BAND[0]:.2f}-{NOMINAL_BAND[1]:.2f}: "
        f"{'OK' if ok else 'OFF'} ({seconds:.0f} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
