"""Kernels for reports: the interpreter they run, their environment, and finding them.

Every report runs in a kernel of *this* interpreter (a private kernelspec first on
``JUPYTER_PATH``), with deterministic settings (:data:`KERNEL_ENV`) and without an
IPython history file: cell sources, injected parameters included, must not end up
in ``~/.ipython``. Starting and warming kernels ahead of time is
:mod:`analysis.report.warm`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import sys
import tempfile
from multiprocessing import util
from pathlib import Path

#: Environment of every report kernel: UTC, fixed hash seed, inline figures.
KERNEL_ENV = {
    "TZ": "UTC",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "SOURCE_DATE_EPOCH": "1700000000",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
}
KERNEL_NAME = "workbook-python"
#: Kernel options: no IPython history database (it would hold every cell's source).
KERNEL_ARGS = ("--HistoryManager.enabled=False",)


def private_kernelspec(folder: Path) -> None:
    """Write a kernelspec that runs *this* interpreter, and put it first on JUPYTER_PATH.

    A user-level ``python3`` kernelspec (``~/.local/share/jupyter``) may point at some
    other environment; reports must run with the interpreter that runs the workbook.
    The kernel keeps no IPython history (:data:`KERNEL_ARGS`).

    Parameters
    ----------
    folder : Path
        Where ``kernels/workbook-python/kernel.json`` is written.
    """
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            *KERNEL_ARGS,
        ],  # fmt: skip
        "display_name": "Champions Workbook (Python)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    previous = os.environ.get("WORKBOOK_BASE_JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
    os.environ["WORKBOOK_BASE_JUPYTER_PATH"] = previous
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(folder), previous) if p)


def kernel_home() -> Path:
    """This process's private folder for the kernelspec and the kernels' IPYTHONDIR.

    Made once per process (a forked worker makes its own) and removed when it exits.
    """
    return _kernel_home(os.getpid())


@functools.lru_cache(maxsize=4)
def _kernel_home(pid: int) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"workbook-kernels-{pid}-"))
    private_kernelspec(home)
    (home / "ipython").mkdir()
    (home / "idle").mkdir()
    atexit.register(shutil.rmtree, home, True)
    # Pool workers end through os._exit: only multiprocessing's finalizers run there.
    util.Finalize(None, shutil.rmtree, args=(home, True), exitpriority=0)
    return home


def kernel_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a report kernel starts with.

    This process's environment, :data:`KERNEL_ENV`, ``IPYTHONDIR`` in
    :func:`kernel_home` (nothing lands in ``~/.ipython``) and ``extra``.
    """
    home = kernel_home()
    return {**os.environ, **KERNEL_ENV, "IPYTHONDIR": str(home / "ipython"), **(extra or {})}


def skip_slow_optional_imports() -> None:
    """Keep jsonschema from compiling a grammar that no notebook schema uses.

    When ``rfc3987-syntax`` is installed, jsonschema (imported by nbformat) builds a
    Lark parser for the ``iri`` string format at import time: 3-6 s of CPU in every
    worker process, more than a small report takes to run. nbformat's schemas use no
    string formats at all. Only effective before jsonschema is first imported.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


def kernel_processes() -> list:
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


def kill_processes(processes: list) -> None:
    """SIGKILL each process (psutil objects); vanished ones are ignored."""
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()


def kernel_memory_mb() -> float | None:
    """Resident memory of this process's kernel children (MB), if psutil is present."""
    try:
        kernels = kernel_processes()
        return sum(p.memory_info().rss for p in kernels) / 1e6 if kernels else None
    except Exception:  # noqa: BLE001 - a heartbeat must never break a run
        return None
