"""Checks of a downloaded official file before it replaces anything (``workbook data fetch``)."""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from analysis.errors import InputError
from analysis.sources.official.fetch_errors import FetchError


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
