"""Benchmark (issues 2 and 15): ``workbook report`` against the naive papermill + nbconvert loop.

On the same plan and in one run, side by side:

- **ours**: ``workbook report --plan PLAN --force`` (process pool, papermill and
  nbconvert imported once per worker, offline HTML rendered in the worker);
- **naive**: for every job of the plan, one after another, the papermill CLI
  (``papermill NB OUT.ipynb -f params.yml``) and then
  ``jupyter nbconvert --to html --no-input OUT.ipynb``.

Both use the same kernel (this interpreter), the same parameters and the same
environment. Prints both times and the ratio ours / naive; target at most 0.25
(issue 15; it was 0.5 before warm kernels).

Usage::

    .venv/bin/python benchmarks/report_build.py [--plan config/reports.yml]
        [--dataset demo] [--jobs N] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET = 0.25


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    from analysis.report.kernel import KERNEL_ENV

    return {**os.environ, **KERNEL_ENV, "WORKBOOK_ROOT": str(ROOT), **(extra or {})}


def run_ours(plan: Path, dataset: str, jobs: int | None, reports: Path) -> float:
    """Seconds for ``workbook report --force`` into a fresh reports folder."""
    command = [str(BIN / "workbook"), "report", "--plan", str(plan), "--dataset", dataset,
               "--force"] + (["--jobs", str(jobs)] if jobs else [])  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        command, env=_env({"WORKBOOK_REPORTS_DIR": str(reports)}), capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"workbook report failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    state = json.loads((reports / "index.json").read_text())
    bad = [k for k, e in state["entries"].items() if e["status"] != "ok"]
    if bad:
        sys.exit(f"workbook report did not build {bad}")
    return elapsed


def run_naive(jobs: list, work: Path) -> float:
    """Seconds for papermill CLI + nbconvert CLI, one notebook after another."""
    import yaml

    from analysis.report.kernel import KERNEL_NAME, private_kernelspec

    private_kernelspec(work / "jupyter")  # the same kernel as ours (this interpreter)
    env = _env({"JUPYTER_PATH": os.environ["JUPYTER_PATH"]})
    started = time.perf_counter()
    for index, job in enumerate(jobs):
        params = work / f"{index}.yml"
        params.write_text(yaml.safe_dump(job.parameters), encoding="utf-8")
        executed = work / f"{index}_{job.report}.ipynb"
        cwd = work / f"cwd{index}"
        cwd.mkdir()
        subprocess.run(
            [str(BIN / "papermill"), str(job.notebook), str(executed), "-f", str(params),
             "-k", KERNEL_NAME, "--cwd", str(cwd), "--no-progress-bar"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        if not executed.with_suffix(".html").is_file():
            sys.exit(f"nbconvert wrote no HTML for {executed}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=ROOT / "config" / "reports.yml")
    parser.add_argument("--dataset", default="demo", choices=["demo", "official"])
    parser.add_argument("--jobs", type=int, default=None, help="workbook --jobs (default: cores)")
    parser.add_argument("--repeat", type=int, default=1, help="alternating repetitions")
    args = parser.parse_args(argv)

    from analysis.report.inputs import kreis_codes
    from analysis.report.plan import load_plan

    jobs = load_plan(args.plan, dataset=args.dataset, kreis_codes=kreis_codes)
    print(f"plan {args.plan}: {len(jobs)} report(s) on {args.dataset}; {os.cpu_count()} cores")
    ours_times, naive_times = [], []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        for round_ in range(args.repeat):
            # Alternate the order so that a change of machine load hits both sides.
            order = ("naive", "ours") if round_ % 2 == 0 else ("ours", "naive")
            for side in order:
                folder = Path(tmp) / f"{side}{round_}"
                folder.mkdir()
                if side == "ours":
                    ours_times.append(run_ours(args.plan, args.dataset, args.jobs, folder))
                    print(f"  ours  (workbook report --force): {ours_times[-1]:7.1f} s")
                else:
                    naive_times.append(run_naive(jobs, folder))
                    print(f"  naive (papermill + nbconvert):   {naive_times[-1]:7.1f} s")
    ours, naive = statistics.median(ours_times), statistics.median(naive_times)
    ratio = ours / naive
    verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
    print(f"report_build ratio ours/naive = {ours:.1f} s / {naive:.1f} s = {ratio:.2f} "
          f"(target <= {TARGET}) {verdict}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
