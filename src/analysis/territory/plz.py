"""Records with a postcode allocated to Kreise by share (:func:`allocate_plz`).

Part of :mod:`analysis.territory`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.errors import ParameterError


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
