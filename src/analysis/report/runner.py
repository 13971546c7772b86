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
(or SIGTERM) during a run publishes nothing half-written; publishing itself defers
SIGINT. Jobs run in a local process pool (``--jobs``; a worker that dies is replaced
and its job retried once) or on a Dask cluster (``--executor dask --scheduler
ADDRESS``); the results and the index are the same.

Observability: ``run.log`` of each run holds papermill's cell log with timestamps and
a heartbeat line ("still running cell N after X s") every ``heartbeat`` seconds of a
long cell; each good run is compared with the previous good run of the same report
and parameters (:mod:`analysis.report.diff`); a notification hook
(:mod:`analysis.report.notify`) reports failures; old runs are pruned (``keep``).
A full disk or a read-only ``reports/`` stops the run with an :class:`InputError`
naming the folder (exit code 2).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.paths import DATASETS, config_dir, dataset_dir, project_root, reports_dir
from analysis.report.diff import diff_figures, diff_settings
from analysis.report.params import load_params_file, read_parameters, validate
from analysis.report.plan import DEFAULT_HEARTBEAT_S, DEFAULT_KEEP, Job, load_plan, parameter_slug

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
    """A unique run id that sorts by creation time (microseconds: retention relies on it)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%f")
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


@functools.lru_cache(maxsize=1)
def _package_versions() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    found = [("python", sys.version.split()[0])]
    for name in PACKAGES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "absent"))
    return tuple(found)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape a report's numbers."""
    return dict(_package_versions())


class Fingerprints:
    """Computes and memoizes what a cache key is made of (per process)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._code: str | None = None
        self._lock: str | None = None
        self._data: dict[str, str] = {}
        self._notebooks: dict[Path, str] = {}

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
            # the lock of this Python (requirements/py3XX.lock), else a single requirements.lock
            lock = self.root / "requirements" / "py{}{}.lock".format(*sys.version_info[:2])
            if not lock.is_file():
                lock = self.root / "requirements.lock"
            self._lock = _sha256_file(lock) if lock.is_file() else "absent"
        return self._lock

    def data(self, dataset: str) -> str:
        if dataset not in self._data:
            self._data[dataset] = tree_fingerprint(dataset_dir(dataset))
        return self._data[dataset]

    def cache_key(self, job: Job) -> str:
        dataset = str(job.parameters.get("dataset", "demo"))
        if job.notebook not in self._notebooks:
            self._notebooks[job.notebook] = notebook_source_hash(job.notebook)
        parts = {
            "notebook": self._notebooks[job.notebook],
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

#: errno values that mean "the reports folder cannot take more writes": these stop the
#: whole run with a clear error instead of failing one report after another.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
)
#: Below this much free space in ``reports/`` a run does not start.
MIN_FREE_BYTES = 20 * 1024 * 1024
#: During a run, index.html is re-rendered at most this often (and when the run ends).
INDEX_HTML_EVERY_S = 1.0


def _is_storage_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


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


class _CellWatch(logging.Handler):
    """Follows papermill's "Executing Cell N" / "Ending Cell N" log lines."""

    _START = re.compile(r"Executing Cell (\d+)")

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.cell: int | None = None  # the cell running now
        self.last: int | None = None  # the cell started last (also after it ended)
        self.since: float = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        match = self._START.match(message)
        if match:
            self.since = time.monotonic()
            self.cell = self.last = int(match.group(1))
        elif message.startswith("Ending Cell"):
            self.cell = None


def _kernel_memory_mb() -> float | None:
    """Resident memory of this process's kernel children (MB), if psutil is present."""
    try:
        kernels = _kernel_processes()
        return sum(p.memory_info().rss for p in kernels) / 1e6 if kernels else None
    except Exception:  # noqa: BLE001 - a heartbeat must never break a run
        return None


def _heartbeat(watch: _CellWatch, logger: logging.Logger, every: float, stop: threading.Event):
    """Log "still running cell N after X s" while one cell runs longer than ``every``."""
    while not stop.wait(every):
        cell, since = watch.cell, watch.since
        if cell is None:
            continue
        elapsed = time.monotonic() - since
        if elapsed >= every * 0.9:
            memory = _kernel_memory_mb()
            extra = f" (kernel memory {memory:.0f} MB)" if memory is not None else ""
            logger.info("still running cell %d after %.0f s%s", cell, elapsed, extra)


#: One report at a time per process: execute_job changes os.environ and fd 2, which a
#: multi-threaded Dask worker would otherwise share between reports.
_EXECUTION_LOCK = threading.Lock()


def execute_job(spec: dict) -> dict:
    """Execute one job in its staging folder; return its manifest (no publishing).

    Runs in a worker process (process pool or Dask worker). Never raises for a
    notebook failure: the failure is the result. A kernel that died (killed, out of
    memory) is retried once in a fresh kernel; a cell error or a cell timeout never.

    Raises
    ------
    OSError
        Only when the staging folder cannot be written (disk full, read-only):
        the caller stops the whole run.
    """
    with _EXECUTION_LOCK:
        return _execute_job(spec)


def _skip_slow_optional_imports() -> None:
    """Keep jsonschema from compiling a grammar that no notebook schema uses.

    When ``rfc3987-syntax`` is installed, jsonschema (imported by nbformat) builds a
    Lark parser for the ``iri`` string format at import time: 3-6 s of CPU in every
    worker process, more than a small report takes to run. nbformat's schemas use no
    string formats at all. Only effective before jsonschema is first imported.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


#: Seconds between saves of the running notebook (papermill saves at every cell start
#: and end: with embedded figures that is ~20 ms of JSON each, ~1 s per report).
SAVE_EVERY_S = 5.0
ENGINE_NAME = "workbook"


def _register_engine() -> str:
    """Register papermill's nbclient engine with throttled saves; return its name.

    The executed notebook is still written when the run ends (also after a cell
    error, a timeout or a dead kernel) and at least every :data:`SAVE_EVERY_S`
    seconds meanwhile, so a partial notebook is always there to debug.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class _ThrottledSaves(NotebookExecutionManager):
        _final = False

        def save(self, **kwargs):
            since = (self.now() - self.last_save_time).total_seconds()
            if self._final or since >= SAVE_EVERY_S or not Path(self.output_path or "").exists():
                super().save(**kwargs)

        def notebook_complete(self, **kwargs):
            self._final = True
            super().notebook_complete(**kwargs)

    class _WorkbookEngine(NBClientEngine):
        @classmethod
        def execute_notebook(
            cls,
            nb,
            kernel_name,
            output_path=None,
            progress_bar=True,
            log_output=False,
            autosave_cell_every=30,
            **kwargs,
        ):
            # Engine.execute_notebook of papermill 2.7 with our execution manager.
            nb_man = _ThrottledSaves(
                nb,
                output_path=output_path,
                progress_bar=progress_bar,
                log_output=log_output,
                autosave_cell_every=autosave_cell_every,
            )
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(ENGINE_NAME, _WorkbookEngine)
    return ENGINE_NAME


def _execute_job(spec: dict) -> dict:
    _skip_slow_optional_imports()
    import nbformat
    import papermill as pm

    engine = _register_engine()

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
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03dZ %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.formatter.converter = time.gmtime
    logger = logging.getLogger("papermill")
    watch = _CellWatch()
    logger.addHandler(handler)
    logger.addHandler(watch)
    logger.setLevel(logging.INFO)
    shown = json.dumps(spec["parameters"], sort_keys=True, default=str)
    logger.info("report %s run %s parameters %s", spec["report"], spec["run_id"], shown)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(watch, logger, float(spec.get("heartbeat") or DEFAULT_HEARTBEAT_S), stop),
        name="workbook-heartbeat",
        daemon=True,
    )
    beat.start()

    started = time.monotonic()
    started_at = utc_now()
    # Stays "interrupted" only if Ctrl-C (KeyboardInterrupt) ends the loop below.
    status, error, attempts = "interrupted", "", 0
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
            if attempts > 1:
                logger.info("attempt %d", attempts)
            try:
                pm.execute_notebook(
                    spec["notebook"],
                    str(executed),
                    engine_name=engine,
                    parameters=spec["parameters"],
                    kernel_name=KERNEL_NAME,
                    cwd=str(work),
                    progress_bar=False,
                    log_output=True,
                    start_timeout=120,
                    execution_timeout=spec.get("timeout"),
                    report_mode=False,
                    # The kernel holds nothing worth a graceful goodbye; "immediate"
                    # saves ~0.3 s per report.
                    shutdown_kernel="immediate",
                )
                status, error = "ok", ""
                break
            except pm.PapermillExecutionError as exc:
                status = "failed"
                error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"[:2000]
                break
            except Exception as exc:  # noqa: BLE001 - kernel death, timeouts, startup failures
                if _is_storage_error(exc):
                    status, error = "failed", f"cannot write: {exc}"
                    raise
                status = "failed"
                name = type(exc).__name__
                error = f"{name}: {exc}"[:2000]
                if name == "CellTimeoutError":
                    where = f"cell {watch.last}" if watch.last else "a cell"
                    error = f"{where} exceeded the timeout of {spec.get('timeout')} s"
                # A kernel that died while starting (jupyter_client raises a plain
                # RuntimeError, seen under heavy load) ran no cell: as safe to retry as
                # one that died mid-run.
                died_starting = isinstance(exc, RuntimeError) and "Kernel died before" in str(exc)
                if name == "DeadKernelError" or died_starting:
                    error = f"the kernel died (killed or out of memory): {exc}"[:2000]
                    if attempts < 2:
                        logger.warning("kernel died; retrying once in a fresh kernel")
                        continue
                break
    finally:
        stop.set()
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        logger.info(
            "finished: %s after %d attempt(s)%s", status, attempts, f"; {error}" if error else ""
        )
        logger.removeHandler(handler)
        logger.removeHandler(watch)
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
            if _is_storage_error(exc):
                raise
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
    _write_json(staging / "manifest.json", manifest)
    return manifest


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", "utf-8")


# --------------------------------------------------------------------------- publishing


@contextlib.contextmanager
def _sigint_deferred():
    """Hold SIGINT and SIGTERM while publishing, so neither leaves half a publication."""
    received: list[int] = []
    try:
        previous = {
            sig: signal.signal(sig, lambda s, f: received.append(s))
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            raise KeyboardInterrupt


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _storage_message(root: Path, exc: OSError) -> str:
    what = exc.strerror or str(exc)
    where = f" (writing {exc.filename})" if exc.filename else ""
    hint = {
        errno.ENOSPC: "free some space (old runs: `workbook report --keep N`) and run again",
        errno.EDQUOT: "the disk quota is exhausted; free some space and run again",
        errno.EROFS: "the file system is mounted read-only; point WORKBOOK_REPORTS_DIR elsewhere",
    }.get(exc.errno, "make it writable for this user or point WORKBOOK_REPORTS_DIR elsewhere")
    return f"cannot write to the reports folder: {what}{where}; {hint}"


@contextlib.contextmanager
def _storage_errors(root: Path):
    """Turn "disk full" and "read-only" into one clear InputError naming the folder."""
    try:
        yield
    except OSError as exc:
        if not _is_storage_error(exc):
            raise
        raise InputError(root, _storage_message(root, exc)) from None


class ReportStore:
    """The ``reports/`` tree: run folders, stable report pages and the index.

    ``index.json`` is the state (one entry per report and parameter set, with its
    runs); ``index.html`` is rendered from it after every change. During a run
    (:meth:`session`) the state lives in memory and a lock file keeps a second
    ``workbook report`` from writing to the same folder at the same time.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or reports_dir()
        self.staging = self.root / ".staging"
        self.state_path = self.root / "index.json"
        self._state: dict | None = None
        self._dirty = False
        self._html_at = 0.0
        self._html_stale = False

    # -- checks and locking ------------------------------------------------------

    def check_writable(self) -> None:
        """Fail early and clearly when ``reports/`` cannot be written or is full."""
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            probe = self.staging / f".probe-{os.getpid()}"
            _atomic_write(probe, "ok")
            probe.unlink()
        except OSError as exc:
            raise InputError(self.root, _storage_message(self.root, exc)) from None
        free = shutil.disk_usage(self.staging).free
        if free < MIN_FREE_BYTES:
            raise InputError(
                self.root,
                f"only {free / 1e6:.1f} MB free on the disk of the reports folder "
                f"(need {MIN_FREE_BYTES / 1e6:.0f} MB); free some space and run again",
            )

    @contextlib.contextmanager
    def session(self):
        """Lock the folder for one run and keep the state in memory meanwhile.

        Raises
        ------
        InputError
            When another run holds the lock, or the folder is not writable.
        """
        import fcntl

        self.check_writable()
        lock_path = self.root / ".lock"
        try:
            handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise InputError(self.root, _storage_message(self.root, exc)) from None
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise InputError(
                    self.root,
                    f"another `workbook report` is writing to this folder ({holder}); "
                    "wait for it to finish (scheduled runs must not overlap)",
                ) from None
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.write(f"pid {os.getpid()} since {utc_now()}\n")
                handle.flush()
            self._state = self._read_state()
            try:
                yield self
            finally:
                with contextlib.suppress(OSError):  # a storage error is already on its way
                    self.flush()
                self._state = None
        finally:
            handle.close()

    # -- state -------------------------------------------------------------------

    def _read_state(self) -> dict:
        if not self.state_path.is_file():
            return {"entries": {}}
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {"entries": {}}
        return state if isinstance(state.get("entries"), dict) else {"entries": {}}

    def load_state(self) -> dict:
        """The index state (``{"entries": {key: entry}}``)."""
        return self._state if self._state is not None else self._read_state()

    def _save_state(self, state: dict, *, html: bool = True) -> None:
        """Write ``index.json`` (always) and ``index.html`` (when ``html`` or due).

        During a run, ``index.html`` is re-rendered at most every
        :data:`INDEX_HTML_EVERY_S` seconds and once more when the run ends: with 400
        reports, rendering after every publication would cost the parent ~20 ms each.
        """
        from analysis.report.index import render_index

        # Compact JSON: three times faster to write than indented, for every publication.
        text = json.dumps(state, sort_keys=True, separators=(",", ":"))
        _atomic_write(self.state_path, text + "\n")
        self._dirty = False
        now = time.monotonic()
        if html or self._state is None or now - self._html_at >= INDEX_HTML_EVERY_S:
            _atomic_write(self.root / "index.html", render_index(state))
            self._html_at, self._html_stale = now, False
        else:
            self._html_stale = True

    def flush(self) -> None:
        """Write pending index changes (batched cache notes, a throttled index.html)."""
        if self._state is not None and (self._dirty or self._html_stale):
            with _sigint_deferred():
                self._save_state(self._state)

    def _entry(self, state: dict, job: Job) -> dict:
        return state["entries"].setdefault(
            job.key,
            {"report": job.report, "slug": job.slug, "runs": [], "last_good": None},
        )

    def last_good(self, job: Job) -> dict | None:
        """The manifest of the last good run of a job's report and parameters."""
        entry = self.load_state()["entries"].get(job.key)
        if not entry or not entry.get("last_good"):
            return None
        base = self.root / job.report / job.slug
        manifest = base / "runs" / entry["last_good"] / "manifest.json"
        if not manifest.is_file() or not (base / "report.html").is_file():
            return None
        try:
            return json.loads(manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, OSError):
            return None

    def _previous_figures(self, entry: dict) -> tuple[str | None, dict | None]:
        good = entry.get("last_good")
        for run in reversed(entry.get("runs", [])):
            if run.get("run_id") == good:
                return good, run.get("figures") or {}
        return None, None

    # -- publishing --------------------------------------------------------------

    def publish(self, job: Job, manifest: dict, staging: Path, *, keep: int | None = None) -> Path:
        """Move a finished staging folder into place, diff, prune and update the index.

        Parameters
        ----------
        job : Job
        manifest : dict
            The run's manifest (from :func:`execute_job`); gains ``diff`` for a good run.
        staging : Path
            The run's staging folder.
        keep : int, optional
            Runs to keep for this report and parameter set (default: the job's
            ``keep`` option, else :data:`DEFAULT_KEEP`).

        Returns
        -------
        Path
            The published run folder.
        """
        with _sigint_deferred():
            state = self.load_state()
            entry = self._entry(state, job)
            if manifest["status"] == "ok":
                against, previous = self._previous_figures(entry)
                thresholds = diff_settings(job.options.get("diff"), "plan")
                manifest["diff"] = diff_figures(
                    previous, manifest.get("figures") or {}, against=against, **thresholds
                )
                _write_json(staging / "manifest.json", manifest)
            runs = self.root / job.report / job.slug / "runs"
            runs.mkdir(parents=True, exist_ok=True)
            run_dir = runs / manifest["run_id"]
            stable = self.root / job.report / job.slug / "report.html"
            tmp = stable.with_name(".report.html.tmp")
            try:
                # Every copy first, then only renames: a full disk stops us before
                # anything became visible.
                if manifest["status"] == "ok":
                    shutil.copyfile(staging / "report.html", tmp)
                os.replace(staging, run_dir)
                if manifest["status"] == "ok":
                    os.replace(tmp, stable)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            files = sorted(p.name for p in run_dir.iterdir())
            self._record_run(entry, manifest, files)
            limit = keep or job.options.get("keep") or DEFAULT_KEEP
            self._prune(job, entry, limit)
            self._save_state(state, html=False)
        return run_dir

    def note_cached(self, job: Job, previous: dict, *, write: bool = True) -> None:
        """Mark a job as cached (its last good run stands)."""
        state = self.load_state()
        entry = self._entry(state, job)
        entry["notebook"] = previous.get("notebook")
        entry["parameters"] = previous.get("parameters")
        entry["status"] = "cached"
        entry.pop("skip_reason", None)
        entry["checked_at"] = utc_now()
        self._dirty = True
        if write or self._state is None:
            with _sigint_deferred():
                self._save_state(state)

    def note_skipped(self, job: Job, reason: str, *, write: bool = True) -> None:
        """Mark a job as skipped (its inputs are missing); earlier runs stay listed."""
        state = self.load_state()
        entry = self._entry(state, job)
        entry["notebook"] = _relative(job.notebook)
        entry["parameters"] = job.parameters
        entry["status"] = "skipped"
        entry["skip_reason"] = reason
        entry["checked_at"] = utc_now()
        self._dirty = True
        if write or self._state is None:
            with _sigint_deferred():
                self._save_state(state)

    def _record_run(self, entry: dict, manifest: dict, files: list[str]) -> None:
        entry["notebook"] = manifest.get("notebook")
        entry["parameters"] = manifest.get("parameters")
        entry["status"] = manifest["status"]
        entry.pop("skip_reason", None)
        diff = manifest.get("diff") or {}
        flagged = [c for c in diff.get("changes", []) if c.get("flagged")]
        entry["runs"].append(
            {
                **{
                    k: manifest.get(k)
                    for k in (
                        "run_id",
                        "status",
                        "started_at",
                        "duration_s",
                        "error",
                        "html",
                        "figures",
                        "attempts",
                    )
                },
                "files": files,
                "diff_against": diff.get("against"),
                "diff_flagged": flagged,
            }
        )
        if manifest["status"] == "ok":
            entry["last_good"] = manifest["run_id"]

    def _prune(self, job: Job, entry: dict, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` runs; the last good run always stays."""
        runs_dir = self.root / job.report / job.slug / "runs"
        if not runs_dir.is_dir():
            return []
        # Run ids sort by time; the folder listing also catches runs the index forgot.
        on_disk = sorted(p.name for p in runs_dir.iterdir() if p.is_dir())
        protected = set(on_disk[-keep:])
        if entry.get("last_good"):
            protected.add(entry["last_good"])
        removed = [run for run in on_disk if run not in protected]
        for run in removed:
            shutil.rmtree(runs_dir / run, ignore_errors=True)
        if removed:
            gone = set(removed)
            entry["runs"] = [r for r in entry["runs"] if r.get("run_id") not in gone]
        return removed

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


def _forwarded_env() -> dict[str, str]:
    """Settings a remote (Dask) worker needs to see the same project and data."""
    return {
        k: v
        for k, v in os.environ.items()
        if k.startswith("WORKBOOK_") and not k.startswith("WORKBOOK_NOTIFY")  # may hold a secret
    }


def _relative(path: Path) -> str:
    try:
        return str(Path(path).relative_to(project_root()))
    except ValueError:
        return str(path)


def _spec(
    job: Job, store: ReportStore, cache_key: str, commit: str, timeout, executor, heartbeat
) -> dict:
    run_id = new_run_id()
    root = project_root()
    notebook_rel = _relative(job.notebook)
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
        "timeout": timeout or job.options.get("timeout"),
        "heartbeat": heartbeat or job.options.get("heartbeat") or DEFAULT_HEARTBEAT_S,
        "executor": executor,
        "env": _forwarded_env(),
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
            "host": _hostname(),
            **context,
            "failed": failed,
            "flagged": flagged,
            "reports": [
                {k: r.get(k) for k in ("key", "status", "run_id", "duration_s")}
                for r in self.results
            ],
        }


def _hostname() -> str:
    import socket

    return socket.gethostname()


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
    heartbeat = heartbeat or _env_float("WORKBOOK_HEARTBEAT")
    try:
        with _storage_errors(store.root), store.session():
            _run_in_session(
                jobs, store, outcome, n_jobs, force, timeout, executor, scheduler, stream, keep,
                heartbeat,
            )  # fmt: skip
    except KeyboardInterrupt:
        outcome.interrupted = True
        _kill(_kernel_processes())  # in-process runs leave their kernel behind otherwise
        raise
    finally:
        outcome.duration_s = round(time.monotonic() - clock, 2)
    return outcome.counts


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


def _run_in_session(
    jobs, store, outcome, n_jobs, force, timeout, executor, scheduler, stream, keep, heartbeat
) -> None:
    store.clean_stale_staging()
    fingerprints = Fingerprints(project_root())
    commit = git_commit()
    progress = Progress(len(jobs), stream)
    counts = outcome.counts
    pending: list[tuple[Job, dict]] = []
    for job in jobs:
        missing = _missing_inputs(job)
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
        pending.append((job, _spec(job, store, key, commit, timeout, executor, heartbeat)))
    store.flush()
    if not pending:
        return

    def finish(job: Job, spec: dict, manifest: dict) -> None:
        store.publish(job, manifest, Path(spec["staging"]), keep=keep)
        status = manifest["status"]
        counts[status] = counts.get(status, 0) + 1
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
        if status != "ok":
            note = manifest["error"][:120]
        elif flagged:
            names = ", ".join(c["name"] for c in flagged[:3])
            more = f" +{len(flagged) - 3}" if len(flagged) > 3 else ""
            note = f"changed beyond threshold: {names}{more}"
        else:
            note = ""
        progress.line(job, status, manifest.get("duration_s"), note)

    if executor == "dask":
        _run_dask(pending, scheduler, finish)
    else:
        _run_local(pending, n_jobs or os.cpu_count() or 1, finish)


def _missing_inputs(job: Job) -> list[str]:
    """Input folders a job ``requires`` that are absent or empty in its dataset."""
    dataset = str(job.parameters.get("dataset", "demo"))
    if dataset not in DATASETS:
        return []
    root = dataset_dir(dataset)
    missing = []
    for folder in job.options.get("requires", ()):
        path = root / folder
        if not path.is_dir() or not any(p.is_file() for p in path.rglob("*")):
            try:
                shown = str(path.relative_to(project_root())) + "/"
            except ValueError:
                shown = f"{path}/"
            missing.append(shown)
    return missing


def _retry_spec(spec: dict) -> dict:
    """A fresh run id and staging folder for a job whose worker process died."""
    shutil.rmtree(spec["staging"], ignore_errors=True)
    run_id = new_run_id()
    staging = Path(spec["staging"]).with_name(run_id)
    return {**spec, "run_id": run_id, "staging": str(staging)}


def _run_local(pending, n_jobs: int, finish: Callable) -> None:
    """Run jobs in this process (one job or ``n_jobs`` = 1) or in a process pool.

    Pool workers are reused across jobs, so papermill and nbconvert are imported once
    per worker. If a worker process dies (killed, out of memory), the pool breaks;
    the jobs that had started are retried once in a new pool, the others simply
    resubmitted.
    """
    if n_jobs <= 1 or len(pending) == 1:
        for job, spec in pending:
            finish(job, spec, execute_job(spec))
        return
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    queue = list(pending)
    crashes: dict[str, int] = {}
    while queue:
        pool = new_worker_pool(min(n_jobs, len(queue)))
        again: list[tuple[Job, dict]] = []
        try:
            futures = {pool.submit(execute_job, spec): (job, spec) for job, spec in queue}
            for future in as_completed(futures):
                job, spec = futures[future]
                try:
                    manifest = future.result()
                except BrokenProcessPool as exc:
                    started = Path(spec["staging"]).exists()
                    crashes[job.key] = crashes.get(job.key, 0) + started
                    if crashes[job.key] >= 2:
                        finish(job, spec, _crashed(spec, exc))
                    else:
                        again.append((job, _retry_spec(spec) if started else spec))
                    continue
                except Exception as exc:  # noqa: BLE001 - a worker error fails that job only
                    if _is_storage_error(exc):
                        raise
                    manifest = _crashed(spec, exc)
                finish(job, spec, manifest)
        except BaseException:
            # Stop the workers and their kernels before shutdown() forgets the workers
            # (and before the interpreter's exit hook waits for them forever).
            kernels = _kernel_processes()
            workers = list((getattr(pool, "_processes", None) or {}).values())
            for process in workers:
                with contextlib.suppress(Exception):
                    process.terminate()
            _kill(kernels)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        queue = again


def new_worker_pool(n_workers: int):
    """A process pool whose workers leave Ctrl-C and SIGTERM handling to the parent.

    Workers are forked, so they inherit the parent's Python signal handlers, among
    them the one that turns a scheduler's SIGTERM into ``KeyboardInterrupt``
    (:func:`_sigterm_as_interrupt`). When the parent then stops its workers with
    SIGTERM, an inherited handler would raise ``KeyboardInterrupt`` inside an idle
    worker, which prints a ``Process ForkProcess-N`` traceback on the user's terminal.
    """
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=n_workers, initializer=_worker_signals)


def _worker_signals() -> None:
    """Pool workers ignore Ctrl-C (the parent coordinates the shutdown) and die
    quietly on SIGTERM (the parent's way of stopping them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _kernel_processes() -> list:
    """Kernel processes started (directly or via pool workers) by this process."""
    try:
        import psutil

        return [
            p
            for p in psutil.Process().children(recursive=True)
            if "ipykernel_launcher" in " ".join(p.cmdline())
        ]
    except Exception:  # noqa: BLE001 - psutil missing or a process vanished meanwhile
        return []


def _kill(processes: list) -> None:
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()


def _run_dask(pending, scheduler: str | None, finish: Callable) -> None:
    """Fan jobs out over a Dask distributed cluster.

    Workers must see the project and the reports folder at the same paths (a shared
    file system) and should run one thread each (``dask worker ADDRESS --nthreads 1``;
    with more threads, reports still run one at a time per worker process).
    """
    from distributed import Client, as_completed

    if not scheduler:
        raise ParameterError("scheduler", "--executor dask needs --scheduler ADDRESS")
    try:
        client = Client(scheduler, timeout=30)
    except OSError as exc:
        raise ParameterError(
            "scheduler", f"cannot connect to the Dask scheduler at {scheduler}: {exc}"
        ) from None
    with client:
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
                if _is_storage_error(exc):
                    raise
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
        "executor": spec.get("executor", "local"),
        "html": "",
    }
    _write_json(staging / "manifest.json", manifest)
    return manifest


def _summary(counts: dict[str, int], store: ReportStore) -> int:
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"{parts or 'nothing to do'}")
    print(f"index: {store.root / 'index.html'}")
    return 1 if counts.get("failed") else 0


@contextlib.contextmanager
def _sigterm_as_interrupt():
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
        with _sigterm_as_interrupt():
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
        declared = yaml.safe_load(plan.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InputError(plan, f"cannot read plan: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(plan, f"not valid YAML: {exc}") from None
    if not isinstance(declared, dict):
        raise InputError(plan, "expected a mapping with a list under 'reports'")
    dataset = resolve_dataset(args.dataset or declared.get("dataset", "auto"))
    context["dataset"] = dataset
    jobs = load_plan(plan, dataset=dataset, kreis_codes=kreis_codes, only=args.only)
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
