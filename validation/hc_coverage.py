"""Coverage of the Hidden-Champion elasticity interval over many demo seeds.

For each seed this regenerates only what the estimate needs — the demo geography,
the "regions" part (population and student tables, PLZ file) and the "firms" part —
into a temporary folder, then runs exactly the notebook's chain:

    load_kreis_indicators → read_plz → read_firm_list → locate_firms →
    count_by_kreis(definition) → fit_count_models

and checks whether the 95 % interval of the negative binomial elasticity covers the
injected ``TRUTH["firms"]["hc_mint_elasticity"]``. It prints the share of covering
intervals (target 0.90–0.98), the same for the robust Poisson fit, and the mean
estimate, mean standard error and the standard deviation of the estimates.

Usage::

    .venv/bin/python validation/hc_coverage.py [--seeds 100] [--first 1]
        [--definition simon] [--jobs 1]

Exit code 0 when the NB coverage lies in [0.90, 0.98], else 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

TARGET = (0.90, 0.98)


def one_seed(seed: int, definition: str = "simon") -> dict:
    """Regenerate the demo pieces for ``seed`` and estimate the elasticity."""
    from analysis.champions import count_by_kreis, fit_count_models, locate_firms
    from analysis.demo import firms as demo_firms
    from analysis.demo import regions as demo_regions
    from analysis.demo.geography import build_geography
    from analysis.regions import load_kreis_indicators
    from analysis.sources.firms import read_firm_list
    from analysis.sources.official.plz import read_plz

    with tempfile.TemporaryDirectory(prefix="hc-coverage-") as folder:
        out = Path(folder)
        geo = build_geography(seed)
        demo_regions.write_part(out, geo, seed)
        truth = demo_firms.write_part(out, geo, seed)
        indicators = load_kreis_indicators("demo", root=out)
        plz_map = read_plz(out / "official" / "plz_osm" / "zuordnung_plz_ort.csv")
        firms = read_firm_list(out / demo_firms.FILE)
    located, _ = locate_firms(firms, plz_map, indicators["ags"])
    models = fit_count_models(count_by_kreis(located, indicators, definition))
    beta = truth["hc_mint_elasticity"]
    return {
        "seed": seed,
        "truth": beta,
        "estimate": models.elasticity.estimate,
        "se": models.elasticity.se,
        "covers": models.elasticity.covers(beta),
        "covers_poisson": models.elasticity_poisson.covers(beta),
        "alpha": float(models.overdispersion["alpha"].iloc[0]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="number of seeds (default 100)")
    parser.add_argument("--first", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--definition", default="simon", choices=["simon", "wmi", "all"])
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args(argv)

    seeds = list(range(args.first, args.first + args.seeds))
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(one_seed, seeds, [args.definition] * len(seeds)))
    else:
        results = [one_seed(s, args.definition) for s in seeds]
    elapsed = time.perf_counter() - started

    covers = np.array([r["covers"] for r in results])
    covers_poisson = np.array([r["covers_poisson"] for r in results])
    estimates = np.array([r["estimate"] for r in results])
    ses = np.array([r["se"] for r in results])
    truth = results[0]["truth"]
    share = float(covers.mean())
    print(
        f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), definition {args.definition!r}, "
        f"{elapsed:.0f} s"
    )
    print(f"injected hc_mint_elasticity      {truth:.3f}")
    print(
        f"mean estimate (NB)               {estimates.mean():.4f}  "
        f"(bias {estimates.mean() - truth:+.4f}, MC se {estimates.std(ddof=1) / np.sqrt(len(seeds)):.4f})"
    )
    print(f"sd of estimates / mean robust se {estimates.std(ddof=1):.4f} / {ses.mean():.4f}")
    print(f"mean NB alpha                    {np.mean([r['alpha'] for r in results]):.3f}")
    print(f"coverage of 95 % CI, Poisson     {covers_poisson.mean():.3f}")
    print(f"coverage of 95 % CI, NB          {share:.3f}  (target {TARGET[0]:.2f}-{TARGET[1]:.2f})")
    missed = [r["seed"] for r in results if not r["covers"]]
    print(f"seeds not covered: {missed}")
    return 0 if TARGET[0] <= share <= TARGET[1] else 1


if __name__ == "__main__":
    sys.exit(main())
