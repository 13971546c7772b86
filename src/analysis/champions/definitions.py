"""Hidden Champion definitions (Simon; Weltmarktführer-Index) applied to a firm list."""

from __future__ import annotations

import pandas as pd

#: Names of the definitions accepted by :func:`classify` and the notebook.
DEFINITIONS: tuple[str, ...] = ("simon", "wmi", "all")

SIMON_MAX_WORLD_RANK = 3
SIMON_MAX_REVENUE_EUR = 5e9  # strictly below
WMI_MIN_REVENUE_EUR = 50e6  # at least
WMI_MIN_EXPORT_SHARE = 0.5  # at least
WMI_MAX_WORLD_RANK = 2
WMI_MIN_CONTINENTS = 3

#: Added to MINT students per 1,000 inhabitants before taking logs (Kreise without
#: a university have 0).
MINT_SHIFT = 1.0

#: Name of the MINT regressor in coefficient tables.
MINT_TERM = "log_mint"


# --------------------------------------------------------------------------- definitions


def _bool(values: pd.Series) -> pd.Series:
    return values.astype("boolean")


def _equals(values: pd.Series, value: str) -> pd.Series:
    """``values == value`` as nullable boolean: missing stays unknown."""
    equal = values.astype("object") == value
    return equal.astype("boolean").mask(values.isna())


def is_hidden_champion_simon(frame: pd.DataFrame) -> pd.Series:
    """Hermann Simon's Hidden-Champion definition, row by row.

    A firm is a Hidden Champion if it is no. 1, 2 or 3 on the world market or no. 1
    on its continent, its revenue is below 5 bn EUR and it is little known to the
    public.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``market_rank`` (int), ``market_scope`` (``"world"`` or a continent),
        ``revenue_eur`` (float) and ``public_awareness`` (``"low"``, ``"medium"``,
        ``"high"``), as read by :func:`analysis.sources.firms.read_firm_list`.

    Returns
    -------
    pandas.Series of boolean
        ``True``/``False``, or ``<NA>`` when a missing input could decide it
        (three-valued logic, see the module docstring). A rank of 1 qualifies
        whether the scope is the world or a continent, so a missing scope only
        matters for ranks 2 and 3.

    Examples
    --------
    >>> firms = pd.DataFrame({"market_rank": [3, 1, 2], "market_scope": ["world", "Europe", "Europe"],
    ...                       "revenue_eur": [4.9e9, 1e8, 1e8], "public_awareness": ["low"] * 3})
    >>> is_hidden_champion_simon(firms).tolist()
    [True, True, False]
    """
    rank = frame["market_rank"].astype("Float64")
    is_world = _equals(frame["market_scope"], "world")
    position = _bool(rank == 1) | (is_world & _bool(rank <= SIMON_MAX_WORLD_RANK))
    revenue = _bool(frame["revenue_eur"].astype("Float64") < SIMON_MAX_REVENUE_EUR)
    little_known = _equals(frame["public_awareness"], "low")
    return (position & revenue & little_known).rename("hc_simon")


def is_weltmarktfuehrer(frame: pd.DataFrame) -> pd.Series:
    """The Weltmarktführer-Index criteria, row by row.

    Revenue at least 50 m EUR, at least 50 % of it abroad, no. 1 or 2 in its segment
    of the world market, present on at least three continents.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``revenue_eur``, ``export_share`` (fraction 0–1), ``market_rank``,
        ``market_scope`` and ``continents``.

    Returns
    -------
    pandas.Series of boolean
        ``True``/``False``/``<NA>`` (three-valued logic). A rank that refers to a
        continent fails the position criterion; a missing scope with rank 1 or 2
        is unknown.

    Examples
    --------
    >>> firms = pd.DataFrame({"revenue_eur": [50e6, 49.9e6], "export_share": [0.5, 0.9],
    ...                       "market_rank": [2, 1], "market_scope": ["world", "world"],
    ...                       "continents": [3, 5]})
    >>> is_weltmarktfuehrer(firms).tolist()
    [True, False]
    """
    rank = frame["market_rank"].astype("Float64")
    is_world = _equals(frame["market_scope"], "world")
    position = is_world & _bool(rank <= WMI_MAX_WORLD_RANK)
    revenue = _bool(frame["revenue_eur"].astype("Float64") >= WMI_MIN_REVENUE_EUR)
    abroad = _bool(frame["export_share"].astype("Float64") >= WMI_MIN_EXPORT_SHARE)
    continents = _bool(frame["continents"].astype("Float64") >= WMI_MIN_CONTINENTS)
    return (revenue & abroad & position & continents).rename("hc_wmi")


def classify(frame: pd.DataFrame, definition: str) -> pd.Series:
    """Which firms count under ``definition``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Firms (see the two definitions for the columns they need).
    definition : {"simon", "wmi", "all"}
        ``"all"`` counts every firm on the list.

    Returns
    -------
    pandas.Series of boolean (``<NA>`` = unknown)

    Raises
    ------
    ValueError
        For an unknown definition.
    """
    if definition == "simon":
        return is_hidden_champion_simon(frame)
    if definition == "wmi":
        return is_weltmarktfuehrer(frame)
    if definition == "all":
        return pd.Series(True, index=frame.index, dtype="boolean", name="hc_all")
    raise ValueError(f"unknown definition {definition!r}; expected one of {', '.join(DEFINITIONS)}")


def definition_table(frame: pd.DataFrame) -> pd.DataFrame:
    """How many firms meet each definition: yes, no, unknown (a small table)."""
    rows = []
    for definition in DEFINITIONS:
        flag = classify(frame, definition)
        rows.append(
            {
                "definition": definition,
                "yes": int(flag.fillna(False).sum()),
                "no": int((~flag).fillna(False).sum()),
                "unknown": int(flag.isna().sum()),
            }
        )
    return pd.DataFrame(rows)
