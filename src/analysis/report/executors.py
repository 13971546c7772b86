"""Where jobs run: this process, a local process pool, or a Dask distributed cluster.

Each executor calls ``execute`` (:func:`analysis.report.execute.execute_job`) for
every job and hands the manifest to ``finish`` in the parent, as jobs complete. A
pool worker that dies (killed, out of memory) breaks the pool: the jobs that had
started are retried once in a new pool, the others simply resubmitted. Each
worker process keeps its own warm kernels (:mod:`analysis.report.warm`), on Dask
workers too.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from analysis.errors import ParameterError
from analysis.report.cache import new_run_id
from analysis.report.execute import crashed_manifest
from analysis.report.kernel import kernel_processes, kill_processes
from analysis.report.store import is_storage_error


def retry_spec(spec: dict) -> dict:
    """A fresh run id and staging folder for a job whose worker process died."""
    shutil.rmtree(spec["staging"], ignore_errors=True)
    run_id = new_run_id()
    staging = Path(spec["staging"]).with_name(run_id)
    return {**spec, "run_id": run_id, "staging": str(staging)}


def new_worker_pool(n_workers: int):
    """A process pool whose workers leave Ctrl-C and SIGTERM handling to the parent.

    Workers are forked, so they inherit the parent's Python signal handlers, among
    them the one that turns a scheduler's SIGTERM into ``KeyboardInterrupt``
    (:func:`analysis.report.runner.sigterm_as_interrupt`). When the parent then stops
    its workers with SIGTERM, an inherited handler would raise ``KeyboardInterrupt``
    inside an idle worker, which prints a ``Process ForkProcess-N`` traceback on the
    user's terminal.
    """
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=n_workers, initializer=worker_signals)


def worker_signals() -> None:
    """Pool workers ignore Ctrl-C (the parent coordinates the shutdown) and die
    quietly on SIGTERM (the parent's way of stopping them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_local(pending: list, n_jobs: int, finish: Callable, execute: Callable) -> None:
    """Run jobs in this process (one job or ``n_jobs`` = 1) or in a process pool.

    Parameters
    ----------
    pending : list of (Job, dict)
        Jobs and their specs.
    n_jobs : int
        Worker processes.
    finish : callable
        ``finish(job, spec, manifest)``, called in this process as jobs complete.
    execute : callable
        ``execute(spec) -> manifest``, called in the workers.
    """
    if n_jobs <= 1 or len(pending) == 1:
        for job, spec in pending:
            finish(job, spec, execute(spec))
        return
    queue = list(pending)
    crashes: dict[str, int] = {}
    while queue:
        queue = _pool_round(queue, min(n_jobs, len(queue)), crashes, finish, execute)


def _pool_round(queue, n_workers, crashes, finish, execute) -> list:
    """Run ``queue`` in one pool; return the jobs to retry in a new pool."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    pool = new_worker_pool(n_workers)
    again: list = []
    try:
        futures = {pool.submit(execute, spec): (job, spec) for job, spec in queue}
        for future in as_completed(futures):
            job, spec = futures[future]
            try:
                manifest = future.result()
            except BrokenProcessPool as exc:
                started = Path(spec["staging"]).exists()
                crashes[job.key] = crashes.get(job.key, 0) + started
                if crashes[job.key] >= 2:
                    finish(job, spec, crashed_manifest(spec, exc))
                else:
                    again.append((job, retry_spec(spec) if started else spec))
                continue
            except Exception as exc:  # noqa: BLE001 - a worker error fails that job only
                if is_storage_error(exc):
                    raise
                manifest = crashed_manifest(spec, exc)
            finish(job, spec, manifest)
    except BaseException:
        # Stop the workers and their kernels before shutdown() forgets the workers
        # (and before the interpreter's exit hook waits for them forever).
        kernels = kernel_processes()
        workers = list((getattr(pool, "_processes", None) or {}).values())
        for process in workers:
            with contextlib.suppress(Exception):
                process.terminate()
        kill_processes(kernels)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return again


def run_dask(pending: list, scheduler: str | None, finish: Callable, execute: Callable) -> None:
    """Fan jobs out over a Dask distributed cluster.

    Workers must see the project and the reports folder at the same paths (a shared
    file system) and should run one thread each (``dask worker ADDRESS --nthreads 1``;
    with more threads, reports still run one at a time per worker process). Each
    worker process keeps warm kernels between the reports it runs.

    Raises
    ------
    ParameterError
        Without a scheduler address, or when the scheduler cannot be reached.
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
            client.submit(execute, spec, pure=False, key=f"report-{spec['run_id']}"): (job, spec)
            for job, spec in pending
        }
        for future in as_completed(list(futures)):
            job, spec = futures[future]
            try:
                manifest = future.result()
            except Exception as exc:  # noqa: BLE001
                if is_storage_error(exc):
                    raise
                manifest = crashed_manifest(spec, exc)
            finish(job, spec, manifest)
