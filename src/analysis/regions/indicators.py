"""Regional indicators of the Kreise and the computations every region report uses.

One loader, :func:`load_kreis_indicators`, turns the regional statistics of a dataset
(``demo`` or ``official``) into one row per current Kreis. Everything else is a pure
function on that frame: ranks (:func:`rank_kreise`), z-scores (:func:`standardize`),
peers (:func:`nearest_peers`), location quotients (:func:`location_quotient`,
:func:`location_quotients`) and a side-by-side comparison (:func:`compare_regions`).
:func:`known_kreis_codes` and :func:`validate_kreis_code` let the report runner check
a ``region`` parameter before any kernel starts.

Which files are read
    Under ``<dataset root>/official/`` every GENESIS flat file is identified by the
    statistic code inside it (not by its name): 12411 population, 13111 employees at
    workplace, 21311 students; optional 52311 business registrations, 73111 income
    tax statistics, 21111 school leavers. The Kreis list (names, types, area) comes
    from ``gv_isys_2024/kreise_2024.csv`` when present (demo, mirror), else from the
    GV-ISys workbook (``AuszugGV*.xlsx``, slow: seconds), else from the Kreis labels of
    the population table (no area then).

Special values
    ``-`` means "nothing" and counts as 0 where the table reports the Kreis at all;
    when *no* current Kreis has a number for a table's date (13111 at 30.06.2025 in
    the mirror lists only ``-``), the table is treated as not published for that date
    and the indicator is missing. ``.``, ``x``, ``/`` and ``...`` are missing values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import InputError
from analysis.lands import LAND_NAMES

# numpy and pandas are imported inside the functions that use them: validating a Kreis
# code (the report runner, before any kernel starts) must not pay for importing them.
if TYPE_CHECKING:
    import pandas as pd

#: Credit line of the statistical offices (dl-de/by-2-0).
GENESIS_CREDIT = "© Statistische Ämter des Bundes und der Länder"
#: Credit line of every demo file.
DEMO_CREDIT = "synthetic demo data"


#: Where the Kreis list lies under ``official/`` (derived GV-ISys layout).
KREIS_LIST = Path("gv_isys_2024") / "kreise_2024.csv"

#: Indicator columns of :func:`load_kreis_indicators`, in order (after the key columns).
INDICATORS: tuple[str, ...] = (
    "area_km2",
    "density_per_km2",
    "population",
    "population_prev",
    "population_change_pct",
    "employees",
    "employees_per_1000",
    "students_total",
    "students_per_1000",
    "mint_students",
    "mint_math_science_students",
    "mint_engineering_students",
    "mint_students_per_1000",
    "mint_share_of_students_pct",
    "business_registrations",
    "business_registrations_per_10000",
    "income_per_taxpayer_eur",
    "abitur_share_pct",
    "mint_employment_share_pct",
    "median_wage_mint_eur",
)
KEY_COLUMNS: tuple[str, ...] = (
    "ags",
    "name",
    "land_code",
    "land_name",
    "kreis_type",
    "kreis_type_detail",
)

#: Fächergruppen that make up MINT in table 21311.
MINT_FIELDS = {"HS-FG04": "mint_math_science_students", "HS-FG08": "mint_engineering_students"}

_TOTAL_CODES = frozenset({"", "INSGESAMT"})
#: Attribute labels of the Abitur in school-leaver tables ("allgemeine Hochschulreife",
#: "mit allgemeiner Hochschulreife"); Fachhochschulreife does not match.
_ABITUR = re.compile(r"\ballgemeine[rn]? hochschulreife|\babitur", re.IGNORECASE)
_CITY_TYPES = frozenset({"kreisfreie stadt", "stadtkreis"})


# ------------------------------------------------------------------- file discovery


def _official_root(dataset: str, root: str | Path | None) -> Path:
    from analysis.paths import dataset_dir

    return (Path(root) if root is not None else dataset_dir(dataset)) / "official"


_PEEK_CACHE: dict[tuple[str, int, int], str | None] = {}


def _peek_statistic(path: Path) -> str | None:
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
        code = _peek_statistic(path)
        if code:
            found.setdefault(code, []).append(path)
    for files in found.values():
        files.sort(key=lambda p: ("_en_" in p.name or p.name.endswith("_en.csv"), p.name))
    return found


def _find_kreis_list(official_root: Path) -> Path | None:
    candidate = official_root / KREIS_LIST
    return candidate if candidate.is_file() else None


# -------------------------------------------------------------------- Kreis codes


def known_kreis_codes(dataset: str = "demo", *, root: str | Path | None = None) -> frozenset[str]:
    """The current Kreis codes of a dataset, quickly (for parameter validation).

    Reads only the Kreis list when there is one (standard library, milliseconds);
    otherwise the population table (12411).

    Parameters
    ----------
    dataset : {"demo", "official"}
    root : path, optional
        Dataset root instead of :func:`analysis.paths.dataset_dir` (its ``official/``
        folder is read).

    Returns
    -------
    frozenset of str

    Raises
    ------
    InputError
        When the dataset has neither a Kreis list nor a population table (the message
        says how to create one).
    """
    official = _official_root(dataset, root)
    kreis_list = _find_kreis_list(official)
    if kreis_list is not None:
        from analysis.sources.official.kreis_list import read_kreis_codes

        return read_kreis_codes(kreis_list)
    tables = find_tables(official)
    if "12411" not in tables:
        raise InputError(official, _no_data_message(dataset))
    population = _read_table(tables["12411"][0])
    return frozenset(_current_codes(population))


def _no_data_message(dataset: str) -> str:
    how = "run `workbook demo`" if dataset == "demo" else "run `workbook data fetch`"
    return f"no Kreis list and no population table (12411) found for dataset {dataset!r}; {how}"


def validate_kreis_code(
    code: str, dataset: str = "demo", *, root: str | Path | None = None
) -> None:
    """Check that ``code`` is a current Kreis of the dataset.

    Parameters
    ----------
    code : str
        5-digit Kreis AGS.
    dataset : {"demo", "official"}
    root : path, optional
        Dataset root (see :func:`known_kreis_codes`).

    Raises
    ------
    ValueError
        With a message fit for a parameter error: what was given and a few valid
        codes (of the same Land when the prefix is a Land).
    """
    known = known_kreis_codes(dataset, root=root)
    text = str(code).strip()
    if text in known:
        return
    hint = ""
    if text.isdigit() and len(text) == 4 and ("0" + text) in known:
        hint = f" (leading zero lost? did you mean '0{text}'?)"
    same_land = sorted(c for c in known if c[:2] == text[:2])
    examples = (same_land or sorted(known))[:5]
    raise ValueError(
        f"{text!r} is not a Kreis of the {dataset} data{hint}; expected a 5-digit Kreis code "
        f"such as {', '.join(examples)} ({len(known)} Kreise)"
    )


# --------------------------------------------------------------------- reading


def _read_table(path: Path) -> pd.DataFrame:
    from analysis.sources.official.genesis import read_ffcsv

    return read_ffcsv(path)


def _kreis_rows(frame: pd.DataFrame) -> pd.DataFrame:
    five = frame["ags"].str.fullmatch(r"\d{5}").fillna(False).astype(bool)
    return frame.loc[frame["level"].eq("KREISE") & five]


def _dimension_columns(frame: pd.DataFrame) -> list[str]:
    from analysis.sources.official.genesis import TIDY_COLUMNS

    return [c for c in frame.columns if c not in TIDY_COLUMNS]


def _totals(frame: pd.DataFrame, keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows where every dimension except ``keep`` is at its total (``""``/INSGESAMT)."""
    import pandas as pd

    mask = pd.Series(True, index=frame.index)
    for column in _dimension_columns(frame):
        if column in keep:
            continue
        mask &= frame[column].fillna("").isin(_TOTAL_CODES)
    return frame.loc[mask]


def _current_codes(population: pd.DataFrame) -> list[str]:
    """5-digit Kreise with a number at the latest date of a population table."""
    kreise = _totals(_kreis_rows(population))
    latest = _latest_time(kreise)
    at = kreise.loc[kreise["time"].eq(latest) & kreise["value"].notna()]
    return sorted(set(at["ags"]))


def _latest_time(frame: pd.DataFrame) -> str:
    order = frame[["time", "period_start"]].drop_duplicates().sort_values(["period_start", "time"])
    return str(order["time"].iloc[-1])


def _times(frame: pd.DataFrame) -> list[str]:
    order = frame[["time", "period_start"]].drop_duplicates().sort_values(["period_start", "time"])
    return [str(t) for t in order["time"]]


def _values_at(frame: pd.DataFrame, time: str, current: list[str]) -> pd.Series | None:
    """Kreis values at ``time`` with ``-`` as 0; None when no current Kreis has a number."""
    at = frame.loc[frame["time"].eq(time)].drop_duplicates("ags").set_index("ags")
    at = at.reindex(current)
    if not at["value"].notna().any():
        return None
    values = at["value"].where(~at["flag"].eq("-"), 0.0)
    return values.astype("float64")


def _latest_values(
    frame: pd.DataFrame, current: list[str]
) -> tuple[pd.Series | None, str, list[str]]:
    """Values at the latest date that has numbers; also the dates skipped."""
    skipped = []
    for time in reversed(_times(frame)):
        values = _values_at(frame, time, current)
        if values is not None:
            return values, time, skipped
        skipped.append(time)
    return None, "", skipped


@dataclass
class _Load:
    dataset: str
    official: Path
    current: list[str]
    notes: list[str]
    reference_dates: dict[str, str]
    sources: list[dict]
    suppressed: dict[str, list[str]]

    def note(self, path: Path, title: str, reference_date: str, credit: str | None = None) -> None:
        from analysis.notebook import note_input

        if self.dataset == "demo":
            source, credit = f"{title} (demo)", DEMO_CREDIT
        else:
            source = title
            if credit is None:
                from analysis.sources.official.catalogue import source_for_file

                entry = source_for_file(path)
                credit = entry.credit if entry is not None else GENESIS_CREDIT
        note_input(path, source=source, credit=credit, reference_date=reference_date)
        self.sources.append(
            {
                "path": str(path),
                "source": source,
                "credit": credit,
                "reference_date": reference_date,
            }
        )


def _title(frame: pd.DataFrame, path: Path) -> str:
    label = frame.attrs.get("statistic_label", "")
    table = re.sub(r"_(de|en)_flat$|_flat$", "", path.stem)
    table = re.sub(r"_subset.*$", "", table)
    return f"Regionaldatenbank {table}" + (f": {label}" if label else "")


def _kreis_frame(
    load: _Load, tables: dict[str, list[Path]]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Key columns of the current Kreise, and the population table if it was read."""
    import numpy as np
    import pandas as pd

    population = None
    kreis_list = _find_kreis_list(load.official)
    if kreis_list is not None:
        from analysis.sources.official.kreis_list import read_kreis_list

        listed = read_kreis_list(kreis_list)
        load.note(
            kreis_list,
            "Kreis list (Gemeindeverzeichnis GV-ISys, derived)",
            "Gebietsstand 2024",
            credit="Quelle: Statistisches Bundesamt (Destatis), GV-ISys; eigene Aggregation",
        )
        frame = listed[["ags", "name", "kreis_type", "land_code", "land_name"]].assign(
            area_km2=listed["area_km2"] if "area_km2" in listed else np.nan
        )
        # the list's population (31.12.2022) is on the old census basis: never used
        return frame.rename(columns={"kreis_type": "kreis_type_detail"}), None
    workbooks = sorted(load.official.rglob("AuszugGV*.xlsx"))
    if workbooks:
        from analysis.sources.official.gv_isys import read_gv_kreise

        listed = read_gv_kreise(workbooks[-1])
        load.note(
            workbooks[-1],
            "Gemeindeverzeichnis GV-ISys (Kreise, area)",
            f"Gebietsstand {listed.attrs.get('gebietsstand', '')}".strip(),
        )
        frame = listed[["ags5", "name", "kreis_type", "land_code", "land_name", "area_km2"]]
        # its population rests on the old census basis (Zensus 2011): never used
        return frame.rename(columns={"ags5": "ags", "kreis_type": "kreis_type_detail"}), None
    if "12411" not in tables:
        raise InputError(load.official, _no_data_message(load.dataset))
    path = tables["12411"][0]
    population = _read_table(path)
    codes = _current_codes(population)
    labels = (
        _kreis_rows(population)
        .drop_duplicates("ags")
        .set_index("ags")["region_name"]
        .reindex(codes)
    )
    detail = labels.map(_type_from_label)
    frame = pd.DataFrame(
        {
            "ags": codes,
            "name": labels.to_numpy(),
            "kreis_type_detail": detail.to_numpy(),
            "land_code": [c[:2] for c in codes],
            "land_name": [LAND_NAMES.get(c[:2], "") for c in codes],
            "area_km2": np.nan,
        }
    )
    load.notes.append(
        "Kreis names and types taken from the labels of table 12411 (no Kreis list found)"
    )
    return frame, population


def _type_from_label(label: str) -> str:
    text = str(label).lower()
    if "kreisfreie stadt" in text:
        return "Kreisfreie Stadt"
    if "stadtkreis" in text:
        return "Stadtkreis"
    if "regionalverband" in text:
        return "Regionalverband"
    if text.endswith(", kreis"):
        return "Kreis"
    return "Landkreis"


def _normalized_type(detail: pd.Series) -> pd.Series:
    return detail.str.lower().isin(_CITY_TYPES).map({True: "Kreisfreie Stadt", False: "Landkreis"})


def _population(load: _Load, tables, population: pd.DataFrame | None) -> dict[str, pd.Series]:

    if "12411" not in tables:
        load.notes.append("population: no table 12411 found")
        return {}
    path = tables["12411"][0]
    frame = population if population is not None else _read_table(path)
    kreise = _totals(_kreis_rows(frame))
    times = _times(kreise)
    current, latest, skipped = _latest_values(kreise, load.current)
    out: dict[str, pd.Series] = {}
    if current is None:
        load.notes.append("population: table 12411 has no Kreis values")
        return out
    load.note(path, _title(frame, path), ", ".join(t for t in times if t not in skipped))
    load.reference_dates["population"] = latest
    out["population"] = current
    earlier = [t for t in times if t < latest]
    # the previous value: one year earlier if present, else the latest earlier date
    year_before = f"{int(latest[:4]) - 1}{latest[4:]}" if re.fullmatch(r"\d{4}.*", latest) else ""
    choice = year_before if year_before in earlier else (earlier[-1] if earlier else "")
    if choice:
        previous = _values_at(kreise, choice, load.current)
        if previous is not None:
            out["population_prev"] = previous
            load.reference_dates["population_prev"] = choice
    if "population_prev" not in out:
        load.notes.append(f"population change: table 12411 holds only {latest}")
    return out


def _employees(load: _Load, tables) -> dict[str, pd.Series]:
    if "13111" not in tables:
        load.notes.append("employees: no table 13111 found")
        return {}
    path = tables["13111"][0]
    frame = _read_table(path)
    kreise = _totals(_kreis_rows(frame))
    values, time, skipped = _latest_values(kreise, load.current)
    load.note(path, _title(frame, path), time or ", ".join(skipped))
    for t in skipped:
        load.notes.append(f"employees: table 13111 has no Kreis values at {t} (only '-')")
    if values is None:
        return {}
    load.reference_dates["employees"] = time
    return {"employees": values}


def _students(load: _Load, tables) -> dict[str, pd.Series]:

    if "21311" not in tables:
        load.notes.append("students: no table 21311 found")
        return {}
    path = tables["21311"][0]
    frame = _read_table(path)
    dims = _dimension_columns(frame)
    field = next((d for d in dims if frame[d].fillna("").str.startswith("HS-FG").any()), None)
    keep = (field,) if field else ()
    kreise = _totals(_kreis_rows(frame), keep=keep)
    out: dict[str, pd.Series] = {}
    total_rows = (
        kreise if field is None else kreise.loc[kreise[field].fillna("").isin(_TOTAL_CODES)]
    )
    values, time, skipped = _latest_values(total_rows, load.current)
    load.note(path, _title(frame, path), time or ", ".join(skipped))
    if values is None:
        load.notes.append("students: table 21311 has no Kreis values")
        return out
    load.reference_dates["students"] = time
    out["students_total"] = values
    if field is None:
        load.notes.append("MINT students: table 21311 has no Fächergruppe dimension")
        return out
    parts = []
    for code, column in MINT_FIELDS.items():
        part = _values_at(kreise.loc[kreise[field].eq(code)], time, load.current)
        if part is not None:
            out[column] = part
            parts.append(part)
    if len(parts) == len(MINT_FIELDS):
        # a suppressed field ('.') makes the MINT sum unknown, not smaller
        out["mint_students"] = parts[0] + parts[1]
        unknown = out["mint_students"].index[out["mint_students"].isna() & values.notna()]
        if len(unknown):
            load.notes.append(
                "MINT students unknown (HS-FG04/HS-FG08 suppressed as '.') for "
                + ", ".join(unknown)
            )
            load.suppressed["mint_students"] = list(unknown)
    else:
        load.notes.append("MINT students: Fächergruppen HS-FG04/HS-FG08 not found in table 21311")
    return out


def _optional(load: _Load, tables) -> dict[str, pd.Series]:
    """Indicators from tables that exist only in some datasets (found by their labels)."""

    out: dict[str, pd.Series] = {}
    if "52311" in tables:
        path = tables["52311"][0]
        frame = _totals(_kreis_rows(_read_table(path)))
        registrations = frame.loc[frame["measure_label"].str.lower().str.contains("anmeld")]
        measure = registrations["measure"].drop_duplicates()
        if len(measure):
            rows = registrations.loc[registrations["measure"].eq(measure.iloc[0])]
            values, time, _ = _latest_values(rows, load.current)
            if values is not None:
                load.note(path, _title(frame, path), time)
                load.reference_dates["business_registrations"] = time
                out["business_registrations"] = values
    if "73111" in tables:
        path = tables["73111"][0]
        frame = _totals(_kreis_rows(_read_table(path)))
        labels = frame["measure_label"].str.lower()
        payers = frame.loc[
            labels.str.contains("pflichtig") & frame["unit"].str.lower().eq("anzahl")
        ]
        income = frame.loc[labels.str.contains("einkünfte") & frame["unit"].str.contains("EUR")]
        if len(payers) and len(income):
            p_values, p_time, _ = _latest_values(payers, load.current)
            i_values, i_time, _ = _latest_values(income, load.current)
            if p_values is not None and i_values is not None and p_time == i_time:
                scale = 1000.0 if income["unit"].iloc[0].lower().startswith("tsd") else 1.0
                load.note(path, _title(frame, path), p_time)
                load.reference_dates["income_per_taxpayer_eur"] = p_time
                out["income_per_taxpayer_eur"] = i_values * scale / p_values.where(p_values > 0)
    if "21111" in tables:
        for path in tables["21111"]:
            raw = _read_table(path)
            share = _abitur_share(_kreis_rows(raw), load.current)
            if share is not None:
                values, time = share
                load.note(path, _title(raw, path), time)
                load.reference_dates["abitur_share_pct"] = time
                out["abitur_share_pct"] = values
                break
    return out


def _abitur_share(frame: pd.DataFrame, current: list[str]) -> tuple[pd.Series, str] | None:
    """Share of school leavers with allgemeine Hochschulreife, from attribute labels."""
    dims = frame.attrs.get("dimensions", {})
    for dim, info in dims.items():
        if dim not in frame.columns:
            continue
        codes = [c for c, label in info.get("attributes", {}).items() if _ABITUR.search(label)]
        if not codes:
            continue
        rows = _totals(frame, keep=(dim,))
        part, time, _ = _latest_values(rows.loc[rows[dim].eq(codes[0])], current)
        total_rows = rows.loc[rows[dim].fillna("").isin(_TOTAL_CODES)]
        total = _values_at(total_rows, time, current) if time else None
        if part is not None and total is not None:
            return part / total.where(total > 0) * 100, time
    return None


def _licensed(load: _Load) -> dict[str, pd.Series]:
    """Indicators from the licensed import layouts in ``<dataset root>/licensed/``.

    MINT employment (Bundesagentur für Arbeit) and wages (Entgeltatlas) are not open
    data; see :mod:`analysis.sources.official.licensed` for the layouts. The latest date wins.
    """
    from analysis.sources.official import licensed

    folder = load.official.parent / "licensed"
    out: dict[str, pd.Series] = {}
    ba = folder / licensed.BA_FILE
    if ba.is_file():
        frame = licensed.read_ba_mint_employment(ba)
        latest = frame.loc[frame["stichtag"] == frame["stichtag"].max()].set_index("ags")
        total = latest["employees_total"].where(latest["employees_total"] > 0)
        out["mint_employment_share_pct"] = latest["mint_employees"] / total * 100
        date = latest["stichtag"].max().date().isoformat()
        load.note(
            ba,
            "Bundesagentur für Arbeit: MINT employment (licensed import)",
            date,
            "© Statistik der Bundesagentur für Arbeit",
        )
        load.reference_dates["mint_employment_share_pct"] = date
    wages = folder / licensed.WAGES_FILE
    if wages.is_file():
        frame = licensed.read_entgeltatlas(wages)
        mint = frame.loc[frame["occupation_group"] == "MINT"]
        if len(mint):
            latest = mint.loc[mint["year"] == mint["year"].max()].set_index("ags")
            out["median_wage_mint_eur"] = latest["median_monthly_wage_eur"]
            load.note(
                wages,
                "Entgeltatlas: median wages (licensed import)",
                str(int(latest["year"].max())),
                "© Statistik der Bundesagentur für Arbeit",
            )
            load.reference_dates["median_wage_mint_eur"] = str(int(latest["year"].max()))
    return out


def load_kreis_indicators(dataset: str = "demo", *, root: str | Path | None = None) -> pd.DataFrame:
    """One row per current Kreis with the regional indicators of a dataset.

    Reads only through :mod:`analysis.sources` readers and notes every file read
    (:func:`analysis.note_input`) with its credit line and reference date.

    Parameters
    ----------
    dataset : {"demo", "official"}
        ``demo``: the synthetic dataset (``data/demo``); ``official``: the fetched
        official files (``data/raw``).
    root : path, optional
        Dataset root to read instead (its ``official/`` folder), e.g. a test folder
        or the shared mirror's parent.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``ags``; columns :data:`KEY_COLUMNS` then :data:`INDICATORS`:

        ``ags`` (5 digits), ``name``, ``land_code``, ``land_name``, ``kreis_type``
        ("Kreisfreie Stadt" or "Landkreis"), ``kreis_type_detail`` (as the source
        says: Stadtkreis, Kreis, Regionalverband, …), ``area_km2``,
        ``density_per_km2``, ``population`` (latest date of 12411),
        ``population_prev`` (one year earlier, NaN if the table has one date),
        ``population_change_pct``, ``employees`` (SV-Beschäftigte am Arbeitsort),
        ``employees_per_1000`` (per 1,000 inhabitants), ``students_total``,
        ``students_per_1000``, ``mint_students`` (HS-FG04 + HS-FG08),
        ``mint_math_science_students``, ``mint_engineering_students``,
        ``mint_students_per_1000``, ``mint_share_of_students_pct`` (NaN without
        students), ``business_registrations``, ``business_registrations_per_10000``,
        ``income_per_taxpayer_eur``, ``abitur_share_pct``, ``mint_employment_share_pct``
        and ``median_wage_mint_eur`` (licensed imports, :mod:`analysis.sources.official.licensed`).
        Counts are float64
        (NaN = missing).

        ``attrs``: ``dataset``, ``missing_indicators`` (columns that are all NaN),
        ``reference_dates`` (indicator → date or period), ``sources`` (path,
        source, credit, reference date per file), ``notes`` (what was skipped and
        why), ``suppressed`` (indicator → Kreise whose value is unknown because a
        cell is ``.``, e.g. MINT students of Jena), ``population_basis`` (what the population figures rest on).

    Raises
    ------
    InputError
        When the dataset has no Kreis list and no population table, or a file is
        malformed (from the readers).

    Examples
    --------
    >>> kreise = load_kreis_indicators("demo")  # doctest: +SKIP
    >>> kreise.attrs["missing_indicators"]  # doctest: +SKIP
    ['business_registrations', 'business_registrations_per_10000', ...]
    """
    import numpy as np

    official = _official_root(dataset, root)
    load = _Load(dataset, official, [], [], {}, [], {})
    tables = find_tables(official)
    frame, population_table = _kreis_frame(load, tables)
    frame = frame.sort_values("ags").reset_index(drop=True)
    load.current = frame["ags"].tolist()

    columns: dict[str, pd.Series] = {}
    columns.update(_population(load, tables, population_table))
    columns.update(_employees(load, tables))
    columns.update(_students(load, tables))
    columns.update(_optional(load, tables))
    columns.update(_licensed(load))
    values = {
        name: series.reindex(load.current).to_numpy(dtype="float64")
        for name, series in columns.items()
    }

    out = frame.assign(kreis_type=_normalized_type(frame["kreis_type_detail"]))
    for name in INDICATORS:
        if name not in out.columns:
            out[name] = values.get(name, np.full(len(out), np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        population = out["population"].where(out["population"] > 0)
        out = out.assign(
            density_per_km2=out["population"] / out["area_km2"].where(out["area_km2"] > 0),
            population_change_pct=(out["population"] / out["population_prev"] - 1) * 100,
            employees_per_1000=out["employees"] / population * 1000,
            students_per_1000=out["students_total"] / population * 1000,
            mint_students_per_1000=out["mint_students"] / population * 1000,
            mint_share_of_students_pct=out["mint_students"]
            / out["students_total"].where(out["students_total"] > 0)
            * 100,
            business_registrations_per_10000=out["business_registrations"] / population * 10_000,
        )
    out = out[[*KEY_COLUMNS, *INDICATORS]]
    missing = [c for c in INDICATORS if out[c].isna().all()]
    out.attrs = {
        "dataset": dataset,
        "missing_indicators": missing,
        "reference_dates": dict(load.reference_dates),
        "sources": load.sources,
        "notes": load.notes,
        "suppressed": load.suppressed,
        "population_basis": (
            "synthetic"
            if dataset == "demo"
            else "12411 Fortschreibung (Zensus 2022 basis from 2022 on)"
        ),
    }
    return out


# ----------------------------------------------------------------- computations


def indexed_by_ags(indicators: pd.DataFrame) -> pd.DataFrame:
    if "ags" in indicators.columns:
        return indicators.set_index("ags", drop=False)
    return indicators


def require_columns(indicators: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in indicators.columns]
    if missing:
        raise KeyError(f"indicator columns not in the frame: {', '.join(missing)}")
