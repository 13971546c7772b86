"""What a report's cache key is made of: fingerprints of code, data, lock file and notebook.

A job is ``cached`` (not re-run) when the key of its last good run equals the key
computed now: the notebook's cell sources, the parameters, the ``analysis``
package source, the lock file of the running Python and the files of the dataset it reads.
Also here: the git commit and the package versions written into every manifest.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from analysis.files import read_small_text, sha256_bytes, sha256_file
from analysis.paths import DATASETS, dataset_dir, project_root
from analysis.report.plan import Job

#: Packages whose versions shape a report's numbers (written into every manifest).
PACKAGES = (
    "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn",
    "papermill", "nbclient", "nbconvert", "ipykernel", "pyarrow",
)  # fmt: skip


def utc_now() -> str:
    """Current UTC time as ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_run_id() -> str:
    """A unique run id that sorts by creation time (microseconds: retention relies on it)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%f")
    return f"{stamp}Z-{secrets.token_hex(3)}"


def tree_fingerprint(root: Path, patterns: Iterable[str] = ("**/*",)) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``root``.

    Parameters
    ----------
    root : Path
        The folder; ``"absent"`` when it does not exist.
    patterns : iterable of str
        Glob patterns relative to ``root``; ``__pycache__`` is ignored.

    Returns
    -------
    str
    """
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
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def notebook_source_hash(notebook: Path) -> str:
    """Hash of a notebook's cell sources and tags (not its stored outputs)."""
    nb = json.loads(read_small_text(notebook, "notebook"))
    cells = [
        (
            c.get("cell_type"),
            "".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source", ""),
            c.get("metadata", {}).get("tags", []),
        )
        for c in nb.get("cells", [])
    ]
    return sha256_bytes(json.dumps(cells, sort_keys=True).encode())


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
    """Computes and memoizes what a cache key is made of (per process).

    Parameters
    ----------
    root : Path
        The project root (``src/analysis`` and ``requirements/`` under it).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._code: str | None = None
        self._lock: str | None = None
        self._data: dict[str, str] = {}
        self._notebooks: dict[Path, str] = {}

    @property
    def code(self) -> str:
        """Fingerprint of the ``analysis`` package source (code, templates, styles)."""
        if self._code is None:
            self._code = tree_fingerprint(
                self.root / "src" / "analysis", ("**/*.py", "**/*.yml", "**/*.html", "**/*.css")
            )
        return self._code

    @property
    def lock(self) -> str:
        """SHA-256 of the lock of this Python (``requirements/py3XX.lock``; ``absent``)."""
        if self._lock is None:
            lock = self.root / "requirements" / "py{}{}.lock".format(*sys.version_info[:2])
            if not lock.is_file():
                lock = self.root / "requirements.lock"
            self._lock = sha256_file(lock) if lock.is_file() else "absent"
        return self._lock

    def data(self, dataset: str) -> str:
        """Fingerprint of every file of a dataset."""
        if dataset not in self._data:
            self._data[dataset] = tree_fingerprint(dataset_dir(dataset))
        return self._data[dataset]

    def cache_key(self, job: Job) -> str:
        """The cache key of a job: equal keys mean an equal report."""
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
        return sha256_bytes(json.dumps(parts, sort_keys=True, default=str).encode())
