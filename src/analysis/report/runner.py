"""Run notebooks into published reports: validate, execute, render, publish.

The flow of one job:

1. parameters are validated before any kernel starts (:mod:`analysis.report.params`);
2. its cache key (:mod:`analysis.report.cache`) is compared with the last good run:
   unchanged → ``cached``;
3. a worker executes the notebook in a staging folder ``reports/.staging/<run_id>/``
   in a warm kernel (:mod:`analysis.report.execute`, :mod:`analysis.report.warm`);
   a dead kernel is retried once, a cell error never;
4. the executed notebook becomes ``report.html`` and ``manifest.json`` there;
5. the parent process publishes (:mod:`analysis.report.store`): the staging folder
   is renamed into ``reports/<report>/<slug>/runs/<run_id>/`` and, only for a good
   run, its HTML replaces ``reports/<report>/<slug>/report.html``; then the index.

Failed runs keep their partial executed notebook; the last good HTML stays. SIGINT
(or SIGTERM) during a run publishes nothing half-written; publishing itself defers
SIGINT. Jobs run in a local process pool (``--jobs``) or on a Dask cluster
(``--executor dask --scheduler ADDRESS``; :mod:`analysis.report.executors`); the
results and the index are the same. Each good run is compared with the previous
good run (:mod:`analysis.report.diff`); a notification hook
(:mod:`analysis.report.notify`) reports failures; old runs are pruned (``keep``).

This module is the glue: :func:`run_jobs`, and the ``workbook report`` /
``workbook run`` commands (:func:`run_plan_cli`, :func:`run_single`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.files import read_small_text
from analysis.paths import config_dir, project_root
from analysis.report.cache import Fingerprints, git_commit, new_run_id, utc_now
from analysis.report.execute import execute_job
from analysis.report.executors import run_dask, run_local
from analysis.report.inputs import (
    crm_currencies,
    crm_date_range,
    kreis_codes,
    missing_inputs,
    resolve_dataset,
)
from analysis.report.kernel import kernel_processes, kill_processes
from analysis.report.params import load_params_file, read_parameters, validate
from analysis.report.plan import DEFAULT_HEARTBEAT_S, Job, load_plan, parameter_slug
from analysis.report.progress import Progress
from analysis.report.store import (
    ReportStore,
    check_report_name,
    project_relative,
    storage_errors,
)
from analysis.report.warm import close_process_pool, notebook_imports

__all__ = [
    "STATUSES", "ReportStore", "RunOutcome", "execute_job", "kreis_codes", "run_jobs",
    "run_plan_cli", "run_single", "sigterm_as_interrupt",
]  # fmt: skip

STATUSES = ("ok", "failed", "skipped", "cached")


def _forwarded_env() -> dict[str, str]:
    """Settings a remote (Dask) worker needs to see the same project and data."""
    return {
        k: v
        for k, v in os.environ.items()
        if k.startswith("WORKBOOK_") and not k.startswith("WORKBOOK_NOTIFY")  # may hold a secret
    }


def job_spec(job: Job, store: ReportStore, cache_key: str, commit: str, settings: dict) -> dict:
    """What a worker needs to execute a job (plain data: it travels to Dask workers)."""
    run_id = new_run_id()
    return {
        "report": job.report,
        "notebook": str(job.notebook),
        "notebook_rel": project_relative(job.notebook),
        "parameters": job.parameters,
        "run_id": run_id,
        "staging": str(store.staging / run_id),
        "root": str(project_root()),
        "cache_key": cache_key,
        "git_commit": commit,
        "timeout": settings.get("timeout") or job.options.get("timeout"),
        "heartbeat": settings.get("heartbeat")
        or job.options.get("heartbeat")
        or DEFAULT_HEARTBEAT_S,
        "executor": settings.get("executor", "local"),
        "env": _forwarded_env(),
    }


@dataclass
class RunOutcome:
    """What a run of jobs did: counts per status and one result per job."""

    counts: dict[str, int]
    results: list[dict] = field(default_factory=list)
    started_at: str = ""
    duration_s: float = 0.0
    interrupted: bool = False

    @property
    def status(self) -> str:
        """``interrupted``, ``failed`` (a report failed) or ``ok``."""
        if self.interrupted:
            return "interrupted"
        return "failed" if self.counts.get("failed") else "ok"

    def summary(self, **context) -> dict:
        """The JSON summary sent to the notification hook.

        Parameters
        ----------
        **context
            Added as is (``plan``, ``dataset``, ``index``).
        """
        failed = [r for r in self.results if r["status"] == "failed"]
        flagged = [
            {"key": r["key"], "run_id": r["run_id"], **change}
            for r in self.results
            for change in r.get("flagged", [])
        ]
        return {
            "status": self.status,
            "counts": self.counts,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "host": socket.gethostname(),
            **context,
            "failed": failed,
            "flagged": flagged,
            "reports": [
                {k: r.get(k) for k in ("key", "status", "run_id", "duration_s")}
                for r in self.results
            ],
        }


def run_jobs(
    jobs: list[Job],
    *,
    n_jobs: int | None = None,
    force: bool = False,
    timeout: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    store: ReportStore | None = None,
    stream=None,
    keep: int | None = None,
    heartbeat: float | None = None,
    outcome: RunOutcome | None = None,
) -> dict[str, int]:
    """Run jobs (cached ones skipped), publish each as it finishes.

    Parameters
    ----------
    jobs : list of Job
        Validated jobs (:func:`analysis.report.plan.load_plan`).
    n_jobs : int, optional
        Parallel kernels of the local pool (default: the number of cores).
    force : bool
        Re-run jobs whose cache key is unchanged.
    timeout : int, optional
        Cell timeout in seconds (overrides the plan's ``timeout``).
    executor : {"local", "dask"}
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``) with ``executor="dask"``.
    store : ReportStore, optional
        The reports folder (default ``reports/``).
    stream : file, optional
        Where progress lines go (default stdout).
    keep : int, optional
        Runs kept per report and parameter set (overrides the plan's ``keep``).
    heartbeat : float, optional
        Seconds between heartbeat lines of a long cell (overrides the plan).
    outcome : RunOutcome, optional
        Filled with per-job results as jobs finish (also when interrupted).

    Returns
    -------
    dict
        Count of jobs per status.

    Raises
    ------
    InputError
        When the reports folder is locked by another run, not writable or full.
    KeyboardInterrupt
        On SIGINT; everything published so far is complete, nothing half-written.
    """
    store = store or ReportStore()
    outcome = outcome if outcome is not None else RunOutcome(dict.fromkeys(STATUSES, 0))
    outcome.counts.update({s: outcome.counts.get(s, 0) for s in STATUSES})
    outcome.started_at = utc_now()
    clock = time.monotonic()
    settings = {
        "timeout": timeout,
        "executor": executor,
        "heartbeat": heartbeat or _env_float("WORKBOOK_HEARTBEAT"),
    }
    workers = n_jobs or os.cpu_count() or 1
    store.check_jobs(jobs)  # before anything is written
    try:
        with storage_errors(store.root), store.session():
            store.clean_stale_staging()
            progress = Progress(len(jobs), stream)
            try:
                pending = _triage(jobs, store, outcome, progress, force, settings)
                store.flush()
                if pending:
                    finish = _finisher(store, outcome, progress, keep)
                    _warm_ahead(pending, 1 if executor == "dask" else workers)
                    _execute_all(pending, executor, workers, scheduler, finish)
            finally:
                progress.close()
    except KeyboardInterrupt:
        outcome.interrupted = True
        kill_processes(kernel_processes())  # in-process runs leave their kernel behind otherwise
        raise
    finally:
        close_process_pool()  # warm kernels of in-process runs
        outcome.duration_s = round(time.monotonic() - clock, 2)
    return outcome.counts


def _execute_all(pending: list, executor: str, workers: int, scheduler, finish) -> None:
    # ``execute_job`` is looked up here, at call time, so that tests can stand in for it.
    if executor == "dask":
        run_dask(pending, scheduler, finish, execute_job)
    else:
        run_local(pending, workers, finish, execute_job)


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ParameterError(name, f"expected a number of seconds, got {value!r}") from None
    if number <= 0:
        raise ParameterError(name, f"expected a number of seconds > 0, got {value!r}")
    return number


def _triage(jobs, store: ReportStore, outcome, progress, force: bool, settings: dict) -> list:
    """Note skipped (inputs missing) and cached jobs; return (job, spec) pairs to run."""
    fingerprints = Fingerprints(project_root())
    commit = git_commit()
    counts = outcome.counts
    pending: list[tuple[Job, dict]] = []
    for job in jobs:
        missing = missing_inputs(job)
        if missing:
            reason = f"needs {', '.join(missing)} (not present)"
            store.note_skipped(job, reason, write=False)
            counts["skipped"] += 1
            outcome.results.append(
                {"key": job.key, "status": "skipped", "run_id": None, "duration_s": None,
                 "error": reason}
            )  # fmt: skip
            progress.line(job, "skipped", None, reason)
            continue
        key = fingerprints.cache_key(job)
        previous = None if force else store.last_good(job)
        if previous and previous.get("cache_key") == key:
            store.note_cached(job, previous, write=False)
            counts["cached"] += 1
            outcome.results.append(
                {"key": job.key, "status": "cached", "run_id": previous.get("run_id"),
                 "duration_s": None}
            )  # fmt: skip
            progress.line(job, "cached", None, "unchanged inputs, code and parameters")
            continue
        pending.append((job, job_spec(job, store, key, commit, settings)))
    return pending


def _warm_ahead(pending: list, workers: int) -> None:
    """Tell each spec when it was queued and how its worker should warm the next kernel.

    The last ``workers`` jobs (one per worker) warm none: nothing would use it. The
    next kernel imports what the following reports' notebooks import.
    """
    now = time.time()
    imports: dict[Path, tuple] = {}
    for job, _spec in pending:
        if job.notebook not in imports:
            imports[job.notebook] = notebook_imports(job.notebook)
    for index, (job, spec) in enumerate(pending):
        spec["submitted_at"] = now
        spec["warm_next"] = index < len(pending) - max(1, workers)
        spec["imports"] = imports[job.notebook]
        # This worker's next report is about ``workers`` places further in the queue.
        following = pending[index + 1 : index + 1 + max(1, workers)]
        spec["next_imports"] = tuple(
            dict.fromkeys(m for later, _ in following for m in imports[later.notebook])
        )


def _finisher(store: ReportStore, outcome, progress, keep):
    """The parent's ``finish(job, spec, manifest)``: publish, count, print a line."""
    timings_log = os.environ.get("WORKBOOK_TIMINGS", "").strip()

    def finish(job: Job, spec: dict, manifest: dict) -> None:
        publishing = time.monotonic()
        store.publish(job, manifest, Path(spec["staging"]), keep=keep)
        if timings_log:
            _log_timings(timings_log, job, manifest, time.monotonic() - publishing)
        status = manifest["status"]
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        diff = manifest.get("diff") or {}
        flagged = [c for c in diff.get("changes", []) if c.get("flagged")]
        run_dir = store.root / job.report / job.slug / "runs" / manifest["run_id"]
        outcome.results.append(
            {
                "key": job.key,
                "status": status,
                "run_id": manifest["run_id"],
                "duration_s": manifest.get("duration_s"),
                "error": manifest.get("error", ""),
                "attempts": manifest.get("attempts"),
                "run_dir": str(run_dir),
                "flagged": flagged,
            }
        )
        progress.line(job, status, manifest.get("duration_s"), _note(manifest, flagged))

    return finish


def _note(manifest: dict, flagged: list) -> str:
    if manifest["status"] != "ok":
        return manifest["error"][:120]
    if flagged:
        names = ", ".join(c["name"] for c in flagged[:3])
        more = f" +{len(flagged) - 3}" if len(flagged) > 3 else ""
        return f"changed beyond threshold: {names}{more}"
    return ""


def _log_timings(path: str, job: Job, manifest: dict, publish_s: float) -> None:
    """Append where a report's time went to ``$WORKBOOK_TIMINGS`` (benchmarks read it)."""
    line = {"key": job.key, "status": manifest["status"], "duration_s": manifest.get("duration_s"),
            **(manifest.get("timings") or {}), "publish_s": round(publish_s, 3)}  # fmt: skip
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def _summary(counts: dict[str, int], store: ReportStore) -> int:
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"{parts or 'nothing to do'}")
    print(f"index: {store.root / 'index.html'}")
    return 1 if counts.get("failed") else 0


@contextlib.contextmanager
def sigterm_as_interrupt():
    """A scheduler's SIGTERM (systemd stop, CI cancel) ends the run like Ctrl-C."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_plan_cli(args) -> int:
    """``workbook report``: run a plan (see :mod:`analysis.report.plan`).

    Sends the run's JSON summary to ``--notify`` / ``WORKBOOK_NOTIFY`` as
    ``--notify-on`` says, also when the run was interrupted or could not start.
    """
    from analysis.report import notify

    target = notify.target_from_env(getattr(args, "notify", None))
    try:
        when = notify.when_from_env(getattr(args, "notify_on", None))
    except ValueError as exc:
        raise ParameterError("notify-on", str(exc)) from None
    plan = Path(args.plan or config_dir() / "reports.yml")
    store = ReportStore()
    outcome = RunOutcome(dict.fromkeys(STATUSES, 0))
    context = {"plan": str(plan), "index": str(store.root / "index.html")}
    try:
        with sigterm_as_interrupt():
            code = _run_plan(args, plan, store, outcome, context)
    except (InputError, ParameterError) as exc:
        notify.notify(target, when, {**outcome.summary(**context), "status": "error",
                                     "error": str(exc)})  # fmt: skip
        raise
    except KeyboardInterrupt:
        outcome.interrupted = True
        notify.notify(target, when, outcome.summary(**context))
        raise
    notify.notify(target, when, outcome.summary(**context))
    return code


def _run_plan(args, plan: Path, store: ReportStore, outcome: RunOutcome, context: dict) -> int:
    import yaml

    try:
        declared = yaml.safe_load(read_small_text(plan, "plan")) or {}
    except yaml.YAMLError as exc:
        raise InputError(plan, f"not valid YAML: {exc}") from None
    if not isinstance(declared, dict):
        raise InputError(plan, "expected a mapping with a list under 'reports'")
    dataset = resolve_dataset(args.dataset or declared.get("dataset", "auto"))
    context["dataset"] = dataset
    jobs = load_plan(
        plan,
        dataset=dataset,
        kreis_codes=kreis_codes,
        only=args.only,
        date_range=crm_date_range,
        currencies=crm_currencies,
    )
    keep = getattr(args, "keep", None)
    if keep is not None and keep < 1:
        raise ParameterError("keep", f"expected a whole number >= 1, got {keep}")
    print(f"plan {plan}: {len(jobs)} report(s) on the {dataset} dataset")
    counts = run_jobs(
        jobs,
        n_jobs=args.jobs,
        force=args.force,
        timeout=args.timeout,
        executor=args.executor,
        scheduler=args.scheduler,
        store=store,
        keep=keep,
        outcome=outcome,
    )
    return _summary(counts, store)


def run_single(
    notebook: Path,
    cli_params: list[list[str]],
    params_file: Path | None = None,
    name: str | None = None,
    force: bool = False,
    timeout: int | None = None,
) -> int:
    """``workbook run``: validate and run one notebook into a report.

    Raises
    ------
    InputError, ParameterError
        Before anything is written: an unreadable notebook or parameter file, a bad
        parameter value or a report name that would leave ``reports/``.
    """
    if name is not None:
        check_report_name(name)
    notebook = Path(notebook).resolve()
    declared = read_parameters(notebook)
    values: dict[str, object] = {}
    if params_file:
        values.update(load_params_file(params_file))
    values.update({k: v for k, v in cli_params})
    final = validate(
        declared,
        values,
        kreis_codes=kreis_codes,
        date_range=crm_date_range,
        currencies=crm_currencies,
    )
    defaults = {p.name: p.default for p in declared}
    report = name or re.sub(r"[^A-Za-z0-9_.-]+", "_", notebook.stem).lstrip("._") or "report"
    job = Job(report, notebook, final, parameter_slug(final, defaults))
    store = ReportStore()
    counts = run_jobs([job], n_jobs=1, force=force, timeout=timeout, store=store)
    return _summary(counts, store)
