"""Placing firms in Kreise, counting them per Kreis and Land, sector mix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.champions.definitions import classify

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
        Postcode → Gemeinde → Kreis mapping from :func:`analysis.sources.official.plz.read_plz`
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
    from analysis.errors import InputError
    from analysis.paths import dataset_dir
    from analysis.sources.firms import read_firm_list
    from analysis.sources.official.catalogue import local_path
    from analysis.sources.official.plz import read_plz

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
