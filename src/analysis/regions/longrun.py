"""A long-run population change on today's territory, across the census break.

The oldest population table in a dataset (the classic 12411 download for 31.12.2015,
on the 402 Kreise of that year and on the Zensus-2011 basis) is mapped to today's 400
Kreise with the BBSR crosswalk (:func:`analysis.territory.harmonize`, population
weights; 03152 + 03156 → 03159 in 2016, Eisenach → Wartburgkreis in 2021).

The latest population (12411, 31.12.2024) rests on the Zensus-2022 basis, which revised
Germany's population down by about 1.4 million. A Kreis's change in persons between the
two dates would mix real change with the revision. The published indicator is therefore
the change of the Kreis's **share of Germany's population** (each share computed within
its own basis, so a national revision cancels out); the national totals on either basis
and their raw difference are reported beside it in ``attrs["longrun"]`` and never
combined per Kreis.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from analysis.regions.builders import Load, title_of
from analysis.regions.tables import find_classic_tables, kreis_rows, read_classic_table, totals

if TYPE_CHECKING:
    import pandas as pd

#: Reader version of the crosswalk in the prepared-inputs cache.
CROSSWALK_VERSION = 1
POPULATION_TABLE = "12411-01-01-4"


def read_crosswalk(official: Path) -> tuple[pd.DataFrame, Path] | None:
    """The BBSR crosswalk of a dataset (through the prepared-inputs cache), or None."""
    from analysis.prepared import read_prepared
    from analysis.sources.official.bbsr import read_bbsr_crosswalk
    from analysis.sources.official.catalogue import local_path

    path = local_path("bbsr-kreis-crosswalk", official)
    if path is None:
        found = sorted(official.rglob("ref-kreise-umrech-*.xlsx"))
        path = found[-1] if found else None
    if path is None:
        return None
    return read_prepared(path, read_bbsr_crosswalk, version=CROSSWALK_VERSION), path


def harmonized_population(
    classic: pd.DataFrame, crosswalk: pd.DataFrame
) -> tuple[pd.Series, str, float]:
    """Population of a classic 12411 table on today's Kreise.

    Parameters
    ----------
    classic : DataFrame
        From :func:`analysis.sources.official.classic.read_classic` (one year).
    crosswalk : DataFrame
        From :func:`analysis.sources.official.bbsr.read_bbsr_crosswalk`.

    Returns
    -------
    (Series, str, float)
        Population by today's AGS, the reference date, and Germany's total in the
        table (the ``DG`` row, else the sum over the Kreise).
    """
    from analysis.territory import harmonize

    rows = totals(kreis_rows(classic))
    time = str(rows["time"].max())
    rows = rows.loc[rows["time"].eq(time), ["ags", "region_name", "level", "value", "flag"]]
    today = harmonize(rows, int(time[:4]), "people", crosswalk).set_index("ags")["value"]
    germany = totals(classic.loc[classic["ags"].eq("DG") & classic["time"].eq(time)])["value"]
    total = float(germany.iloc[0]) if len(germany) else float(today.sum())
    return today, time, total


def population_longrun(load: Load, population: pd.Series | None) -> dict[str, pd.Series]:
    """Long-run columns: start population on today's territory and share change.

    Returns ``population_longrun_start``, ``population_share_longrun_start_pct``,
    ``population_share_pct`` and ``population_share_change_longrun_pct`` (relative
    change of the share, in %), and fills ``load.longrun`` with the dates, bases,
    national totals and the method. Nothing (and a note) when the dataset lacks the
    classic population table, the crosswalk or a current population.
    """
    from analysis.territory import population_base_for

    classic = find_classic_tables(load.official).get(POPULATION_TABLE)
    if classic is None or population is None:
        load.notes.append("long-run change: no classic 12411 table (2015) in this dataset")
        return {}
    found = read_crosswalk(load.official)
    if found is None:
        load.notes.append("long-run change: no BBSR crosswalk (bbsr-kreis-crosswalk) found")
        return {}
    crosswalk, crosswalk_path = found
    frame = read_classic_table(classic)
    start, start_date, germany_start = harmonized_population(frame, crosswalk)
    start = start.reindex(load.current)
    end_date = load.reference_dates.get("population", "")
    if start_date >= end_date:
        return {}
    load.note(classic, title_of(frame, classic), start_date)
    load.note(crosswalk_path, "BBSR Umstiegsschlüssel Kreise", f"{start_date[:4]} → 2020")
    load.reference_dates["population_longrun_start"] = start_date
    share_start = start / start.sum() * 100
    share_end = population / population.sum() * 100
    germany_end = float(population.sum())
    basis_start = population_base_for(start_date)
    basis_end = population_base_for(end_date)
    load.longrun = {
        "start": start_date,
        "end": end_date,
        "basis_start": basis_start,
        "basis_end": basis_end,
        "germany_start": germany_start,
        "germany_end": germany_end,
        "germany_change_pct_mixed_bases": (germany_end / germany_start - 1) * 100,
        "n_kreise_start": int(start.notna().sum()),
        "method": (
            f"{start_date} mapped to today's Kreise with the BBSR crosswalk (population "
            "weights); the change is that of each Kreis's share of Germany's population, "
            "each share on its own census basis"
            + (
                f" ({basis_start} → {basis_end}): the national revision cancels out; the "
                "national change beside it mixes real change and the revision"
                if basis_start != basis_end
                else ""
            )
        ),
    }
    return {
        "population_longrun_start": start,
        "population_share_longrun_start_pct": share_start,
        "population_share_pct": share_end,
        "population_share_change_longrun_pct": (share_end / share_start - 1) * 100,
    }


#: Classic tables of an older territory and the BBSR weight their counts take.
CLASSIC_MEASURES: dict[str, str] = {
    "12411-01-01-4": "people",  # population
    "11111-01-01-4": "area",  # area in km²
    "21111-01-03-4": "people",  # schools and pupils (counts)
}


def harmonized_classic_tables(official: str | Path) -> dict[str, pd.DataFrame]:
    """Every classic table of an older territory, mapped to today's 400 Kreise.

    Parameters
    ----------
    official : path
        The ``official/`` folder of a dataset (classic tables and the BBSR crosswalk).

    Returns
    -------
    dict
        Table code → tidy frame on today's Kreise (:func:`analysis.territory.harmonize`
        with the weight of :data:`CLASSIC_MEASURES`; all dimensions kept). Tables whose
        year is already on today's territory (2021 and later) and tables without a
        known measure are left out; empty without a crosswalk.
    """
    from analysis.territory import harmonize

    official = Path(official)
    found = read_crosswalk(official)
    if found is None:
        return {}
    crosswalk = found[0]
    out = {}
    for code, path in sorted(find_classic_tables(official).items()):
        kind = CLASSIC_MEASURES.get(code)
        if kind is None:
            continue
        frame = read_classic_table(path)
        years = {int(str(t)[:4]) for t in frame["time"].dropna().unique()}
        if len(years) != 1 or min(years) > 2020:
            continue
        out[code] = harmonize(frame, years.pop(), kind, crosswalk)
    return out


def describe_longrun(indicators: pd.DataFrame, region: str | None = None) -> str:
    """A Markdown sentence on the long-run change and the census break (or why absent).

    Parameters
    ----------
    indicators : DataFrame
        From :func:`~analysis.regions.indicators.load_kreis_indicators`.
    region : str, optional
        Kreis code whose share change is named.

    Returns
    -------
    str
    """
    info = indicators.attrs.get("longrun") or {}
    if not info:
        return (
            "No long-run change: this dataset has no older population table "
            "(classic 12411) with the BBSR crosswalk."
        )
    text = (
        f"Long-run change {info['start']} → {info['end']} on today's "
        f"{info['n_kreise_start']} Kreise (BBSR crosswalk, population weights). "
    )
    if info["basis_start"] != info["basis_end"]:
        text += (
            f"{info['start'][:4]} rests on the {_basis(info['basis_start'])} basis and "
            f"{info['end'][:4]} on the {_basis(info['basis_end'])} basis, so each Kreis is "
            "compared by its share of Germany's population (the national census revision "
            "cancels out). "
        )
    text += (
        f"Germany: {info['germany_start']:,.0f} → {info['germany_end']:,.0f} "
        f"({info['germany_change_pct_mixed_bases']:+.1f} %"
        + (
            ", real change and census revision together)."
            if info["basis_start"] != info["basis_end"]
            else ")."
        )
    )
    if region is not None:
        row = indicators.set_index("ags").loc[region]
        text += (
            f" {row['name']}: share {row['population_share_longrun_start_pct']:.3f} % → "
            f"{row['population_share_pct']:.3f} % ({row['population_share_change_longrun_pct']:+.1f} %)."
        )
    return text


def _basis(base: str) -> str:
    return {"zensus2011": "Zensus-2011", "zensus2022": "Zensus-2022"}.get(base, base)
