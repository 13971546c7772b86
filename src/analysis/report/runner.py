"""Run notebooks into published reports: validate, execute, render, publish.

The flow of one job:

1. parameters are validated before any kernel starts (:mod:`analysis.report.params`);
2. its cache key (notebook source, parameters, ``analysis`` package source, lock file,
   input fingerprints) is compared with the last good run: unchanged → ``cached``;
3. papermill executes the notebook in a staging folder ``reports/.staging/<run_id>/``
   with the kernel in its own working directory; a dead kernel is retried once, a
   cell error never;
4. the executed notebook becomes ``report.html`` and ``manifest.json`` there;
5. the parent process publishes: the staging folder is renamed into
   ``reports/<report>/<slug>/runs/<run_id>/`` and, only for a good run, its HTML
   replaces ``reports/<report>/<slug>/report.html`` (atomic rename); then the index.

Failed runs keep their partial executed notebook; the last good HTML stays. SIGINT
during a run publishes nothing half-written; publishing itself defers SIGINT.
Jobs run in a local process pool (``--jobs``) or on a Dask cluster
(``--executor dask --scheduler ADDRESS``); the results and the index are the same.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.paths import DATASETS, config_dir, dataset_dir, project_root, reports_dir
from analysis.report.params import load_params_file, read_parameters, validate
from analysis.report.plan import Job, load_plan, parameter_slug

STATUSES = ("ok", "failed", "skipped", "cached")
KERNEL_ENV = {
    "TZ": "UTC",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "SOURCE_DATE_EPOCH": "1700000000",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
}
PACKAGES = (
    "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn",
    "papermill", "nbclient", "nbconvert", "ipykernel", "pyarrow",
)  # fmt: skip


# --------------------------------------------------------------------------- helpers


def utc_now() -> str:
    """Current UTC time as ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_run_id() -> str:
    """A sortable, unique run id."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}Z-{secrets.token_hex(3)}"


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_fingerprint(root: Path, patterns: Iterable[str] = ("**/*",)) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``root``."""
    digest = hashlib.sha256()
    if not root.exists():
        return "absent"
    files = sorted(
        {p for pattern in patterns for p in root.glob(pattern) if p.is_file()},
        key=lambda p: p.as_posix(),
    )
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(_sha256_file(path).encode())
    return digest.hexdigest()


def notebook_source_hash(notebook: Path) -> str:
    """Hash of a notebook's cell sources and tags (not its stored outputs)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [
        (
            c.get("cell_type"),
            "".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source", ""),
            c.get("metadata", {}).get("tags", []),
        )
        for c in nb.get("cells", [])
    ]
    return _sha256_bytes(json.dumps(cells, sort_keys=True).encode())


def git_commit(root: Path | None = None) -> str:
    """The current commit, with ``-dirty`` when tracked files have changes."""
    root = root or project_root()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if head and dirty else (head or "unknown")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape a report's numbers."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


class Fingerprints:
    """Computes and memoizes what a cache key is made of (per process)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._code: str | None = None
        self._lock: str | None = None
        self._data: dict[str, str] = {}

    @property
    def code(self) -> str:
        if self._code is None:
            self._code = tree_fingerprint(
                self.root / "src" / "analysis", ("**/*.py", "**/*.yml", "**/*.html", "**/*.css")
            )
        return self._code

    @property
    def lock(self) -> str:
        if self._lock is None:
            lock = self.root / "requirements.lock"
            self._lock = _sha256_file(lock) if lock.is_file() else "absent"
        return self._lock

    def data(self, dataset: str) -> str:
        if dataset not in self._data:
            self._data[dataset] = tree_fingerprint(dataset_dir(dataset))
        return self._data[dataset]

    def cache_key(self, job: Job) -> str:
        dataset = str(job.parameters.get("dataset", "demo"))
        parts = {
            "notebook": notebook_source_hash(job.notebook),
            "parameters": job.parameters,
            "code": self.code,
            "lock": self.lock,
            "data": self.data(dataset) if dataset in DATASETS else "none",
        }
        return _sha256_bytes(json.dumps(parts, sort_keys=True, default=str).encode())


def kreis_codes(dataset: str) -> set[str]:
    """Valid Kreis codes of a dataset, for parameter validation.

    Raises
    ------
    ParameterError
        When the dataset has not been generated or fetched yet.
    """
    from analysis import regions

    try:
        codes = regions.known_kreis_codes(dataset)
    except (FileNotFoundError, InputError) as exc:
        hint = "run `workbook demo`" if dataset == "demo" else "run `workbook data fetch`"
        raise ParameterError(
            "dataset", f"the {dataset} dataset is not available ({exc}); {hint}"
        ) from None
    return set(codes)


def official_available() -> bool:
    """True when the official regional statistics have been fetched."""
    from analysis import regions

    try:
        return bool(regions.known_kreis_codes("official"))
    except (FileNotFoundError, InputError, ValueError):
        return False


def resolve_dataset(choice: str | None) -> str:
    """``auto`` (or None) → official when fetched, else demo."""
    if choice in (None, "auto"):
        return "official" if official_available() else "demo"
    if choice not in DATASETS:
        raise ParameterError("dataset", f"expected auto, demo or official, got {choice!r}")
    return choice


# --------------------------------------------------------------------------- execution


def _extract(nb) -> tuple[dict, list[dict]]:
    from analysis.notebook import RECORD_MIME, SOURCES_MIME

    records: dict = {}
    sources: list[dict] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RECORD_MIME in data:
                records.update(data[RECORD_MIME])
            if SOURCES_MIME in data:
                sources = list(data[SOURCES_MIME].get("inputs", []))
    return records, sources


def _tidy_notebook(nb) -> None:
    """Drop run-to-run noise from an executed notebook (timings, random ids)."""
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        if "papermill" in cell.metadata:
            cell.metadata["papermill"] = {
                k: v for k, v in cell.metadata["papermill"].items() if k in {"status", "exception"}
            }
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
        elif "id" in cell:
            cell["id"] = f"cell-{index}"


KERNEL_NAME = "workbook-python"


def _private_kernelspec(folder: Path) -> None:
    """Write a kernelspec that runs *this* interpreter, and put it first on JUPYTER_PATH.

    A user-level ``python3`` kernelspec (``~/.local/share/jupyter``) may point at some
    other environment; reports must run with the interpreter that runs the workbook.
    """
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Champions Workbook (Python)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    previous = os.environ.get("WORKBOOK_BASE_JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
    os.environ["WORKBOOK_BASE_JUPYTER_PATH"] = previous
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(folder), previous) if p)


def execute_job(spec: dict) -> dict:
    """Execute one job in its staging folder; return a result dict (no publishing).

    Runs in a worker process (process pool or Dask worker). Never raises for a
    notebook failure: the failure is the result.
    """
    import logging

    import nbformat
    import papermill as pm

    staging = Path(spec["staging"])
    work = staging / "work"
    work.mkdir(parents=True, exist_ok=True)
    executed = staging / "executed.ipynb"
    os.environ.update(KERNEL_ENV)
    os.environ["WORKBOOK_ROOT"] = spec["root"]
    os.environ.update(spec.get("env", {}))
    _private_kernelspec(staging / "jupyter")

    log_path = staging / "run.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("papermill")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    started = time.monotonic()
    started_at = utc_now()
    status, error, attempts = "ok", "", 0
    # The kernel inherits this process's stderr; its start-up chatter (ipykernel's
    # "running over TCP" warning, debugger notices) belongs in the run log, not on the
    # terminal of a scheduled job.
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        while True:
            attempts += 1
            try:
                pm.execute_notebook(
                    spec["notebook"],
                    str(executed),
                    parameters=spec["parameters"],
                    kernel_name=KERNEL_NAME,
                    cwd=str(work),
                    progress_bar=False,
                    log_output=True,
                    start_timeout=120,
                    execution_timeout=spec.get("timeout"),
                    report_mode=False,
                )
                status, error = "ok", ""
                break
            except pm.PapermillExecutionError as exc:
                status = "failed"
                error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"[:2000]
                break
            except Exception as exc:  # noqa: BLE001 - kernel death, timeouts, startup failures
                status = "failed"
                error = f"{type(exc).__name__}: {exc}"[:2000]
                dead = type(exc).__name__ == "DeadKernelError"
                if dead and attempts < 2:
                    logger.warning("kernel died; retrying once")
                    continue
                break
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        logger.removeHandler(handler)
        handler.close()
    duration = round(time.monotonic() - started, 2)

    records: dict = {}
    sources: list[dict] = []
    html_name = ""
    if executed.is_file():
        try:
            nb = nbformat.read(executed, as_version=4)
            _tidy_notebook(nb)
            nbformat.write(nb, executed)
            records, sources = _extract(nb)
            from analysis.report.html import render_report

            page = render_report(
                nb,
                report=spec["report"],
                parameters=spec["parameters"],
                started_at=started_at,
                duration_s=duration,
                git_commit=spec["git_commit"],
                dataset=str(spec["parameters"].get("dataset", "")),
                sources=sources,
                status=status,
                error=error,
            )
            html_name = "report.html" if status == "ok" else "partial.html"
            (staging / html_name).write_text(page, encoding="utf-8")
        except Exception as exc:  # noqa: BLE001 - rendering must not hide the run's status
            if status == "ok":
                status, error = "failed", f"rendering failed: {type(exc).__name__}: {exc}"
    elif status == "ok":
        status, error = "failed", "papermill wrote no executed notebook"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(staging / "jupyter", ignore_errors=True)

    inputs = [{"path": s.get("path", ""), "sha256": s.get("sha256", "")} for s in sources]
    manifest = {
        "report": spec["report"],
        "notebook": spec["notebook_rel"],
        "parameters": spec["parameters"],
        "status": status,
        "error": error,
        "run_id": spec["run_id"],
        "started_at": started_at,
        "duration_s": duration,
        "attempts": attempts,
        "git_commit": spec["git_commit"],
        "inputs": inputs,
        "sources": sources,
        "figures": records,
        "cache_key": spec["cache_key"],
        "dataset": spec["parameters"].get("dataset"),
        "executor": spec.get("executor", "local"),
        "package_versions": package_versions(),
        "html": html_name,
    }
    (staging / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    return manifest


# --------------------------------------------------------------------------- publishing


@contextlib.contextmanager
def _sigint_deferred():
    """Hold SIGINT while publishing, so a Ctrl-C cannot leave half a publication."""
    received: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda s, f: received.append(s))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class ReportStore:
    """The ``reports/`` tree: run folders, stable report pages and the index."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or reports_dir()
        self.staging = self.root / ".staging"
        self.state_path = self.root / "index.json"

    def check_writable(self) -> None:
        """Fail early and clearly when ``reports/`` cannot be written."""
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            probe = self.staging / f".probe-{os.getpid()}"
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
        except OSError as exc:
            raise InputError(self.root, f"reports folder is not writable: {exc.strerror}") from None

    def load_state(self) -> dict:
        if not self.state_path.is_file():
            return {"entries": {}}
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return {"entries": {}}

    def last_good(self, job: Job) -> dict | None:
        entry = self.load_state()["entries"].get(job.key)
        if not entry or not entry.get("last_good"):
            return None
        run_dir = self.root / job.report / job.slug / "runs" / entry["last_good"]
        manifest = run_dir / "manifest.json"
        if (
            not manifest.is_file()
            or not (self.root / job.report / job.slug / "report.html").is_file()
        ):
            return None
        return json.loads(manifest.read_text(encoding="utf-8"))

    def publish(self, job: Job, manifest: dict, staging: Path) -> Path:
        """Move a finished staging folder into place and update the index."""
        with _sigint_deferred():
            runs = self.root / job.report / job.slug / "runs"
            runs.mkdir(parents=True, exist_ok=True)
            run_dir = runs / manifest["run_id"]
            os.replace(staging, run_dir)
            if manifest["status"] == "ok":
                stable = self.root / job.report / job.slug / "report.html"
                tmp = stable.with_name(".report.html.tmp")
                shutil.copyfile(run_dir / "report.html", tmp)
                os.replace(tmp, stable)
            self._update_index(job, manifest)
        return run_dir

    def note_cached(self, job: Job, previous: dict) -> None:
        with _sigint_deferred():
            self._update_index(job, {**previous, "status": "cached", "checked_at": utc_now()})

    def _update_index(self, job: Job, manifest: dict) -> None:
        state = self.load_state()
        entry = state["entries"].setdefault(
            job.key,
            {"report": job.report, "slug": job.slug, "runs": [], "last_good": None},
        )
        entry["notebook"] = manifest.get("notebook")
        entry["parameters"] = manifest.get("parameters")
        entry["status"] = manifest["status"]
        if manifest["status"] != "cached":
            entry["runs"].append(
                {
                    k: manifest.get(k)
                    for k in (
                        "run_id",
                        "status",
                        "started_at",
                        "duration_s",
                        "error",
                        "html",
                        "figures",
                    )
                }
            )
            if manifest["status"] == "ok":
                entry["last_good"] = manifest["run_id"]
        else:
            entry["checked_at"] = manifest.get("checked_at")
        _atomic_write(self.state_path, json.dumps(state, indent=2, sort_keys=True) + "\n")
        from analysis.report.index import render_index

        _atomic_write(self.root / "index.html", render_index(state))

    def clean_stale_staging(self) -> None:
        """Remove staging folders of runs that were interrupted long ago (> 1 day)."""
        if not self.staging.is_dir():
            return
        limit = time.time() - 86400
        for child in self.staging.iterdir():
            with contextlib.suppress(OSError):
                if child.stat().st_mtime < limit:
                    shutil.rmtree(child, ignore_errors=True)


# --------------------------------------------------------------------------- orchestration


def _spec(job: Job, store: ReportStore, cache_key: str, commit: str, timeout, executor) -> dict:
    run_id = new_run_id()
    root = project_root()
    try:
        notebook_rel = str(job.notebook.relative_to(root))
    except ValueError:
        notebook_rel = str(job.notebook)
    return {
        "report": job.report,
        "notebook": str(job.notebook),
        "notebook_rel": notebook_rel,
        "parameters": job.parameters,
        "run_id": run_id,
        "staging": str(store.staging / run_id),
        "root": str(root),
        "cache_key": cache_key,
        "git_commit": commit,
        "timeout": timeout,
        "executor": executor,
    }


class Progress:
    """One line per finished report; a live counter on a TTY."""

    def __init__(self, total: int, stream=None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()

    def line(self, job: Job, status: str, seconds: float | None, note: str = "") -> None:
        self.done += 1
        width = len(str(self.total))
        shown = ", ".join(
            f"{k}={v}" for k, v in job.parameters.items() if k not in {"dataset", "seed"}
        )
        took = f"{seconds:6.1f}s" if seconds is not None else "      -"
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(
            f"[{self.done:>{width}}/{self.total}] {status:<7} {took}  {job.report}"
            f"{(' (' + shown[:70] + ')') if shown else ''}{('  ' + note) if note else ''}\n"
        )
        if self.tty and self.done < self.total:
            filled = int(30 * self.done / self.total)
            self.stream.write(f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
        self.stream.flush()


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
) -> dict[str, int]:
    """Run jobs (cached ones skipped), publish each as it finishes.

    Returns
    -------
    dict
        Count of jobs per status.
    """
    store = store or ReportStore()
    store.check_writable()
    store.clean_stale_staging()
    fingerprints = Fingerprints(project_root())
    commit = git_commit()
    progress = Progress(len(jobs), stream)
    counts = dict.fromkeys(STATUSES, 0)
    pending: list[tuple[Job, dict]] = []
    for job in jobs:
        key = fingerprints.cache_key(job)
        previous = None if force else store.last_good(job)
        if previous and previous.get("cache_key") == key:
            store.note_cached(job, previous)
            counts["cached"] += 1
            progress.line(job, "cached", None, "unchanged inputs, code and parameters")
            continue
        pending.append((job, _spec(job, store, key, commit, timeout, executor)))
    if not pending:
        return counts

    def finish(job: Job, spec: dict, manifest: dict) -> None:
        store.publish(job, manifest, Path(spec["staging"]))
        counts[manifest["status"]] = counts.get(manifest["status"], 0) + 1
        note = manifest["error"][:120] if manifest["status"] != "ok" else ""
        progress.line(job, manifest["status"], manifest["duration_s"], note)

    if executor == "dask":
        _run_dask(pending, scheduler, finish)
    else:
        _run_local(pending, n_jobs or os.cpu_count() or 1, finish)
    return counts


def _run_local(pending, n_jobs: int, finish: Callable) -> None:
    if n_jobs <= 1 or len(pending) == 1:
        for job, spec in pending:
            finish(job, spec, execute_job(spec))
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=min(n_jobs, len(pending)))
    try:
        futures = {pool.submit(execute_job, spec): (job, spec) for job, spec in pending}
        for future in as_completed(futures):
            job, spec = futures[future]
            try:
                manifest = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker crash fails that job only
                manifest = _crashed(spec, exc)
            finish(job, spec, manifest)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.terminate()
        raise
    else:
        pool.shutdown(wait=True)


def _run_dask(pending, scheduler: str | None, finish: Callable) -> None:
    from distributed import Client, as_completed

    if not scheduler:
        raise ParameterError("scheduler", "--executor dask needs --scheduler ADDRESS")
    with Client(scheduler, timeout=30) as client:
        futures = {
            client.submit(execute_job, spec, pure=False, key=f"report-{spec['run_id']}"): (
                job,
                spec,
            )
            for job, spec in pending
        }
        for future in as_completed(list(futures)):
            job, spec = futures[future]
            try:
                manifest = future.result()
            except Exception as exc:  # noqa: BLE001
                manifest = _crashed(spec, exc)
            finish(job, spec, manifest)


def _crashed(spec: dict, exc: BaseException) -> dict:
    staging = Path(spec["staging"])
    staging.mkdir(parents=True, exist_ok=True)
    manifest = {
        "report": spec["report"],
        "notebook": spec["notebook_rel"],
        "parameters": spec["parameters"],
        "status": "failed",
        "error": f"worker crashed: {type(exc).__name__}: {exc}"[:2000],
        "run_id": spec["run_id"],
        "started_at": utc_now(),
        "duration_s": None,
        "attempts": 1,
        "git_commit": spec["git_commit"],
        "inputs": [],
        "figures": {},
        "cache_key": spec["cache_key"],
        "html": "",
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest


def _summary(counts: dict[str, int], store: ReportStore) -> int:
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"{parts or 'nothing to do'}")
    print(f"index: {store.root / 'index.html'}")
    return 1 if counts.get("failed") else 0


def run_plan_cli(args) -> int:
    """``workbook report``: run a plan (see :mod:`analysis.report.plan`)."""
    plan = args.plan or config_dir() / "reports.yml"
    import yaml

    try:
        declared = yaml.safe_load(Path(plan).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InputError(plan, f"cannot read plan: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(plan, f"not valid YAML: {exc}") from None
    dataset = resolve_dataset(args.dataset or declared.get("dataset", "auto"))
    jobs = load_plan(plan, dataset=dataset, kreis_codes=kreis_codes, only=args.only)
    print(f"plan {plan}: {len(jobs)} report(s) on the {dataset} dataset")
    store = ReportStore()
    counts = run_jobs(
        jobs,
        n_jobs=args.jobs,
        force=args.force,
        timeout=args.timeout,
        executor=args.executor,
        scheduler=args.scheduler,
        store=store,
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
    """``workbook run``: validate and run one notebook into a report."""
    notebook = Path(notebook).resolve()
    declared = read_parameters(notebook)
    values: dict[str, object] = {}
    if params_file:
        values.update(load_params_file(params_file))
    values.update({k: v for k, v in cli_params})
    final = validate(declared, values, kreis_codes=kreis_codes)
    defaults = {p.name: p.default for p in declared}
    report = name or notebook.stem
    job = Job(report, notebook, final, parameter_slug(final, defaults))
    store = ReportStore()
    counts = run_jobs([job], n_jobs=1, force=force, timeout=timeout, store=store)
    return _summary(counts, store)
