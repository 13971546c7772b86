"""Hidden Champions: definitions, placing firms in Kreise, counts and count regression.

Pure computations on tidy frames; the firm list comes from
:func:`analysis.sources.firms.read_firm_list`, the Kreis indicators from
:mod:`analysis.regions`.

Definitions
-----------
Both definitions use three-valued (Kleene) logic: the result is ``True`` when every
criterion holds, ``False`` as soon as one criterion fails, and ``<NA>`` (unknown) when
no criterion fails but a missing input could still decide it. A missing revenue never
turns a firm into a non-champion; a revenue of 8 bn EUR does, whatever else is missing.

* :func:`is_hidden_champion_simon` — Hermann Simon: no. 1, 2 or 3 on the world market or
  no. 1 on its continent; revenue below 5 bn EUR (strictly); little known to the
  public (``public_awareness == "low"``).
* :func:`is_weltmarktfuehrer` — Weltmarktführer-Index criteria: revenue at least
  50 m EUR; at least 50 % of revenue abroad; no. 1 or 2 in its segment of the *world*
  market; present on at least 3 continents. A continental rank does not establish a
  world-market position, so a firm whose rank refers to a continent fails the
  position criterion.

Count regression
----------------
:func:`fit_count_models` regresses the number of champions per Kreis ``y`` on the
log MINT indicator with Land fixed effects and the log population as offset::

    log E[y_i] = log(population_i) + a + beta * log(mint_i + shift) + gamma_land(i)

``mint_i`` is ``mint_students_per_1000`` (MINT students — Fächergruppen HS-FG04
Mathematik/Naturwissenschaften and HS-FG08 Ingenieurwissenschaften — per 1,000
inhabitants) and ``shift`` is :data:`MINT_SHIFT` (1.0) so that Kreise without a
university stay in the model. ``beta`` is the elasticity of champion density (per
capita) with respect to ``1 + MINT students per 1,000 inhabitants``; the incidence
rate ratio ``exp(beta)`` is the factor on the champion rate per e-fold increase of
that quantity. Both a Poisson and a negative binomial (NB2) GLM are fitted, with
heteroskedasticity-robust (sandwich, HC3) standard errors; the NB2 overdispersion
``alpha`` is estimated by maximum likelihood. Fractional counts (firms whose
postcode spans several Kreise) are allowed: the Poisson fit is then a
quasi-likelihood fit, which the sandwich covariance keeps valid.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

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


# --------------------------------------------------------------------------- placing firms


def locate_firms(
    firms: pd.DataFrame,
    plz_map: pd.DataFrame,
    kreis_codes: Iterable[str],
    *,
    weight: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Place each firm in its Kreis: by AGS where given, else by postcode.

    The postcode step is :func:`analysis.territory.allocate_plz`: a postcode in one
    Kreis gives that Kreis; a postcode spanning several Kreise is split equally, or
    by the population of its Gemeinden when ``weight`` is given, and the firm then
    counts fractionally in each.

    Parameters
    ----------
    firms : pandas.DataFrame or FirmList
        Firms with columns ``plz`` and ``ags`` (5- or 8-digit; its first five
        digits are the Kreis) — :attr:`FirmList.frame`.
    plz_map : pandas.DataFrame
        Postcode → Gemeinde → Kreis mapping from :func:`analysis.sources.plz.read_plz`
        (``plz``, ``ags8``, ``kreis_ags``).
    kreis_codes : iterable of str
        The current 5-digit Kreis codes.
    weight : pandas.Series, optional
        Population per Gemeinde (indexed by 8-digit AGS) for splitting postcodes.

    Returns
    -------
    located : pandas.DataFrame
        One row per firm and Kreis: the firm's columns plus ``kreis_ags``,
        ``weight`` (1, or the postcode's share in that Kreis; the weights of a firm
        sum to 1), ``placed_by`` (``"ags"``, ``"plz"``, ``"plz_shared"``) and
        ``location_note`` (e.g. a postcode pointing elsewhere than the AGS, or an
        AGS that is not a current Kreis).
    unplaced : pandas.DataFrame
        The firms that could not be placed, with their columns plus ``reason``.
        Every firm is in exactly one of the two frames.
    """
    from analysis.territory import allocate_plz

    frame = getattr(firms, "frame", firms).reset_index(drop=True)
    codes = {str(c) for c in kreis_codes}
    ags5 = frame["ags"].str.slice(0, 5)
    ags_ok = (ags5.notna() & ags5.isin(codes)).to_numpy()

    # Postcode step for every firm with a postcode (also those placed by AGS, to
    # note a postcode that points elsewhere).
    with_plz = frame[frame["plz"].notna()]
    allocated, not_allocated = allocate_plz(with_plz[["plz"]], plz_map, "plz", weight)
    allocated = allocated[allocated["kreis_ags"].isin(codes)]
    share_sum = allocated.groupby(level=0)["share"].transform("sum")
    allocated = allocated.assign(share=allocated["share"] / share_sum)
    kreise_of = allocated.groupby(level=0)["kreis_ags"].agg(lambda k: "/".join(sorted(k)))

    by_ags = frame[ags_ok].assign(
        kreis_ags=ags5[ags_ok],
        weight=1.0,
        placed_by="ags",
        location_note=[
            ""
            if i not in kreise_of.index or a in kreise_of[i].split("/")
            else f"postcode {frame.at[i, 'plz']} lies in Kreis {kreise_of[i]}; placed by AGS"
            for i, a in zip(frame.index[ags_ok], ags5[ags_ok], strict=True)
        ],
    )
    use = allocated[~ags_ok[allocated.index]]
    n_kreise = use.groupby(level=0)["kreis_ags"].transform("size")
    by_plz = (
        frame.loc[use.index]
        .assign(
            kreis_ags=use["kreis_ags"].to_numpy(),
            weight=use["share"].to_numpy(),
            placed_by=np.where(n_kreise.to_numpy() > 1, "plz_shared", "plz"),
        )
        .assign(
            location_note=lambda f: np.where(
                f["ags"].notna(),
                "AGS " + f["ags"].fillna("") + " is not a current Kreis; placed by postcode",
                "",
            )
        )
    )
    located = (
        pd.concat([by_ags, by_plz])
        .rename_axis("_firm")
        .sort_values(["_firm", "kreis_ags"])
        .reset_index(drop=True)
        .astype({"kreis_ags": "str", "placed_by": "str", "location_note": "str"})
    )

    placed = set(by_ags.index) | set(use.index)
    rest = frame[~frame.index.isin(placed)]
    plz_reason = not_allocated["reason"].reindex(rest.index)
    outside = rest.index.isin(with_plz.index) & plz_reason.isna().to_numpy()
    plz_text = rest["plz"].fillna("")
    plz_part = np.select(
        [plz_reason == "unknown", plz_reason == "malformed", plz_reason == "foreign", outside],
        [
            "postcode " + plz_text + " not in the PLZ map",
            "postcode " + plz_text + " is not a German postcode (5 digits)",
            "postcode " + plz_text + " is foreign",
            "postcode " + plz_text + " lies in no current Kreis",
        ],
        default="",
    )
    ags_part = np.where(
        rest["ags"].notna(), "AGS " + rest["ags"].fillna("") + " is not a current Kreis", ""
    )
    reason = [
        " and ".join(p for p in (a, b) if p) or "no postcode and no AGS"
        for a, b in zip(plz_part, ags_part, strict=True)
    ]
    unplaced = rest.assign(reason=reason).astype({"reason": "str"}).reset_index(drop=True)
    return located, unplaced


@dataclass(frozen=True)
class LocatedFirms:
    """A firm list as read and placed in Kreise (see :func:`load_firms`)."""

    firm_list: object  # analysis.sources.firms.FirmList
    located: pd.DataFrame
    unplaced: pd.DataFrame
    plz_path: Path

    @property
    def n_firms(self) -> int:
        """Firms on the list after duplicates were set aside."""
        return len(self.firm_list.frame)


#: File names looked for under ``<dataset>/firms/``, in this order.
FIRM_LIST_NAMES: tuple[str, ...] = ("hidden_champions.csv", "hidden_champions.xlsx")


def find_firm_list(dataset: str) -> Path:
    """The firm list of a dataset: ``firms/hidden_champions.csv`` (or ``.xlsx``).

    Falls back to the only CSV/XLSX file in ``firms/``.

    Raises
    ------
    InputError
        When there is none, or several candidates and none has the default name.
    """
    from analysis.errors import InputError
    from analysis.paths import dataset_dir

    folder = dataset_dir(dataset) / "firms"
    for name in FIRM_LIST_NAMES:
        if (folder / name).is_file():
            return folder / name
    candidates = (
        sorted(p for p in folder.glob("*") if p.suffix.lower() in (".csv", ".xlsx") and p.is_file())
        if folder.is_dir()
        else []
    )
    if len(candidates) == 1:
        return candidates[0]
    found = f"found {', '.join(p.name for p in candidates)}" if candidates else "found none"
    raise InputError(
        folder,
        f"expected one firm list ({' or '.join(FIRM_LIST_NAMES)}, a CSV or XLSX in the "
        f"schema of analysis.sources.firms, see data/raw/README.md); {found}",
    )


def load_firms(
    dataset: str,
    kreis_codes: Iterable[str],
    *,
    weight: pd.Series | None = None,
) -> LocatedFirms:
    """Read a dataset's firm list and PLZ mapping and place the firms in Kreise.

    Parameters
    ----------
    dataset : {"demo", "official"}
    kreis_codes : iterable of str
        The current Kreis codes (e.g. ``load_kreis_indicators(dataset)["ags"]``).
    weight : pandas.Series, optional
        Population per Gemeinde for splitting postcodes across Kreise.

    Returns
    -------
    LocatedFirms
        The :class:`~analysis.sources.firms.FirmList` (frame, report, quarantine),
        the located firms and the unplaced ones.

    Raises
    ------
    InputError
        No firm list, no PLZ mapping (``official/plz_osm/zuordnung_plz_ort.csv``) or a
        file that cannot be read.
    """
    from analysis.catalogue import local_path
    from analysis.errors import InputError
    from analysis.paths import dataset_dir
    from analysis.sources.firms import read_firm_list
    from analysis.sources.plz import read_plz

    firm_list = read_firm_list(find_firm_list(dataset))
    official = dataset_dir(dataset) / "official"
    plz_path = local_path("plz-osm", official)
    if plz_path is None:
        raise InputError(
            official / "plz_osm",
            "expected the PLZ → Kreis mapping zuordnung_plz_ort.csv (workbook data fetch "
            "--only plz-osm, or workbook demo)",
        )
    located, unplaced = locate_firms(firm_list, read_plz(plz_path), kreis_codes, weight=weight)
    return LocatedFirms(firm_list=firm_list, located=located, unplaced=unplaced, plz_path=plz_path)


# --------------------------------------------------------------------------- counts


def count_by_kreis(
    located: pd.DataFrame,
    kreise: pd.DataFrame,
    definition: str = "simon",
    *,
    key: str = "ags",
) -> pd.DataFrame:
    """Champion counts and density per 100,000 inhabitants for every Kreis.

    Parameters
    ----------
    located : pandas.DataFrame
        From :func:`locate_firms` (``kreis_ags``, ``weight`` and the firm columns).
    kreise : pandas.DataFrame
        One row per Kreis with ``key`` and ``population`` (and whatever else should
        travel along: name, ``land_code``, MINT indicators).
    definition : {"simon", "wmi", "all"}
    key : str
        The Kreis code column of ``kreise``.

    Returns
    -------
    pandas.DataFrame
        ``kreise`` plus ``hc_count`` (weighted: fractional where a postcode spans
        several Kreise), ``hc_unknown`` (firms whose status is unknown under the
        definition), ``firms_listed`` (all located firms) and ``hc_per_100k``.
        Kreise without champions have 0. ``attrs["outside_table"]`` holds the
        weighted number of champions located in Kreise missing from ``kreise``.
    """
    flag = classify(located, definition)
    weights = located.assign(
        hc_count=located["weight"] * flag.fillna(False).astype("float64"),
        hc_unknown=located["weight"] * flag.isna().astype("float64"),
        firms_listed=located["weight"],
    )
    sums = weights.groupby("kreis_ags")[["hc_count", "hc_unknown", "firms_listed"]].sum()
    known = sums.index.isin(kreise[key].astype("str"))
    table = kreise.merge(sums, left_on=key, right_index=True, how="left").fillna(
        {"hc_count": 0.0, "hc_unknown": 0.0, "firms_listed": 0.0}
    )
    table = table.assign(hc_per_100k=table["hc_count"] / table["population"] * 1e5)
    table.attrs["outside_table"] = float(sums.loc[~known, "hc_count"].sum())
    table.attrs["definition"] = definition
    return table


def count_by_land(kreis_counts: pd.DataFrame) -> pd.DataFrame:
    """Champion counts and density per Land from :func:`count_by_kreis`.

    Returns
    -------
    pandas.DataFrame
        ``land_code`` (and ``land_name`` if present), ``kreise``, ``population``,
        ``hc_count``, ``hc_per_100k``, ``share_of_hc``; sorted by density, highest first.
    """
    by = ["land_code"] + (["land_name"] if "land_name" in kreis_counts.columns else [])
    table = kreis_counts.groupby(by, as_index=False).agg(
        kreise=("hc_count", "size"),
        population=("population", "sum"),
        hc_count=("hc_count", "sum"),
    )
    total = table["hc_count"].sum()
    return table.assign(
        hc_per_100k=table["hc_count"] / table["population"] * 1e5,
        share_of_hc=table["hc_count"] / total if total > 0 else np.nan,
    ).sort_values("hc_per_100k", ascending=False, ignore_index=True)


def top_kreise(
    kreis_counts: pd.DataFrame,
    n: int = 10,
    *,
    by: str = "hc_per_100k",
    min_count: float = 0.0,
) -> pd.DataFrame:
    """The ``n`` Kreise with the highest ``by`` (ties broken by count, then code).

    ``min_count`` keeps a tiny Kreis with a single firm from topping a density list.
    """
    table = kreis_counts[kreis_counts["hc_count"] >= min_count]
    sort = [by, "hc_count"] if by != "hc_count" else [by]
    return table.sort_values(sort, ascending=False, kind="stable").head(n).reset_index(drop=True)


#: WZ 2008 sections by their first division, and division names for the divisions
#: where champions concentrate (manufacturing, trade, information, services).
_WZ_SECTIONS: tuple[tuple[int, str, str], ...] = (
    (1, "A", "Agriculture, forestry and fishing"),
    (5, "B", "Mining and quarrying"),
    (10, "C", "Manufacturing"),
    (35, "D", "Energy supply"),
    (36, "E", "Water supply, waste"),
    (41, "F", "Construction"),
    (45, "G", "Wholesale and retail trade"),
    (49, "H", "Transportation and storage"),
    (55, "I", "Accommodation and food"),
    (58, "J", "Information and communication"),
    (64, "K", "Financial and insurance"),
    (68, "L", "Real estate"),
    (69, "M", "Professional, scientific and technical"),
    (77, "N", "Administrative and support services"),
    (84, "O", "Public administration"),
    (85, "P", "Education"),
    (86, "Q", "Health and social work"),
    (90, "R", "Arts and recreation"),
    (94, "S", "Other services"),
    (97, "T", "Households"),
    (99, "U", "Extraterritorial organisations"),
)
WZ_DIVISIONS: dict[str, str] = {
    "10": "Food products",
    "11": "Beverages",
    "13": "Textiles",
    "17": "Paper",
    "20": "Chemicals",
    "21": "Pharmaceuticals",
    "22": "Rubber and plastics",
    "23": "Glass, ceramics, stone",
    "24": "Basic metals",
    "25": "Fabricated metal products",
    "26": "Computer, electronic and optical products",
    "27": "Electrical equipment",
    "28": "Machinery and equipment",
    "29": "Motor vehicles and parts",
    "30": "Other transport equipment",
    "32": "Other manufacturing (incl. medical instruments)",
    "33": "Repair and installation of machinery",
    "46": "Wholesale trade",
    "58": "Publishing (incl. software publishing)",
    "62": "Computer programming and consultancy",
    "71": "Architecture, engineering, technical testing",
    "72": "Scientific research and development",
}


def wz_section(division: str | None) -> str | None:
    """The WZ 2008 section letter of a two-digit division (``"28"`` → ``"C"``)."""
    if division is None or not str(division).isdigit():
        return None
    number = int(division)
    letter = None
    for first, code, _ in _WZ_SECTIONS:
        if number >= first:
            letter = code
    return letter


def sector_mix(located: pd.DataFrame, definition: str = "simon", *, top: int = 10) -> pd.DataFrame:
    """Champions by WZ 2008 division: the ``top`` divisions and the rest pooled.

    Returns
    -------
    pandas.DataFrame
        ``wz_division``, ``label``, ``section``, ``hc_count``, ``share``; the last row
        ``"other"`` pools the remaining divisions (and firms without a sector code).
    """
    flag = classify(located, definition).fillna(False).astype("float64")
    counts = (
        located.assign(hc=located["weight"] * flag, wz_division=located["wz_division"].fillna("??"))
        .groupby("wz_division")["hc"]
        .sum()
    )
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    head = counts.head(top)
    rest = counts.iloc[top:].sum()
    table = pd.DataFrame({"wz_division": head.index.astype("str"), "hc_count": head.to_numpy()})
    if rest > 0:
        table = pd.concat(
            [table, pd.DataFrame({"wz_division": ["other"], "hc_count": [rest]})], ignore_index=True
        )
    total = counts.sum()
    return table.assign(
        label=table["wz_division"].map(
            lambda d: WZ_DIVISIONS.get(d, "other divisions" if d == "other" else f"WZ {d}")
        ),
        section=table["wz_division"].map(wz_section),
        share=table["hc_count"] / total if total > 0 else np.nan,
    )[["wz_division", "label", "section", "hc_count", "share"]]


# --------------------------------------------------------------------------- regression


def mint_log_indicator(values, shift: float = MINT_SHIFT) -> np.ndarray:
    """The regressor: ``log(mint_students_per_1000 + shift)``.

    The demo generator uses this very function, so the notebook estimates the
    injected elasticity exactly.
    """
    return np.log(np.asarray(values, dtype="float64") + shift)


@dataclass(frozen=True)
class Elasticity:
    """The elasticity of champion density w.r.t. the MINT indicator, with its CI."""

    model: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float

    @property
    def irr(self) -> float:
        """Incidence rate ratio ``exp(beta)`` (rate factor per e-fold MINT increase)."""
        return float(np.exp(self.estimate))

    def covers(self, value: float) -> bool:
        """Whether the confidence interval contains ``value``."""
        return bool(self.ci_low <= value <= self.ci_high)


@dataclass(frozen=True)
class CountModels:
    """Poisson and negative binomial fits of champion counts per Kreis.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        Tidy: ``model`` (``poisson``/``negbin``), ``term``, ``coef``, ``se`` (robust),
        ``z``, ``p_value``, ``ci_low``, ``ci_high``, ``irr``, ``irr_ci_low``,
        ``irr_ci_high``.
    elasticity : Elasticity
        ``log_mint`` in the negative binomial model (the headline figure).
    elasticity_poisson : Elasticity
        The same in the Poisson model (robust SE).
    overdispersion : pandas.DataFrame
        One row of statistics: ``pearson_chi2``, ``df_resid``, ``pearson_ratio``
        (Poisson Pearson chi² / df; ≈ 1 without overdispersion), ``deviance_ratio``,
        ``alpha`` (NB2 ML), ``alpha_ci_low``, ``alpha_ci_high``, ``lr_stat``
        (2 × (llf NB − llf Poisson)), ``lr_p_value`` (against ½ χ²₁: alpha = 0 lies on
        the boundary), ``llf_poisson``, ``llf_negbin``, ``aic_poisson``, ``aic_negbin``.
    predictions : pandas.DataFrame
        Per Kreis used: key, ``observed``, ``expected_poisson``, ``expected_negbin``,
        ``pearson_resid_negbin`` and the columns passed through.
    dropped : pandas.DataFrame
        Kreise left out, with ``reason`` (missing indicator or population; a Land
        without any champion, whose fixed effect is not estimable).
    n : int
        Kreise used.
    cov_type : str
    shift : float
    land_effects : bool
    reference_land : str or None
    """

    coefficients: pd.DataFrame
    elasticity: Elasticity
    elasticity_poisson: Elasticity
    overdispersion: pd.DataFrame
    predictions: pd.DataFrame
    dropped: pd.DataFrame
    n: int
    cov_type: str
    shift: float
    land_effects: bool
    reference_land: str | None

    def irr_table(self, terms: Iterable[str] = ("Intercept", MINT_TERM)) -> pd.DataFrame:
        """Incidence rate ratios with CIs for ``terms``, both models side by side."""
        table = self.coefficients[self.coefficients["term"].isin(list(terms))]
        return table[
            ["model", "term", "coef", "se", "irr", "irr_ci_low", "irr_ci_high", "p_value"]
        ].reset_index(drop=True)


def fit_count_models(
    data: pd.DataFrame,
    *,
    count: str = "hc_count",
    population: str = "population",
    indicator: str = "mint_students_per_1000",
    land: str | None = "land_code",
    key: str = "ags",
    shift: float = MINT_SHIFT,
    cov_type: str = "HC3",
    level: float = 0.95,
) -> CountModels:
    """Poisson and NB2 GLMs of champion counts on the log MINT indicator.

    Model: ``log E[count] = log(population) + a + beta * log(indicator + shift)
    (+ Land effects)``; see the module docstring.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per Kreis (e.g. :func:`count_by_kreis` joined with the indicators).
    count, population, indicator, land, key : str
        Column names; ``land=None`` fits without Land effects.
    shift : float
        Added to the indicator before the log.
    cov_type : {"HC3", "HC1", "HC0", "nonrobust"}
        Standard errors: heteroskedasticity-robust sandwich (HC3, the default,
        corrects for leverage; see :func:`_standard_errors`) or model-based.
    level : float
        Confidence level.

    Returns
    -------
    CountModels

    Raises
    ------
    ValueError
        If fewer Kreise than parameters + 2 remain.
    """
    import statsmodels.api as sm
    from statsmodels.discrete.discrete_model import NegativeBinomial

    frame = data.reset_index(drop=True)
    bad = (
        frame[count].isna()
        | frame[population].isna()
        | (frame[population] <= 0)
        | frame[indicator].isna()
        | (frame[indicator] + shift <= 0)
    )
    dropped = [
        frame.loc[bad, [key]].assign(reason="missing or invalid count, population or indicator")
    ]
    frame = frame.loc[~bad]
    reference = None
    if land is not None:
        totals = frame.groupby(land)[count].transform("sum")
        empty = totals <= 0
        dropped.append(
            frame.loc[empty, [key]].assign(
                reason="its Land has no champion: the Land effect is not estimable"
            )
        )
        frame = frame.loc[~empty]
        sizes = frame.groupby(land).size()
        # The Land with most Kreise as reference keeps the intercept well determined.
        reference = str(sizes.sort_values(ascending=False, kind="stable").index[0])
    frame = frame.reset_index(drop=True)
    y = frame[count].to_numpy(dtype="float64")
    offset = np.log(frame[population].to_numpy(dtype="float64"))
    columns = {
        "Intercept": np.ones(len(frame)),
        MINT_TERM: mint_log_indicator(frame[indicator], shift),
    }
    if land is not None:
        for code in sorted(frame[land].astype("str").unique()):
            if code != reference:
                columns[f"land[{code}]"] = (frame[land].astype("str") == code).to_numpy(
                    dtype="float64"
                )
    X = pd.DataFrame(columns)
    if len(frame) < X.shape[1] + 2:
        raise ValueError(f"{len(frame)} Kreise are too few for {X.shape[1]} parameters")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
        nb_ml = _fit_nb2(NegativeBinomial(y, X, offset=offset, loglike_method="nb2"), poisson)
        alpha = float(max(nb_ml.params["alpha"], 1e-8))
        negbin = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset).fit()

    z = stats.norm.ppf(0.5 + level / 2)
    tables = [
        _tidy(poisson.params, _standard_errors(poisson, cov_type), "poisson", z),
        _tidy(negbin.params, _standard_errors(negbin, cov_type), "negbin", z),
    ]
    coefficients = pd.concat(tables, ignore_index=True)

    pois_llf = float(poisson.llf)
    nb_llf = float(nb_ml.llf)
    lr = max(2.0 * (nb_llf - pois_llf), 0.0)
    alpha_se = float(nb_ml.bse["alpha"])
    overdispersion = pd.DataFrame(
        [
            {
                "pearson_chi2": float(poisson.pearson_chi2),
                "df_resid": float(poisson.df_resid),
                "pearson_ratio": float(poisson.pearson_chi2 / poisson.df_resid),
                "deviance_ratio": float(poisson.deviance / poisson.df_resid),
                "alpha": alpha,
                "alpha_ci_low": max(alpha - z * alpha_se, 0.0),
                "alpha_ci_high": alpha + z * alpha_se,
                "lr_stat": lr,
                "lr_p_value": float(0.5 * stats.chi2.sf(lr, 1)) if lr > 0 else 1.0,
                "llf_poisson": pois_llf,
                "llf_negbin": nb_llf,
                "aic_poisson": float(2 * X.shape[1] - 2 * pois_llf),
                "aic_negbin": float(2 * (X.shape[1] + 1) - 2 * nb_llf),
            }
        ]
    )
    mu_nb = negbin.fittedvalues.to_numpy()
    predictions = frame.assign(
        observed=y,
        expected_poisson=poisson.fittedvalues.to_numpy(),
        expected_negbin=mu_nb,
        pearson_resid_negbin=(y - mu_nb) / np.sqrt(mu_nb + alpha * mu_nb**2),
    )
    return CountModels(
        coefficients=coefficients,
        elasticity=_elasticity(coefficients, "negbin", level),
        elasticity_poisson=_elasticity(coefficients, "poisson", level),
        overdispersion=overdispersion,
        predictions=predictions,
        dropped=pd.concat(dropped, ignore_index=True),
        n=len(frame),
        cov_type=cov_type,
        shift=shift,
        land_effects=land is not None,
        reference_land=reference,
    )


def _fit_nb2(model, poisson):
    """NB2 maximum likelihood, robust to the optimizer's occasional failures.

    BFGS on log(alpha) is the reliable default; Newton and Nelder-Mead are tried when
    it does not converge or returns a non-finite likelihood.
    """
    start = np.append(poisson.params.to_numpy(), 0.1)
    last = None
    for method, maxiter in (("bfgs", 500), ("newton", 100), ("nm", 5000)):
        try:
            result = model.fit(start_params=start, method=method, maxiter=maxiter, disp=0)
        except (ValueError, np.linalg.LinAlgError):
            continue
        last = result
        if result.mle_retvals.get("converged", False) and np.isfinite(result.llf):
            return result
    if last is None:
        raise ValueError("the negative binomial model could not be fitted")
    return last


def _standard_errors(result, cov_type: str) -> pd.Series:
    """Standard errors of a GLM fit: model-based or heteroskedasticity-robust.

    The sandwich is ``B (sum_i w_i s_i s_i') B`` with ``B`` the inverse Fisher
    information and ``s_i`` the score of Kreis ``i``; ``w_i`` is 1 for HC0,
    ``n / (n - k)`` for HC1 and ``1 / (1 - h_i)^2`` for HC3, ``h_i`` the GLM leverage
    (hat value). HC3 keeps its coverage with the small counts and the few-Kreis
    Länder of this model, where HC0 and HC1 are too small (see
    ``validation/hc_coverage.py``).
    """
    if cov_type == "nonrobust":
        return result.bse
    if cov_type not in ("HC0", "HC1", "HC3"):
        raise ValueError(f"cov_type must be nonrobust, HC0, HC1 or HC3, got {cov_type!r}")
    bread = result.cov_params().to_numpy()  # inverse Fisher information (scale 1)
    scores = result.model.score_obs(result.params.to_numpy())
    n, k = scores.shape
    if cov_type == "HC3":
        hat = result.get_hat_matrix_diag()
        # a Kreis alone in its Land has leverage 1 and a zero score: it adds nothing
        weight = np.where(hat < 1 - 1e-8, 1.0 / np.square(1.0 - np.minimum(hat, 1 - 1e-8)), 0.0)
    else:
        weight = np.full(n, n / (n - k) if cov_type == "HC1" else 1.0)
    meat = scores.T @ (scores * weight[:, None])
    cov = bread @ meat @ bread
    return pd.Series(np.sqrt(np.diag(cov)), index=result.params.index)


def _tidy(params: pd.Series, se: pd.Series, model: str, z: float) -> pd.DataFrame:
    low, high = params - z * se, params + z * se
    return pd.DataFrame(
        {
            "model": model,
            "term": params.index.astype("str"),
            "coef": params.to_numpy(),
            "se": se.to_numpy(),
            "z": (params / se).to_numpy(),
            "p_value": 2 * stats.norm.sf(np.abs((params / se).to_numpy())),
            "ci_low": low.to_numpy(),
            "ci_high": high.to_numpy(),
            "irr": np.exp(params.to_numpy()),
            "irr_ci_low": np.exp(low.to_numpy()),
            "irr_ci_high": np.exp(high.to_numpy()),
        }
    )


def _elasticity(coefficients: pd.DataFrame, model: str, level: float) -> Elasticity:
    row = coefficients[(coefficients["model"] == model) & (coefficients["term"] == MINT_TERM)].iloc[
        0
    ]
    return Elasticity(
        model=model,
        estimate=float(row["coef"]),
        se=float(row["se"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        p_value=float(row["p_value"]),
        level=level,
    )


def region_standing(
    models: CountModels,
    kreis_counts: pd.DataFrame,
    region: str,
    *,
    key: str = "ags",
    interval: float = 0.9,
) -> pd.DataFrame:
    """Where one Kreis stands: observed against expected champions, and its rank.

    Parameters
    ----------
    models : CountModels
    kreis_counts : pandas.DataFrame
        From :func:`count_by_kreis` (all Kreise, for the density rank).
    region : str
        The Kreis code.
    key : str
    interval : float
        Probability of the negative binomial prediction interval for the count.

    Returns
    -------
    pandas.DataFrame
        One row: ``region``, ``hc_count``, ``hc_per_100k``, ``density_rank`` (1 =
        highest), ``kreise``, ``density_percentile``, ``expected_negbin``,
        ``observed_to_expected``, ``interval_low``, ``interval_high`` and ``verdict``
        (``"above"``, ``"within"``, ``"below"`` the model's expectation).

    Raises
    ------
    KeyError
        If ``region`` is not in ``kreis_counts``.
    """
    if region not in set(kreis_counts[key].astype("str")):
        raise KeyError(f"Kreis {region!r} is not in the table ({len(kreis_counts)} Kreise)")
    ranked = kreis_counts.assign(
        density_rank=kreis_counts["hc_per_100k"].rank(ascending=False, method="min").astype("int64")
    )
    row = ranked[ranked[key].astype("str") == region].iloc[0]
    pred = models.predictions[models.predictions[key].astype("str") == region]
    out = {
        "region": region,
        "hc_count": float(row["hc_count"]),
        "hc_per_100k": float(row["hc_per_100k"]),
        "density_rank": int(row["density_rank"]),
        "kreise": len(ranked),
        "density_percentile": float((ranked["hc_per_100k"] <= row["hc_per_100k"]).mean() * 100),
    }
    if len(pred):
        mu = float(pred["expected_negbin"].iloc[0])
        alpha = float(models.overdispersion["alpha"].iloc[0])
        size = 1.0 / alpha
        dist = stats.nbinom(size, size / (size + mu))
        low, high = dist.ppf((1 - interval) / 2), dist.ppf(0.5 + interval / 2)
        verdict = (
            "above" if row["hc_count"] > high else "below" if row["hc_count"] < low else "within"
        )
        out |= {
            "expected_negbin": mu,
            "observed_to_expected": float(row["hc_count"]) / mu if mu > 0 else np.nan,
            "interval_low": float(low),
            "interval_high": float(high),
            "verdict": verdict,
        }
    else:
        out |= {
            "expected_negbin": np.nan,
            "observed_to_expected": np.nan,
            "interval_low": np.nan,
            "interval_high": np.nan,
            "verdict": "not in the model",
        }
    return pd.DataFrame([out])
