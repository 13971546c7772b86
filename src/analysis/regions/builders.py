"""One builder per source table: the Kreis indicator columns it yields, and what it read.

Used by :func:`analysis.regions.indicators.load_kreis_indicators`. Every builder takes
the table's files (all vintages, :func:`analysis.regions.tables.read_vintages`), picks
per indicator the latest reference date at which current Kreise have numbers, notes
the files that supplied that date (with credit line, reference date and licence) and
says in ``Load.vintages`` which date it took and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.regions.tables import (
    dimension_columns,
    files_at,
    find_classic_tables,
    is_total,
    kreis_rows,
    latest_values,
    read_classic_table,
    read_vintages,
    times,
    totals,
    values_at,
)

if TYPE_CHECKING:
    import pandas as pd

#: Credit line of the statistical offices (dl-de/by-2-0).
GENESIS_CREDIT = "© Statistische Ämter des Bundes und der Länder"
#: Credit line of every demo file.
DEMO_CREDIT = "synthetic demo data"

#: Fächergruppen that make up MINT in table 21311.
MINT_FIELDS = {"HS-FG04": "mint_math_science_students", "HS-FG08": "mint_engineering_students"}
#: Attribute labels of the Abitur in school-leaver tables ("allgemeine Hochschulreife",
#: "mit allgemeiner Hochschulreife"); Fachhochschulreife does not match.
ABITUR = re.compile(r"\ballgemeine[rn]? hochschulreife|\babitur", re.IGNORECASE)


@dataclass
class Load:
    """What one :func:`load_kreis_indicators` call found, read and decided."""

    dataset: str
    official: Path
    current: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reference_dates: dict[str, str] = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)
    suppressed: dict[str, list[str]] = field(default_factory=dict)
    vintages: dict[str, dict] = field(default_factory=dict)
    longrun: dict = field(default_factory=dict)

    def note(self, path: Path, title: str, reference_date: str, credit: str | None = None) -> None:
        """Record a file read, with credit, date and licence (``sources`` of the frame).

        :func:`~analysis.regions.indicators.load_kreis_indicators` notes them for the
        report (:func:`analysis.note_input`) once the frame is complete.

        The source shown names the file (``title [file name]``), and the credit line
        of an official file ends with its licence (``credit; licence``), so that a
        report's source list says which file, which date and under which licence.
        """
        licence = ""
        if self.dataset == "demo":
            source, credit = f"{title} (demo)", DEMO_CREDIT
        else:
            from analysis.sources.official.catalogue import source_for_file

            source = f"{title} [{path.name}]"
            entry = source_for_file(path)
            if credit is None:
                credit = entry.credit if entry is not None else GENESIS_CREDIT
            licence = entry.licence if entry is not None else ""
        for item in self.sources:
            if item["path"] == str(path):
                if reference_date not in item["reference_date"].split(", "):
                    item["reference_date"] += ", " + reference_date
                return
        shown = f"{credit}; {licence}" if licence and licence not in credit else credit
        self.sources.append(
            {
                "path": str(path),
                "source": source,
                "credit": shown,
                "licence": licence,
                "reference_date": reference_date,
            }
        )

    def take(
        self, indicator: str, frame: pd.DataFrame, time: str, skipped: list[str], why: str = ""
    ) -> None:
        """Record the date taken for an indicator, note the files that supplied it."""
        used = files_at(frame, time) or [Path(frame.attrs.get("path", ""))]
        title = title_of(frame, used[0])
        for path in used:
            self.note(path, title, time)
        later = [t for t in skipped if t > time] or skipped
        if not why and later:
            why = (
                f"latest date with Kreis values; {', '.join(later)} "
                "in the files has no number for any current Kreis (only '-' or empty)"
            )
        elif not why:
            why = "latest date in the files"
        self.reference_dates[indicator] = time
        self.vintages[indicator] = {
            "date": time,
            "files": [p.name for p in used],
            "why": why,
        }


def title_of(frame: pd.DataFrame, path: Path) -> str:
    """``Regionaldatenbank <table>: <statistic label>`` for a file."""
    label = frame.attrs.get("statistic_label", "")
    if frame.attrs.get("variant") == "classic":
        label = frame.attrs.get("title", "") or label
    table = re.sub(r"_(de|en)_flat$|_flat$", "", path.stem)
    table = re.sub(r"_subset.*$|_\d{4}(-\d{2}-\d{2})?$", "", table)
    return f"Regionaldatenbank {table}" + (f": {label}" if label else "")


def population(load: Load, tables: dict[str, list[Path]]) -> dict[str, pd.Series]:
    """``population`` at the latest date of 12411 and ``population_prev`` a year earlier."""
    if "12411" not in tables:
        load.notes.append("population: no table 12411 found")
        return {}
    frame = read_vintages(tables["12411"])
    kreise = totals(kreis_rows(frame))
    current, latest, skipped = latest_values(kreise, load.current)
    out: dict[str, pd.Series] = {}
    if current is None:
        load.notes.append("population: table 12411 has no Kreis values")
        return out
    load.take("population", kreise, latest, skipped)
    out["population"] = current
    earlier = [t for t in times(kreise) if t < latest]
    # the previous value: one year earlier if present, else the latest earlier date
    year_before = f"{int(latest[:4]) - 1}{latest[4:]}" if re.fullmatch(r"\d{4}.*", latest) else ""
    choice = year_before if year_before in earlier else (earlier[-1] if earlier else "")
    previous = values_at(kreise, choice, load.current) if choice else None
    if previous is not None:
        out["population_prev"] = previous
        load.take("population_prev", kreise, choice, [], why="one year before the latest date")
    else:
        load.notes.append(f"population change: table 12411 holds only {latest}")
    return out


def employees(load: Load, tables: dict[str, list[Path]]) -> dict[str, pd.Series]:
    """``employees`` (SV-Beschäftigte am Arbeitsort) at the latest date with Kreis values."""
    if "13111" not in tables:
        load.notes.append("employees: no table 13111 found")
        return {}
    kreise = totals(kreis_rows(read_vintages(tables["13111"])))
    values, time, skipped = latest_values(kreise, load.current)
    for t in skipped:
        load.notes.append(f"employees: table 13111 has no Kreis values at {t} (only '-')")
    if values is None:
        return {}
    load.take("employees", kreise, time, skipped)
    return {"employees": values}


def students(load: Load, tables: dict[str, list[Path]]) -> dict[str, pd.Series]:
    """Students in total and the MINT Fächergruppen (21311)."""
    if "21311" not in tables:
        load.notes.append("students: no table 21311 found")
        return {}
    frame = read_vintages(tables["21311"])
    dims = dimension_columns(frame)
    field_ = next((d for d in dims if frame[d].fillna("").str.startswith("HS-FG").any()), None)
    kreise = totals(kreis_rows(frame), keep=(field_,) if field_ else ())
    total_rows = kreise if field_ is None else kreise.loc[is_total(kreise[field_])]
    values, time, skipped = latest_values(total_rows, load.current)
    out: dict[str, pd.Series] = {}
    if values is None:
        load.notes.append("students: table 21311 has no Kreis values")
        return out
    load.take("students", total_rows, time, skipped)
    out["students_total"] = values
    if field_ is None:
        load.notes.append("MINT students: table 21311 has no Fächergruppe dimension")
        return out
    parts = []
    for code, column in MINT_FIELDS.items():
        part = values_at(kreise.loc[kreise[field_].eq(code)], time, load.current)
        if part is not None:
            out[column] = part
            parts.append(part)
    if len(parts) != len(MINT_FIELDS):
        load.notes.append("MINT students: Fächergruppen HS-FG04/HS-FG08 not found in table 21311")
        return out
    # a suppressed field ('.') makes the MINT sum unknown, not smaller
    out["mint_students"] = parts[0] + parts[1]
    load.reference_dates["mint_students"] = time
    unknown = out["mint_students"].index[out["mint_students"].isna() & values.notna()]
    if len(unknown):
        load.notes.append(
            "MINT students unknown (HS-FG04/HS-FG08 suppressed as '.') for " + ", ".join(unknown)
        )
        load.suppressed["mint_students"] = list(unknown)
    return out


def registrations(load: Load, tables: dict[str, list[Path]]) -> dict[str, pd.Series]:
    """Business registrations (52311, optional)."""
    if "52311" not in tables:
        return {}
    frame = totals(kreis_rows(read_vintages(tables["52311"])))
    rows = frame.loc[frame["measure_label"].str.lower().str.contains("anmeld")]
    measure = rows["measure"].drop_duplicates()
    if not len(measure):
        return {}
    rows = rows.loc[rows["measure"].eq(measure.iloc[0])]
    values, time, skipped = latest_values(rows, load.current)
    if values is None:
        return {}
    load.take("business_registrations", rows, time, skipped)
    return {"business_registrations": values}


def income(load: Load, tables: dict[str, list[Path]]) -> dict[str, pd.Series]:
    """Income per taxpayer (73111): Gesamtbetrag der Einkünfte / Steuerpflichtige."""
    if "73111" not in tables:
        return {}
    frame = totals(kreis_rows(read_vintages(tables["73111"])))
    labels = frame["measure_label"].str.lower()
    payers = frame.loc[labels.str.contains("pflichtig") & frame["unit"].str.lower().eq("anzahl")]
    amount = frame.loc[labels.str.contains("einkünfte") & frame["unit"].str.contains("EUR")]
    if not (len(payers) and len(amount)):
        load.notes.append("income per taxpayer: 73111 lacks taxpayers or income")
        return {}
    for time in reversed(times(payers)):
        p_values = values_at(payers, time, load.current)
        i_values = values_at(amount, time, load.current)
        if p_values is None or i_values is None:
            continue
        scale = 1000.0 if amount["unit"].iloc[0].lower().startswith("tsd") else 1.0
        newer = [t for t in times(frame) if t > time]
        load.take(
            "income_per_taxpayer_eur",
            frame.loc[frame["time"].eq(time)],
            time,
            newer,
            why="latest year of the tax statistics (published 3-4 years after the year)",
        )
        return {"income_per_taxpayer_eur": i_values * scale / p_values.where(p_values > 0)}
    return {}


def abitur(load: Load, tables: dict[str, list[Path]]) -> dict[str, pd.Series]:
    """Share of school leavers with allgemeine Hochschulreife (21111), latest year.

    Looks in the flat files of 21111 and in classic 21111 table downloads (where
    Hamburg and Berlin appear as Land rows 02/11, taken as Kreise 02000/11000). A ``-``
    in the Abitur cell of a Kreis with school leavers is taken as unknown, not as 0 %.
    """
    candidates: list[pd.DataFrame] = []
    if "21111" in tables:
        candidates.append(read_vintages(tables["21111"]))
    for code, path in find_classic_tables(load.official).items():
        if code.startswith("21111-"):
            candidates.append(read_classic_table(path))
    best = None
    for frame in candidates:
        found = abitur_share(kreis_rows(frame), load.current)
        if found is not None and (best is None or found[1] > best[1]):
            best = (*found, frame)
    if best is None:
        return {}
    share, time, dashed, frame = best
    load.take("abitur_share_pct", frame, time, [])
    if dashed:
        load.suppressed["abitur_share_pct"] = dashed
        load.notes.append(
            "Abitur share unknown for " + ", ".join(dashed) + " ('-' in the Abitur cell)"
        )
    return {"abitur_share_pct": share}


def _labels(frame: pd.DataFrame, dim: str) -> dict[str, str]:
    info = frame.attrs.get("dimensions", {}).get(dim, {})
    labels = dict(info.get("attributes", {})) if isinstance(info, dict) else {}
    for value in frame[dim].dropna().unique():
        labels.setdefault(str(value), str(value))
    return labels


def abitur_share(
    frame: pd.DataFrame, current: list[str]
) -> tuple[pd.Series, str, list[str]] | None:
    """Abitur share (%) at the latest year, the year, and Kreise with ``-`` as Abitur."""
    for dim in dimension_columns(frame):
        codes = [c for c, label in _labels(frame, dim).items() if ABITUR.search(label)]
        if not codes:
            continue
        rows = totals(frame, keep=(dim,))
        part_rows = rows.loc[rows[dim].eq(codes[0])]
        part, time, _ = latest_values(part_rows, current)
        total = values_at(rows.loc[is_total(rows[dim])], time, current) if time else None
        if part is None or total is None:
            continue
        at = part_rows.loc[part_rows["time"].eq(time)].drop_duplicates("ags").set_index("ags")
        dashed = sorted(set(at.index[at["flag"].eq("-")]) & set(current))
        part = part.where(~part.index.isin(dashed))
        return part / total.where(total > 0) * 100, time, dashed
    return None


def licensed_imports(load: Load) -> dict[str, pd.Series]:
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
