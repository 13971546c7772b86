"""Readers of input files: one external format each, returning tidy, typed frames.

Official statistics:

- :func:`analysis.sources.official.genesis.read_ffcsv` — GENESIS / regionalstatistik flat files
  (current and older header variant);
- :func:`analysis.sources.official.classic.read_classic` — classic regionalstatistik tables;
- :func:`analysis.sources.official.gv_isys.read_gv_isys` — the Destatis Gemeindeverzeichnis;
- :func:`analysis.sources.official.vg2500.read_vg2500` / :func:`~analysis.sources.official.vg2500.read_geojson`
  — boundaries;
- :mod:`analysis.sources.official.bbsr` (Kreis crosswalk) and :mod:`analysis.sources.official.plz`
  (postcodes).

This module dispatches by sniffed format: :func:`sniff_format`, :func:`read_any`,
and the command-line entry points :func:`read_cli` (``workbook data read``) and
:func:`check_cli` (``workbook data check``). Every reader is imported lazily, so
importing this package stays cheap.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path
from typing import TextIO

from analysis.errors import InputError

#: Formats :func:`sniff_format` can name, with what they are.
FORMATS: dict[str, str] = {
    "ffcsv": "GENESIS flat file, current header (statistics_code;…;value;…)",
    "ffcsv_old": "GENESIS flat file, older German header (Statistik_Code;…)",
    "classic": "classic regionalstatistik table CSV (GENESIS-Tabelle: …)",
    "gv_isys": "Destatis Gemeindeverzeichnis workbook (GV-ISys Auszug, xlsx)",
    "bbsr": "BBSR Kreis crosswalk workbook (Umstiegsschlüssel, xlsx)",
    "plz": "postcode → Gemeinde mapping CSV (plz, ags)",
    "vg2500": "BKG VG2500 boundaries (ESRI shapefile)",
    "geojson": "boundaries as GeoJSON FeatureCollection",
    "kreis_list": "Kreis list CSV (ags5,name,kreis_type,…)",
    "kreis_changes": "Kreis changes CSV (kreis_from,…,kreis_to,…,effective_date,…)",
    "firms": "Hidden Champions firm list (data/raw/firms/)",
    "salesforce": "Salesforce Data Export CSV (data/raw/crm/<Object>.csv, any case)",
    "salesforce_report": "Salesforce opportunity report export (CSV or XLSX in data/raw/crm/)",
    "pardot": "Pardot prospect export (data/raw/crm/pardot/)",
}

#: Formats whose reader returns the tidy statistics layout.
TIDY_FORMATS = frozenset({"ffcsv", "ffcsv_old", "classic", "gv_isys"})

_SHAPE_COMPANIONS = (".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".fix", ".xml")
_DOCUMENTATION = (".md", ".rst", ".html", ".pdf")


# --------------------------------------------------------------------------- sniffing


def sniff_format(path: str | Path) -> str:
    """Name the format of an input file from its content (and folder, for CRM and firms).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    InputError
        If the file is missing or of no supported format.
    """
    from analysis.sources.text import regular_file

    path = Path(path)
    regular_file(path)
    fmt = _sniff(path)
    if fmt is None:
        raise InputError(
            path,
            "unknown format; expected one of: "
            + "; ".join(f"{name} ({what})" for name, what in FORMATS.items()),
        )
    return fmt


def _sniff(path: Path) -> str | None:
    suffix = path.suffix.lower()
    parts = {p.lower() for p in path.parts[:-1]}
    if suffix == ".shp":
        return "vg2500"
    if "crm" in parts:
        # By name and place first, as load_crm finds them: a UTF-16 or binary file
        # saved as Opportunity.csv is then read - and fails - instead of passing as
        # "not recognised".
        crm_format = _sniff_crm(path, parts)
        if crm_format is not None:
            return crm_format
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith(b"PK\x03\x04"):
        return _sniff_workbook(path, parts)
    if suffix == ".geojson":
        return "geojson"  # the reader says what is wrong with it, if anything
    if suffix == ".json":
        # Key order is free in JSON: "type" may come after a long "features" list.
        return "geojson" if b"FeatureCollection" in head or b'"features"' in head else None
    from analysis.sources.encoding import decode_head

    text = decode_head(head)
    if text is None:
        return None
    first = text.lstrip().split("\n", 1)[0].strip()
    if first.startswith("GENESIS-Tabelle"):
        return "classic"
    fields = {f.strip().strip('"').lower() for f in first.replace(",", ";").split(";")}
    if "statistics_code" in fields or {"value_variable_code", "time_code"} <= fields:
        return "ffcsv"
    if "statistik_code" in fields or {"zeit_code", "1_merkmal_code"} <= fields:
        return "ffcsv_old"
    if "firms" in parts and suffix in (".csv", ".txt"):
        return "firms"
    if not all(re.fullmatch(r"[a-z0-9_\-]+", f) for f in fields):
        return None  # not a header line of identifiers (e.g. a text note)
    if "plz" in fields and fields & {"ags", "ags8"}:
        return "plz"
    if {"ags5", "kreis_type"} <= fields:
        return "kreis_list"
    if {"kreis_from", "kreis_to", "effective_date"} <= fields:
        return "kreis_changes"
    return None


def _sniff_workbook(path: Path, parts: set[str]) -> str | None:
    """gv_isys, bbsr or firms from an xlsx file's sheet names and shared strings."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
            strings = ""
            if "xl/sharedStrings.xml" in names:
                with archive.open("xl/sharedStrings.xml") as handle:
                    strings = handle.read(1 << 20).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return None
    sheets = re.findall(r'<sheet[^>]*\bname="([^"]*)"', workbook)
    lowered = strings.lower()
    if ("satz-art" in lowered or "satzart" in lowered) and "gemeindename" in lowered:
        return "gv_isys"
    # The BBSR workbook has one sheet per year ("1990-2020", …).
    if sum(bool(re.fullmatch(r"(19|20)\d\d(-(19|20)\d\d)?", s.strip())) for s in sheets) >= 3:
        return "bbsr"
    if "firms" in parts:
        return "firms"
    return None


def _sniff_crm(path: Path, parts: set[str]) -> str | None:
    """The CRM format of a file under ``crm/``, as :func:`load_crm` would read it."""
    suffix = path.suffix.lower()
    if suffix == ".csv" and ("pardot" in parts or "prospects" in path.stem.lower()):
        return "pardot"
    if suffix == ".csv" and _salesforce_object(path) is not None:
        return "salesforce"
    if suffix in (".csv", ".xlsx"):
        from analysis.sources.crm.reports import looks_like_report

        if looks_like_report(path):
            return "salesforce_report"
    return None


def _salesforce_object(path: Path) -> str | None:
    """The Salesforce object a Data Export file holds (file name matched in any case)."""
    from analysis.sources.crm.objects import SPECS

    by_lower = {name.lower(): name for name in SPECS}
    return by_lower.get(path.stem.lower())


# --------------------------------------------------------------------------- reading


def read_any(path: str | Path, fmt: str | None = None):
    """Read any supported input file with the reader of its (sniffed) format.

    Parameters
    ----------
    path : str or Path
    fmt : str, optional
        Force a format (a key of :data:`FORMATS`); default: :func:`sniff_format`.

    Returns
    -------
    pandas.DataFrame
        For statistics (:data:`TIDY_FORMATS`) the tidy long frame
        (:data:`analysis.sources.official.genesis.TIDY_COLUMNS` plus one column per
        further dimension; the GV-ISys workbook as area and population of Kreise
        and Gemeinden); for the other formats the reader's own frame (boundaries,
        crosswalk, postcodes, Kreis list, firms, CRM object).

    Raises
    ------
    InputError
        Unknown format or bad input (file, line and column named).
    """
    path = Path(path)
    if fmt is None:
        fmt = sniff_format(path)
    if fmt not in FORMATS:
        raise InputError(path, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    from analysis.sources.text import regular_file

    regular_file(path)
    if fmt in ("ffcsv", "ffcsv_old"):
        from analysis.sources.official.genesis import read_ffcsv

        frame = read_ffcsv(path)
        if frame.attrs["variant"] != fmt:
            frame.attrs["note"] = f"read as {frame.attrs['variant']} (asked for {fmt})"
        return frame
    if fmt == "classic":
        from analysis.sources.official.classic import read_classic

        return read_classic(path)
    if fmt == "gv_isys":
        from analysis.sources.official.gv_isys import gv_isys_tidy, read_gv_isys

        return gv_isys_tidy(read_gv_isys(path))
    if fmt == "bbsr":
        from analysis.sources.official.bbsr import read_bbsr_crosswalk

        return read_bbsr_crosswalk(path)
    if fmt == "plz":
        from analysis.sources.official.plz import read_plz

        return read_plz(path)
    if fmt == "vg2500":
        from analysis.sources.official.vg2500 import read_vg2500

        return read_vg2500(path)
    if fmt == "geojson":
        from analysis.sources.official.vg2500 import read_geojson

        return read_geojson(path)
    if fmt == "kreis_list":
        from analysis.sources.official.kreis_list import read_kreis_list

        return read_kreis_list(path)
    if fmt == "kreis_changes":
        from analysis.sources.official.bbsr import read_kreis_changes

        return read_kreis_changes(path)
    return _read_other(path, fmt)


#: A throw-away pseudonym key: checking a CRM export must not create or need the real one.
_CHECK_KEY = b"workbook-data-check-only-key"


def _read_other(path: Path, fmt: str):
    """Firms and CRM exports: their readers return richer objects; take the frame."""
    if fmt == "firms":
        from analysis.sources.firms import read_firm_list

        result = read_firm_list(path)
        frame = result.frame
        frame.attrs["n_quarantined"] = len(result.quarantine)
        return frame
    if fmt == "salesforce":
        from analysis.sources.crm.dataexport import read_export

        object_name = _salesforce_object(path)
        if object_name is None:
            raise InputError(path, "the file name is not a Salesforce object (Opportunity.csv …)")
        result = read_export(path, object_name, key=_CHECK_KEY)
    elif fmt == "salesforce_report":
        from analysis.sources.crm.reports import read_report

        result = read_report(path, key=_CHECK_KEY)
    else:
        from analysis.sources.crm.pardot import read_prospects

        result = read_prospects(path, key=_CHECK_KEY)
    frame = result.frame
    frame.attrs["n_quarantined"] = len(result.quarantine)
    return frame


# --------------------------------------------------------------------------- CLI


def read_cli(path: str | Path, fmt: str | None = None, out: TextIO | None = None) -> int:
    """``workbook data read FILE [--format F]``: print a file as tidy CSV.

    Statistics print in the tidy layout (``statistic, level, ags, region_name,
    time, period_start, measure, measure_label, unit, value, flag, quality`` and
    one column per further dimension); other formats print their reader's frame
    (boundaries with a ring/point count and bounding box instead of coordinates).

    Parameters
    ----------
    path : str or Path
    fmt : str, optional
        Force a format; default sniffed.
    out : file-like, optional
        Where the CSV goes (default standard output).

    Returns
    -------
    int
        0 on success, 2 on bad input (a one-line message naming file and line on
        standard error).
    """
    out = sys.stdout if out is None else out
    try:
        frame = read_any(path, fmt)
    except InputError as exc:
        print("workbook: error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    frame = _printable(frame)
    try:
        frame.to_csv(out, index=False, float_format="%.15g", lineterminator="\n")
    except BrokenPipeError:  # e.g. `workbook data read … | head`
        return 0
    return 0


def _printable(frame):
    """Dates as ISO text; geometry replaced by counts and a bounding box."""
    import numpy as np

    if "geometry" in frame.columns:
        geometry = frame["geometry"]
        stacked = [np.vstack(rings) if len(rings) else np.empty((0, 2)) for rings in geometry]
        frame = frame.drop(columns="geometry").assign(
            n_rings=[len(rings) for rings in geometry],
            n_points=[len(points) for points in stacked],
            lon_min=[p[:, 0].min() if len(p) else np.nan for p in stacked],
            lat_min=[p[:, 1].min() if len(p) else np.nan for p in stacked],
            lon_max=[p[:, 0].max() if len(p) else np.nan for p in stacked],
            lat_max=[p[:, 1].max() if len(p) else np.nan for p in stacked],
        )
    if "period_start" in frame.columns:
        frame = frame.assign(period_start=frame["period_start"].dt.strftime("%Y-%m-%d"))
    return frame


def check_cli(root: str | Path | None = None, out: TextIO | None = None) -> int:
    """``workbook data check [ROOT]``: validate every input file under ``data/raw/``.

    Every file whose format can be sniffed is read with its reader; every
    problem is reported (the check does not stop at the first), files of no
    known format are listed; documentation (``*.md``, ``README*``, text notes
    such as ``PROVENANCE.txt``) and shapefile companions are skipped.

    Parameters
    ----------
    root : str or Path, optional
        Folder to check (default :func:`analysis.paths.raw_dir`).
    out : file-like, optional
        Where the report goes (default standard output).

    Returns
    -------
    int
        0 when every recognised file reads, 1 when any does not (or nothing was
        found to check).

    Raises
    ------
    InputError
        If ``root`` is not a folder.
    """
    from analysis.paths import raw_dir

    out = sys.stdout if out is None else out
    root = Path(root) if root is not None else raw_dir()
    if not root.is_dir():
        raise InputError(root, "expected a folder of input files (data/raw/), found none")
    entries = sorted(p for p in root.rglob("*") if not p.is_dir() and not _hidden(p, root))
    n_problems = n_unknown = checked = 0
    for path in entries:
        shown = path.relative_to(root)
        if _skipped(path):
            continue
        status, fmt, message = _check_one(path, root)
        if not status:
            continue
        checked += fmt is not None
        n_problems += status == "FAIL"
        n_unknown += fmt is None
        label = f"  [{fmt}]" if fmt is not None else ""
        print(f"{status:<4}  {shown}{label}  {message}", file=out)
    print(
        f"{checked} file(s) checked, {n_problems} with problems, "
        f"{n_unknown} not recognised (under {root})",
        file=out,
    )
    if checked == 0 and n_problems == 0:
        print("nothing to check: run `workbook data fetch` first", file=out)
        return 1
    return 1 if n_problems else 0


#: Folders of data/raw/ whose every file must be readable by some reader.
_STRICT_FOLDERS = ("crm", "firms", "official")


def _check_one(path: Path, root: Path) -> tuple[str, str | None, str]:
    """``(status, format, message)`` of one file: ok, FAIL or ?? (not recognised)."""
    from analysis.sources.text import regular_file

    strict = path.relative_to(root).parts[0].lower() in _STRICT_FOLDERS
    try:
        regular_file(path)
        fmt = _sniff(path)
    except (InputError, OSError) as exc:
        return "FAIL", None, " ".join(str(exc).split())
    if fmt is None:
        if path.suffix.lower() == ".txt" and b"\x00" not in _head(path):
            return "", None, ""  # plain-text notes (PROVENANCE.txt) are not inputs
        if strict:
            return "FAIL", None, f"no reader can use this file: {_what_it_is(path)}"
        return "??", None, "not a recognised format (not checked)"
    try:
        frame = read_any(path, fmt)
    except InputError as exc:
        return "FAIL", fmt, " ".join(str(exc).split())
    except Exception as exc:  # noqa: BLE001 - a check reports, it does not crash
        return "FAIL", fmt, f"unexpected {type(exc).__name__}: {exc}"
    return "ok", fmt, f"{len(frame)} rows{_notes(frame, fmt)}"


def _head(path: Path, size: int = 4096) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _what_it_is(path: Path) -> str:
    """What a file that no reader recognises looks like (never its content)."""
    head = _head(path)
    if not head.strip():
        return "it is empty"
    if head.startswith(b"\x89PNG") or head[:3] == b"\xff\xd8\xff" or head[:4] == b"%PDF":
        return "an image or PDF, not a data file"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return "UTF-16 text or binary data; save data files as UTF-8 (or Windows-1252) CSV"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or a workbook of no known layout"
    where = path.relative_to(path.parent.parent) if path.parent != path.parent.parent else path
    return f"a text file of no known layout ({where}); expected one of: " + ", ".join(FORMATS)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _skipped(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in _DOCUMENTATION or path.name.upper().startswith("README"):
        return True
    if suffix in _SHAPE_COMPANIONS:
        # Part of a shapefile set: checked with its .shp.
        return path.with_suffix(".shp").is_file() or path.with_suffix(".SHP").is_file()
    return False


def _notes(frame, fmt: str) -> str:
    attrs = frame.attrs
    notes = []
    if attrs.get("encoding") == "cp1252":
        notes.append("decoded as Windows-1252")
    if fmt in TIDY_FORMATS and "flag" in frame.columns:
        flagged = int((frame["flag"] != "").sum())
        if flagged:
            notes.append(f"{flagged} special values")
    if attrs.get("n_quarantined"):
        notes.append(f"{attrs['n_quarantined']} rows quarantined")
    if attrs.get("n_unparsed_times"):
        notes.append(f"{attrs['n_unparsed_times']} times not understood")
    return f" ({'; '.join(notes)})" if notes else ""
