"""Counts on any year's Kreis codes mapped to today's Kreise (BBSR crosswalk).

Part of :mod:`analysis.territory` (see there).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.errors import InputError, ParameterError

#: measure kind → BBSR weight column. Counts are additive, so a count on an old
#: Kreis is split by the share of the thing counted that went to each new Kreis.
MEASURE_WEIGHTS = {"people": "w_pop", "jobs": "w_emp", "area": "w_area"}

#: Columns of a tidy frame that describe the source region or value rather than
#: what was measured; :func:`harmonize` recomputes or combines them.
REGION_COLUMNS = ("region_name", "level", "flag", "quality")

#: Units that are not counts: summing them over merged Kreise is wrong.
_NON_ADDITIVE_UNITS = (
    "prozent",
    "percent",
    "%",
    "je ",
    "pro ",
    "per ",
    "durchschnitt",
    "average",
    "anteil",
    "quote",
)


@dataclass(frozen=True)
class KreisChange:
    """A change of Kreis codes after the crosswalk's target date.

    Weights are those of the BBSR crosswalk: the share of the source Kreis's
    area, population and employment that went to ``kreis_to``.
    """

    kreis_from: str
    name_from: str
    kreis_to: str
    name_to: str
    effective_date: date
    w_area: float
    w_pop: float
    w_emp: float
    source: str


#: The kreisfreie Stadt Eisenach (16056) was incorporated into the Wartburgkreis
#: (16063) on 1 July 2021 by Thuringian state law; a whole merger, so every
#: weight is 1. It is the only Kreis change after 31.12.2020 (GV-ISys 30.06.2024
#: lists Eisenach as Gemeinde 16063105; regionalstatistik shows 16056 as "-").
EISENACH_2021 = KreisChange(
    kreis_from="16056",
    name_from="Eisenach, kreisfreie Stadt",
    kreis_to="16063",
    name_to="Wartburgkreis",
    effective_date=date(2021, 7, 1),
    w_area=1.0,
    w_pop=1.0,
    w_emp=1.0,
    source="Thuringian state law; verified against GV-ISys 30.06.2024 and regionalstatistik 12411",
)

#: Kreis changes after the BBSR crosswalk's target date (31.12.2020).
POST_2020_CHANGES: tuple[KreisChange, ...] = (EISENACH_2021,)

_CHANGE_COLUMNS = [
    "kreis_from",
    "name_from",
    "kreis_to",
    "name_to",
    "effective_date",
    "w_area",
    "w_pop",
    "w_emp",
]


# --------------------------------------------------------------------------- codes


def changes_frame(changes: pd.DataFrame | Iterable[KreisChange] | None = None) -> pd.DataFrame:
    """Kreis changes after the crosswalk's target date as a frame.

    Parameters
    ----------
    changes : DataFrame or iterable of KreisChange, optional
        A frame as returned by :func:`analysis.sources.official.bbsr.read_kreis_changes`,
        or :class:`KreisChange` objects. Default :data:`POST_2020_CHANGES`.

    Returns
    -------
    DataFrame
        Columns ``kreis_from, name_from, kreis_to, name_to, effective_date
        (datetime64), w_area, w_pop, w_emp``.
    """
    if changes is None:
        changes = POST_2020_CHANGES
    if isinstance(changes, pd.DataFrame):
        frame = changes.copy()
        if "w_emp" not in frame.columns:
            frame = frame.assign(w_emp=frame["w_pop"])
        for col in ("name_from", "name_to"):
            if col not in frame.columns:
                frame = frame.assign(**{col: ""})
    else:
        frame = pd.DataFrame(
            [{col: getattr(change, col) for col in _CHANGE_COLUMNS} for change in changes],
            columns=_CHANGE_COLUMNS,
        )
    return frame.assign(
        effective_date=pd.to_datetime(frame["effective_date"]),
        kreis_from=frame["kreis_from"].astype("str"),
        kreis_to=frame["kreis_to"].astype("str"),
    )[_CHANGE_COLUMNS].reset_index(drop=True)


def _target_year(crosswalk: pd.DataFrame) -> int:
    if "year_to" in crosswalk.attrs:
        return int(crosswalk.attrs["year_to"])
    if "year_to" in crosswalk.columns and len(crosswalk):
        return int(crosswalk["year_to"].iloc[0])
    raise ParameterError("crosswalk", "expected a frame from read_bbsr_crosswalk (no year_to)")


def _year_end(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=12, day=31)


def kreise_at(
    crosswalk: pd.DataFrame,
    year: int | None = None,
    changes: pd.DataFrame | Iterable[KreisChange] | None = None,
) -> frozenset[str]:
    """The Kreis codes valid at 31 December of ``year``, according to the data.

    Parameters
    ----------
    crosswalk : DataFrame
        From :func:`analysis.sources.official.bbsr.read_bbsr_crosswalk`.
    year : int, optional
        Gebietsstand 31.12.``year``. ``None``: the latest known (after every
        change in ``changes``), i.e. today's Kreise.
    changes : optional
        Changes after the crosswalk's target date (default :data:`POST_2020_CHANGES`).

    Returns
    -------
    frozenset of str
        AGS5 codes (400 for any year from 2021; 401 for 2020).

    Raises
    ------
    ParameterError
        For a year before the crosswalk's first year.
    """
    year_to = _target_year(crosswalk)
    if year is not None and year < year_to:
        codes = crosswalk.loc[crosswalk["year"] == year, "kreis_from"]
        if codes.empty:
            first, last = int(crosswalk["year"].min()), int(crosswalk["year"].max())
            raise ParameterError(
                "year",
                f"the crosswalk covers Gebietsstände {first}-{last} and {year_to}; got {year}",
            )
        return frozenset(codes)
    codes = set(crosswalk["kreis_to"])
    change_table = changes_frame(changes)
    in_force = (
        change_table
        if year is None
        else change_table[change_table["effective_date"] <= _year_end(year)]
    )
    for row in in_force.itertuples():
        codes.discard(row.kreis_from)
        codes.add(row.kreis_to)
    return frozenset(codes)


def current_kreise(
    frame: pd.DataFrame, ags_col: str = "ags", value_col: str | None = "value"
) -> frozenset[str]:
    """The Kreise present in a data set: 5-digit codes that carry a value.

    Regionalstatistik lists abolished Kreise with ``-``; a current table (12411 at
    31.12.2024) therefore yields the 400 current Kreise, and so does a Kreis list
    such as GV-ISys (give ``value_col=None`` when the frame has no value column).

    Parameters
    ----------
    frame : DataFrame
        A tidy statistics frame or a Kreis list.
    ags_col : str
        Column with the region codes.
    value_col : str or None
        A code counts only if at least one of its rows has a non-missing value
        here; ``None`` (or a frame without the column) counts every 5-digit code.

    Returns
    -------
    frozenset of str
    """
    codes = frame[ags_col].astype("str").str.strip()
    is_kreis = codes.str.fullmatch(r"\d{5}").fillna(False).astype(bool)
    if value_col is not None and value_col in frame.columns:
        is_kreis &= frame[value_col].notna().to_numpy()
    return frozenset(codes[is_kreis])


def is_current_kreis(code: str | pd.Series, current: Collection[str]) -> bool | pd.Series:
    """Whether ``code`` is one of the ``current`` Kreise (vectorized for a Series).

    Parameters
    ----------
    code : str or Series
        AGS5 code(s); integers or 4-digit strings that lost their leading zero are
        not accepted as such (pad first).
    current : collection of str
        From :func:`current_kreise` or :func:`kreise_at`.
    """
    if isinstance(code, pd.Series):
        return code.astype("str").isin(set(current))
    return str(code) in current


# --------------------------------------------------------------------------- levels


def classify_codes(codes: pd.Series) -> pd.Series:
    """Regional level of each code by its shape.

    Returns a Series of ``"kreis"`` (5 digits), ``"gemeinde"`` (8 digits: cities
    listed inside a Kreis table, Gemeinden), ``"land"`` (2 digits), ``"regbez"``
    (3 digits), ``"germany"`` (``DG``) or ``"other"``.
    """
    text = codes.astype("str").str.strip()
    kinds = np.select(
        [
            text.str.fullmatch(r"\d{5}").fillna(False).astype(bool),
            text.str.fullmatch(r"\d{8}").fillna(False).astype(bool),
            text.str.fullmatch(r"\d{2}").fillna(False).astype(bool),
            text.str.fullmatch(r"\d{3}").fillna(False).astype(bool),
            text.str.upper().eq("DG").fillna(False).astype(bool),
        ],
        ["kreis", "gemeinde", "land", "regbez", "germany"],
        default="other",
    )
    return pd.Series(kinds, index=codes.index, dtype="str")


def split_levels(
    frame: pd.DataFrame,
    ags_col: str = "ags",
    kreis_codes: Collection[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Separate Kreis rows from every other regional level.

    Hamburg and Berlin are a Land and a Kreis at once; a table at Land depth may
    list them only as ``02``/``11``. When ``kreis_codes`` contains ``LL000`` as
    the Land's only Kreis and the frame has no 5-digit row of that Land, the Land
    row is taken as the Kreis ``LL000`` (the code is rewritten).

    Parameters
    ----------
    frame : DataFrame
    ags_col : str
        Column with region codes.
    kreis_codes : collection of str, optional
        The Kreise valid at the frame's Gebietsstand (enables the city-state rule).

    Returns
    -------
    (kreise, apart) : tuple of DataFrame
        ``kreise``: the rows of Kreise with ``ags_col`` as a 5-digit string.
        ``apart``: all other rows, unchanged, plus a column ``level_kind`` from
        :func:`classify_codes`. Together they hold every input row exactly once.
    """
    codes = frame[ags_col].astype("str").str.strip()
    kinds = classify_codes(codes)
    if kreis_codes is not None:
        valid = set(kreis_codes)
        by_land: dict[str, list[str]] = {}
        for code in valid:
            by_land.setdefault(code[:2], []).append(code)
        lands_with_kreis_rows = set(codes[kinds.eq("kreis")].str.slice(0, 2))
        for land, members in by_land.items():
            if members == [f"{land}000"] and land not in lands_with_kreis_rows:
                promote = kinds.eq("land") & codes.eq(land)
                codes = codes.where(~promote, f"{land}000")
                kinds = kinds.where(~promote, "kreis")
    is_kreis = kinds.eq("kreis").to_numpy()
    kreise = frame.loc[is_kreis].assign(**{ags_col: codes.to_numpy()[is_kreis]})
    apart = frame.loc[~is_kreis].assign(level_kind=kinds.to_numpy()[~is_kreis])
    return kreise, apart


# --------------------------------------------------------------------------- harmonize


class Harmonized(NamedTuple):
    """Result of :func:`harmonize_parts`.

    Attributes
    ----------
    kreise : DataFrame
        Values on today's Kreise (see :func:`harmonize`).
    apart : DataFrame
        Input rows that are not Kreise (8-digit city rows, Länder, Germany, ...),
        unchanged, with ``level_kind``.
    quarantine : DataFrame
        Kreis rows whose code is not a Kreis at the frame's Gebietsstand, with a
        ``reason``: abolished or not-yet-existing Kreise listed without a value
        (``-``), or unknown codes with a value when ``on_unknown="quarantine"``.
    """

    kreise: pd.DataFrame
    apart: pd.DataFrame
    quarantine: pd.DataFrame


def _check_measure(
    frame: pd.DataFrame, measure_kind: str, crosswalk: pd.DataFrame, year: int, year_to: int
) -> str:
    if measure_kind not in MEASURE_WEIGHTS:
        raise ParameterError(
            "measure_kind",
            f"expected one of {', '.join(MEASURE_WEIGHTS)} (the weight that fits the measure), "
            f"got {measure_kind!r}",
        )
    weight = MEASURE_WEIGHTS[measure_kind]
    if year < year_to:
        available = crosswalk.loc[crosswalk["year"] == year, weight]
        if len(available) and available.isna().all():
            raise ParameterError(
                "measure_kind",
                f"the BBSR crosswalk has no {weight} weights for {year} (employment weights "
                "start in 1997); use measure_kind='people' as an approximation, explicitly",
            )
    if "unit" in frame.columns:
        units = {str(u) for u in frame["unit"].dropna().unique()}
        bad = sorted(u for u in units if any(t in u.lower() for t in _NON_ADDITIVE_UNITS))
        if bad:
            raise ParameterError(
                "frame",
                f"harmonize sums values over merged Kreise, which is only right for counts; "
                f"found non-additive unit(s) {bad}. Harmonize numerator and denominator "
                "separately and divide afterwards",
            )
    return weight


def _mapping(
    crosswalk: pd.DataFrame, year: int, weight: str, valid: frozenset[str], changes: pd.DataFrame
) -> pd.DataFrame:
    """(kreis_from, kreis_to, weight, name_to) from year's codes to today's."""
    year_to = _target_year(crosswalk)
    if year < year_to:
        mapping = crosswalk.loc[
            crosswalk["year"] == year, ["kreis_from", "kreis_to", weight, "name_to"]
        ].rename(columns={weight: "weight"})
    else:
        names = (
            crosswalk.loc[crosswalk["year"] == crosswalk["year"].max(), ["kreis_to", "name_to"]]
            .drop_duplicates("kreis_to")
            .set_index("kreis_to")["name_to"]
        )
        codes = sorted(valid)
        mapping = pd.DataFrame(
            {
                "kreis_from": codes,
                "kreis_to": codes,
                "weight": 1.0,
                "name_to": [names.get(c, pd.NA) for c in codes],
            }
        )
    # Changes not yet in force at the frame's Gebietsstand move codes on to today's.
    pending = changes[changes["effective_date"] > _year_end(max(year, year_to))]
    if len(pending):
        step = pending[["kreis_from", "kreis_to", weight, "name_to"]].rename(
            columns={
                "kreis_from": "kreis_to",
                "kreis_to": "kreis_next",
                weight: "w_next",
                "name_to": "name_next",
            }
        )
        mapping = mapping.merge(step, on="kreis_to", how="left")
        moved = mapping["kreis_next"].notna()
        mapping = mapping.assign(
            kreis_to=mapping["kreis_to"].where(~moved, mapping["kreis_next"]),
            weight=mapping["weight"] * mapping["w_next"].where(moved, 1.0),
            name_to=mapping["name_to"].where(~moved, mapping["name_next"]),
        )[["kreis_from", "kreis_to", "weight", "name_to"]]
    return mapping.reset_index(drop=True)


def _quarantine(
    frame: pd.DataFrame,
    kreise: pd.DataFrame,
    known: pd.Series,
    year: int,
    ags_col: str,
    value_col: str,
    on_unknown: str,
) -> pd.DataFrame:
    """Kreis rows whose code is not a Kreis in ``year``, with the reason; raise for values."""
    empty = kreise[value_col].isna()
    quarantine = kreise.loc[~known].assign(
        reason=np.where(
            empty[~known],
            f"no value; not a Kreis at 31.12.{year}",
            f"has a value, but not a Kreis at 31.12.{year} (BBSR crosswalk)",
        )
    )
    with_value = quarantine[~quarantine["reason"].str.startswith("no value")]
    if len(with_value) and on_unknown == "raise":
        shown = ", ".join(
            f"{code} ({value:g})"
            for code, value in with_value[[ags_col, value_col]]
            .drop_duplicates(ags_col)
            .head(10)
            .itertuples(index=False)
        )
        raise InputError(
            frame.attrs.get("path"),
            f"{with_value[ags_col].nunique()} Kreis code(s) with values are not Kreise at "
            f"31.12.{year} according to the BBSR crosswalk: {shown}. Check the Gebietsstand "
            "year, or pass on_unknown='quarantine'",
            column=ags_col,
        )
    return quarantine


def _spread(
    frame: pd.DataFrame, rows: pd.DataFrame, mapping: pd.DataFrame, ags_col: str, value_col: str
) -> pd.DataFrame:
    """Split each value over its target Kreise and sum per key and target Kreis."""
    keys = [c for c in frame.columns if c not in (ags_col, value_col, *REGION_COLUMNS)]
    merged = rows.merge(mapping, left_on=ags_col, right_on="__from", how="left", sort=False)
    if merged["__to"].isna().any():  # pragma: no cover - valid codes are all in the mapping
        missing = sorted(merged.loc[merged["__to"].isna(), ags_col].unique())
        raise InputError(
            frame.attrs.get("path"), f"no crosswalk rows for {missing}", column=ags_col
        )
    # A zero weight moves nothing; a missing value there must not poison the sum.
    contribution = (merged[value_col] * merged["__w"]).where(merged["__w"] != 0, 0.0)
    work = merged[[*keys, "__to"]].assign(
        __c0=contribution.fillna(0.0).to_numpy(), __missing=contribution.isna().to_numpy()
    )
    symbol_cols = [c for c in ("flag", "quality") if c in frame.columns]
    symbols: dict[str, list[str]] = {}
    for col in symbol_cols:
        text = merged[col].astype("str").fillna("").str.strip()
        symbols[col] = sorted(set(text[text.ne("")]))
        for i, symbol in enumerate(symbols[col]):
            work[f"__{col}_{i}"] = text.eq(symbol).to_numpy()
    grouped = work.groupby([*keys, "__to"], dropna=False, sort=True)
    total = grouped["__c0"].sum()
    n_missing = grouped["__missing"].sum()
    out = total.where(n_missing == 0).rename(value_col).to_frame()
    out["n_sources"] = grouped.size()
    for col in symbol_cols:
        joined = pd.Series("", index=out.index, dtype="str")
        for i, symbol in enumerate(symbols[col]):
            present = grouped[f"__{col}_{i}"].any()
            joined = joined.where(~present, (joined + " " + symbol).str.strip())
        out[col] = joined
    return out.reset_index().rename(columns={"__to": ags_col})


def harmonize_parts(
    frame: pd.DataFrame,
    year: int,
    measure_kind: str,
    crosswalk: pd.DataFrame,
    ags_col: str = "ags",
    value_col: str = "value",
    *,
    changes: pd.DataFrame | Iterable[KreisChange] | None = None,
    on_unknown: str = "raise",
) -> Harmonized:
    """Like :func:`harmonize`, but also return the rows set apart.

    Returns
    -------
    Harmonized
        ``(kreise, apart, quarantine)``; every input row is in exactly one of
        ``apart``, ``quarantine`` or the sources of ``kreise``.
    """
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
        raise ParameterError("year", f"expected the Gebietsstand year as an int, got {year!r}")
    year = int(year)
    if on_unknown not in ("raise", "quarantine"):
        raise ParameterError("on_unknown", f"expected 'raise' or 'quarantine', got {on_unknown!r}")
    for col in (ags_col, value_col):
        if col not in frame.columns:
            raise ParameterError("frame", f"expected a column {col!r}; found {list(frame.columns)}")
    year_to = _target_year(crosswalk)
    weight = _check_measure(frame, measure_kind, crosswalk, year, year_to)
    change_table = changes_frame(changes)
    valid = kreise_at(crosswalk, year, change_table)

    kreise, apart = split_levels(frame, ags_col, valid)
    known = kreise[ags_col].isin(valid)
    quarantine = _quarantine(frame, kreise, known, year, ags_col, value_col, on_unknown)
    rows = kreise.loc[known]

    mapping = _mapping(crosswalk, year, weight, valid, change_table).rename(
        columns={"kreis_from": "__from", "kreis_to": "__to", "weight": "__w", "name_to": "__name"}
    )
    out = _spread(frame, rows, mapping, ags_col, value_col)

    # Names: today's (crosswalk or change) names; the frame's own where the codes
    # were already today's and did not change.
    names = mapping.drop_duplicates("__to").set_index("__to")["__name"].to_dict()
    if "region_name" in frame.columns:
        if year >= year_to:
            unchanged = set(mapping.loc[mapping["__from"] == mapping["__to"], "__to"])
            own = (
                rows.dropna(subset=["region_name"])
                .drop_duplicates(ags_col)
                .set_index(ags_col)["region_name"]
            )
            names.update({code: name for code, name in own.items() if code in unchanged})
        out["region_name"] = out[ags_col].map(names).astype("str")
    if "level" in frame.columns:
        out["level"] = "KREISE"
    order = [c for c in frame.columns if c in out.columns] + ["n_sources"]
    out = out[order]

    sums_before = rows[value_col].sum()
    out.attrs = {
        **frame.attrs,
        "territory": {
            "gebietsstand_from": f"{year}-12-31",
            "kreise_to": len(kreise_at(crosswalk, None, change_table)),
            "measure_kind": measure_kind,
            "weight": weight,
            "n_rows_in": int(len(frame)),
            "n_kreis_rows": int(len(rows)),
            "n_apart": int(len(apart)),
            "n_quarantine": int(len(quarantine)),
            "apart_levels": {str(k): int(v) for k, v in apart["level_kind"].value_counts().items()},
            "value_sum_in": float(sums_before),
        },
    }
    return Harmonized(out.reset_index(drop=True), apart, quarantine)


def harmonize(
    frame: pd.DataFrame,
    year: int,
    measure_kind: str,
    crosswalk: pd.DataFrame,
    ags_col: str = "ags",
    value_col: str = "value",
    *,
    changes: pd.DataFrame | Iterable[KreisChange] | None = None,
    on_unknown: str = "raise",
) -> pd.DataFrame:
    """Map counts on the Kreis codes of ``year`` to today's 400 Kreise.

    Each value on a Kreis of 31.12.``year`` is split over the Kreise of the
    crosswalk's target Gebietsstand (31.12.2020) with the BBSR weight that fits
    the measure, summed per today's Kreis, and then moved on by the changes after
    that date (Eisenach → Wartburgkreis, 1 July 2021). For ``year`` 2020 only the
    changes apply, from 2021 on the codes are already today's (identity).

    Rows that are not Kreise (8-digit city rows, Länder, Germany) are never mixed
    in: they are left out here and returned by :func:`harmonize_parts` (counts in
    ``attrs["territory"]``). Kreise listed without a value because they did not
    exist at that date (``-``) are set aside too.

    Parameters
    ----------
    frame : DataFrame
        Tidy frame (e.g. from ``read_ffcsv``/``read_classic``): one row per
        region and key. Every column other than ``ags_col``, ``value_col`` and
        :data:`REGION_COLUMNS` is a key that is kept (time, measure, dimensions).
    year : int
        Gebietsstand of the frame's codes (31 December of that year). For data
        at a mid-year date use the last year-end whose Kreise it uses.
    measure_kind : {"people", "jobs", "area"}
        Selects the weight: population, employment (from 1997), area.
    crosswalk : DataFrame
        From :func:`analysis.sources.official.bbsr.read_bbsr_crosswalk`.
    ags_col, value_col : str
        Column names.
    changes : optional
        Changes after the crosswalk's target date (default :data:`POST_2020_CHANGES`).
    on_unknown : {"raise", "quarantine"}
        What to do with a code that has a value but is not a Kreis at that
        Gebietsstand.

    Returns
    -------
    DataFrame
        The key columns, ``ags_col`` (today's AGS5), ``region_name`` (today's
        name), ``level`` (``KREISE``), ``value_col`` (float; NaN if any
        contributing value was missing), ``flag``/``quality`` (distinct symbols of
        the contributors, space-separated), ``n_sources`` (number of source rows)
        — each only if the input had it. ``attrs`` keeps the input's attrs plus
        ``attrs["territory"]`` with counts.

    Raises
    ------
    ParameterError
        Unknown ``measure_kind``, employment weights requested before 1997, a
        non-additive unit (rates, shares, averages), a year outside the crosswalk.
    InputError
        A code with a value that is not a Kreis at that Gebietsstand (unless
        ``on_unknown="quarantine"``).

    Examples
    --------
    >>> today = harmonize(population_2015, 2015, "people", crosswalk)  # doctest: +SKIP
    >>> today.set_index("ags").loc["03159", "value"]  # 03152 + 03156  # doctest: +SKIP
    """
    return harmonize_parts(
        frame,
        year,
        measure_kind,
        crosswalk,
        ags_col,
        value_col,
        changes=changes,
        on_unknown=on_unknown,
    ).kreise
