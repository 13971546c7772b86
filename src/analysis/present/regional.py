"""What a reader sees of a region profile (notebook 01): sentences, findings, tables, figure texts.

Builds on the pure results of :mod:`analysis.regions.profile` (whose indicator labels
are English ids, translated here) and :func:`analysis.regions.nearest_peers`.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.present import i18n
from analysis.present.i18n import gettext as _
from analysis.present.narrative import Finding, join_names, position
from analysis.present.tables import Column, Table, table
from analysis.regions.profile import PROFILE_INDICATORS, figure_of, rank_range

_BY_COLUMN = {ind.column: ind for ind in PROFILE_INDICATORS}
_BY_LABEL = {ind.label: ind for ind in PROFILE_INDICATORS}
#: The indicator the MINT findings are about.
MINT_LABEL = "MINT students per 1,000 inhabitants"
JOBS_LABEL = "Employees at workplace per 1,000 inhabitants"


def label(indicator: str) -> str:
    """An indicator's label (English id or column name) in the report language."""
    if indicator in _BY_COLUMN:
        indicator = _BY_COLUMN[indicator].label
    return _(indicator)


def _unit(unit: str) -> str:
    return {"EUR": "€"}.get(unit, _(unit) if unit != "%" else "%")


def _value(indicator: str, value: float) -> str:
    ind = _BY_LABEL.get(indicator)
    return i18n.fmt_number(value, ind.decimals if ind else 1)


def coverage_sentence(indicators: pd.DataFrame, missing) -> str:
    """What the data covers: Kreise, inhabitants, indicators without data (named)."""
    population = float(indicators["population"].sum()) if "population" in indicators else math.nan
    text = _("The data covers {n} Kreise with {population} million inhabitants.").format(
        n=i18n.fmt_int(len(indicators)), population=i18n.fmt_number(population / 1e6, 2)
    )
    if missing:
        text += " " + _(
            "Indicators without data in this dataset, and therefore not shown: {names}."
        ).format(names="; ".join(label(m.label) for m in missing))
    return text


def rank_sentence(profile: pd.DataFrame, name: str, indicator: str) -> str:
    """One sentence: where the region stands on one indicator (or that there is no data)."""
    if indicator not in profile.index:
        return _("There is no data on {indicator} in this dataset.").format(
            indicator=label(indicator)
        )
    row = profile.loc[indicator]
    if pd.isna(row["value"]):
        return _(
            "{name} has no published value for {indicator} (the statistical office "
            "suppressed or did not report it)."
        ).format(name=name, indicator=label(indicator))
    return _(
        "{indicator}: {name} has {value} (German median {median}), rank {rank} of {of} "
        "Kreise, {position}."
    ).format(
        indicator=label(indicator),
        name=name,
        value=_value(indicator, row["value"]),
        median=_value(indicator, row["germany_median"]),
        rank=i18n.fmt_int(row["rank"]),
        of=i18n.fmt_int(row["of"]),
        position=position(row["percentile"]),
    )


def rank_finding(
    indicators: pd.DataFrame, profile: pd.DataFrame, region: str, name: str, indicator: str
) -> Finding:
    """A summary finding on one indicator: value, rank, how firm the rank is, what it means."""
    if indicator not in profile.index or pd.isna(profile.loc[indicator, "value"]):
        return Finding(rank_sentence(profile, name, indicator), indicator)
    row = profile.loc[indicator]
    band = rank_range(indicators, str(row["column"]), region)
    firm = (
        _("the rank is firm: a value 5 % higher or lower would not move it")
        if band is not None and band[0] == band[1]
        else _("a value 5 % higher or lower would put it between rank {best} and {worst}").format(
            best=i18n.fmt_int(band[0]), worst=i18n.fmt_int(band[1])
        )
    )
    meaning = (
        _("a strength to build on") if row["percentile"] >= 50 else _("a gap to the typical Kreis")
    )
    text = _(
        "{indicator}: {name} has {value} (German median {median}), rank {rank} of {of} "
        "Kreise, {position}; {firm}: {meaning}."
    ).format(
        indicator=label(indicator),
        name=name,
        value=_value(indicator, row["value"]),
        median=_value(indicator, row["germany_median"]),
        rank=i18n.fmt_int(row["rank"]),
        of=i18n.fmt_int(row["of"]),
        position=position(row["percentile"]),
        firm=firm,
        meaning=meaning,
    )
    return Finding(text, indicator)


def peers_sentence(peers: pd.DataFrame, name: str, columns_used: list[str]) -> str:
    """One sentence naming the nearest peers and what 'near' means."""
    return _(
        "The Kreise most similar to {name} on the standardized indicators ({columns}) are "
        "{peers}. They are the natural benchmark: what they achieve, a region of this "
        "profile can achieve."
    ).format(
        name=name,
        columns="; ".join(label(c) for c in columns_used),
        peers=join_names(list(peers["name"].head(5))),
    )


def peers_finding(peers: pd.DataFrame, name: str, columns_used: list[str]) -> Finding:
    """Summary finding: the nearest peers, how firm 'nearest' is, what they are for."""
    return Finding(
        _(
            "Most similar to {name} are {peers} (on {n} indicators; with other indicators "
            "other Kreise could be nearest): the benchmark for what a region of this "
            "profile can achieve."
        ).format(
            name=name,
            peers=join_names(list(peers["name"].head(3))),
            n=i18n.fmt_int(len(columns_used)),
        ),
        "peers",
    )


def _gaps(comparison: pd.DataFrame, points: float = 10) -> tuple[list[str], list[str]]:
    gap = (comparison["region_percentile"] - comparison["compare_percentile"]).dropna()
    ahead = [i for i in gap.index if gap[i] >= points]
    behind = [i for i in gap.index if gap[i] <= -points]
    return ahead, behind


def comparison_sentence(comparison: pd.DataFrame) -> str:
    """Where the region is ahead of / behind the comparison (10 percentile points or more)."""
    name_a, name_b = comparison.attrs["region_name"], comparison.attrs["compare_name"]
    ahead, behind = _gaps(comparison)
    if not ahead and not behind:
        return _(
            "{a} and {b} stand within 10 percentile points of each other on every indicator."
        ).format(a=name_a, b=name_b)
    parts = []
    if behind:
        parts.append(
            _("{a} trails {b} on {items}").format(
                a=name_a, b=name_b, items="; ".join(label(i) for i in behind)
            )
        )
    if ahead:
        parts.append(
            _("{a} is ahead of {b} on {items}").format(
                a=name_a, b=name_b, items="; ".join(label(i) for i in ahead)
            )
        )
    return "; ".join(parts) + " " + _("(compared by percentile among all Kreise).")


def comparison_finding(comparison: pd.DataFrame) -> Finding:
    """Summary finding: on how many indicators the region is ahead / behind the comparison."""
    ahead, behind = _gaps(comparison)
    return Finding(
        _(
            "Against {b}, {a} is clearly ahead on {ahead} and clearly behind on {behind} of "
            "{n} indicators (a difference of at least 10 percentile points counts as clear): "
            "{meaning}."
        ).format(
            a=comparison.attrs["region_name"],
            b=comparison.attrs["compare_name"],
            ahead=i18n.fmt_int(len(ahead)),
            behind=i18n.fmt_int(len(behind)),
            n=i18n.fmt_int(len(comparison)),
            meaning=_("the gaps show where to catch up")
            if behind
            else _("no indicator shows a clear gap"),
        ),
        "comparison",
    )


def profile_table(profile: pd.DataFrame, caption: str) -> Table:
    """The region's indicators: value, unit, rank, percentile, German median."""
    frame = profile.reset_index().assign(
        indicator=lambda f: f["indicator"].map(label),
        unit=lambda f: f["unit"].map(_unit),
        value=lambda f: [
            _value(i, v) for i, v in zip(profile.index, profile["value"], strict=True)
        ],
        germany_median=[
            _value(i, v) for i, v in zip(profile.index, profile["germany_median"], strict=True)
        ],
    )
    columns = [
        Column("indicator", _("Indicator"), "text"),
        Column("value", _("Value"), "formatted"),
        Column("unit", _("Unit"), "text"),
        Column("rank", _("Rank (1 = highest)"), "int"),
        Column("of", _("Kreise with a value"), "int"),
        Column("percentile", _("Percentile (median Kreis = 50)"), "number", 0),
        Column("germany_median", _("German median"), "formatted"),
    ]
    if "reference_date" in frame.columns and frame["reference_date"].astype(bool).any():
        columns.append(Column("reference_date", _("Reference date"), "text"))
    return table(frame, columns, caption=caption)


def peer_table(peers: pd.DataFrame, columns_used: list[str], caption: str) -> Table:
    """The nearest peers with the indicators that define 'near'."""
    columns = [Column("name", _("Kreis"), "text"), Column("ags", _("Kreis code"), "text")]
    columns += [
        Column(
            c,
            label(c) + (" (%)" if _BY_COLUMN[c].unit == "%" else ""),
            "int" if _BY_COLUMN[c].decimals == 0 else "number",
            _BY_COLUMN[c].decimals,
        )
        for c in columns_used
        if c in _BY_COLUMN
    ]
    columns.append(Column("distance", _("Distance (standardized)"), "number", 2))
    return table(peers, columns, caption=caption)


def comparison_table(comparison: pd.DataFrame, caption: str) -> Table:
    """Region, comparison and German median side by side, with percentiles."""
    name_a, name_b = comparison.attrs["region_name"], comparison.attrs["compare_name"]
    formatted = {
        column: [_value(i, v) for i, v in zip(comparison.index, comparison[column], strict=True)]
        for column in ("region", "compare", "germany_median")
    }
    frame = comparison.reset_index(names="indicator").assign(
        indicator=lambda f: f["indicator"].map(label),
        unit=lambda f: f["unit"].map(_unit),
        **formatted,
    )
    columns = [
        Column("indicator", _("Indicator"), "text"),
        Column("unit", _("Unit"), "text"),
        Column("region", name_a, "formatted"),
        Column("compare", name_b, "formatted"),
        Column("germany_median", _("German median"), "formatted"),
        Column("region_percentile", _("{name}: percentile").format(name=name_a), "number", 0),
        Column("compare_percentile", _("{name}: percentile").format(name=name_b), "number", 0),
    ]
    return table(frame, columns, caption=caption)


def percentile_bars(comparison: pd.DataFrame) -> pd.DataFrame:
    """The percentiles of both regions, indexed by translated indicator label, for a bar chart."""
    names = comparison.attrs["region_name"], comparison.attrs["compare_name"]
    return (
        comparison[["region_percentile", "compare_percentile"]]
        .set_axis(list(names), axis="columns")
        .rename(index=label)
    )


def rank_title(profile: pd.DataFrame, name: str, indicator: str = MINT_LABEL) -> str:
    """A title stating the finding of the rank strip."""
    if indicator not in profile.index or pd.isna(profile.loc[indicator, "value"]):
        return label(indicator)
    row = profile.loc[indicator]
    return _("{name}: rank {rank} of {of} Kreise in {indicator}").format(
        name=name,
        rank=i18n.fmt_int(row["rank"]),
        of=i18n.fmt_int(row["of"]),
        indicator=label(indicator),
    )


def rank_alt(profile: pd.DataFrame, name: str, compare_name: str, indicator: str = MINT_LABEL):
    """Alt text of the rank strip: what it shows and where the two regions are."""
    row = profile.loc[indicator] if indicator in profile.index else None
    value = _value(indicator, row["value"]) if row is not None else i18n.MISSING
    return _(
        "Dot plot of all Kreise by {indicator}, one dot each, with the German median as a "
        "dashed line; {name} ({value}) and {compare} are marked."
    ).format(indicator=label(indicator), name=name, value=value, compare=compare_name)


def bars_alt(comparison: pd.DataFrame) -> str:
    """Alt text of the percentile bars."""
    return (
        _(
            "Bar chart of the percentiles of {a} and {b} among all Kreise for each indicator "
            "(50 = median Kreis)."
        ).format(a=comparison.attrs["region_name"], b=comparison.attrs["compare_name"])
        + " "
        + comparison_sentence(comparison)
    )


def key_figure(profile: pd.DataFrame, indicator: str, column: str = "rank"):
    """A profile cell as a plain number for ``analysis.record`` (None when missing)."""
    return figure_of(profile, indicator, column)


def profile_title() -> object:
    """Title and question of the region profile report."""
    from analysis.present.narrative import title

    return title(
        _("Region profile: MINT strength, rank, peers and a comparison"),
        _(
            "Why should a region such as Göttingen become a MINT region, and how far is it "
            "from one?"
        ),
    )


def profile_findings(
    indicators: pd.DataFrame,
    profile: pd.DataFrame,
    peers: pd.DataFrame,
    peer_columns: list[str],
    comparison: pd.DataFrame,
    region: str,
) -> list[Finding]:
    """The 3-4 findings that open the region profile."""
    name = comparison.attrs["region_name"]
    return [
        rank_finding(indicators, profile, region, name, MINT_LABEL),
        rank_finding(indicators, profile, region, name, JOBS_LABEL),
        peers_finding(peers, name, peer_columns),
        comparison_finding(comparison),
    ]


def method_notes() -> str:
    """How ranks, percentiles and peers are computed (for the appendix)."""
    return _(
        "Ranks count from the highest value (rank 1) among the Kreise with a value; the "
        "percentile is the share of Kreise with a lower value (the median Kreis is 50). "
        "Peers are the nearest Kreise after standardizing the peer indicators (z-scores, "
        "skewed indicators on a log scale), by Euclidean distance. The figures are full "
        "counts of the official statistics, not samples: they carry no sampling error, but "
        "depend on the reference date and the Kreis boundaries of the data."
    )
