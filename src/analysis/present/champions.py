"""What a reader sees of the Hidden Champions (notebook 03): findings, sentences, tables, figures.

Builds on :mod:`analysis.champions` (the firm list placed in Kreise, counts per Kreis
and Land, the Poisson / negative-binomial count models). The regression is a
cross-section: its sentences call it an association, never a cause.
"""

from __future__ import annotations

import pandas as pd

from analysis.present import i18n, plots
from analysis.present.i18n import gettext as _
from analysis.present.maps import label_places
from analysis.present.narrative import Finding, Text, certainty, say, title
from analysis.present.tables import Column, Table, shortened_note, table

#: How a Kreis stands against the model (``region_standing`` verdicts).
VERDICTS = {
    "above": "above",
    "below": "below",
    "within": "within the range of",
}


def champions_title():
    """Title and question of the Hidden Champions report."""
    return title(
        _("Hidden Champions: where they are, and whether MINT regions have more of them"),
        _(
            "Where are the Hidden Champions, which Kreise lead, do MINT regions have more of "
            "them, and where does the region stand against what its MINT strength predicts?"
        ),
    )


def definition_name(definition: str) -> str:
    """A firm-list definition in the report language."""
    names = {
        "simon": _("Hermann Simon's definition"),
        "wmi": _("Weltmarktführer-Index"),
        "all": _("all firms of the list"),
    }
    return names.get(definition, definition)


def count_finding(counts: pd.DataFrame, lands: pd.DataFrame, firms, definition: str) -> Finding:
    """How many champions, where, and what the count rests on."""
    total = float(counts["hc_count"].sum())
    first = lands.iloc[0]
    return Finding(
        _(
            "The list holds {total} Hidden Champions ({definition}) in {kreise} of {n} Kreise, "
            "{density} per 100,000 inhabitants; the densest Land is {land} with {land_density}. "
            "The count is only as complete as the firm list: {unplaced} firms could not be "
            "placed in a Kreis."
        ).format(
            total=i18n.fmt_int(total),
            definition=definition_name(definition),
            kreise=i18n.fmt_int(int((counts["hc_count"] > 0).sum())),
            n=i18n.fmt_int(len(counts)),
            density=i18n.fmt_number(total / counts["population"].sum() * 1e5, 2),
            land=first["land_name"],
            land_density=i18n.fmt_number(first["hc_per_100k"], 2),
            unplaced=i18n.fmt_int(len(firms.unplaced)),
        ),
        "count",
    )


def elasticity_finding(models) -> Finding:
    """The MINT elasticity in plain words: an association, with its interval."""
    e = models.elasticity
    change = 1.1**e.estimate - 1
    return Finding(
        _(
            "Kreise where 1 + MINT students per 1,000 inhabitants is 10 % higher have {change} "
            "{direction} Hidden Champions per inhabitant (elasticity {estimate}, 95 % interval {low} to "
            "{high}; {sure}), with Land and size taken into account. This is an association "
            "across Kreise, not proof that MINT strength attracts champions."
        ).format(
            change=i18n.fmt_percent(abs(change), 1),
            direction=_("more") if change > 0 else _("fewer"),
            estimate=i18n.fmt_number(e.estimate, 2),
            low=i18n.fmt_number(e.ci_low, 2),
            high=i18n.fmt_number(e.ci_high, 2),
            sure=certainty(e.ci_low, e.ci_high),
        ),
        "elasticity",
    )


def standing_sentence(standing: pd.DataFrame, name: str) -> str:
    """Where the region stands against the model's expectation."""
    s = standing.iloc[0]
    return _(
        "{name} has {count} Hidden Champions, {density} per 100,000 inhabitants: rank {rank} "
        "of {kreise} Kreise by density. Given its population, MINT strength and Land, the "
        "model expects {expected} (90 % range {low} to {high}): the region is {verdict} "
        "expectation."
    ).format(
        name=name,
        count=i18n.fmt_number(s["hc_count"], 1),
        density=i18n.fmt_number(s["hc_per_100k"], 1),
        rank=i18n.fmt_int(s["density_rank"]),
        kreise=i18n.fmt_int(s["kreise"]),
        expected=i18n.fmt_number(s["expected_negbin"], 1),
        low=i18n.fmt_int(s["interval_low"]),
        high=i18n.fmt_int(s["interval_high"]),
        verdict=_(VERDICTS.get(str(s["verdict"]), str(s["verdict"]))),
    )


def sector_finding(mix: pd.DataFrame) -> Finding:
    """The largest WZ division of the champions."""
    first = mix.iloc[0]
    return Finding(
        _(
            "{share} of the champions work in one division, {label} (WZ {division}); "
            "manufacturing (section C) holds {manufacturing} of those in the divisions shown: "
            "the champions are industrial firms."
        ).format(
            share=i18n.fmt_percent(first["share"], 0),
            label=_(first["label"]),
            division=first["wz_division"],
            manufacturing=i18n.fmt_percent(mix.loc[mix["section"] == "C", "share"].sum(), 0),
        ),
        "sector",
    )


def findings(counts, lands, firms, definition, models, standing, name, mix) -> list[Finding]:
    """The four findings that open the Hidden Champions report."""
    return [
        count_finding(counts, lands, firms, definition),
        elasticity_finding(models),
        Finding(standing_sentence(standing, name), "standing"),
        sector_finding(mix),
    ]


def overdispersion_sentence(models) -> Text:
    """Whether the negative binomial is the model to read."""
    od = models.overdispersion.iloc[0]
    verdict = (
        _("the counts are overdispersed, so the negative binomial model is the one to read.")
        if od["lr_p_value"] < 0.05
        else _("no evidence of overdispersion; Poisson and negative binomial agree.")
    )
    return say(
        _("Pearson chi²/df = {ratio} and NB alpha = {alpha} (LR test p = {p}): ").format(
            ratio=i18n.fmt_number(od["pearson_ratio"], 2),
            alpha=i18n.fmt_number(od["alpha"], 2),
            p=f"{od['lr_p_value']:.2g}",
        )
        + verdict
    )


def list_sentence(firms) -> Text:
    """What was read from the firm list, set aside and placed (appendix)."""
    fl = firms.firm_list
    placed_by = firms.located.groupby("placed_by")["row"].nunique()
    return say(
        _(
            "{rows} rows read from {file}; {set_aside} set aside (duplicates or rows without "
            "a name), {firms} firms kept. Placed by Kreis code: {by_ags}, by a postcode in one "
            "Kreis: {by_plz}, by a postcode split between Kreise: {by_shared}; {unplaced} "
            "firms could not be placed."
        ).format(
            rows=i18n.fmt_int(fl.n_rows),
            file=fl.path.name,
            set_aside=i18n.fmt_int(len(fl.quarantine)),
            firms=i18n.fmt_int(firms.n_firms),
            by_ags=i18n.fmt_int(placed_by.get("ags", 0)),
            by_plz=i18n.fmt_int(placed_by.get("plz", 0)),
            by_shared=i18n.fmt_int(placed_by.get("plz_shared", 0)),
            unplaced=i18n.fmt_int(len(firms.unplaced)),
        )
    )


def methods() -> Text:
    """Definitions and the count model (appendix)."""
    return say(
        _(
            "Under Simon's definition a firm is a Hidden Champion when it is no. 1-3 "
            "worldwide or no. 1 on its continent, has a revenue below 5 bn EUR and is little "
            "known; the Weltmarktführer-Index asks for at least 50 m EUR revenue, at least 50 % "
            "abroad, no. 1 or 2 worldwide and presence on at least 3 continents. Firms whose "
            "postcode spans several Kreise count fractionally in each. Count regression per "
            "Kreis: log E[champions] = log(population) + a + beta · log(MINT students per "
            "1,000 + 1) + Land effect; Poisson and negative binomial (NB2) fits with "
            "heteroskedasticity-robust (HC3) standard errors and 95 % intervals."
        )
    )


def land_table(lands: pd.DataFrame) -> Table:
    """Champions per Land."""
    columns = [
        Column("land_name", _("Land"), "text"),
        Column("kreise", _("Kreise"), "int"),
        Column("hc_count", _("Hidden Champions"), "number", 1),
        Column("hc_per_100k", _("per 100,000 inhabitants"), "number", 2),
        Column("share_of_hc", _("Share of all champions"), "share", 1),
    ]
    return table(lands, columns, caption=_("Hidden Champions per Land"))


def top_table(top: pd.DataFrame) -> Table:
    """Kreise with the highest density (at least 3 champions)."""
    columns = [
        Column("name", _("Kreis"), "text"),
        Column("land_name", _("Land"), "text"),
        Column("population", _("Inhabitants"), "int"),
        Column("hc_count", _("Hidden Champions"), "number", 1),
        Column("hc_per_100k", _("per 100,000 inhabitants"), "number", 1),
        Column("mint_students_per_1000", _("MINT students per 1,000 inhabitants"), "number", 1),
    ]
    return table(
        top, columns, caption=_("Kreise with the most champions per inhabitant (at least 3)")
    )


def irr_table(models) -> Table:
    """Incidence rate ratios of both count models."""
    frame = models.irr_table().assign(
        term=lambda f: f["term"].map(
            {"Intercept": _("Intercept"), "log_mint": _("log(1 + MINT students per 1,000)")}
        ),
        model=lambda f: f["model"].map({"poisson": "Poisson", "negbin": _("negative binomial")}),
    )
    columns = [
        Column("model", _("Model"), "text"),
        Column("term", _("Term"), "text"),
        Column("coef", _("Coefficient"), "number", 3),
        Column("irr", _("Rate ratio"), "number", 3),
        Column("irr_ci_low", _("95 % interval, lower"), "number", 3),
        Column("irr_ci_high", _("95 % interval, upper"), "number", 3),
    ]
    return table(frame, columns, caption=_("Count models: rate ratios"))


def sector_figure(mix: pd.DataFrame, definition: str, source: str) -> None:
    """Share of champions by WZ division (bars)."""
    shown = mix.assign(label=mix["label"].map(_)).iloc[::-1]
    ax = shown.plot.barh(x="label", y="share", legend=False, xlabel="", ylabel="")
    ax.set_xlabel(_("Share of champions"))
    ax.set_title(
        _("{share} of the champions are in {label}").format(
            share=i18n.fmt_percent(mix["share"].iloc[0], 0), label=_(mix["label"].iloc[0])
        ),
        loc="left",
    )
    plots.show(
        ax,
        alt=_(
            "Bar chart of the share of Hidden Champions ({definition}) by WZ 2008 division, "
            "largest first: {label} with {share}."
        ).format(
            definition=definition_name(definition),
            label=_(mix["label"].iloc[0]),
            share=i18n.fmt_percent(mix["share"].iloc[0], 0),
        ),
        source=source,
    )


def champion_map(geometry, counts, region: str, name: str, places, source: str):
    """Champions per 100,000 inhabitants, the region outlined (or a sentence without a map)."""
    if geometry is None:
        return say(_("No Kreis boundaries in this dataset: the maps are not available."))
    ax = plots.choropleth(
        geometry,
        counts.set_index("ags")["hc_per_100k"],
        highlight=[region],
        title=_("Hidden Champions per 100,000 inhabitants; {name} outlined").format(name=name),
        label=_("per 100,000 inhabitants"),
    )
    plots.show(
        label_places(ax, geometry, places),
        alt=_(
            "Map of the Kreise coloured by Hidden Champions per 100,000 inhabitants; {name} "
            "is outlined."
        ).format(name=name),
        source=source,
    )
    return None


def expected_figure(models, region: str, name: str, source: str) -> None:
    """Observed against expected champions per Kreis, the region marked."""
    ax = plots.observed_vs_expected(
        models.predictions,
        [region],
        title=_("Champions per Kreis: observed against expected (negative binomial)"),
    )
    ax.set_xlabel(_("expected (model)"))
    ax.set_ylabel(_("observed"))
    plots.show(
        ax,
        alt=_(
            "Scatter plot of observed against model-expected Hidden Champions per Kreis on "
            "log scales with the diagonal; {name} is marked."
        ).format(name=name),
        source=source,
    )


def demo_check(truth: dict | None, models) -> Text:
    """Whether the interval covers the injected elasticity (nothing to check on official data)."""
    if truth is None:
        return say(_("Official data: there are no injected truths to compare with."))
    injected = truth["hc_mint_elasticity"]
    return say(
        _(
            "Synthetic demo data: the injected elasticity is {injected}; the 95 % interval "
            "{low} to {high} {covers} it."
        ).format(
            injected=i18n.fmt_number(injected, 2),
            low=i18n.fmt_number(models.elasticity.ci_low, 2),
            high=i18n.fmt_number(models.elasticity.ci_high, 2),
            covers=_("covers") if models.elasticity.covers(injected) else _("does not cover"),
        )
    )


def unplaced_table(firms, n: int = 10) -> Table:
    """Firms that could not be placed (firm names are business information, not personal)."""
    unplaced = firms.unplaced
    columns = [
        Column("firm_id", _("Firm id"), "text"),
        Column("name", _("Firm"), "text"),
        Column("plz", _("Postcode"), "text"),
        Column("reason", _("Reason"), "text"),
    ]
    note = shortened_note(min(n, len(unplaced)), len(unplaced))
    return table(
        unplaced.head(n),
        columns,
        caption=_("Firms that could not be placed"),
        notes=[note] if note else [],
    )


def quarantine_table(firms, n: int = 10) -> Table:
    """Rows of the list set aside, and values that could not be used."""
    fl = firms.firm_list
    warnings = fl.report[fl.report["severity"] == "warning"][["row", "column", "message"]]
    rows = pd.concat(
        [
            fl.quarantine.assign(column="", message=fl.quarantine["reason"])[
                ["row", "column", "message"]
            ],
            warnings,
        ]
    )
    columns = [
        Column("row", _("Row"), "int"),
        Column("column", _("Column"), "text"),
        Column("message", _("What happened"), "text"),
    ]
    return table(rows.head(n), columns, caption=_("Rows set aside and values not used"))
