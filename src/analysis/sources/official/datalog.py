"""The data log of fetched files: a Markdown table in ``data/raw/README.md`` between markers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

DATALOG_START = "<!-- datalog:start -->"
DATALOG_END = "<!-- datalog:end -->"
DATALOG_COLUMNS = ("source", "file", "publisher", "licence", "fetched_utc", "sha256", "origin")
_DATALOG_NOTE = "<!-- written by `workbook data fetch`; rows are replaced per file -->"


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
    atomic_write_text(readme, new_text)
    return True


def atomic_write_text(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~file_umask()
        os.chmod(temp, mode)
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


def file_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
