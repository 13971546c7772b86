"""Benchmark: the official-statistics readers against a plain ``pandas.read_csv``.

Reads every CSV of the mirror's ``genesis_ffcsv/`` and ``regionalstatistik_classic_csv/``
folders with the project's reader (:func:`analysis.sources.official.genesis.read_ffcsv`,
:func:`analysis.sources.official.classic.read_classic`) and with a plain
``pandas.read_csv(path, sep=";")`` of the same file, and prints the times and the
ratio (target: ffcsv ≤ 3). The classic tables are ragged (title block, footer), so
their baseline is ``read_csv(sep=";", header=None, names=range(width),
encoding="latin-1")``, the least a plain reader needs to get through them.

Usage::

    .venv/bin/python benchmarks/read_official.py [MIRROR_DIR] [--repeat N]

``MIRROR_DIR`` defaults to ``$WORKBOOK_SHARED_DATA`` or ``../shared/data/official``.
Each timing is the best of N runs (default 7) over all files of a group.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def _best(function: Callable[[Path], object], files: list[Path], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for path in files:
            function(path)
        best = min(best, time.perf_counter() - start)
    return best


def _classic_baseline(path: Path) -> pd.DataFrame:
    width = max(line.count(b";") for line in path.read_bytes().splitlines()) + 1
    return pd.read_csv(path, sep=";", header=None, names=range(width), encoding="latin-1")


def main(argv: list[str] | None = None) -> int:
    default = os.environ.get(
        "WORKBOOK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "official"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", nargs="?", type=Path, default=Path(default))
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    from analysis.sources.official.classic import read_classic
    from analysis.sources.official.genesis import read_ffcsv

    groups = [
        ("ffcsv", sorted((args.mirror / "genesis_ffcsv").glob("*.csv")), read_ffcsv,
         lambda p: pd.read_csv(p, sep=";")),
        ("classic", sorted((args.mirror / "regionalstatistik_classic_csv").glob("*.csv")),
         read_classic, _classic_baseline),
    ]  # fmt: skip
    if not any(files for _, files, _, _ in groups):
        print(f"no CSV files under {args.mirror}", file=sys.stderr)
        return 1
    # Warm up imports and caches once, outside the timings.
    for _, files, reader, baseline in groups:
        for path in files:
            reader(path)
            baseline(path)

    print(f"{'file':52} {'rows':>7} {'reader ms':>10} {'read_csv ms':>12} {'ratio':>6}")
    totals = {}
    for name, files, reader, baseline in groups:
        for path in files:
            ours = _best(reader, [path], args.repeat)
            plain = _best(baseline, [path], args.repeat)
            rows = len(reader(path))
            print(
                f"{path.name[:52]:52} {rows:>7} {ours * 1e3:>10.1f} {plain * 1e3:>12.1f} {ours / plain:>6.2f}"
            )
        ours = _best(reader, files, args.repeat)
        plain = _best(baseline, files, args.repeat)
        totals[name] = (ours, plain)
        print(
            f"{'all ' + name + ' files':52} {'':>7} {ours * 1e3:>10.1f} {plain * 1e3:>12.1f} {ours / plain:>6.2f}"
        )
    ours = sum(o for o, _ in totals.values())
    plain = sum(p for _, p in totals.values())
    print(f"{'all files':52} {'':>7} {ours * 1e3:>10.1f} {plain * 1e3:>12.1f} {ours / plain:>6.2f}")
    ratio = totals.get("ffcsv", (ours, plain))
    print(f"ratio ffcsv reader / read_csv: {ratio[0] / ratio[1]:.2f} (target <= 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
