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
    tax statistics, 21111 school leavers (also from a classic 21111 download). All
    files of one statistic are merged as vintages (:mod:`analysis.regions.tables`);
    each indicator takes the latest date at which current Kreise have numbers
    (:mod:`analysis.regions.builders`, reasons in ``attrs["vintages"]``). The Kreis list
    (names, types, area) comes from ``gv_isys_2024/kreise_2024.csv`` when present (demo,
    mirror), else from the GV-ISys workbook (``AuszugGV*.xlsx``), else from the Kreis
    labels of the population table (no area then). A classic 12411 table of an older
    year gives the long-run change on today's territory (:mod:`analysis.regions.longrun`).

Special values
    ``-`` means "nothing" and counts as 0 where the table reports the Kreis at all
    (except an Abitur cell, taken as unknown); when *no* current Kreis has a number for
    a table's date (13111 at 30.06.2025 in the mirror lists only ``-``), that date is
    skipped for an earlier one. ``.``, ``x``, ``/`` and ``...`` are missing values.

Speed
    The finished frame and every parsed source are kept in the prepared-inputs cache
    (:mod:`analysis.prepared`), keyed by the SHA-256 of every candidate input file and
    the code of the modules involved; a warm load takes milliseconds and still notes
    the original files for the report.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import InputError
from analysis.lands import LAND_NAMES
from analysis.regions.builders import DEMO_CREDIT, GENESIS_CREDIT, MINT_FIELDS, Load
from analysis.regions.tables import (
    current_codes,
    find_tables,
    kreis_rows,
    read_vintages,
)

# numpy and pandas are imported inside the functions that use them: validating a Kreis
# code (the report runner, before any kernel starts) must not pay for importing them.
if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEMO_CREDIT",
    "GENESIS_CREDIT",
    "INDICATORS",
    "INDICATOR_LABELS",
    "KEY_COLUMNS",
    "KREIS_LIST",
    "MINT_FIELDS",
    "find_tables",
    "known_kreis_codes",
    "load_kreis_indicators",
    "validate_kreis_code",
]

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
    "population_longrun_start",
    "population_share_longrun_start_pct",
    "population_share_pct",
    "population_share_change_longrun_pct",
)

#: Labels of indicator columns that the region profile does not label itself (for
#: ``regions.profile.PROFILE_INDICATORS``): column → (label, unit).
INDICATOR_LABELS: dict[str, tuple[str, str]] = {
    "population_share_change_longrun_pct": (
        "Long-run change of the share of Germany's population (today's territory)",
        "%",
    ),
    "population_longrun_start": (
        "Inhabitants at the long-run start (today's territory)",
        "persons",
    ),
}
KEY_COLUMNS: tuple[str, ...] = (
    "ags",
    "name",
    "land_code",
    "land_name",
    "kreis_type",
    "kreis_type_detail",
)

_CITY_TYPES = frozenset({"kreisfreie stadt", "stadtkreis"})


# ------------------------------------------------------------------- file discovery


def _official_root(dataset: str, root: str | Path | None) -> Path:
    from analysis.paths import dataset_dir

    return (Path(root) if root is not None else dataset_dir(dataset)) / "official"


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
    population = read_vintages(tables["12411"])
    return frozenset(current_codes(population))


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


def _kreis_frame(load: Load, tables: dict[str, list[Path]]) -> pd.DataFrame:
    """Key columns of the current Kreise (and their area where known)."""
    import numpy as np
    import pandas as pd

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
        return frame.rename(columns={"kreis_type": "kreis_type_detail"})
    workbooks = sorted(load.official.rglob("AuszugGV*.xlsx"))
    if workbooks:
        from analysis.prepared import read_prepared
        from analysis.sources.official.gv_isys import read_gv_kreise

        listed = read_prepared(workbooks[-1], read_gv_kreise, version=1)
        load.note(
            workbooks[-1],
            "Gemeindeverzeichnis GV-ISys (Kreise, area)",
            f"Gebietsstand {listed.attrs.get('gebietsstand', '')}".strip(),
        )
        frame = listed[["ags5", "name", "kreis_type", "land_code", "land_name", "area_km2"]]
        # its population rests on the old census basis (Zensus 2011): never used
        return frame.rename(columns={"ags5": "ags", "kreis_type": "kreis_type_detail"})
    if "12411" not in tables:
        raise InputError(load.official, _no_data_message(load.dataset))
    population = read_vintages(tables["12411"])
    codes = current_codes(population)
    labels = (
        kreis_rows(population).drop_duplicates("ags").set_index("ags")["region_name"].reindex(codes)
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
    return frame


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
    from analysis.prepared import code_digest, inputs_digest, read_or_build

    official = _official_root(dataset, root)
    inputs = _candidate_inputs(official)
    key = inputs_digest(inputs) + dataset + code_digest(*_CODE_MODULES)
    frame = read_or_build(
        f"kreis_indicators_{dataset}",
        hashlib.sha256(key.encode()).hexdigest(),
        lambda: _load(dataset, official),
    )
    _note_sources(frame.attrs.get("sources", []))
    return frame


#: Modules whose code shapes the indicator frame (part of its prepared-inputs key).
_CODE_MODULES = (
    "analysis.regions.indicators",
    "analysis.regions.builders",
    "analysis.regions.tables",
    "analysis.regions.longrun",
    "analysis.territory.crosswalk",
    "analysis.territory.bases",
    "analysis.prepared",
    "analysis.sources.official.genesis",
    "analysis.sources.official.classic",
    "analysis.sources.official.bbsr",
    "analysis.sources.official.gv_isys",
    "analysis.sources.official.kreis_list",
    "analysis.sources.official.licensed",
    "analysis.sources.official.catalogue",
)


def _candidate_inputs(official: Path) -> list[Path]:
    """Every file the loader might read: tables, lists, workbooks, licensed imports."""
    files = []
    for folder in (official, official.parent / "licensed"):
        if folder.is_dir():
            files += [p for p in folder.rglob("*") if p.suffix.lower() in {".csv", ".xlsx"}]
    return files


def _note_sources(sources: list[dict]) -> None:
    """Note the original files (again) for the report: a cached frame read none of them."""
    from analysis.provenance import note_input

    for item in sources:
        note_input(
            item["path"],
            source=item["source"],
            credit=item["credit"],
            reference_date=item["reference_date"],
        )


def _load(dataset: str, official: Path) -> pd.DataFrame:
    """Build the indicator frame from the files (see :func:`load_kreis_indicators`)."""
    import numpy as np

    from analysis.regions import builders, longrun

    load = Load(dataset, official)
    tables = find_tables(official)
    frame = _kreis_frame(load, tables).sort_values("ags").reset_index(drop=True)
    load.current = frame["ags"].tolist()

    columns: dict[str, pd.Series] = {}
    for build in (
        builders.population,
        builders.employees,
        builders.students,
        builders.registrations,
        builders.income,
        builders.abitur,
    ):
        columns.update(build(load, tables))
    columns.update(builders.licensed_imports(load))
    columns.update(longrun.population_longrun(load, columns.get("population")))
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
        "vintages": load.vintages,
        "longrun": load.longrun,
        "indicator_dates": indicator_dates(load.reference_dates, missing),
        "population_basis": (
            "synthetic"
            if dataset == "demo"
            else "12411 Fortschreibung (Zensus 2022 basis from 2022 on)"
        ),
    }
    return out


#: Which reference dates an indicator column rests on (the first date, then any others).
_DATE_SOURCES: dict[str, tuple[str, ...]] = {
    "area_km2": (),
    "density_per_km2": ("population",),
    "population": ("population",),
    "population_prev": ("population_prev",),
    "population_change_pct": ("population_prev", "population"),
    "employees": ("employees",),
    "employees_per_1000": ("employees",),
    "students_total": ("students",),
    "students_per_1000": ("students",),
    "mint_students": ("students",),
    "mint_math_science_students": ("students",),
    "mint_engineering_students": ("students",),
    "mint_students_per_1000": ("students",),
    "mint_share_of_students_pct": ("students",),
    "business_registrations": ("business_registrations",),
    "business_registrations_per_10000": ("business_registrations",),
    "income_per_taxpayer_eur": ("income_per_taxpayer_eur",),
    "abitur_share_pct": ("abitur_share_pct",),
    "mint_employment_share_pct": ("mint_employment_share_pct",),
    "median_wage_mint_eur": ("median_wage_mint_eur",),
    "population_longrun_start": ("population_longrun_start",),
    "population_share_longrun_start_pct": ("population_longrun_start",),
    "population_share_pct": ("population",),
    "population_share_change_longrun_pct": ("population_longrun_start", "population"),
}


def indicator_dates(reference_dates: dict[str, str], missing: list[str]) -> dict[str, str]:
    """Reference date of every indicator column with data (``"A → B"`` for changes).

    Parameters
    ----------
    reference_dates : dict
        ``attrs["reference_dates"]`` of the indicator frame (source → date).
    missing : list of str
        Columns without data (left out).

    Returns
    -------
    dict
        Column → date text, e.g. ``employees_per_1000`` → ``"2024-06-30"``,
        ``population_change_pct`` → ``"2023-12-31 → 2024-12-31"``.
    """
    out = {}
    for column, keys in _DATE_SOURCES.items():
        dates = [reference_dates[k] for k in keys if reference_dates.get(k)]
        if column not in missing and dates and len(dates) == len(keys):
            out[column] = " → ".join(dates)
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
