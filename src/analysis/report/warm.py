"""Warm kernels: kernels started ahead, with the heavy imports done, one per report.

Starting a kernel and importing pandas, matplotlib, statsmodels and the
``analysis`` modules takes 2-3 s, about as long as a small report's analysis. Like
Voilà's pre-heated kernels, each worker process (a pool worker or a Dask worker)
keeps a :class:`WarmKernels` pool: while one report runs, the next kernel starts and
imports, in a background thread, exactly the modules the next report's notebook
imports (:func:`notebook_imports`), so that its parameters meet a ready kernel.

Isolation stays: a kernel serves exactly one report and is shut down after it
(:func:`release`); it has only imported modules, never run a report cell. A kernel
that dies while warming is replaced; one whose environment (``WORKBOOK_*``
settings of the run) differs from the report's is discarded.
``WORKBOOK_WARM_KERNELS=0`` starts a plain kernel for every report instead (cold).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from analysis.report.kernel import KERNEL_NAME, kernel_environment, kernel_home

#: What a warm kernel imports when nothing more precise is known.
WARM_IMPORTS = ("numpy", "pandas", "matplotlib.pyplot", "analysis")


def notebook_imports(notebook: str | Path) -> tuple[str, ...]:
    """The modules a notebook imports at the top level of its code cells.

    ``import a.b`` gives ``a.b``; ``from a import b, c`` gives ``a``, ``a.b`` and
    ``a.c`` (names that are not modules are skipped when importing). A warm kernel
    imports exactly these, so it does no work the report would not do anyway.
    """
    import ast
    import json

    from analysis.files import read_small_text

    try:
        nb = json.loads(read_small_text(notebook, "notebook"))
    except (ValueError, OSError):
        return WARM_IMPORTS
    found: dict[str, None] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            tree = ast.parse("".join(source) if isinstance(source, list) else source)
        except SyntaxError:  # magics
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found.update(dict.fromkeys(alias.name for alias in node.names))
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found[node.module] = None
                found.update(dict.fromkeys(f"{node.module}.{a.name}" for a in node.names))
    return tuple(found)


def warm_up_code(modules: tuple[str, ...]) -> str:
    """Kernel code that imports ``modules``, skipping names that are not modules."""
    return (
        "def _wb_warm(names):\n"
        "    import importlib\n"
        "    for name in names:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except Exception:\n"
        "            pass\n"
        f"_wb_warm({list(modules)!r})\n"
        "del _wb_warm\n"
    )


#: Seconds a kernel may take to start and import (a loaded machine is slow).
START_TIMEOUT_S = 120.0


class KernelStartError(RuntimeError):
    """A kernel died or failed while starting or warming."""


@dataclass
class Kernel:
    """A started kernel, ready for one report.

    Attributes
    ----------
    manager : jupyter_client.AsyncKernelManager
    env_key : tuple
        The ``WORKBOOK_*`` settings it was started with.
    start_s : float
        Seconds spent starting it (and importing, when warm).
    warm : bool
    imports : tuple of str
        Modules to import when warm (:func:`notebook_imports` of the next report).
        True when the heavy imports are done.
    """

    manager: object
    env_key: tuple
    start_s: float
    warm: bool
    ready_at: float = field(default_factory=time.monotonic)


def env_key(env: dict[str, str]) -> tuple:
    """The part of a report's environment a kernel must have been started with."""
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith("WORKBOOK_")))


def start_kernel(
    env: dict[str, str], cwd: Path | None = None, *, warm: bool, imports: tuple = WARM_IMPORTS
) -> Kernel:
    """Start a report kernel; with ``warm`` also import ``imports`` in it.

    Parameters
    ----------
    env : dict
        Settings added to the kernel's environment (``WORKBOOK_ROOT`` and friends).
    cwd : Path, optional
        The kernel's working directory (default: an idle folder of this process; a
        report moves it into its own folder before its first cell).
    warm : bool

    Returns
    -------
    Kernel

    Raises
    ------
    KernelStartError
        When the kernel dies or fails before it is ready.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    started = time.monotonic()
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME)
    cwd = cwd or kernel_home() / "idle"
    try:
        run_sync(manager.start_kernel)(cwd=str(cwd), env=kernel_environment(env))
        _wait_ready(manager, warm_up_code(imports) if warm else "")
    except Exception as exc:
        shutdown(manager)
        raise KernelStartError(f"Kernel died before it was ready: {exc}") from exc
    return Kernel(manager, env_key(env), round(time.monotonic() - started, 3), warm)


def _wait_ready(manager, code: str) -> None:
    """Wait until the kernel answers (watching that it lives), then run ``code`` in it."""
    from jupyter_client import BlockingKernelClient
    from jupyter_core.utils import run_sync

    client = BlockingKernelClient()
    client.load_connection_info(manager.get_connection_info())
    client.start_channels()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                client.wait_for_ready(timeout=2)
                break
            except RuntimeError:
                if not run_sync(manager.is_alive)() or time.monotonic() > deadline:
                    raise
        if code:
            reply = client.execute_interactive(
                code, store_history=False, timeout=START_TIMEOUT_S, output_hook=lambda msg: None
            )
            content = reply["content"]
            if content.get("status") != "ok":
                raise KernelStartError(
                    f"warm-up imports failed: {content.get('ename')}: {content.get('evalue')}"
                )
    finally:
        client.stop_channels()


def is_alive(kernel: Kernel) -> bool:
    """True while the kernel process runs."""
    from jupyter_core.utils import run_sync

    try:
        return bool(run_sync(kernel.manager.is_alive)())
    except Exception:  # noqa: BLE001 - a vanished kernel is simply not alive
        return False


def shutdown(manager) -> None:
    """Kill a kernel at once and free its ports and files (never raises)."""
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        run_sync(manager.shutdown_kernel)(now=True)
    with contextlib.suppress(Exception):
        run_sync(manager.cleanup_resources)()


def release(kernel: Kernel) -> None:
    """Shut down a kernel after its one report."""
    shutdown(kernel.manager)


class WarmKernels:
    """A per-process pool of kernels started ahead (see the module docstring).

    Parameters
    ----------
    size : int
        Kernels kept warming or ready beside the one in use.
    """

    def __init__(self, size: int = 1, *, warm: bool = True) -> None:
        self.size = size
        #: False: every report gets a kernel started for it, without warm-up imports
        #: (``WORKBOOK_WARM_KERNELS=0``; for comparisons and debugging).
        self.warm = warm
        self._queue: deque[Future] = deque()
        self._lock = threading.Lock()
        self._last: Future | None = None
        #: Kernels that died or failed while warming and were replaced.
        self.replaced = 0

    def take(
        self,
        env: dict[str, str],
        *,
        warm_next: bool = True,
        imports: tuple = WARM_IMPORTS,
        next_imports: tuple | None = None,
    ) -> Kernel:
        """A ready kernel for one report; the next starts warming meanwhile.

        Parameters
        ----------
        env : dict
            The report's ``WORKBOOK_*`` settings.
        warm_next : bool
            Start warming a kernel for a later report (False for the last ones).
        imports : tuple of str
            What this report imports (used when no warm kernel is ready).
        next_imports : tuple of str, optional
            What the next report will import (default: ``imports``).

        Raises
        ------
        KernelStartError
            When the replacement of a dead warming kernel dies too.
        """
        if not self.warm:
            return start_kernel(env, warm=False)
        key = env_key(env)
        with self._lock:
            future = self._pop_matching(key)
            if future is None:
                future = self._spawn(env, imports)
            if warm_next:
                while len(self._queue) < self.size:
                    self._queue.append(self._spawn(env, next_imports or imports))
        try:
            kernel = future.result()
        except KernelStartError:
            kernel = None
        if kernel is not None and kernel.env_key != key:  # warming for an earlier run
            release(kernel)
            return start_kernel(env, warm=True, imports=imports)
        if kernel is None or not is_alive(kernel):
            if kernel is not None:
                release(kernel)
            self.replaced += 1
            kernel = start_kernel(env, warm=True, imports=imports)
        return kernel

    def _spawn(self, env: dict[str, str], imports: tuple) -> Future:
        """Start warming a kernel in a daemon thread (never holds up the process's exit)."""
        future: Future = Future()
        previous, self._last = self._last, future

        def warm() -> None:
            if previous is not None:  # one kernel warms at a time: cores run reports
                with contextlib.suppress(BaseException):
                    previous.exception()
            try:
                future.set_result(start_kernel(env, warm=True, imports=imports))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever takes it
                future.set_exception(exc)

        threading.Thread(target=warm, name="workbook-warm", daemon=True).start()
        return future

    def _pop_matching(self, key: tuple) -> Future | None:
        while self._queue:
            future = self._queue.popleft()
            if not future.done() or future.exception() is not None:
                return future  # still warming (same run) or failed: take() handles it
            if future.result().env_key == key:
                return future
            release(future.result())
        return None

    def close(self) -> None:
        """Shut down every kernel waiting; one still warming is shut down when ready."""
        with self._lock:
            queued = list(self._queue)
            self._queue.clear()
        for future in queued:
            future.add_done_callback(_release_result)


def _release_result(future: Future) -> None:
    if future.exception() is None:
        release(future.result())


_POOL: WarmKernels | None = None
_POOL_PID = 0
_POOL_LOCK = threading.Lock()


def process_pool() -> WarmKernels:
    """This process's warm pool (made on first use, closed when the process exits).

    A forked worker makes its own: the parent's warming threads did not fork with it.
    """
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        if _POOL is None or _POOL_PID != os.getpid():
            from multiprocessing import util

            _POOL = WarmKernels(warm=os.environ.get("WORKBOOK_WARM_KERNELS", "1") != "0")
            _POOL_PID = os.getpid()
            # Pool workers end through os._exit (no atexit): multiprocessing's
            # finalizers still run there; atexit covers the main process.
            util.Finalize(_POOL, _POOL.close, exitpriority=10)
            atexit.register(_POOL.close)
        return _POOL


def close_process_pool() -> None:
    """Shut down this process's warm kernels (at the end of an in-process run)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None and _POOL_PID == os.getpid():
        pool.close()
