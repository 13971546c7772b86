"""Prepared inputs: parsed, validated frames written once, read in milliseconds.

A reader such as :func:`analysis.sources.official.gv_isys.read_gv_kreise` (about 5 s for
the GV-ISys workbook) is run once per source file; its result is written as Parquet
under ``data/cache/prepared/`` and every later report reads that file instead.

Key
    The cache file's name carries the SHA-256 of the source file's bytes, the reader's
    name, its ``version`` and the SHA-256 of the reader's module source. A changed
    source file, a bumped reader version or an edited reader module each give a new
    key, so a stale frame is never read. Old files are simply left behind; the
    whole folder is disposable (``rm -r data/cache``).

Safety
    A cache file is written to a temporary file in the same folder and renamed into
    place (:func:`os.replace`, atomic on POSIX), so concurrent writers (parallel
    reports) never expose a half-written file: the last rename wins and both wrote the
    same content. A cache file that cannot be read is ignored and rewritten; a folder
    that cannot be written only costs the parse. ``WORKBOOK_PREPARED=off`` turns the
    cache off (every call parses).

Provenance
    The cache is an implementation detail: loaders still note the *original* file
    with :func:`analysis.note_input` (path, SHA-256, credit), so a report's manifest
    lists the source files, never the cache.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Version of the cache layout itself (bump when this module's format changes).
LAYOUT_VERSION = 1
_ATTRS_KEY = b"workbook.attrs"

_SHA_MEMO: dict[tuple[str, int, int], str] = {}
_CODE_MEMO: dict[str, str] = {}


def prepared_dir() -> Path:
    """``data/cache/prepared/`` (``WORKBOOK_CACHE_DIR`` overrides ``data/cache``)."""
    env = os.environ.get("WORKBOOK_CACHE_DIR")
    if env:
        return Path(env).resolve() / "prepared"
    from analysis.paths import cache_dir

    return cache_dir() / "prepared"


def enabled() -> bool:
    """False when ``WORKBOOK_PREPARED`` is ``off``/``0``/``no``."""
    return os.environ.get("WORKBOOK_PREPARED", "on").strip().lower() not in {"off", "0", "no"}


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, memoised per (path, size, mtime) within the process."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_MEMO:
        from analysis.files import sha256_file

        _SHA_MEMO[key] = sha256_file(resolved)
    return _SHA_MEMO[key]


def _code_digest(reader: Callable) -> str:
    module = sys.modules.get(getattr(reader, "__module__", ""), None)
    name = getattr(module, "__name__", repr(reader))
    if name not in _CODE_MEMO:
        try:
            source = inspect.getsource(module) if module is not None else repr(reader)
        except (OSError, TypeError):
            source = repr(reader)
        _CODE_MEMO[name] = hashlib.sha256(source.encode("utf-8")).hexdigest()
    return _CODE_MEMO[name]


def cache_key(path: str | Path, reader: Callable, version: str | int = 1) -> str:
    """The key of a prepared frame: source bytes, reader name, version and reader code.

    Parameters
    ----------
    path : path
        Source file.
    reader : callable
        The function that parses it (its module's source is part of the key).
    version : str or int
        The reader's declared version (bump to invalidate on purpose).

    Returns
    -------
    str
        Hex SHA-256.
    """
    parts = [
        f"layout={LAYOUT_VERSION}",
        f"reader={reader.__module__}.{reader.__qualname__}",
        f"version={version}",
        f"code={_code_digest(reader)}",
        f"source={file_sha256(path)}",
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def cache_path(path: str | Path, reader: Callable, version: str | int = 1) -> Path:
    """Where the prepared frame of ``path`` lies (whether or not it exists yet)."""
    return prepared_dir() / f"{_stem(path)}-{cache_key(path, reader, version)[:32]}.parquet"


def _stem(path: str | Path) -> str:
    return Path(path).name.replace(".", "_")[:60]


def code_digest(*modules: str) -> str:
    """SHA-256 over the source of the named modules (part of a cache key)."""
    import importlib

    digest = hashlib.sha256()
    for name in modules:
        module = importlib.import_module(name)
        if name not in _CODE_MEMO:
            _CODE_MEMO[name] = hashlib.sha256(inspect.getsource(module).encode()).hexdigest()
        digest.update(f"{name}={_CODE_MEMO[name]}\n".encode())
    return digest.hexdigest()


def inputs_digest(files: list[Path]) -> str:
    """SHA-256 over the resolved paths and contents (SHA-256) of input files."""
    digest = hashlib.sha256()
    for path in sorted(Path(f).resolve() for f in files):
        digest.update(f"{path}={file_sha256(path)}\n".encode())
    return digest.hexdigest()


def read_or_build(name: str, key: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The frame cached under (``name``, ``key``), else ``build()`` written there.

    Parameters
    ----------
    name : str
        Readable prefix of the cache file (e.g. ``"kreis_indicators"``).
    key : str
        Hex digest naming every input and the code version (the caller's duty).
    build : callable
        Produces the frame when it is not cached (its exceptions propagate).

    Returns
    -------
    pandas.DataFrame
    """
    if not enabled():
        return build()
    target = prepared_dir() / f"{name}-{key[:32]}.parquet"
    if target.is_file():
        frame = _read(target)
        if frame is not None:
            return frame
    frame = build()
    _write(frame, target)
    return frame


def read_prepared(
    path: str | Path,
    reader: Callable[[Path], pd.DataFrame],
    *,
    version: str | int = 1,
) -> pd.DataFrame:
    """``reader(path)``, from the prepared-inputs cache when it holds this file.

    Parameters
    ----------
    path : path
        Source file (never modified).
    reader : callable
        Parser returning a DataFrame whose ``attrs`` are JSON-serialisable (others are
        stored as strings).
    version : str or int
        The reader's version (part of the key).

    Returns
    -------
    pandas.DataFrame
        The same frame (values, dtypes, ``attrs``) as ``reader(path)``; ``attrs``
        went through JSON (tuples come back as lists, paths as text) and
        ``attrs["path"]`` names ``path`` even when the same bytes were cached from
        another location.

    Raises
    ------
    Whatever ``reader`` raises for a bad file (nothing is cached then).
    """
    source = Path(path)
    if not enabled():
        return reader(source)
    frame = read_or_build(_stem(source), cache_key(source, reader, version), lambda: reader(source))
    if "path" in frame.attrs:  # the same bytes may lie elsewhere: name this file
        frame.attrs["path"] = str(source)
    return frame


def _read(target: Path) -> pd.DataFrame | None:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(target)
        metadata = table.schema.metadata or {}
        attrs = json.loads(metadata.get(_ATTRS_KEY, b"{}"))
        frame = table.to_pandas()
    except (OSError, ValueError, TypeError) as error:  # corrupt or foreign: parse again
        print(f"prepared inputs: ignoring unreadable {target.name}: {error}", file=sys.stderr)
        return None
    frame.attrs = attrs
    return frame


def _write(frame: pd.DataFrame, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(frame, preserve_index=True)
        metadata = dict(table.schema.metadata or {})
        metadata[_ATTRS_KEY] = json.dumps(frame.attrs, default=str).encode("utf-8")
        table = table.replace_schema_metadata(metadata)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent
        )
        os.close(handle)
        try:
            pq.write_table(table, temporary)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except (OSError, pa.ArrowException) as error:  # read-only or full disk: parse next time
        print(f"prepared inputs: not cached ({target}): {error}", file=sys.stderr)
