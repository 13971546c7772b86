"""Coverage of the ITS interval for the injected win-rate uplift across demo seeds.

For each seed the CRM part of the demo is generated into a temporary folder (the
Salesforce Data Export and Pardot files, exactly as ``workbook demo`` writes them),
read back through ``analysis.sources.crm.salesforce.load_crm`` and analysed as notebook
04 does: monthly win rate of the deals closed in each month, the months after go-live
with fewer than ``--min-closed`` closes trimmed, segmented regression with month-of-year
effects and the transition months of TRUTH excluded. The script prints, per method,
how often the 95 % interval for the level change covers ``TRUTH["crm"]["win_rate_uplift"]``
(target for the notebook's method, ``hac``: 0.90-0.98), and, as a side check, the
coverage of the fixed-horizon lead-conversion difference for ``lead_conversion_uplift``.

The CRM truths do not depend on the geography (postcodes only), so the geography is
built once (seed of the first run) and reused.

Usage::

    .venv/bin/python validation/its_coverage.py            # 100 seeds, 0..99
    .venv/bin/python validation/its_coverage.py --seeds 200 --start 1000

Exit code 0 when the ``hac`` coverage lies in the target range, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

TARGET = (0.90, 0.98)
KEY = b"its-coverage-validation-key-0000"  # pseudonyms are not used here; any key will do


def one_seed(seed: int, geo, methods: tuple[str, ...], min_closed: int) -> list[dict]:
    """Generate, read and analyse one demo seed; one row per method."""
    from analysis import sales
    from analysis.demo import crm
    from analysis.sales import its
    from analysis.sources.crm.salesforce import load_crm

    with tempfile.TemporaryDirectory(prefix="its-coverage-") as tmp:
        truth = crm.write_part(Path(tmp), geo, seed)
        data = load_crm(Path(tmp) / "crm", key=KEY)
    monthly = sales.its_series(
        sales.monthly_win_rate(data.opportunities, as_of=truth["as_of"]), min_closed=min_closed
    )
    rows = []
    for method in methods:
        fit = its.segmented_regression(
            monthly,
            intervention=truth["unification_date"],
            outcome="win_rate",
            method=method,
            transition_months=truth["transition_months"],
        )
        rows.append(
            {
                "seed": seed,
                "quantity": "win_rate_uplift",
                "method": method,
                "truth": truth["win_rate_uplift"],
                "estimate": fit.level_change,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
            }
        )
    conversion = sales.lead_conversion_before_after(
        data.leads, unification_date=truth["unification_date"], as_of=truth["as_of"]
    ).attrs["difference"]
    rows.append(
        {
            "seed": seed,
            "quantity": "lead_conversion_uplift",
            "method": "newcombe",
            "truth": truth["lead_conversion_uplift"],
            "estimate": conversion["difference"],
            "ci_low": conversion["ci_low"],
            "ci_high": conversion["ci_high"],
        }
    )
    return rows


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Coverage (with a Wilson interval), bias and mean width per quantity and method."""
    from analysis.sales import wilson_interval

    frame = results.assign(
        covered=(results["ci_low"] <= results["truth"]) & (results["truth"] <= results["ci_high"]),
        width=results["ci_high"] - results["ci_low"],
        error=results["estimate"] - results["truth"],
    )
    summary = (
        frame.groupby(["quantity", "method"], sort=False)
        .agg(
            n=("covered", "size"),
            covered=("covered", "sum"),
            coverage=("covered", "mean"),
            bias=("error", "mean"),
            sd=("estimate", "std"),
            mean_width=("width", "mean"),
        )
        .reset_index()
    )
    low, high = wilson_interval(summary["covered"], summary["n"])
    return summary.assign(coverage_ci_low=low, coverage_ci_high=high)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100, help="number of demo seeds (default 100)")
    parser.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument(
        "--methods", default="hac,glsar,sarimax,ols", help="ITS methods, comma-separated"
    )
    parser.add_argument("--min-closed", type=int, default=20, help="fewest closes for a month")
    parser.add_argument("--out", type=Path, default=None, help="write per-seed results (CSV)")
    args = parser.parse_args(argv)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    warnings.filterwarnings("ignore")

    from analysis.demo.geography import build_geography

    geo = build_geography(args.start)
    started = time.perf_counter()
    rows: list[dict] = []
    for i, seed in enumerate(range(args.start, args.start + args.seeds), start=1):
        rows.extend(one_seed(seed, geo, methods, args.min_closed))
        if i % 10 == 0:
            elapsed = time.perf_counter() - started
            print(f"  {i}/{args.seeds} seeds, {elapsed / i:.1f} s per seed", file=sys.stderr)
    results = pd.DataFrame(rows)
    if args.out is not None:
        results.to_csv(args.out, index=False)
    summary = summarize(results)
    with pd.option_context("display.width", 140, "display.precision", 4):
        print(summary.to_string(index=False))
    primary = summary.loc[
        (summary["quantity"] == "win_rate_uplift") & (summary["method"] == "hac"), "coverage"
    ]
    seconds = time.perf_counter() - started
    seeds = f"{args.start}..{args.start + args.seeds - 1}"
    if primary.empty:
        print(f"\nseeds {seeds}: method 'hac' not run; no verdict ({seconds:.0f} s)")
        return 0
    value = float(primary.iloc[0])
    ok = TARGET[0] <= value <= TARGET[1]
    print(
        f"\nITS (hac) 95 % interval covers win_rate_uplift in {value:.3f} of {args.seeds} seeds "
        f"({seeds}); target {TARGET[0]:.2f}-{TARGET[1]:.2f}: {'OK' if ok else 'OFF'} "
        f"({seconds:.0f} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
