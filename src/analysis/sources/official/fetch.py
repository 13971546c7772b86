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
import http.client
import json
import os
import shutil
import struct
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.sources.official.catalogue import GENESIS_REGIO_URL, Source, catalogue

DATALOG_START = "<!-- datalog:start -->"
DATALOG_END = "<!-- datalog:end -->"
DATALOG_COLUMNS = ("source", "file", "publisher", "licence", "fetched_utc", "sha256", "origin")
_DATALOG_NOTE = "<!-- written by `workbook data fetch`; rows are replaced per file -->"

CHUNK = 1 << 20
USER_AGENT = "champions-workbook-fetch/0.1 (+https://www.regionalstatistik.de)"


class FetchError(Exception):
    """One source could not be fetched (reported, the others go on)."""


class MissingInMirror(FetchError):
    """The mirror does not have the file."""


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


def _timeout() -> float:
    try:
        return float(os.environ.get("WORKBOOK_FETCH_TIMEOUT", "60"))
    except ValueError:
        return 60.0


def _stream(response, target: Path, *, what: str) -> tuple[int, str]:
    """Copy a response body to ``target``; check completeness against Content-Length."""
    expected = response.headers.get("Content-Length")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(target, "wb") as out:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"download of {what} broke off after {size} bytes: {exc}") from None
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise FetchError(f"incomplete download of {what}: received {size} of {expected} bytes")
    return size, digest.hexdigest()


def _open_url(request: urllib.request.Request, what: str):
    try:
        return urllib.request.urlopen(request, timeout=_timeout())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise MissingInMirror(f"{what}: not found (HTTP 404)") from None
        raise FetchError(f"{what}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        host = urllib.parse.urlparse(request.full_url).netloc
        raise FetchError(
            f"cannot reach {host} ({reason}); without internet access use "
            "--mirror DIR_OR_URL or WORKBOOK_MIRROR"
        ) from None


def _get(url: str, target: Path) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with _open_url(request, url) as response:
        return _stream(response, target, what=url)


def _from_mirror(mirror: _Mirror, folder: str, name: str, target: Path) -> None:
    if mirror.is_url:
        _get(mirror.describe(folder, name), target)
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
            _get(mirror.base + "SHA256SUMS", target)
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


# ------------------------------------------------------------------ GENESIS web service


def genesis_credentials() -> dict[str, str]:
    """Request headers with the GENESIS credentials from the environment.

    ``GENESIS_TOKEN`` (an API token, sent as the user name with an empty
    password) or ``GENESIS_USERNAME`` and ``GENESIS_PASSWORD``.

    Raises
    ------
    FetchError
        When neither is set.
    """
    token = os.environ.get("GENESIS_TOKEN", "").strip()
    user = os.environ.get("GENESIS_USERNAME", "").strip()
    password = os.environ.get("GENESIS_PASSWORD", "")
    if token:
        return {"username": token, "password": ""}
    if user and password:
        return {"username": user, "password": password}
    raise FetchError(
        "GENESIS credentials missing: set GENESIS_TOKEN, or GENESIS_USERNAME and "
        "GENESIS_PASSWORD (free registration at regionalstatistik.de), or fetch from a "
        "mirror with --mirror DIR_OR_URL"
    )


def _genesis_table(entry: Source, target: Path) -> str:
    """Download a table via POST data/tablefile; return the request URL."""
    base = os.environ.get("GENESIS_URL", GENESIS_REGIO_URL).rstrip("/") + "/"
    url = base + "data/tablefile"
    headers = {
        **genesis_credentials(),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": USER_AGENT,
    }
    form = {"name": entry.product, "area": "all", "compress": "false", **entry.genesis}
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode("ascii"), headers=headers, method="POST"
    )
    raw = target.with_name(target.name + ".response")
    try:
        with _open_url(request, url) as response:
            content_type = response.headers.get("Content-Type", "")
            _stream(response, raw, what=f"GENESIS table {entry.product}")
        head = raw.read_bytes()[:4]
        if head.startswith(b"PK"):
            _unzip_single(raw, target, what=f"GENESIS table {entry.product}")
        elif "json" in content_type or head.lstrip().startswith(b"{"):
            _raise_genesis_status(raw, entry.product)
        else:
            os.replace(raw, target)
    except MissingInMirror as exc:
        raise FetchError(f"GENESIS web service: {exc}") from None
    finally:
        raw.unlink(missing_ok=True)
    return url


def _raise_genesis_status(raw: Path, table: str) -> None:
    try:
        body = json.loads(raw.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError:
        raise FetchError(
            f"GENESIS table {table}: unexpected answer (neither CSV nor ZIP)"
        ) from None
    status = body.get("Status", body) if isinstance(body, dict) else {}
    code = status.get("Code")
    content = status.get("Content", "")
    if code == 98:
        raise FetchError(
            f"GENESIS table {table} is too large for a direct download (status 98: {content}); "
            "GENESIS prepares it only as a background job, which this command does not run. "
            "Download it in the GENESIS web interface or use a mirror"
        )
    raise FetchError(f"GENESIS table {table}: the service answered status {code}: {content}")


def _unzip_single(archive: Path, target: Path, *, what: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise FetchError(f"{what}: expected one file in the ZIP, found {len(members)}")
            with zf.open(members[0]) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise FetchError(f"{what}: damaged ZIP ({exc})") from None


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


# ------------------------------------------------------------------ verification


def _check_size(path: Path, name: str) -> None:
    if path.stat().st_size == 0:
        raise FetchError(f"{name}: empty file")


def _check_shp(path: Path, name: str) -> None:
    data = path.read_bytes()[:100]
    if len(data) < 100 or struct.unpack(">i", data[:4])[0] != 9994:
        raise FetchError(f"{name}: not an ESRI shapefile part (bad header)")
    declared = struct.unpack(">i", data[24:28])[0] * 2
    if declared != path.stat().st_size:
        raise FetchError(
            f"{name}: truncated: header says {declared} bytes, file has {path.stat().st_size}"
        )


def _check_dbf(path: Path, name: str) -> None:
    data = path.read_bytes()[:32]
    if len(data) < 32:
        raise FetchError(f"{name}: not a dBase file")
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    expected = header_len + n_records * record_len
    if path.stat().st_size not in (expected, expected + 1):
        raise FetchError(
            f"{name}: truncated or damaged dBase file: expected {expected} bytes, "
            f"found {path.stat().st_size}"
        )


def _check_text(path: Path, name: str, encodings: Sequence[str] = ("utf-8-sig",)) -> str:
    data = path.read_bytes()
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FetchError(f"{name}: not text in {', '.join(encodings)}")


def _check_xlsx(path: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                raise FetchError(f"{name}: a ZIP, but not an xlsx workbook")
            bad = zf.testzip()
            if bad is not None:
                raise FetchError(f"{name}: damaged xlsx (CRC error in {bad})")
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{name}: not a complete xlsx ({exc})") from None


def _reader(module: str, names: Iterable[str]) -> Callable | None:
    """A project reader if it exists (readers are written by several people)."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for name in names:
        func = getattr(mod, name, None)
        if callable(func):
            return func
    return None


def _parse_with(reader: Callable | None, path: Path, name: str) -> None:
    if reader is None:
        return
    try:
        reader(path)
    except InputError as exc:
        raise FetchError(
            f"{name}: does not parse: {exc.reason}" + (f" (line {exc.line})" if exc.line else "")
        ) from None


def verify_file(path: Path, name: str, fmt: str) -> None:
    """Check a downloaded file before it replaces anything.

    Parameters
    ----------
    path : Path
        The temporary file.
    name : str
        Its final name (for messages and per-part checks of a shapefile set).
    fmt : str
        The catalogue format key.

    Raises
    ------
    FetchError
        Empty, truncated, of the wrong kind, or rejected by the project's reader.
    """
    _check_size(path, name)
    suffix = Path(name).suffix.lower()
    if fmt == "shp":
        if suffix in (".shp", ".shx"):
            _check_shp(path, name)
        elif suffix == ".dbf":
            _check_dbf(path, name)
        else:
            _check_text(path, name, ("utf-8", "latin-1"))
        return
    if fmt == "ffcsv":
        text = _check_text(path, name, ("utf-8-sig", "cp1252", "latin-1"))
        first = text.split("\n", 1)[0].lower()
        if not first.startswith(("statistics_code;", "statistik_code;")):
            raise FetchError(f"{name}: not a GENESIS flat file (first line {first[:40]!r})")
        _parse_with(_reader("analysis.sources.official.genesis", ["read_ffcsv"]), path, name)
    elif fmt == "classic":
        text = _check_text(path, name, ("latin-1",))
        if not text.lstrip().lower().startswith("genesis-tabelle"):
            raise FetchError(
                f"{name}: not a regionalstatistik table CSV (no 'GENESIS-Tabelle' title)"
            )
        _parse_with(_reader("analysis.sources.official.classic", ["read_classic"]), path, name)
    elif fmt in ("xlsx", "bbsr", "gv_isys"):
        _check_xlsx(path, name)
        if fmt == "bbsr":
            _parse_with(
                _reader("analysis.sources.official.bbsr", ["read_bbsr_crosswalk"]), path, name
            )
        elif fmt == "gv_isys":
            _parse_with(
                _reader(
                    "analysis.sources.official.gv_isys",
                    ["read_gv_isys", "read_gemeindeverzeichnis"],
                ),
                path,
                name,
            )
    elif fmt == "plz":
        _parse_with(_reader("analysis.sources.official.plz", ["read_plz"]), path, name)
    elif fmt == "geojson":
        try:
            body = json.loads(_check_text(path, name))
        except json.JSONDecodeError as exc:
            raise FetchError(f"{name}: not complete JSON ({exc})") from None
        if (
            not isinstance(body, dict)
            or body.get("type") != "FeatureCollection"
            or not body.get("features")
        ):
            raise FetchError(f"{name}: expected a GeoJSON FeatureCollection with features")
    elif fmt == "csv":
        _check_text(path, name, ("utf-8-sig", "cp1252"))
    else:  # pragma: no cover - catalogue formats are all handled above
        raise FetchError(f"{name}: unknown format {fmt!r}")


# ------------------------------------------------------------------ data log


def _cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _split_row(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells, current, escaped = [], [], False
    for char in body:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip())
    return cells


def _datalog_rows(text: str) -> list[dict[str, str]]:
    start, end = text.find(DATALOG_START), text.find(DATALOG_END)
    if start < 0 or end < start:
        return []
    rows = []
    for line in text[start + len(DATALOG_START) : end].splitlines():
        if not line.strip().startswith("|"):
            continue
        cells = _split_row(line)
        if cells == list(DATALOG_COLUMNS) or set("".join(cells)) <= set("-: "):
            continue
        if len(cells) == len(DATALOG_COLUMNS):
            rows.append(dict(zip(DATALOG_COLUMNS, cells, strict=True)))
    return rows


def read_datalog(readme: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """The rows of the data log (one per fetched file).

    Parameters
    ----------
    readme : path, optional
        Default ``data/raw/README.md``.

    Returns
    -------
    list of dict
        Keys :data:`DATALOG_COLUMNS`; ``file`` is relative to ``data/raw/``.
    """
    from analysis.paths import raw_dir

    path = Path(readme) if readme is not None else raw_dir() / "README.md"
    if not path.is_file():
        return []
    return _datalog_rows(path.read_text(encoding="utf-8"))


def update_datalog(readme: Path, rows: Iterable[dict[str, str]]) -> bool:
    """Insert or replace data-log rows (keyed by ``file``), keeping all other text.

    Creates the README or the markers if missing. Writes atomically and only when
    the content changes.

    Returns
    -------
    bool
        Whether the file was written.
    """
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    start, end = text.find(DATALOG_START), text.find(DATALOG_END)
    if start < 0 or end < start:
        separator = (
            "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        )
        text = f"{text}{separator}{DATALOG_START}\n{DATALOG_END}\n"
        start, end = text.find(DATALOG_START), text.find(DATALOG_END)
    merged = {row["file"]: row for row in _datalog_rows(text)}
    for row in rows:
        merged[row["file"]] = {col: str(row.get(col, "")) for col in DATALOG_COLUMNS}
    lines = [
        _DATALOG_NOTE,
        "| " + " | ".join(DATALOG_COLUMNS) + " |",
        "|" + "|".join("---" for _ in DATALOG_COLUMNS) + "|",
    ]
    for file in sorted(merged):
        lines.append("| " + " | ".join(_cell(merged[file][col]) for col in DATALOG_COLUMNS) + " |")
    block = DATALOG_START + "\n" + "\n".join(lines) + "\n" + DATALOG_END
    new_text = text[:start] + block + text[end + len(DATALOG_END) :]
    if new_text == text:
        return False
    readme.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(readme, new_text)
    return True


def _atomic_write_text(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(temp, mode)
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


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
    os.chmod(temp, 0o666 & ~_umask())
    return Path(temp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
        url = _genesis_table(entry, temp)
        return {name: f"{url} (GENESIS web service, table {entry.product})"}
    if entry.kind == "http":
        ((name, temp),) = temps.items()
        _get(entry.download_url, temp)
        return {name: entry.download_url}
    if entry.kind == "zip":
        archive = scratch / f"{entry.id}.zip"
        _get(entry.download_url, archive)
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
