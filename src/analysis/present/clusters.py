"""What a reader sees of the MINT clusters (notebook 02): findings, tables, maps, sentences.

Builds on the results of :mod:`analysis.regions.clusters` (star ratings in the manner of
the European Cluster Panorama, peer groups); category names there are English ids,
translated here.
"""

from __future__ import annotations

import pandas as pd

from analysis.present import i18n
from analysis.present.i18n import gettext as _
from analysis.present.narrative import Finding, Text, join_names, say, title
from analysis.present.regional import label
from analysis.present.tables import Column, Table, table
from analysis.regions.clusters import LQ_THRESHOLD

#: How close to the LQ threshold a Kreis counts as borderline (± this much).
BORDERLINE_LQ = 0.2


def category(name: object) -> str:
    """A cluster category (English id from ``analysis.regions.clusters``) in the report language."""
    texts = {
        "MINT cluster": _("MINT cluster"),
        "emerging": _("emerging"),
        "no cluster": _("no cluster"),
    }
    return texts.get(str(name), str(name))


def clusters_title():
    """Title and question of the MINT cluster report."""
    return title(
        _("MINT clusters: which Kreise are MINT clusters already?"),
        _(
            "Where is MINT activity concentrated, which Kreise qualify as MINT clusters in "
            "the manner of the European Cluster Panorama, and where does the region stand?"
        ),
    )


def _row(stars: pd.DataFrame, region: str) -> pd.Series:
    return stars.set_index("ags").loc[region]


def count_finding(stars: pd.DataFrame) -> Finding:
    """How many clusters, their share of inhabitants, how many lie near the threshold."""
    clusters = stars[stars["category"].astype(str) == "MINT cluster"]
    emerging = int((stars["category"].astype(str) == "emerging").sum())
    share = clusters["population"].sum() / stars["population"].sum()
    near = int(stars["lq"].sub(LQ_THRESHOLD).abs().le(BORDERLINE_LQ).sum())
    return Finding(
        _(
            "{n} of {total} Kreise are MINT clusters and {emerging} are emerging; the "
            "clusters hold {share} of the inhabitants. The rating rests on fixed "
            "thresholds: {near} Kreise have a location quotient within ±{band} of the "
            "threshold {threshold} and could change category with small changes in the data."
        ).format(
            n=i18n.fmt_int(len(clusters)),
            total=i18n.fmt_int(len(stars)),
            emerging=i18n.fmt_int(emerging),
            share=i18n.fmt_percent(share, 1),
            near=i18n.fmt_int(near),
            band=i18n.fmt_number(BORDERLINE_LQ, 1),
            threshold=i18n.fmt_number(LQ_THRESHOLD, 0),
        ),
        "clusters",
    )


def region_finding(stars: pd.DataFrame, region: str) -> Finding:
    """The region's category, its location quotient and its distance to the threshold."""
    row = _row(stars, region)
    margin = float(row["lq"]) - LQ_THRESHOLD
    side = (
        _("{margin} above the threshold of {threshold}")
        if margin >= 0
        else _("{margin} below the threshold of {threshold}")
    ).format(margin=i18n.fmt_number(abs(margin), 2), threshold=i18n.fmt_number(LQ_THRESHOLD, 0))
    meaning = (
        _("its MINT strength is a specialization, not only size")
        if bool(row["star_specialization"])
        else _("it is not specialized in MINT relative to its size")
    )
    return Finding(
        _(
            "{name} is rated '{category}' with a location quotient of {lq} (MINT students "
            "per inhabitant relative to Germany), {side}: {meaning}."
        ).format(
            name=row["name"],
            category=category(row["category"]),
            lq=i18n.fmt_number(row["lq"], 2),
            side=side,
            meaning=meaning,
        ),
        "region",
    )


def top_finding(stars: pd.DataFrame) -> Finding:
    """The leading Kreis by MINT students per 1,000 inhabitants."""
    ordered = stars.sort_values(["mint_students_per_1000", "ags"], ascending=[False, True])
    first, second = ordered.iloc[0], ordered.iloc[1]
    return Finding(
        _(
            "Most MINT students per inhabitant study in {first} ({value} per 1,000 "
            "inhabitants, ahead of {second} with {value2}); these are full counts of the "
            "official statistics, so the order is exact for the reference date."
        ).format(
            first=first["name"],
            value=i18n.fmt_number(first["mint_students_per_1000"], 1),
            second=second["name"],
            value2=i18n.fmt_number(second["mint_students_per_1000"], 1),
        ),
        "top",
    )


def group_sentence(grouped: pd.DataFrame, region: str) -> str:
    """The region's peer group and a few of its members."""
    indexed = grouped.set_index("ags")
    group = indexed.loc[region, "peer_group"]
    name = indexed.loc[region, "name"]
    if pd.isna(group):
        return _("{name} has missing indicators and no peer group.").format(name=name)
    members = indexed[indexed["peer_group"] == group]
    others = [str(n) for a, n in members["name"].items() if a != region][:5]
    return _(
        "{name} belongs to peer group {group} of {k} ({n} Kreise; group 1 is the strongest "
        "on MINT students per inhabitant), together with {others}. The groups come from a "
        "hierarchical clustering: with another number of groups their borders move."
    ).format(
        name=name,
        group=int(group),
        k=int(grouped["peer_group"].max()),
        n=i18n.fmt_int(len(members)),
        others=join_names(others),
    )


def findings(stars: pd.DataFrame, grouped: pd.DataFrame, region: str) -> list[Finding]:
    """The four findings that open the cluster report."""
    return [
        count_finding(stars),
        region_finding(stars, region),
        top_finding(stars),
        Finding(group_sentence(grouped, region), "group"),
    ]


def category_sentence(stars: pd.DataFrame, region: str) -> Text:
    """The region's stars and what the growth star needs."""
    row = _row(stars, region)
    reasons = []
    if bool(row["star_size"]):
        reasons.append(_("a size star (top 10 % by share of Germany's MINT students)"))
    if bool(row["star_specialization"]):
        reasons.append(
            _("a specialization star (location quotient {lq} ≥ {threshold})").format(
                lq=i18n.fmt_number(row["lq"], 2), threshold=i18n.fmt_number(LQ_THRESHOLD, 0)
            )
        )
    text = _("{name} has {stars}.").format(
        name=row["name"], stars=join_names(reasons) if reasons else _("no star")
    )
    growth = ""
    if stars["star_growth"].isna().all():
        growth = _("The growth star needs two periods of MINT data and is not rated here.")
    return say(text, growth)


def category_table(summary: pd.DataFrame) -> Table:
    """Kreise and inhabitants per category."""
    frame = summary.reset_index().assign(category=lambda f: f["category"].map(category))
    columns = [
        Column("category", _("Category"), "text"),
        Column("kreise", _("Kreise"), "int"),
        Column("inhabitants", _("Inhabitants"), "int"),
        Column("share_of_inhabitants_pct", _("Share of inhabitants"), "percent", 1),
    ]
    return table(frame, columns, caption=_("Kreise and inhabitants per cluster category"))


def top_table(top: pd.DataFrame, caption: str) -> Table:
    """The top Kreise by MINT students per 1,000 inhabitants, with their stars."""
    frame = top.reset_index().assign(category=lambda f: f["category"].map(category))
    columns = [
        Column("kreis", _("Kreis (code)"), "text"),
        Column("land_name", _("Land"), "text"),
        Column("population", _("Inhabitants"), "int"),
        Column("mint_students", _("MINT students"), "int"),
        Column("mint_students_per_1000", label("mint_students_per_1000"), "number", 1),
        Column("lq", _("Location quotient (Germany = 1)"), "number", 2),
        Column("stars", _("Stars"), "int"),
        Column("category", _("Category"), "text"),
    ]
    return table(frame, [c for c in columns if c.name in frame.columns], caption=caption)


def group_table(profile: pd.DataFrame, columns_used: list[str]) -> Table:
    """Median indicators and size of each peer group."""
    frame = profile.reset_index()
    columns = [Column("peer_group", _("Peer group"), "int"), Column("kreise", _("Kreise"), "int")]
    columns += [Column(c, label(c), "number", 1) for c in columns_used]
    return table(frame, columns, caption=_("Peer groups: median indicators (group 1 = strongest)"))


def methods() -> Text:
    """How the stars and categories are defined (appendix)."""
    return say(
        _(
            "Stars in the manner of the European Cluster Panorama, applied to MINT students "
            "per Kreis: a size star for the top 10 % of Kreise by share of Germany's MINT "
            "students; a specialization star for a location quotient of at least 2 (MINT "
            "students per inhabitant relative to Germany); a growth star where two periods "
            "exist, for growth at least 5 points above the national growth. A Kreis with the "
            "specialization star and at least one other star is a MINT cluster, one with any "
            "single star is emerging. Peer groups: Ward clustering of the standardized peer "
            "indicators (skewed ones on a log scale), numbered by their mean MINT students "
            "per inhabitant."
        )
    )


def largest_places(indicators: pd.DataFrame, n: int = 5) -> pd.Series:
    """Names of the ``n`` most populous Kreise, for orientation on maps."""
    largest = indicators.nlargest(n, "population")
    return largest.set_index("ags")["name"].str.split(",").str[0]


def maps(geometry, stars: pd.DataFrame, indicators: pd.DataFrame, region: str, source: str):
    """The location-quotient map and the category map, or a sentence when there is no map."""
    from analysis.present import plots
    from analysis.present.maps import label_places

    if geometry is None:
        return say(_("No Kreis boundaries in this dataset: the maps are not available."))
    places = largest_places(indicators)
    lq = stars.set_index("ags")["lq"]
    name = _row(stars, region)["name"]
    n_spec = int((lq >= LQ_THRESHOLD).sum())
    ax = plots.choropleth(
        geometry,
        lq,
        highlight=[region],
        title=_("{n} Kreise have a location quotient of 2 or more; {name} outlined").format(
            n=i18n.fmt_int(n_spec), name=name
        ),
        label=_("Location quotient (Germany = 1)"),
    )
    plots.show(
        label_places(ax, geometry, places),
        alt=_(
            "Map of the Kreise coloured by the location quotient of MINT students; "
            "{n} Kreise reach 2 or more; {name} is outlined."
        ).format(n=i18n.fmt_int(n_spec), name=name),
        source=source,
    )
    categories = stars.set_index("ags")["category"].map(category)
    counts = stars["category"].astype(str).value_counts()
    ax = plots.choropleth(
        geometry,
        categories.astype(
            pd.CategoricalDtype([category(c) for c in ("MINT cluster", "emerging", "no cluster")])
        ),
        highlight=[region],
        title=_("{n} MINT clusters and {m} emerging Kreise").format(
            n=i18n.fmt_int(counts.get("MINT cluster", 0)),
            m=i18n.fmt_int(counts.get("emerging", 0)),
        ),
        label=_("Category"),
        categorical=True,
        colors={category("no cluster"): plots.MUTED},
    )
    plots.show(
        label_places(ax, geometry, places),
        alt=_(
            "Map of the Kreise coloured by cluster category: {n} MINT clusters, {m} emerging, "
            "the rest without a cluster; {name} is outlined."
        ).format(
            n=i18n.fmt_int(counts.get("MINT cluster", 0)),
            m=i18n.fmt_int(counts.get("emerging", 0)),
            name=name,
        ),
        source=source,
    )
    return None
