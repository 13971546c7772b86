"""Execute one report job in a kernel: parameters in, executed notebook, HTML and manifest out.

Runs in a worker process (process pool or Dask worker) and writes only into the
job's staging folder; publishing is the parent's job (:mod:`analysis.report.store`).
Parameters are injected with papermill's public ``parameterize_notebook``; the cells
run through ``nbclient.NotebookClient`` in a warm kernel (:mod:`analysis.report.warm`)
whose working directory is the job's own folder. ``run.log`` holds the cell log with
UTC timestamps and a heartbeat line ("still running cell N after X s") during a long
cell; the executed notebook is saved at most every :data:`SAVE_EVERY_S` seconds and
at the end, so a partial notebook is always there to debug.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from analysis.files import read_small_text
from analysis.report.cache import package_versions, utc_now
from analysis.report.kernel import (
    KERNEL_ENV,
    KERNEL_NAME,
    kernel_memory_mb,
    skip_slow_optional_imports,
)
from analysis.report.plan import DEFAULT_HEARTBEAT_S
from analysis.report.store import is_storage_error, write_json
from analysis.report.warm import WARM_IMPORTS, KernelStartError, process_pool, release

#: Seconds between saves of the running notebook (a save with embedded figures costs
#: ~20 ms of JSON; saving at every cell would cost ~1 s per report).
SAVE_EVERY_S = 5.0
#: Seconds a kernel may take to answer its first request.
START_TIMEOUT_S = 120

#: One report at a time per process: execute_job changes os.environ and fd 2, which a
#: multi-threaded Dask worker would otherwise share between reports.
_EXECUTION_LOCK = threading.Lock()


class CellWatch:
    """Which cell runs now, and since when (read by the heartbeat thread)."""

    def __init__(self) -> None:
        self.cell: int | None = None  # the cell running now (1-based, all cells)
        self.last: int | None = None  # the cell started last (also after it ended)
        self.since: float = 0.0

    def start(self, number: int) -> None:
        """A cell (1-based number among all cells) starts."""
        self.since = time.monotonic()
        self.cell = self.last = number

    def end(self) -> None:
        """The running cell ended."""
        self.cell = None


def heartbeat(watch: CellWatch, logger: logging.Logger, every: float, stop: threading.Event):
    """Log "still running cell N after X s" while one cell runs longer than ``every``."""
    while not stop.wait(every):
        cell, since = watch.cell, watch.since
        if cell is None:
            continue
        elapsed = time.monotonic() - since
        if elapsed >= every * 0.9:
            memory = kernel_memory_mb()
            extra = f" (kernel memory {memory:.0f} MB)" if memory is not None else ""
            logger.info("still running cell %d after %.0f s%s", cell, elapsed, extra)


@dataclass
class Outcome:
    """How one execution went: status, error, attempts and where the time went."""

    status: str = "interrupted"  # stays so only if Ctrl-C ends the attempts
    error: str = ""
    attempts: int = 0
    timings: dict = field(default_factory=dict)


def execute_job(spec: dict) -> dict:
    """Execute one job in its staging folder; return its manifest (no publishing).

    Never raises for a notebook failure: the failure is the result. A kernel that
    died (killed, out of memory, or while starting) is retried once in a fresh
    kernel; a cell error or a cell timeout never.

    Parameters
    ----------
    spec : dict
        The job as the runner describes it (``staging``, ``notebook``,
        ``parameters``, ``run_id``, ``timeout``, ``heartbeat``, ``env`` ...).

    Returns
    -------
    dict
        The manifest, also written to ``manifest.json`` in the staging folder.

    Raises
    ------
    OSError
        Only when the staging folder cannot be written (disk full, read-only):
        the caller stops the whole run.
    """
    with _EXECUTION_LOCK:
        return _execute_job(spec)


def run_logger(log_path: Path) -> tuple[logging.Logger, logging.Handler]:
    """A logger writing UTC-stamped lines to ``run.log`` (and its handler, to close)."""
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03dZ %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.formatter.converter = time.gmtime
    logger = logging.getLogger(f"analysis.report.run.{os.getpid()}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, handler


@contextlib.contextmanager
def stderr_to(log_path: Path):
    """Send fd 2 (kernel start-up chatter) to the run log instead of the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _execute_job(spec: dict) -> dict:
    skip_slow_optional_imports()
    # An interrupted cell leaves nbclient's polling task behind; asyncio would print
    # "Task exception was never retrieved" with a traceback on the user's terminal.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    staging = Path(spec["staging"])
    work = staging / "work"
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update(KERNEL_ENV)
    os.environ["WORKBOOK_ROOT"] = spec["root"]
    os.environ.update(spec.get("env", {}))
    log_path = staging / "run.log"
    logger, handler = run_logger(log_path)
    shown = json.dumps(spec["parameters"], sort_keys=True, default=str)
    logger.info("report %s run %s parameters %s", spec["report"], spec["run_id"], shown)
    watch, stop = CellWatch(), threading.Event()
    every = float(spec.get("heartbeat") or DEFAULT_HEARTBEAT_S)
    threading.Thread(
        target=heartbeat, args=(watch, logger, every, stop), name="workbook-heartbeat", daemon=True
    ).start()
    started, started_at = time.monotonic(), utc_now()
    outcome = Outcome()
    submitted = spec.get("submitted_at")
    outcome.timings["wait_s"] = round(max(0.0, time.time() - submitted), 3) if submitted else None
    try:
        with stderr_to(log_path):
            _attempts(spec, staging / "executed.ipynb", work, watch, logger, outcome)
    finally:
        stop.set()
        logger.info(
            "finished: %s after %d attempt(s)%s",
            outcome.status,
            outcome.attempts,
            f"; {outcome.error}" if outcome.error else "",
        )
        logger.removeHandler(handler)
        handler.close()
    duration = round(time.monotonic() - started, 2)
    return finish_job(spec, outcome, started_at, duration)


def _attempts(spec, executed: Path, work: Path, watch, logger, outcome: Outcome) -> None:
    """Run the notebook; retry once in a fresh kernel when the kernel died."""
    while True:
        outcome.attempts += 1
        if outcome.attempts > 1:
            logger.info("attempt %d", outcome.attempts)
        try:
            run_notebook(spec, executed, work, watch, logger, outcome.timings)
            outcome.status, outcome.error = "ok", ""
            return
        except Exception as exc:  # noqa: BLE001 - cell errors, kernel death, timeouts
            if is_storage_error(exc):
                outcome.status, outcome.error = "failed", f"cannot write: {exc}"
                raise
            outcome.status, outcome.error = "failed", describe_failure(exc, watch, spec)
            if is_dead_kernel(exc) and outcome.attempts < 2:
                logger.warning("kernel died; retrying once in a fresh kernel")
                continue
            return


def is_dead_kernel(exc: BaseException) -> bool:
    """True for a kernel that died while running or starting (safe to retry)."""
    name = type(exc).__name__
    died_starting = isinstance(exc, RuntimeError) and "Kernel died before" in str(exc)
    return name == "DeadKernelError" or died_starting or isinstance(exc, KernelStartError)


def describe_failure(exc: BaseException, watch: CellWatch, spec: dict) -> str:
    """One line for the manifest and the index: which cell failed and how."""
    name = type(exc).__name__
    if name == "CellExecutionError":
        return f"cell {getattr(exc, 'exec_count', '?')}: {exc.ename}: {exc.evalue}"[:2000]
    if name == "CellTimeoutError":
        where = f"cell {watch.last}" if watch.last else "a cell"
        return f"{where} exceeded the timeout of {spec.get('timeout')} s"
    if is_dead_kernel(exc):
        return f"the kernel died (killed or out of memory): {exc}"[:2000]
    return f"{name}: {exc}"[:2000]


def load_parameterized(spec: dict):
    """The job's notebook with its parameters injected (papermill's public API)."""
    import nbformat
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.reads(read_small_text(spec["notebook"], "notebook"), as_version=4)
    nb.metadata["papermill"] = nbformat.NotebookNode({"parameters": {}})
    for cell in nb.cells:  # as papermill's loader does: every cell has a tags list
        cell.metadata.setdefault("tags", [])
    return parameterize_notebook(
        nb, dict(spec["parameters"]), report_mode=False, kernel_name=KERNEL_NAME, language="python"
    )


def run_notebook(spec, executed: Path, work: Path, watch, logger, timings: dict) -> None:
    """Execute every cell in a warm kernel, saving ``executed`` now and then and at the end.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        A cell raised (``exec_count`` names it).
    nbclient.exceptions.CellTimeoutError, nbclient.exceptions.DeadKernelError
    KernelStartError
    """
    import nbformat
    from nbclient import NotebookClient

    nb = load_parameterized(spec)
    nbformat.write(nb, executed)
    asked = time.monotonic()
    kernel = process_pool().take(
        spec.get("env", {}),
        warm_next=spec.get("warm_next", True),
        imports=tuple(spec.get("imports") or WARM_IMPORTS),
        next_imports=tuple(spec.get("next_imports") or ()) or None,
    )
    timings["kernel_s"] = round(time.monotonic() - asked, 3)
    timings["kernel_warm"] = kernel.warm
    client = NotebookClient(
        nb,
        km=kernel.manager,
        kernel_name=KERNEL_NAME,
        timeout=spec.get("timeout"),
        startup_timeout=START_TIMEOUT_S,
        resources={"metadata": {"path": str(work)}},
    )
    cells_started = time.monotonic()
    try:
        with client.setup_kernel():
            _prepare_kernel(client, nb, work)
            _run_cells(client, nb, executed, watch, logger)
    finally:
        timings["cells_s"] = round(time.monotonic() - cells_started, 3)
        if client.kc is not None:
            with contextlib.suppress(Exception):
                client.kc.stop_channels()
        release(kernel)
        nbformat.write(nb, executed)


def _prepare_kernel(client, nb, work: Path) -> None:
    """Ask the kernel for its language info and move it into the job's folder."""
    info = client.wait_for_reply(client.kc.kernel_info())
    if info is not None and "language_info" in info["content"]:
        nb.metadata["language_info"] = info["content"]["language_info"]
    reply = client.wait_for_reply(
        client.kc.execute(
            f"__import__('os').chdir({str(work)!r})", silent=True, store_history=False
        )
    )
    if reply is None or reply["content"].get("status") != "ok":
        raise RuntimeError(f"cannot move the kernel into {work}")


def _run_cells(client, nb, executed: Path, watch: CellWatch, logger) -> None:
    import nbformat

    saved_at, count = time.monotonic(), 0
    for index, cell in enumerate(nb.cells):
        number = index + 1
        logger.info("Executing Cell %d", number)
        watch.start(number)
        runs = cell.cell_type == "code" and bool(cell.source.strip())
        count += runs
        try:
            client.execute_cell(cell, index, execution_count=count if runs else None)
        except Exception as exc:
            exc.exec_count = cell.get("execution_count")
            _log_outputs(cell, logger)
            raise
        finally:
            watch.end()
        _log_outputs(cell, logger)
        logger.info("Ending Cell %d", number)
        if time.monotonic() - saved_at >= SAVE_EVERY_S:
            nbformat.write(nb, executed)
            saved_at = time.monotonic()


def _log_outputs(cell, logger) -> None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            logger.info("%s", str(output.get("text", "")).rstrip())
        elif output.get("output_type") == "error":
            logger.error("%s: %s", output.get("ename"), output.get("evalue"))


def tidy_notebook(nb) -> None:
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


def extract_records(nb) -> tuple[dict, list[dict]]:
    """The key figures (``analysis.record``) and input sources a notebook displayed."""
    from analysis.provenance import RECORD_MIME, SOURCES_MIME

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


def render(spec: dict, outcome: Outcome, started_at: str, duration: float):
    """Tidy the executed notebook and render its page; return (records, sources, html)."""
    import nbformat

    from analysis.report.html import render_report

    staging = Path(spec["staging"])
    executed = staging / "executed.ipynb"
    nb = nbformat.read(executed, as_version=4)
    tidy_notebook(nb)
    nbformat.write(nb, executed)
    records, sources = extract_records(nb)
    page = render_report(
        nb,
        report=spec["report"],
        parameters=spec["parameters"],
        started_at=started_at,
        duration_s=duration,
        git_commit=spec["git_commit"],
        dataset=str(spec["parameters"].get("dataset", "")),
        sources=sources,
        status=outcome.status,
        error=outcome.error,
    )
    html_name = "report.html" if outcome.status == "ok" else "partial.html"
    (staging / html_name).write_text(page, encoding="utf-8")
    return records, sources, html_name


def finish_job(spec: dict, outcome: Outcome, started_at: str, duration: float) -> dict:
    """Render the page, clean the work folder and write the manifest."""
    staging = Path(spec["staging"])
    records: dict = {}
    sources: list[dict] = []
    html_name = ""
    rendering = time.monotonic()
    if (staging / "executed.ipynb").is_file():
        try:
            records, sources, html_name = render(spec, outcome, started_at, duration)
        except Exception as exc:  # noqa: BLE001 - rendering must not hide the run's status
            if is_storage_error(exc):
                raise
            if outcome.status == "ok":
                outcome.status = "failed"
                outcome.error = f"rendering failed: {type(exc).__name__}: {exc}"
    elif outcome.status == "ok":
        outcome.status, outcome.error = "failed", "no executed notebook was written"
    shutil.rmtree(staging / "work", ignore_errors=True)
    outcome.timings["render_s"] = round(time.monotonic() - rendering, 3)
    manifest = {
        "report": spec["report"],
        "notebook": spec["notebook_rel"],
        "parameters": spec["parameters"],
        "status": outcome.status,
        "error": outcome.error,
        "run_id": spec["run_id"],
        "started_at": started_at,
        "duration_s": duration,
        "attempts": outcome.attempts,
        "git_commit": spec["git_commit"],
        "inputs": [{"path": s.get("path", ""), "sha256": s.get("sha256", "")} for s in sources],
        "sources": sources,
        "figures": records,
        "cache_key": spec["cache_key"],
        "dataset": spec["parameters"].get("dataset"),
        "executor": spec.get("executor", "local"),
        "package_versions": package_versions(),
        "html": html_name,
        "timings": outcome.timings,
    }
    write_json(staging / "manifest.json", manifest)
    return manifest


def crashed_manifest(spec: dict, exc: BaseException) -> dict:
    """The manifest of a job whose worker process crashed (written to its staging folder)."""
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
    write_json(staging / "manifest.json", manifest)
    return manifest
