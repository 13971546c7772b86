"""Small file helpers shared by every part of the workbook.

One SHA-256 hasher, one atomic writer and one bounded reader, so that hashing,
publishing and reading untrusted small files (notebooks, plans, parameter files)
behave the same everywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from analysis.errors import InputError

#: Small text inputs (notebooks, plans, parameter files) larger than this are refused.
MAX_SMALL_FILE_BYTES = 20 * 1024 * 1024


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half.

    The bytes go to a hidden temporary file beside ``path`` which then replaces it
    (``os.replace`` is atomic on one file system). Parent folders are created.

    Raises
    ------
    OSError
        When the folder cannot be written (the temporary file is removed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode(encoding))


def read_small_text(path: str | Path, what: str, *, max_bytes: int = MAX_SMALL_FILE_BYTES) -> str:
    """Read a small UTF-8 text file that someone handed us, refusing anything else.

    Special files (``/dev/zero``, FIFOs, folders) and files over ``max_bytes`` are
    refused before a byte is read, so a mistaken path gets an answer at once
    instead of a ``MemoryError``.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file should be, for messages ("notebook", "plan", "parameter file").
    max_bytes : int
        The largest accepted size.

    Returns
    -------
    str

    Raises
    ------
    InputError
        Missing, not a regular file, too large, unreadable or not UTF-8.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(path, f"{what} not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read {what}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, f"not a regular file; expected a {what}")
    if info.st_size > max_bytes:
        raise InputError(
            path,
            f"{info.st_size / 1e6:.0f} MB is far too large for a {what} "
            f"(at most {max_bytes / 1e6:.0f} MB)",
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(path, f"cannot read {what}: {exc.strerror}") from None
    if len(data) > max_bytes:  # it grew while we looked
        raise InputError(path, f"far too large for a {what} (at most {max_bytes / 1e6:.0f} MB)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start}); expected a {what}") from None
