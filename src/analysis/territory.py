"""One key for places: the 5-digit Kreis AGS at the current Gebietsstand.

Official tables use the Kreis codes valid at their reference date. Since 1990
Kreise have been merged and split (543 in 1990, 401 at 31.12.2020, 400 since the
Eisenach merger of 1 July 2021). This module

- maps counts given on any year's Kreis codes to today's Kreise with the BBSR
  crosswalk weights that fit the measure (:func:`harmonize`),
- keeps rows that are not Kreise (8-digit city rows, Länder, Germany) apart,
- derives the set of current Kreise from data (:func:`current_kreise`,
  :func:`kreise_at`), never from a hard-coded list,
- allocates records with a postcode to Kreise (:func:`allocate_plz`),
- guards against mixing population bases (Zensus 2011 vs Zensus 2022).

The only Kreis change after the BBSR crosswalk's target date (31.12.2020) is a
fact of law and therefore a documented constant here (:data:`EISENACH_2021`).
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
    rows = kreise.loc[known]

    mapping = _mapping(crosswalk, year, weight, valid, change_table).rename(
        columns={"kreis_from": "__from", "kreis_to": "__to", "weight": "__w", "name_to": "__name"}
    )
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
    out = out.reset_index().rename(columns={"__to": ags_col})

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


# --------------------------------------------------------------------------- PLZ


class PlzAllocation(NamedTuple):
    """Result of :func:`allocate_plz`.

    Attributes
    ----------
    allocated : DataFrame
        Input rows with a usable postcode, repeated once per Kreis the postcode
        touches (original index kept), plus ``plz5``, ``kreis_ags`` and ``share``
        (shares of one record sum to 1).
    unallocated : DataFrame
        Input rows that could not be placed, plus ``reason``: ``missing``,
        ``malformed``, ``foreign`` or ``unknown`` (a well-formed German postcode
        not in the mapping, e.g. a PO-box or large-customer postcode).
    """

    allocated: pd.DataFrame
    unallocated: pd.DataFrame


_GERMANY = {"", "DE", "DEU", "D", "GERMANY", "DEUTSCHLAND", "BRD", "NAN", "<NA>", "NONE"}


def _plz_text(value: object) -> str | None:
    """A postcode cell as text; spreadsheets turn 01067 into 1067 or 1067.0."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else str(value)
    return str(value)


def _normalize_plz(values: pd.Series, country: pd.Series | None) -> tuple[pd.Series, pd.Series]:
    """(plz5 or NA, reason or NA) per record."""
    text = pd.Series([_plz_text(v) for v in values], index=values.index, dtype="str")
    text = text.str.strip().str.upper()
    missing = text.isna() | text.eq("")
    # "D-37073", "DE 37073": a German country prefix.
    german_prefix = text.str.fullmatch(r"(?:D|DE)[- ]?\d{4,5}").fillna(False).astype(bool)
    text = text.where(~german_prefix, text.str.replace(r"^(?:D|DE)[- ]?", "", regex=True))
    foreign_prefix = text.str.fullmatch(r"[A-Z]{1,3}[- ]\S.*").fillna(False).astype(bool) & ~missing
    if country is not None:
        land = country.astype("str").str.strip().str.upper().fillna("")
        foreign_country = ~land.isin(_GERMANY) & ~missing
    else:
        foreign_country = pd.Series(False, index=values.index)
    digits = text.str.fullmatch(r"\d{4,5}").fillna(False).astype(bool)
    plz5 = text.where(digits).str.zfill(5)
    malformed = ~missing & ~digits
    malformed |= digits & plz5.str.startswith("00").fillna(False).astype(bool)
    reason = pd.Series(pd.NA, index=values.index, dtype="str")
    reason = reason.mask(malformed, "malformed")
    reason = reason.mask(foreign_prefix | foreign_country, "foreign")
    reason = reason.mask(missing, "missing")
    plz5 = plz5.where(reason.isna())
    return plz5, reason


def allocate_plz(
    frame: pd.DataFrame,
    plz_map: pd.DataFrame,
    plz_col: str = "plz",
    weight: pd.Series | None = None,
    *,
    country_col: str | None = None,
) -> PlzAllocation:
    """Allocate records with a postcode to Kreise.

    A postcode that lies in one Kreis gives that Kreis with share 1. A postcode
    spanning several Kreise is split: equally (share 1/n over its n Kreise) by
    default, or in proportion to the population of its Gemeinden when ``weight``
    is given. Nothing is dropped: records that cannot be placed come back in
    ``unallocated`` with the reason.

    Parameters
    ----------
    frame : DataFrame
        Records (accounts, leads, firms) with a postcode column. Postcodes may be
        strings or numbers; a 4-digit postcode is taken as one that lost its
        leading zero, a ``D-``/``DE`` prefix is removed.
    plz_map : DataFrame
        From :func:`analysis.sources.official.plz.read_plz` (``plz``, ``ags8``, ``kreis_ags``).
    plz_col : str
        The postcode column of ``frame``.
    weight : Series, optional
        Population (or another size) per Gemeinde, indexed by 8-digit AGS. Where a
        multi-Kreis postcode has a Gemeinde without a weight (or all weights are
        zero), that postcode falls back to equal shares; the count is in
        ``attrs["n_plz_equal_fallback"]``.
    country_col : str, optional
        Country column; rows whose country is not Germany are ``foreign``.

    Returns
    -------
    PlzAllocation
        ``(allocated, unallocated)``. ``allocated.attrs`` holds ``n_records``,
        ``n_allocated_records``, ``n_split_records``, ``n_unallocated`` (by
        reason) and ``n_plz_equal_fallback``.

    Examples
    --------
    >>> placed, unplaced = allocate_plz(accounts, read_plz(path))  # doctest: +SKIP
    >>> placed.groupby("kreis_ags")["share"].sum()  # accounts per Kreis  # doctest: +SKIP
    """
    for col, where in ((plz_col, "frame"), *(((country_col, "frame"),) if country_col else ())):
        if col not in frame.columns:
            raise ParameterError(where, f"expected a column {col!r}; found {list(frame.columns)}")
    for col in ("plz", "ags8", "kreis_ags"):
        if col not in plz_map.columns:
            raise ParameterError("plz_map", f"expected a frame from read_plz (missing {col!r})")
    plz5, reason = _normalize_plz(frame[plz_col], frame[country_col] if country_col else None)

    shares, n_fallback = _plz_shares(plz_map, weight)
    known = plz5.isin(set(shares["plz"]))
    reason = reason.mask(reason.isna() & ~known, "unknown")
    usable = reason.isna().to_numpy()

    unallocated = frame.loc[~usable].assign(reason=reason[~usable])
    placed = frame.loc[usable].assign(plz5=plz5[usable])
    index_name = placed.index.name
    allocated = (
        placed.rename_axis("__record")
        .reset_index()
        .merge(shares.rename(columns={"plz": "plz5"}), on="plz5", how="left", sort=False)
        .set_index("__record")
        .rename_axis(index_name)
    )
    n_split = int((allocated.index.value_counts() > 1).sum()) if len(allocated) else 0
    allocated.attrs = {
        "n_records": int(len(frame)),
        "n_allocated_records": int(usable.sum()),
        "n_split_records": n_split,
        "n_unallocated": {str(k): int(v) for k, v in unallocated["reason"].value_counts().items()},
        "n_plz_equal_fallback": n_fallback,
    }
    unallocated.attrs = {"n_unallocated": allocated.attrs["n_unallocated"]}
    return PlzAllocation(allocated, unallocated)


def _plz_shares(plz_map: pd.DataFrame, weight: pd.Series | None) -> tuple[pd.DataFrame, int]:
    """(plz, kreis_ags, share) with shares summing to 1 per plz."""
    pairs = plz_map[["plz", "ags8", "kreis_ags"]].drop_duplicates(["plz", "ags8"])
    n_kreise = pairs.groupby("plz")["kreis_ags"].transform("nunique")
    equal = (
        pairs[["plz", "kreis_ags"]]
        .drop_duplicates()
        .assign(share=lambda f: 1.0 / f.groupby("plz")["kreis_ags"].transform("size"))
    )
    if weight is None:
        return equal.reset_index(drop=True), 0
    w = pairs["ags8"].map(weight.astype("float64"))
    total = w.groupby(pairs["plz"]).transform("sum")
    complete = w.notna().groupby(pairs["plz"]).transform("all")
    usable = complete & (total > 0)
    weighted = (
        pairs.assign(w=w)[usable.to_numpy()]
        .groupby(["plz", "kreis_ags"], sort=False)["w"]
        .sum()
        .reset_index()
        .assign(share=lambda f: f["w"] / f.groupby("plz")["w"].transform("sum"))[
            ["plz", "kreis_ags", "share"]
        ]
    )
    fallback_plz = set(pairs.loc[~usable.to_numpy(), "plz"])
    n_fallback = len(set(pairs.loc[~usable.to_numpy() & (n_kreise > 1).to_numpy(), "plz"]))
    shares = pd.concat([weighted, equal[equal["plz"].isin(fallback_plz)]], ignore_index=True)
    return shares, n_fallback


# --------------------------------------------------------------------------- population bases

#: The bases official population figures can rest on.
POPULATION_BASES = ("pre_zensus2011", "zensus2011", "zensus2022")

ZENSUS_2011_DAY = date(2011, 5, 9)
ZENSUS_2022_DAY = date(2022, 5, 15)


class PopulationBaseError(InputError):
    """Two population figures on different census bases were about to be combined."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


def population_base_for(reference_date: str | date | pd.Timestamp, source: str = "genesis") -> str:
    """The census basis of an official population figure.

    Parameters
    ----------
    reference_date : str, date or Timestamp
        The figure's reference date (``"2024-12-31"``).
    source : {"genesis", "gv_isys"}
        ``genesis``: the Fortschreibung in GENESIS/regionalstatistik (12411 etc.):
        Zensus 2022 from 31.12.2022 on, Zensus 2011 from 09.05.2011, older figures
        before. ``gv_isys``: the Gemeindeverzeichnis, whose editions up to 2024 Q2
        show 31.12.2022 on the Zensus 2011 basis; from 31.12.2023 on Zensus 2022.

    Returns
    -------
    str
        One of :data:`POPULATION_BASES`.

    Raises
    ------
    ParameterError
        For dates inside 2022 before the year end (the Zensus 2022 revision starts
        at 15.05.2022; tag such figures explicitly) or an unknown source.
    """
    day = pd.Timestamp(reference_date).date()
    if source not in ("genesis", "gv_isys"):
        raise ParameterError("source", f"expected 'genesis' or 'gv_isys', got {source!r}")
    if day < ZENSUS_2011_DAY:
        return "pre_zensus2011"
    if source == "gv_isys":
        return "zensus2011" if day <= date(2022, 12, 31) else "zensus2022"
    if day < ZENSUS_2022_DAY:
        return "zensus2011"
    if day >= date(2022, 12, 31):
        return "zensus2022"
    raise ParameterError(
        "reference_date",
        f"{day} lies between the Zensus 2022 day and 31.12.2022; which basis a table uses "
        "there is not fixed: tag it explicitly with tag_population_base",
    )


def _canonical_base(value: object) -> str | None:
    """``"Zensus 2011"``, ``"zensus_2011"`` ... → ``"zensus2011"`` (None if unknown)."""
    if value is None:
        return None
    key = "".join(ch for ch in str(value).lower() if ch.isalnum())
    return {base.replace("_", ""): base for base in POPULATION_BASES}.get(key)


def population_base_of(frame: pd.DataFrame) -> str | None:
    """The census basis a frame is tagged with, or ``None``.

    Reads ``attrs["population_base"]`` (set by :func:`tag_population_base`) or,
    failing that, a reader's ``attrs["population_basis"]`` (GV-ISys states it in
    the workbook, e.g. ``"Zensus 2011"``).
    """
    for key in ("population_base", "population_basis"):
        base = _canonical_base(frame.attrs.get(key))
        if base is not None:
            return base
    return None


def tag_population_base(frame: pd.DataFrame, base: str) -> pd.DataFrame:
    """Return a copy of ``frame`` with ``attrs["population_base"] = base``.

    Parameters
    ----------
    frame : DataFrame
    base : str
        One of :data:`POPULATION_BASES` (e.g. from :func:`population_base_for`);
        spellings such as ``"Zensus 2022"`` are accepted.
    """
    canonical = _canonical_base(base)
    if canonical is None:
        raise ParameterError("base", f"expected one of {', '.join(POPULATION_BASES)}, got {base!r}")
    out = frame.copy()
    out.attrs = {**frame.attrs, "population_base": canonical}
    return out


def check_population_base(*frames: pd.DataFrame, allow_mixed: bool = False) -> str | None:
    """Make sure population figures to be combined rest on one census basis.

    Parameters
    ----------
    *frames : DataFrame
        Frames tagged with :func:`tag_population_base` (or whose reader stated
        the basis in ``attrs["population_basis"]``, see :func:`population_base_of`).
    allow_mixed : bool
        Allow different bases (the caller takes responsibility, e.g. for a
        deliberate comparison); untagged frames are still an error.

    Returns
    -------
    str or None
        The common basis, or ``None`` when mixing was allowed and happened.

    Raises
    ------
    PopulationBaseError
        A frame is untagged, or the bases differ and ``allow_mixed`` is False.
    """
    bases = []
    for i, frame in enumerate(frames):
        base = population_base_of(frame)
        if base is None:
            where = frame.attrs.get("path", f"frame {i + 1}")
            raise PopulationBaseError(
                f"{where} has no population_base tag; tag it with tag_population_base(frame, "
                f"population_base_for(reference_date, source)) before combining population figures"
            )
        bases.append(base)
    distinct = sorted(set(bases))
    if len(distinct) > 1:
        if allow_mixed:
            return None
        listed = ", ".join(
            f"{f.attrs.get('path', f'frame {i + 1}')}: {b}"
            for i, (f, b) in enumerate(zip(frames, bases, strict=True))
        )
        raise PopulationBaseError(
            f"population figures on different census bases would be combined ({listed}); "
            "Zensus 2011 and Zensus 2022 figures differ by about 1.4 million people nationally. "
            "Use figures on one basis, or pass allow_mixed=True deliberately"
        )
    return distinct[0] if distinct else None
