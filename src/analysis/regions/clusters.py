"""MINT clusters: location quotients and star ratings in the manner of the European Cluster Panorama.

The European Cluster Panorama rates a region's strength in a sector with "stars":
*size* (the region holds a large share of the national activity), *specialization*
(the sector's share in the region is well above the national share: location
quotient), and *dynamics* (growth above the national growth). We apply the same idea
to MINT activity per Kreis with the open indicators available (MINT students, and MINT
employment where a licensed import provides it):

- size star: the Kreis is in the top 10 % of Kreise by its share of the national total;
- specialization star: location quotient ≥ 2 (the ECP threshold);
- growth star (only where two periods exist): growth ≥ national growth + 5 points.

A Kreis with the specialization star and at least one other star is a *MINT cluster*;
one with any single star is *emerging*; the rest *no cluster*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIZE_TOP_SHARE = 0.10
LQ_THRESHOLD = 2.0
GROWTH_MARGIN_PTS = 5.0
CATEGORIES = ("MINT cluster", "emerging", "no cluster")


def location_quotient(part: pd.Series, base: pd.Series) -> pd.Series:
    """LQ_i = (part_i / base_i) / (Σ part / Σ base).

    Parameters
    ----------
    part : Series
        Activity in the sector per region (e.g. MINT students).
    base : Series
        Reference size per region (e.g. inhabitants or all students).

    Returns
    -------
    Series
        NaN where ``base`` is 0 or missing.

    Examples
    --------
    >>> location_quotient(pd.Series([2, 8]), pd.Series([10, 90])).round(3).tolist()
    [2.0, 0.889]
    """
    part = part.astype(float)
    base = base.astype(float)
    valid = part.notna() & base.notna() & (base > 0)
    national = part[valid].sum() / base[valid].sum()
    return (part / base.where(base > 0)) / national


def cluster_stars(
    frame: pd.DataFrame,
    *,
    part: str,
    base: str,
    part_prev: str | None = None,
) -> pd.DataFrame:
    """Star ratings and cluster category per Kreis.

    Parameters
    ----------
    frame : DataFrame
        One row per Kreis.
    part, base : str
        Columns of sector activity and reference size (see :func:`location_quotient`).
        For a specialisation quotient ``base`` must be the total of the same kind
        (``part="mint_students", base="students_total"``); with
        ``base="population"`` the ``lq`` column is a per-inhabitant index, which
        marks university towns rather than MINT specialisation
        (``attrs["lq_kind"]`` says which).
    part_prev : str, optional
        Column of the sector activity in an earlier period; enables the growth star.

    Returns
    -------
    DataFrame
        ``frame`` with ``share_of_national`` (%), ``lq``, ``star_size``,
        ``star_specialization``, ``star_growth`` (NA without two periods), ``stars``
        and ``category``.
    """
    values = frame[part].astype(float)
    share = values / values.sum() * 100
    lq = location_quotient(frame[part], frame[base])
    cutoff = share.quantile(1 - SIZE_TOP_SHARE)
    star_size = share >= cutoff
    star_spec = lq >= LQ_THRESHOLD
    if part_prev is not None and part_prev in frame.columns and frame[part_prev].notna().any():
        prev = frame[part_prev].astype(float)
        growth = (values / prev.where(prev > 0) - 1) * 100
        national_growth = (values.sum() / prev.sum() - 1) * 100
        star_growth = (growth >= national_growth + GROWTH_MARGIN_PTS).astype("boolean")
        star_growth = star_growth.mask(growth.isna())
    else:
        star_growth = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    stars = star_size.astype(int) + star_spec.astype(int) + star_growth.fillna(False).astype(int)
    category = np.where(
        star_spec & (stars >= 2), CATEGORIES[0], np.where(stars >= 1, CATEGORIES[1], CATEGORIES[2])
    )
    out = frame.assign(
        share_of_national=share,
        lq=lq,
        star_size=star_size,
        star_specialization=star_spec,
        star_growth=star_growth,
        stars=stars,
        category=pd.Categorical(category, categories=list(CATEGORIES), ordered=True),
    )
    out.attrs = {
        **frame.attrs,
        "lq_kind": "per-inhabitant index"
        if base in ("population", "population_prev")
        else "specialisation quotient",
    }
    return out


def category_summary(stars: pd.DataFrame, population: str = "population") -> pd.DataFrame:
    """Kreise and inhabitants per cluster category."""
    return (
        stars.groupby("category", observed=False)
        .agg(kreise=("category", "size"), inhabitants=(population, "sum"))
        .assign(share_of_inhabitants_pct=lambda t: t["inhabitants"] / t["inhabitants"].sum() * 100)
    )


def peer_groups(frame: pd.DataFrame, columns: list[str], k: int = 6) -> pd.Series:
    """Group Kreise into ``k`` peer groups on standardized indicators (Ward clustering).

    Deterministic (hierarchical clustering has no random start). Groups are numbered
    1..k by decreasing mean of the first column, so group 1 is the strongest.

    Parameters
    ----------
    frame : DataFrame
        One row per Kreis.
    columns : list of str
        Indicator columns, standardised by :func:`analysis.regions.compare.standardize`
        (``log1p`` where non-negative and skewed, then z-scores), the same
        standardisation as :func:`analysis.regions.compare.nearest_peers`.
    k : int
        Number of groups.

    Returns
    -------
    Series
        Group number per row (NA where an indicator is missing).
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    from analysis.regions.compare import standardize

    # the one standardisation used for peers everywhere (nearest_peers uses it too)
    z_all = standardize(frame.reset_index(drop=True).assign(ags=range(len(frame))), columns)
    z_all.index = frame.index
    complete = frame.loc[z_all.notna().all(axis=1), columns].astype(float)
    z = z_all.loc[complete.index]
    labels = fcluster(linkage(z.to_numpy(), method="ward"), t=k, criterion="maxclust")
    raw = pd.Series(labels, index=complete.index)
    order = complete[columns[0]].groupby(raw).mean().sort_values(ascending=False).index
    renumber = {old: new for new, old in enumerate(order, start=1)}
    return raw.map(renumber).reindex(frame.index).astype("Int64")


def _label(frame: pd.DataFrame) -> pd.Series:
    return frame["name"].astype(str) + " (" + frame["ags"].astype(str) + ")"


def top_kreise(stars: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """The ``n`` Kreise with most MINT students per 1,000 inhabitants, with their stars.

    Index: "name (ags)".
    """
    columns = [
        c
        for c in (
            "land_name",
            "population",
            "mint_students",
            "mint_students_per_1000",
            "lq",
            "stars",
            "category",
        )
        if c in stars.columns
    ]
    return (
        stars.sort_values(["mint_students_per_1000", "ags"], ascending=[False, True])
        .head(n)
        .assign(kreis=_label)
        .set_index("kreis")[columns]
    )


def describe_categories(stars: pd.DataFrame, region: str) -> str:
    """Sentences: how many clusters, and the region's category with its reasons."""
    counts = stars["category"].value_counts()
    row = stars.set_index("ags").loc[region]
    reasons = [
        label
        for label, flag in (
            ("a size star (top 10 % by share of Germany's MINT students)", row["star_size"]),
            (
                f"a specialization star (LQ {row['lq']:.2f} ≥ {LQ_THRESHOLD:g})",
                row["star_specialization"],
            ),
        )
        if bool(flag)
    ]
    text = (
        f"{int(counts.get('MINT cluster', 0))} Kreise qualify as MINT clusters and "
        f"{int(counts.get('emerging', 0))} as emerging; "
        f"{row['name']} is '{row['category']}' with location quotient {row['lq']:.2f}"
    )
    text += f" ({'; '.join(reasons)})." if reasons else " (no star)."
    if stars["star_growth"].isna().all():
        text += " The growth star needs two periods of MINT data and is not rated here."
    return text


def group_profile(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Median indicators and size of each peer group (column ``peer_group``)."""
    return (
        frame.groupby("peer_group")[columns]
        .median()
        .assign(kreise=frame.groupby("peer_group").size())
    )


def describe_group(frame: pd.DataFrame, region: str) -> str:
    """One sentence: the region's peer group and a few of its members."""
    indexed = frame.set_index("ags")
    group = indexed.loc[region, "peer_group"]
    if pd.isna(group):
        return f"{indexed.loc[region, 'name']} has missing indicators and no peer group."
    members = indexed[indexed["peer_group"] == group]
    others = [str(n) for a, n in members["name"].items() if a != region][:6]
    return (
        f"{indexed.loc[region, 'name']} belongs to peer group {int(group)} of "
        f"{int(frame['peer_group'].max())} ({len(members)} Kreise; group 1 is the strongest on "
        f"MINT students per inhabitant), together with {', '.join(others)}."
    )
