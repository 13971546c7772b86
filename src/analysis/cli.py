"""The ``workbook`` command line.

Sub-commands import their modules lazily so that ``workbook --help`` and parameter
validation stay fast (a bad parameter must fail in well under five seconds).

Exit codes: 0 success, 1 a report or check failed, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="write the synthetic demo dataset (deterministic)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default data/demo)")
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from analysis.demo import write_demo
    from analysis.paths import demo_dir

    out = write_demo(args.out or demo_dir(), seed=args.seed)
    print(f"demo dataset (seed {args.seed}) written to {out}")
    return 0


def _add_params(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("params", help="list a notebook's parameters")
    p.add_argument("notebook", type=Path)
    p.set_defaults(func=_cmd_params)


def _cmd_params(args: argparse.Namespace) -> int:
    from analysis.report.params import format_parameters, read_parameters

    print(format_parameters(read_parameters(args.notebook)))
    return 0


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run one notebook into a report")
    p.add_argument("notebook", type=Path)
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="parameter value (typed by the notebook's annotation, never guessed)",
    )
    p.add_argument("-f", "--file", type=Path, help="YAML file of parameter values")
    p.add_argument("--name", help="report name (default: the notebook's stem)")
    p.add_argument("--force", action="store_true", help="re-run even when cached")
    p.add_argument("--timeout", type=int, default=None, help="cell timeout in seconds")
    p.add_argument("--pdf", action="store_true", help="also write report.pdf beside report.html")
    p.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.paths import reports_dir
    from analysis.report.index import publish_pages
    from analysis.report.runner import run_single

    code = run_single(
        notebook=args.notebook,
        cli_params=args.parameter,
        params_file=args.file,
        name=args.name,
        force=args.force,
        timeout=args.timeout,
    )
    done = publish_pages(reports_dir(), pdf=args.pdf)
    if args.pdf:
        print(done["message"])
    return code


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="build every report of a plan")
    p.add_argument("--plan", type=Path, default=None, help="plan file (default config/reports.yml)")
    p.add_argument("--only", action="append", default=[], help="only this report (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="parallel kernels (default: cores)")
    p.add_argument("--force", action="store_true", help="re-run cached reports")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument(
        "--scheduler", default=None, help="Dask scheduler address (with --executor dask)"
    )
    p.add_argument("--timeout", type=int, default=None, help="cell timeout in seconds")
    p.add_argument(
        "--dataset",
        choices=["auto", "demo", "official"],
        default=None,
        help="override the plan's dataset (auto: official when fetched, else demo)",
    )
    p.add_argument(
        "--keep",
        type=int,
        default=None,
        metavar="N",
        help="keep the last N runs per report and parameter set (default: the plan's keep, "
        "else 20); the last good run always stays",
    )
    p.add_argument(
        "--notify",
        default=None,
        metavar="CMD_OR_URL",
        help="command (gets the JSON summary on stdin) or http(s) URL (gets it POSTed) "
        "told about the run (default: $WORKBOOK_NOTIFY)",
    )
    p.add_argument(
        "--notify-on",
        choices=["failure", "changes", "success", "always"],
        default=None,
        help="when to notify (default: $WORKBOOK_NOTIFY_ON, else failure; changes: failure "
        "or key figures beyond the plan's diff threshold)",
    )
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also write report.pdf beside every report.html (headless Chromium)",
    )
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.paths import reports_dir
    from analysis.report.index import publish_pages
    from analysis.report.runner import run_plan_cli

    code = run_plan_cli(args)
    # Thumbnails, cards and (with --pdf) PDFs of the last good runs, then the index.
    done = publish_pages(reports_dir(), pdf=args.pdf)
    if args.pdf:
        print(done["message"])
    return code


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="official data: fetch, read, check")
    dsub = p.add_subparsers(dest="data_command", required=True)
    f = dsub.add_parser("fetch", help="download the official sources (or take them from a mirror)")
    f.add_argument("--mirror", default=None, help="mirror directory or URL (or WORKBOOK_MIRROR)")
    f.add_argument("--only", action="append", default=[], help="only this source (repeatable)")
    f.set_defaults(func=_cmd_data_fetch)
    r = dsub.add_parser("read", help="print a supported official file as tidy CSV")
    r.add_argument("file", type=Path)
    r.add_argument("--format", default=None, help="force a format (default: sniffed)")
    r.set_defaults(func=_cmd_data_read)
    c = dsub.add_parser("check", help="validate everything under data/raw/")
    c.add_argument("root", type=Path, nargs="?", default=None)
    c.set_defaults(func=_cmd_data_check)


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from analysis.sources.official.fetch import fetch_cli

    return fetch_cli(mirror=args.mirror, only=args.only)


def _cmd_data_read(args: argparse.Namespace) -> int:
    from analysis.sources import read_cli

    return read_cli(args.file, fmt=args.format, out=sys.stdout)


def _cmd_data_check(args: argparse.Namespace) -> int:
    from analysis.sources import check_cli

    return check_cli(args.root)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``workbook``."""
    parser = argparse.ArgumentParser(
        prog="workbook",
        description="Champions Workbook: demo data, official data and HTML reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_demo, _add_params, _add_run, _add_report, _add_data):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbook`` console script."""
    from analysis.errors import InputError, ParameterError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, ParameterError) as exc:
        print(f"workbook: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbook: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
