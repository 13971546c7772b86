"""``workbook data fetch``: download the catalogued official sources.

Each source of :mod:`analysis.sources.official.catalogue` lands in ``data/raw/official/<folder>/<file>``.
The bytes come from

- a **mirror** (``--mirror`` or ``WORKBOOK_MIRROR``): a local directory or an
  http(s) URL with the same layout ``<folder>/<file>`` (air-gapped networks), or
- the **publishers**: GENESIS tables through the GENESIS web service (POST
  ``data/tablefile``, credentials in the request headers from ``GENESIS_TOKEN`` or
  ``GENESIS_USERNAME``/``GENESIS_PASSWORD``; ``GENESIS_URL`` overrides the
  service, default the Regionaldatenbank), other files by plain HTTPS.

Every file is written to a temporary file in its destination folder, verified
(non-empty, complete, sha256 against a mirror's ``SHA256SUMS`` if it has one,
and parsed or sniffed with the project's reader for its format) and only then
moved into place with :func:`os.replace`, so a failed or partial download never
leaves a corrupt file behind. A file whose sha256 equals the one in place is not
rewritten. Every file fetched is recorded in the data log ``data/raw/README.md``
between ``<!-- datalog:start -->`` and ``<!-- datalog:end -->``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import ParameterError
from analysis.sources.official.catalogue import Source, catalogue
from analysis.sources.official.datalog import (
    DATALOG_COLUMNS as DATALOG_COLUMNS,
)
from analysis.sources.official.datalog import (
    DATALOG_END as DATALOG_END,
)
from analysis.sources.official.datalog import (
    DATALOG_START as DATALOG_START,
)
from analysis.sources.official.datalog import (
    file_umask,
    read_datalog,
    update_datalog,
)
from analysis.sources.official.fetch_errors import FetchError, MissingInMirror
from analysis.sources.official.verify import verify_file
from analysis.sources.official.web import CHUNK, genesis_table, get_url
from analysis.sources.official.web import USER_AGENT as USER_AGENT
from analysis.sources.official.web import genesis_credentials as genesis_credentials


@dataclass
class FetchResult:
    """Outcome for one catalogue entry.

    ``status`` is ``fetched`` (new or changed file written), ``unchanged`` (same
    sha256 as the file in place), ``missing`` (not in the mirror / only in a
    mirror) or ``failed``.
    """

    source_id: str
    status: str
    message: str = ""
    files: list[str] = field(default_factory=list)
    required: bool = True
    requested: bool = False

    @property
    def is_failure(self) -> bool:
        """Failed, or missing although required or explicitly requested."""
        if self.status == "failed":
            return True
        return self.status == "missing" and (self.required or self.requested)


# ------------------------------------------------------------------ origins


@dataclass(frozen=True)
class _Mirror:
    base: str  # directory path or URL ending in "/"
    is_url: bool

    def describe(self, folder: str, name: str) -> str:
        if self.is_url:
            return self.base + urllib.parse.quote(f"{folder}/{name}")
        return str(Path(self.base) / folder / name)


def _resolve_mirror(mirror: str | os.PathLike | None) -> _Mirror | None:
    value = str(mirror) if mirror is not None else os.environ.get("WORKBOOK_MIRROR", "")
    value = value.strip()
    if not value:
        return None
    if value.startswith(("http://", "https://")):
        return _Mirror(value.rstrip("/") + "/", True)
    if value.startswith("file://"):
        value = urllib.parse.unquote(urllib.parse.urlparse(value).path)
    root = Path(value).expanduser()
    if not root.is_dir():
        raise ParameterError("mirror", f"mirror directory {root} does not exist")
    # Accept a data/raw tree (with official/ inside) as well as the official/ folder itself.
    if (root / "official").is_dir() and not any(
        (root / entry.folder).is_dir() for entry in catalogue()
    ):
        root = root / "official"
    return _Mirror(str(root.resolve()), False)


def _from_mirror(mirror: _Mirror, folder: str, name: str, target: Path) -> None:
    if mirror.is_url:
        get_url(mirror.describe(folder, name), target)
        return
    source = Path(mirror.base) / folder / name
    if not source.is_file():
        raise MissingInMirror(f"{source} not found in the mirror")
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        raise FetchError(f"copying {source} failed: {exc}") from None


def _mirror_checksums(mirror: _Mirror, scratch: Path) -> dict[str, str]:
    """``SHA256SUMS`` of a mirror (``<hex>  <folder>/<file>`` lines), if it has one."""
    target = scratch / "SHA256SUMS"
    try:
        if mirror.is_url:
            get_url(mirror.base + "SHA256SUMS", target)
        elif (Path(mirror.base) / "SHA256SUMS").is_file():
            shutil.copyfile(Path(mirror.base) / "SHA256SUMS", target)
        else:
            return {}
    except MissingInMirror:
        return {}
    sums = {}
    for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].lstrip("*").strip().replace("\\", "/")] = parts[0].lower()
    return sums


def _zip_members(archive: Path, wanted: dict[str, Path], *, what: str) -> None:
    """Extract the members whose base names are ``wanted`` keys (case-insensitive)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            by_name = {Path(m.filename).name.lower(): m for m in zf.infolist() if not m.is_dir()}
            for name, target in wanted.items():
                member = by_name.get(name.lower())
                if member is None:
                    raise FetchError(f"{what}: the ZIP has no member {name}")
                with zf.open(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise FetchError(f"{what}: damaged ZIP ({exc})") from None


# ------------------------------------------------------------------ fetching


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _temp_for(dest: Path) -> Path:
    # Same folder (os.replace stays on one file system), same suffix (readers sniff it).
    handle, temp = tempfile.mkstemp(
        dir=dest.parent, prefix=f".{dest.stem}.", suffix=f".part{dest.suffix}"
    )
    os.close(handle)
    # mkstemp makes 0600 files; the data files should get the usual permissions.
    os.chmod(temp, 0o666 & ~file_umask())
    return Path(temp)


#: Temporary files older than this were left by a killed fetch (SIGKILL, power loss).
STALE_SECONDS = 600


def _remove_stale_parts(official: Path) -> None:
    """Delete partial downloads and scratch folders a killed fetch left behind."""
    import time

    cutoff = time.time() - STALE_SECONDS
    for path in official.glob(".fetch-*"):
        if path.is_dir() and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
    for path in official.glob("*/.*.part*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _names_in_mirror(entry: Source, mirror: _Mirror) -> list[str]:
    """The file names to take from a mirror: the entry's, or a known alternative."""
    if len(entry.files) > 1 or not entry.mirror_files:
        return list(entry.files)
    if not mirror.is_url:
        for name in (entry.files[0], *entry.mirror_files):
            if (Path(mirror.base) / entry.folder / name).is_file():
                return [name]
    return [entry.files[0]]


def _download_entry(
    entry: Source, mirror: _Mirror | None, temps: dict[str, Path], scratch: Path
) -> dict[str, str]:
    """Fill ``temps`` (name → temp file); return name → origin."""
    origins = {}
    if mirror is not None:
        for name, temp in temps.items():
            _from_mirror(mirror, entry.folder, name, temp)
            origins[name] = "mirror " + mirror.describe(entry.folder, name)
        return origins
    if entry.kind == "genesis":
        ((name, temp),) = temps.items()
        url = genesis_table(entry, temp)
        return {name: f"{url} (GENESIS web service, table {entry.product})"}
    if entry.kind == "http":
        ((name, temp),) = temps.items()
        get_url(entry.download_url, temp)
        return {name: entry.download_url}
    if entry.kind == "zip":
        archive = scratch / f"{entry.id}.zip"
        get_url(entry.download_url, archive)
        _zip_members(archive, temps, what=entry.download_url)
        return {name: f"{entry.download_url} (member {name})" for name in temps}
    raise MissingInMirror("only available from a mirror (derived or hand-made file)")


def fetch_source(
    entry: Source,
    *,
    mirror: _Mirror | None,
    official: Path,
    checksums: dict[str, str],
    scratch: Path,
    now: str,
) -> tuple[FetchResult, list[dict[str, str]]]:
    """Fetch one catalogue entry atomically; return its result and data-log rows."""
    dest_dir = official / entry.folder
    dest_dir.mkdir(parents=True, exist_ok=True)
    attempts = [_names_in_mirror(entry, mirror)] if mirror is not None else [list(entry.files)]
    if mirror is not None and mirror.is_url and len(entry.files) == 1:
        attempts += [[alt] for alt in entry.mirror_files]
    temps: dict[str, Path] = {}
    try:
        for attempt, names in enumerate(attempts):
            for temp in temps.values():
                temp.unlink(missing_ok=True)
            temps = {name: _temp_for(dest_dir / name) for name in names}
            try:
                origins = _download_entry(entry, mirror, temps, scratch)
                break
            except MissingInMirror:
                if attempt == len(attempts) - 1:
                    raise
        results = {}
        for name, temp in temps.items():
            digest = _sha256(temp)
            expected = checksums.get(f"{entry.folder}/{name}")
            if expected and expected != digest:
                raise FetchError(
                    f"{name}: sha256 {digest[:12]}… differs from the mirror's SHA256SUMS ({expected[:12]}…)"
                )
            dest = dest_dir / name
            same = dest.is_file() and _sha256(dest) == digest
            if not same:
                verify_file(temp, name, entry.fmt)
            results[name] = (digest, same)
        # All parts verified: only now touch the destination (a shapefile set stays consistent).
        written, rows = [], []
        for name, temp in temps.items():
            digest, same = results[name]
            relative = f"official/{entry.folder}/{name}"
            if same:
                temp.unlink(missing_ok=True)
            else:
                os.replace(temp, dest_dir / name)
                written.append(relative)
            rows.append(
                {
                    "source": entry.id,
                    "file": relative,
                    "publisher": entry.publisher,
                    "licence": entry.licence,
                    "fetched_utc": now,
                    "sha256": digest,
                    "origin": origins[name],
                    "_same": same,
                }
            )
        status = "fetched" if written else "unchanged"
        files = [row["file"] for row in rows]
        return FetchResult(entry.id, status, files=files, required=entry.required), rows
    except MissingInMirror as exc:
        return FetchResult(entry.id, "missing", str(exc), required=entry.required), []
    except FetchError as exc:
        return FetchResult(entry.id, "failed", str(exc), required=entry.required), []
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def _select(only: Iterable[str]) -> list[Source]:
    wanted = [part.strip() for item in only for part in str(item).split(",") if part.strip()]
    if not wanted:
        return list(catalogue())
    known = {entry.id: entry for entry in catalogue()}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ParameterError(
            "--only",
            f"unknown source id(s) {', '.join(unknown)}; known ids: {', '.join(known)}",
        )
    return [entry for entry in catalogue() if entry.id in wanted]


def fetch(
    only: Iterable[str] = (),
    mirror: str | os.PathLike | None = None,
    raw_root: str | os.PathLike | None = None,
) -> list[FetchResult]:
    """Fetch catalogue sources into ``<raw_root>/official/`` and log them.

    Parameters
    ----------
    only : iterable of str
        Source ids (comma-separated also accepted); empty means all.
    mirror : str or path, optional
        Mirror directory or http(s) URL; default ``WORKBOOK_MIRROR``; none means
        the publishers.
    raw_root : path, optional
        The ``data/raw`` folder (default :func:`analysis.paths.raw_dir`); files go
        to ``official/<folder>/`` below it and the data log to its ``README.md``.

    Returns
    -------
    list of FetchResult
        One per selected source, in catalogue order.

    Raises
    ------
    ParameterError
        Unknown source id, or a mirror directory that does not exist.
    """
    from analysis.paths import raw_dir

    only = list(only)
    selected = _select(only)
    requested = bool(only)
    origin = _resolve_mirror(mirror)
    root = Path(raw_root) if raw_root is not None else raw_dir()
    official = root / "official"
    official.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(official)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    results, log_rows = [], []
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=official) as scratch_dir:
        scratch = Path(scratch_dir)
        try:
            checksums = _mirror_checksums(origin, scratch) if origin is not None else {}
        except FetchError as exc:
            # Without the mirror's checksums nothing can be verified: fail every source.
            message = f"the mirror's SHA256SUMS could not be read: {exc}"
            return [
                FetchResult(e.id, "failed", message, required=e.required, requested=requested)
                for e in selected
            ]
        previous = {row["file"]: row for row in read_datalog(root / "README.md")}
        for entry in selected:
            result, rows = fetch_source(
                entry,
                mirror=origin,
                official=official,
                checksums=checksums,
                scratch=scratch,
                now=now,
            )
            result.requested = requested
            results.append(result)
            for row in rows:
                same = row.pop("_same")
                old = previous.get(row["file"])
                # An unchanged file keeps its log row (and date) if the log has it.
                if same and old is not None and old.get("sha256") == row["sha256"]:
                    continue
                log_rows.append(row)
    if log_rows:
        update_datalog(root / "README.md", log_rows)
    return results


def fetch_cli(
    mirror: str | None = None,
    only: Sequence[str] = (),
    raw_root: str | os.PathLike | None = None,
    out=None,
) -> int:
    """``workbook data fetch``: fetch, print one line per source, return the exit code.

    Returns
    -------
    int
        0 if every requested source is in place; 1 if a source failed, or a
        required (or explicitly requested) source is missing.

    Raises
    ------
    ParameterError
        Unknown ``--only`` id or mirror directory (the CLI exits 2).
    """
    out = out or sys.stdout
    _select(only)  # unknown ids are a usage error before anything happens
    origin = _resolve_mirror(mirror)
    where = f"mirror {origin.base}" if origin is not None else "the publishers (no mirror given)"
    print(f"workbook data fetch: from {where}", file=out)
    results = fetch(only=only, mirror=mirror, raw_root=raw_root)
    for result in results:
        label = result.status
        if result.status == "missing" and not result.is_failure:
            label = "missing (optional)"
        detail = result.message or ", ".join(result.files)
        print(f"  {label:<19} {result.source_id:<28} {detail}", file=out)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    failures = [r for r in results if r.is_failure]
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    print(f"{summary}; {len(failures)} problem(s)", file=out)
    return 1 if failures else 0
