"""The ``reports/`` tree: staging, atomic publishing, the index state, retention and the lock.

A finished job's staging folder ``reports/.staging/<run_id>/`` is renamed into
``reports/<report>/<slug>/runs/<run_id>/``; only a good run's HTML then replaces
``reports/<report>/<slug>/report.html`` (copy first, then renames: a full disk stops
us before anything became visible). SIGINT and SIGTERM wait while a publication is
under way. A full disk or a read-only ``reports/`` becomes one :class:`InputError`
naming the folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.files import atomic_write_text
from analysis.paths import project_root, reports_dir
from analysis.report.cache import utc_now
from analysis.report.diff import diff_figures, diff_settings
from analysis.report.plan import DEFAULT_KEEP, Job
from analysis.report.plan_schema import NAME_PATTERN, NAME_RULE

#: errno values that mean "the reports folder cannot take more writes": these stop the
#: whole run with a clear error instead of failing one report after another.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
)
#: Below this much free space in ``reports/`` a run does not start.
MIN_FREE_BYTES = 20 * 1024 * 1024
#: During a run, index.html is re-rendered at most this often (and when the run ends).
INDEX_HTML_EVERY_S = 1.0


def is_storage_error(exc: BaseException) -> bool:
    """True for an OSError that means the reports folder takes no more writes."""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented, sorted JSON (a manifest)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", "utf-8")


def project_relative(path: Path) -> str:
    """``path`` relative to the project root when it lies inside, else as given."""
    try:
        return str(Path(path).relative_to(project_root()))
    except ValueError:
        return str(path)


def check_report_name(name: str, what: str = "report name") -> str:
    """Return ``name`` if it can be one folder under ``reports/``, else raise.

    Raises
    ------
    ParameterError
        For ``..``, separators, absolute paths, a leading dot or odd characters;
        the message says what a name may hold.
    """
    if not re.fullmatch(NAME_PATTERN, str(name)):
        raise ParameterError("name", f"{what} must be {NAME_RULE}, got {name!r}")
    return name


def inside(root: Path, *parts: str) -> Path:
    """``root / parts``, resolved (symlinks followed), checked to stay inside ``root``.

    Raises
    ------
    InputError
        When the path would leave ``root`` (a ``..`` or a symlink pointing outside).
    """
    base = Path(root).resolve()
    path = base.joinpath(*parts).resolve()
    if not path.is_relative_to(base):
        raise InputError(path, f"refusing to write outside the reports folder {base}")
    return Path(root).joinpath(*parts)


@contextlib.contextmanager
def sigint_deferred():
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


def storage_message(exc: OSError) -> str:
    """What went wrong writing the reports folder, and what to do about it."""
    what = exc.strerror or str(exc)
    where = f" (writing {exc.filename})" if exc.filename else ""
    hint = {
        errno.ENOSPC: "free some space (old runs: `workbook report --keep N`) and run again",
        errno.EDQUOT: "the disk quota is exhausted; free some space and run again",
        errno.EROFS: "the file system is mounted read-only; point WORKBOOK_REPORTS_DIR elsewhere",
    }.get(exc.errno, "make it writable for this user or point WORKBOOK_REPORTS_DIR elsewhere")
    return f"cannot write to the reports folder: {what}{where}; {hint}"


@contextlib.contextmanager
def storage_errors(root: Path):
    """Turn "disk full" and "read-only" into one clear InputError naming the folder."""
    try:
        yield
    except OSError as exc:
        if not is_storage_error(exc):
            raise
        raise InputError(root, storage_message(exc)) from None


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

    def job_dir(self, job: Job) -> Path:
        """``reports/<report>/<slug>``, checked to stay inside the reports folder.

        Raises
        ------
        ParameterError, InputError
            For a report name or slug that would leave ``reports/``.
        """
        check_report_name(job.report)
        check_report_name(job.slug, "parameter slug")
        return inside(self.root, job.report, job.slug)

    def check_jobs(self, jobs) -> None:
        """Check every job's folder before anything is written (see :meth:`job_dir`)."""
        for job in jobs:
            self.job_dir(job)

    def check_writable(self) -> None:
        """Fail early and clearly when ``reports/`` cannot be written or is full."""
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            probe = self.staging / f".probe-{os.getpid()}"
            atomic_write_text(probe, "ok")
            probe.unlink()
        except OSError as exc:
            raise InputError(self.root, storage_message(exc)) from None
        free = shutil.disk_usage(self.staging).free
        if free < MIN_FREE_BYTES:
            raise InputError(
                self.root,
                f"only {free / 1e6:.1f} MB free on the disk of the reports folder "
                f"(need {MIN_FREE_BYTES / 1e6:.0f} MB); free some space and run again",
            )

    @contextlib.contextmanager
    def session(self):
        """Lock the folder for one run (``filelock``) and keep the state in memory meanwhile.

        Raises
        ------
        InputError
            When another run holds the lock, or the folder is not writable.
        """
        from filelock import FileLock, Timeout

        self.check_writable()
        lock = FileLock(self.root / ".lock", timeout=0)
        owner = self.root / ".lock.owner"
        try:
            lock.acquire()
        except Timeout:
            try:
                holder = owner.read_text(encoding="utf-8").strip()
            except OSError:
                holder = ""
            raise InputError(
                self.root,
                f"another `workbook report` is writing to this folder ({holder or 'another process'}); "
                "wait for it to finish (scheduled runs must not overlap)",
            ) from None
        except OSError as exc:
            raise InputError(self.root, storage_message(exc)) from None
        try:
            with contextlib.suppress(OSError):
                owner.write_text(f"pid {os.getpid()} since {utc_now()}\n", encoding="utf-8")
            self._state = self._read_state()
            try:
                yield self
            finally:
                with contextlib.suppress(OSError):  # a storage error is already on its way
                    self.flush()
                self._state = None
        finally:
            lock.release()

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
        atomic_write_text(self.state_path, text + "\n")
        self._dirty = False
        now = time.monotonic()
        if html or self._state is None or now - self._html_at >= INDEX_HTML_EVERY_S:
            atomic_write_text(self.root / "index.html", render_index(state))
            self._html_at, self._html_stale = now, False
        else:
            self._html_stale = True

    def flush(self) -> None:
        """Write pending index changes (batched cache notes, a throttled index.html)."""
        if self._state is not None and (self._dirty or self._html_stale):
            with sigint_deferred():
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
        base = self.job_dir(job)
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
        with sigint_deferred():
            state = self.load_state()
            entry = self._entry(state, job)
            if manifest["status"] == "ok":
                against, previous = self._previous_figures(entry)
                thresholds = diff_settings(job.options.get("diff"), "plan")
                manifest["diff"] = diff_figures(
                    previous, manifest.get("figures") or {}, against=against, **thresholds
                )
                write_json(staging / "manifest.json", manifest)
            runs = self.job_dir(job) / "runs"
            runs.mkdir(parents=True, exist_ok=True)
            run_dir = inside(runs, check_report_name(manifest["run_id"], "run id"))
            stable = self.job_dir(job) / "report.html"
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
            with sigint_deferred():
                self._save_state(state)

    def note_skipped(self, job: Job, reason: str, *, write: bool = True) -> None:
        """Mark a job as skipped (its inputs are missing); earlier runs stay listed."""
        state = self.load_state()
        entry = self._entry(state, job)
        entry["notebook"] = project_relative(job.notebook)
        entry["parameters"] = job.parameters
        entry["status"] = "skipped"
        entry["skip_reason"] = reason
        entry["checked_at"] = utc_now()
        self._dirty = True
        if write or self._state is None:
            with sigint_deferred():
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
        runs_dir = self.job_dir(job) / "runs"
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
