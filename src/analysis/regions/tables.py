"""Finding, reading and merging the statistical tables behind the Kreis indicators.

A table (a statistic such as 12411 population) often lies in several files: one per
vintage (``12411-01-01-4_de_flat.csv`` for 31.12.2024 and
``12411-01-01-4_2023-12-31_de_flat.csv`` for 31.12.2023), or one file per level. They
are identified by the statistic code *inside* the file, read through the prepared-inputs
cache (:mod:`analysis.prepared`), and merged into one long frame with a ``source_file``
column, so that an indicator can take the latest date at which Kreise have values and
credit exactly the file that supplied it.

Classic table downloads (``GENESIS-Tabelle: 21111-02-06-4`` in the first line) are found
separately (:func:`find_classic_tables`): their years often stand on an older territory
and are never merged silently with the flat files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Reader versions, part of the prepared-inputs key (bump when a reader's output changes).
FFCSV_VERSION = 1
CLASSIC_VERSION = 1

#: Column naming the file a row was read from (merged frames only).
SOURCE_FILE = "source_file"
TOTAL_CODES = frozenset({"", "INSGESAMT"})
#: City-states that classic Kreis tables show only as Land rows.
CITY_STATES = {"02": "02000", "11": "11000"}
_CLASSIC_HEAD = re.compile(rb"GENESIS-Tabelle:\s*([0-9][0-9A-Za-z-]+)")

_PEEK_CACHE: dict[tuple[str, int, int], str | None] = {}


def peek_statistic(path: Path) -> str | None:
    """The statistic code of a GENESIS flat file from its first data line (else None)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _PEEK_CACHE:
        return _PEEK_CACHE[key]
    from analysis.sources.official.genesis import sniff_variant

    with open(path, "rb") as handle:
        head = handle.read(8192)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    lines = text.splitlines()
    code = None
    if len(lines) >= 2:
        header = [h.strip() for h in lines[0].split(";")]
        if sniff_variant(header) is not None:
            code = lines[1].split(";", 1)[0].strip().strip('"') or None
    _PEEK_CACHE[key] = code
    return code


def _is_english(path: Path) -> bool:
    return "_en_" in path.name or path.name.endswith("_en.csv")


def find_tables(official_root: str | Path) -> dict[str, list[Path]]:
    """GENESIS flat files under a folder, by statistic code.

    Parameters
    ----------
    official_root : path
        The ``official/`` folder of a dataset (searched recursively).

    Returns
    -------
    dict
        Statistic code (e.g. ``"12411"``) → files, German exports first, then by name.
    """
    found: dict[str, list[Path]] = {}
    root = Path(official_root)
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*.csv")):
        code = peek_statistic(path)
        if code:
            found.setdefault(code, []).append(path)
    for files in found.values():
        files.sort(key=lambda p: (_is_english(p), p.name))
    return found


def find_classic_tables(official_root: str | Path) -> dict[str, Path]:
    """Classic table downloads under a folder, by table code (``"21111-02-06-4"``)."""
    found: dict[str, Path] = {}
    root = Path(official_root)
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*.csv")):
        with open(path, "rb") as handle:
            match = _CLASSIC_HEAD.match(handle.read(200).lstrip(b"\xef\xbb\xbf"))
        if match:
            found.setdefault(match.group(1).decode("ascii"), path)
    return found


def read_table(path: Path) -> pd.DataFrame:
    """A flat file through the prepared-inputs cache."""
    from analysis.prepared import read_prepared
    from analysis.sources.official.genesis import read_ffcsv

    return read_prepared(path, read_ffcsv, version=FFCSV_VERSION)


def read_classic_table(path: Path) -> pd.DataFrame:
    """A classic table download through the prepared-inputs cache."""
    from analysis.prepared import read_prepared
    from analysis.sources.official.classic import read_classic

    return read_prepared(path, read_classic, version=CLASSIC_VERSION)


def read_vintages(paths: list[Path]) -> pd.DataFrame:
    """Every vintage of one table merged: one row per value, the newest file winning.

    Parameters
    ----------
    paths : list of Path
        Files of one statistic (from :func:`find_tables`). English exports are used
        only when there is no German one (they repeat the same values).

    Returns
    -------
    pandas.DataFrame
        The tidy rows of all files plus :data:`SOURCE_FILE`; where two files hold the
        same value (same level, region, date, measure and dimensions) the file whose
        latest date is newer is kept (a later release revises earlier dates).
        ``attrs`` of the newest file, plus ``files`` (path → dates it holds).
    """
    import pandas as pd

    german = [p for p in paths if not _is_english(p)]
    chosen = german or list(paths)
    frames = []
    for path in chosen:
        frame = read_table(path)
        frames.append((str(frame["period_start"].max()), str(path), frame))
    frames.sort(key=lambda item: (item[0], item[1]), reverse=True)
    attrs = dict(frames[0][2].attrs)
    attrs["files"] = {
        name: sorted({str(t) for t in frame["time"].dropna()}) for _, name, frame in frames
    }
    merged = pd.concat(
        [frame.assign(**{SOURCE_FILE: name}) for _, name, frame in frames], ignore_index=True
    )
    keys = ["level", "ags", "time", "measure", *dimension_columns(merged)]
    merged = merged.drop_duplicates(subset=keys, keep="first").reset_index(drop=True)
    merged.attrs = attrs
    return merged


def dimension_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a tidy frame that are dimensions (not the tidy layout)."""
    from analysis.sources.official.genesis import TIDY_COLUMNS

    return [c for c in frame.columns if c not in TIDY_COLUMNS and c != SOURCE_FILE]


def kreis_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of Kreise (level ``KREISE``, 5-digit ``ags``).

    City-states that a table shows only as Land rows (``02`` Hamburg, ``11`` Berlin,
    as in classic Kreis tables) are taken as Kreise ``02000`` and ``11000``.
    """
    import pandas as pd

    five = frame["ags"].str.fullmatch(r"\d{5}").fillna(False).astype(bool)
    kreise = frame.loc[frame["level"].eq("KREISE") & five]
    present = set(kreise["ags"])
    extra = [
        frame.loc[frame["level"].eq("DLAND") & frame["ags"].eq(land)].assign(
            level="KREISE", ags=kreis
        )
        for land, kreis in CITY_STATES.items()
        if kreis not in present
    ]
    extra = [part for part in extra if len(part)]
    if not extra:
        return kreise
    out = pd.concat([kreise, *extra], ignore_index=True)
    out.attrs = frame.attrs
    return out


def is_total(values: pd.Series) -> pd.Series:
    """True where a dimension cell is its total (``""``, ``INSGESAMT``, ``Insgesamt``)."""
    return values.fillna("").astype(str).str.strip().str.upper().isin(TOTAL_CODES)


def totals(frame: pd.DataFrame, keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows where every dimension except ``keep`` is at its total."""
    import pandas as pd

    mask = pd.Series(True, index=frame.index)
    for column in dimension_columns(frame):
        if column in keep:
            continue
        mask &= is_total(frame[column])
    return frame.loc[mask]


def times(frame: pd.DataFrame) -> list[str]:
    """The distinct dates of a frame, oldest first."""
    order = frame[["time", "period_start"]].drop_duplicates().sort_values(["period_start", "time"])
    return [str(t) for t in order["time"]]


def values_at(frame: pd.DataFrame, time: str, current: list[str]) -> pd.Series | None:
    """Kreis values at ``time`` with ``-`` as 0; None when no current Kreis has a number."""
    at = frame.loc[frame["time"].eq(time)].drop_duplicates("ags").set_index("ags")
    at = at.reindex(current)
    if not at["value"].notna().any():
        return None
    values = at["value"].where(~at["flag"].eq("-"), 0.0)
    return values.astype("float64")


def latest_values(
    frame: pd.DataFrame, current: list[str]
) -> tuple[pd.Series | None, str, list[str]]:
    """Values at the latest date that has numbers; also the (later) dates skipped."""
    skipped = []
    for time in reversed(times(frame)):
        values = values_at(frame, time, current)
        if values is not None:
            return values, time, skipped
        skipped.append(time)
    return None, "", skipped


def files_at(frame: pd.DataFrame, time: str) -> list[Path]:
    """The files that supplied the rows at ``time`` (merged frames), else ``[]``."""
    if SOURCE_FILE not in frame.columns:
        return []
    return [Path(p) for p in sorted(set(frame.loc[frame["time"].eq(time), SOURCE_FILE]))]


def current_codes(population: pd.DataFrame) -> list[str]:
    """5-digit Kreise with a number at the latest date of a population table."""
    kreise = totals(kreis_rows(population))
    latest = times(kreise)[-1]
    at = kreise.loc[kreise["time"].eq(latest) & kreise["value"].notna()]
    return sorted(set(at["ags"]))
