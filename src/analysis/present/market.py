"""What a reader sees of the market potential (notebook 05): findings, sentences, tables.

Builds on :mod:`analysis.market` (accounts placed in Kreise, the Poisson potential model
with its funnel limits, white space, champions that are not customers, proximity). Small
customer counts arrive already withheld (``"<5"`` / ``"x"``) and are shown with the one
symbol and a footnote. Figures are in :mod:`analysis.present.market_figures`.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.present import i18n
from analysis.present.i18n import gettext as _
from analysis.present.narrative import Finding, Text, join_names, say, title
from analysis.present.tables import Column, Table, table

#: Smallest count of records a report prints (the privacy rule of the product).
THRESHOLD = 5


def market_title():
    """Title and question of the market-potential report."""
    return title(
        _("Market potential: customers against regional potential — where is our white space?"),
        _(
            "Where are our customers, how many does each Kreis have against its size and "
            "potential, which Kreise and which Hidden Champions are not yet served, and how "
            "far are they from our sales locations?"
        ),
    )


def status_label(status: str) -> str:
    """A location status of ``analysis.market`` in the report language."""
    texts = {
        "placed in a Kreis": _("placed in a Kreis"),
        "abroad (foreign country or postcode)": _("abroad (foreign country or postcode)"),
        "no postcode": _("no postcode"),
        "invalid postcode (not 5 digits)": _("invalid postcode (not 5 digits)"),
        "postcode not in the PLZ map": _("postcode not in the PLZ map"),
        "postcode in no current Kreis": _("postcode in no current Kreis"),
        "total": _("total"),
        "matched to an account": _("matched to an account"),
        "ambiguous (flagged for review)": _("ambiguous (flagged for review)"),
        "no matching account": _("no matching account"),
        "not in the CRM": _("not in the CRM"),
    }
    return texts.get(str(status), str(status))


def _outside(model) -> tuple[int, int]:
    flags = model.frame["funnel"].astype(str)
    return int(flags.str.startswith("below").sum()), int(flags.str.startswith("above").sum())


def located_finding(located) -> Finding:
    """How many accounts could be placed in a Kreis."""
    share = located.n_placed / located.n_accounts if located.n_accounts else math.nan
    return Finding(
        _(
            "{placed} of {n} accounts ({share}) are placed in a Kreis by their billing "
            "postcode; the other {rest} (abroad, without or with an invalid postcode) are "
            "counted apart, so the maps cover the German business only."
        ).format(
            placed=i18n.fmt_int(located.n_placed),
            n=i18n.fmt_int(located.n_accounts),
            share=i18n.fmt_percent(share, 0),
            rest=i18n.fmt_int(located.n_accounts - located.n_placed),
        ),
        "located",
    )


def funnel_finding(model) -> Finding:
    """Kreise outside the funnel limits against what chance would give."""
    below, above = _outside(model)
    chance = 0.05 * model.n_used
    meaning = (
        _("more than chance alone would give, so coverage really differs between Kreise")
        if below + above > 1.5 * chance
        else _("about what chance alone would give: no Kreis stands out with certainty")
    )
    return Finding(
        _(
            "Measured against size and potential, {below} of {n} Kreise have significantly "
            "fewer customers than expected and {above} more (about {chance} would fall "
            "outside the 95 % limits by chance): {meaning}."
        ).format(
            below=i18n.fmt_int(below),
            above=i18n.fmt_int(above),
            n=i18n.fmt_int(model.n_used),
            chance=i18n.fmt_int(round(chance)),
            meaning=meaning,
        ),
        "funnel",
    )


def white_space_sentence(ranked: pd.DataFrame, names: pd.Series) -> str:
    """What the white-space list says, with how many Kreise chance alone would flag."""
    a = ranked.attrs
    n = len(ranked)
    head = _(
        "Among the {n_high} Kreise with the highest potential (at least {min_expected} "
        "customers expected), {n} have low coverage"
    ).format(
        n_high=i18n.fmt_int(a["n_high_potential"]),
        min_expected=i18n.fmt_number(a["min_expected"], 1),
        n=i18n.fmt_int(n),
    )
    if n == 0:
        return head + _(": no white space stands out from chance.")
    chance = a.get("expected_by_chance", math.nan)
    text = head + _(", {sig} of them significantly below expectation.").format(
        sig=i18n.fmt_int(a.get("n_significant", 0))
    )
    if math.isfinite(chance):
        verdict = (
            _("so the list is mostly noise: treat it as a watch list.")
            if n <= 1.5 * chance + 1
            else _("so most of them are real gaps.")
        )
        text += (
            " "
            + _("Chance alone would flag about {chance} Kreise under these rules, ").format(
                chance=i18n.fmt_number(chance, 1)
            )
            + verdict
        )
    top = [str(names.get(c, c)) for c in ranked["ags"].head(3)]
    return text + " " + _("Largest shortfall: {names}.").format(names=join_names(top))


def champions_finding(not_customers: pd.DataFrame, evaluation: dict | None) -> Finding:
    """Hidden Champions served and not yet served, and how sure the matching is."""
    a = not_customers.attrs
    sure = (
        _(
            "checked against the demo's known pairs, the matching reaches a precision of "
            "{precision} and a recall of {recall}"
        ).format(
            precision=i18n.fmt_number(evaluation["precision"], 2),
            recall=i18n.fmt_number(evaluation["recall"], 2),
        )
        if evaluation is not None
        else _(
            "matching by name and place can miss or confuse firms; there is no truth to measure it"
        )
    )
    n, served, undecided = a["n_champions"], a["n_customers"], a["n_ambiguous"]
    # The disclosure rule of analysis.market.champion_sentence: a customer count below
    # the threshold is never printed, nor derivable from the numbers beside it.
    if served >= THRESHOLD:
        text = _(
            "Of {n} Hidden Champions, {served} are customers and {not_yet} are not yet; "
            "{ambiguous} await a manual check of their match ({sure}): the list below is "
            "where new customers can be found."
        ).format(
            n=i18n.fmt_int(n),
            served=i18n.fmt_int(served),
            not_yet=i18n.fmt_int(a["n_not_customers"]),
            ambiguous=i18n.fmt_int(undecided),
            sure=sure,
        )
    elif served + undecided >= THRESHOLD:
        text = _(
            "Of {n} Hidden Champions, {not_yet} are not yet customers; the other {rest} are "
            "customers or await a manual check of their match (fewer than 5 are customers, "
            "so the split is not shown; {sure}): the list below is where new customers can "
            "be found."
        ).format(
            n=i18n.fmt_int(n),
            not_yet=i18n.fmt_int(a["n_not_customers"]),
            rest=i18n.fmt_int(served + undecided),
            sure=sure,
        )
    else:
        text = _(
            "Of {n} Hidden Champions, all but fewer than 5 are not yet customers ({sure}): "
            "the list below is where new customers can be found."
        ).format(n=i18n.fmt_int(n), sure=sure)
    return Finding(text, "champions")


def proximity_finding(coverage: pd.DataFrame, radius_km: int) -> Finding:
    """Share of potential and champions within the radius of the sales locations."""
    within = f"≤ {radius_km:g} km"
    return Finding(
        _(
            "Within {radius} km (straight line) of a sales location lie {customers} of the "
            "customers, {potential} of the expected customers and {champions} of the Hidden "
            "Champions: the rest of the potential is served from farther away."
        ).format(
            radius=i18n.fmt_int(radius_km),
            customers=i18n.fmt_percent(coverage.loc["customers", within], 0),
            potential=i18n.fmt_percent(coverage.loc["expected customers (potential)", within], 0),
            champions=i18n.fmt_percent(coverage.loc["Hidden Champions", within], 0),
        ),
        "proximity",
    )


def findings(located, model, white, names, not_customers, evaluation, coverage, radius_km):
    """The five findings that open the market-potential report."""
    return [
        located_finding(located),
        funnel_finding(model),
        Finding(white_space_sentence(white, names), "white_space"),
        champions_finding(not_customers, evaluation),
        proximity_finding(coverage, radius_km),
    ]


def model_sentence(model, revenue) -> Text:
    """What the potential model says, in words (rate ratios for a doubling, intervals)."""
    labels = {
        "hc_log": _("1 + Hidden Champions per 100,000 inhabitants"),
        "mint_log": _("1 + MINT students per 1,000 inhabitants"),
    }
    parts = [
        _(
            "doubling {what} multiplies the expected customers by {factor} (95 % interval "
            "{low} to {high})"
        ).format(
            what=labels.get(row.term, row.term),
            factor=i18n.fmt_number(2**row.coef, 2),
            low=i18n.fmt_number(2**row.ci_low, 2),
            high=i18n.fmt_number(2**row.ci_high, 2),
        )
        for row in model.coefficients.itertuples()
        if row.term != "intercept"
    ]
    below, above = _outside(revenue)
    return say(
        _("Fitted on {n} Kreise (dispersion {dispersion}): {effects}.").format(
            n=i18n.fmt_int(model.n_used),
            dispersion=i18n.fmt_number(model.dispersion, 2),
            effects="; ".join(parts),
        ),
        _(
            "Won revenue (quasi-Poisson, dispersion {dispersion}): {below} Kreise "
            "significantly below and {above} above their expected revenue."
        ).format(
            dispersion=i18n.fmt_int(revenue.dispersion),
            below=i18n.fmt_int(below),
            above=i18n.fmt_int(above),
        ),
    )


def proximity_sentence(coverage, kreis_distance: pd.DataFrame, radius_km: int, names) -> Text:
    """Where the largest potential beyond the radius lies."""
    far = kreis_distance[kreis_distance["distance_km"] > radius_km].nlargest(3, "expected")
    if not len(far):
        return say(_("No Kreis with potential lies beyond the radius."))
    return say(
        _("The largest potential farther than {radius} km away: {names}.").format(
            radius=i18n.fmt_int(radius_km),
            names=join_names([str(names.get(a, a)) for a in far["ags"]]),
        )
    )


def methods() -> Text:
    """How the expectation, the funnel and the matching work (appendix)."""
    return say(
        _(
            "A customer is an account with at least one won opportunity. The expectation "
            "per Kreis comes from a Poisson GLM with the employees (the population where a "
            "dataset lacks employment) as exposure and two potential covariates: Hidden "
            "Champions per 100,000 inhabitants and MINT students per 1,000 inhabitants (both "
            "as log(1 + x)); won revenue gets the same model as a quasi-Poisson fit. The "
            "funnel plot has exact Poisson limits (95 % and 99.8 %), so small Kreise do not "
            "top a ranking by noise. White space: an expectation in the top quarter and "
            "observed customers below the lower 95 % limit or O/E below the chosen ratio. "
            "Firms are matched to accounts by normalized company name within the same Kreis, "
            "with a bonus for the same postcode; ambiguous matches are flagged, not guessed. "
            "Distances are straight lines, not road distances."
        )
    )


def location_table(located) -> Table:
    """Accounts by location status (every account exactly once)."""
    frame = located.summary.assign(status=located.summary["status"].map(status_label))
    columns = [
        Column("status", _("Location"), "text"),
        Column("accounts", _("Accounts"), "int"),
        Column("share", _("Share"), "share", 1),
    ]
    return table(frame, columns, caption=_("Accounts by location"))


def coefficient_table(model, revenue) -> Table:
    """Rate ratios of the potential models with 95 % intervals."""
    terms = {
        "intercept": _("Intercept (rate per head)"),
        "hc_log": _("log(1 + Hidden Champions per 100,000)"),
        "mint_log": _("log(1 + MINT students per 1,000)"),
    }
    frame = pd.concat(
        [
            model.coefficients.assign(outcome=_("customers")),
            revenue.coefficients.assign(outcome=_("won revenue")),
        ]
    ).assign(term=lambda f: f["term"].map(lambda t: terms.get(t, t)))
    columns = [
        Column("outcome", _("Outcome"), "text"),
        Column("term", _("Term"), "text"),
        Column("rate_ratio", _("Rate ratio"), "number", 3),
        Column("rate_ratio_ci_low", _("95 % interval, lower"), "number", 3),
        Column("rate_ratio_ci_high", _("95 % interval, upper"), "number", 3),
        Column("p_value", _("p-value"), "number", 4),
    ]
    return table(frame, columns, caption=_("Potential model (Poisson GLM with exposure offset)"))


def white_space_table(white: pd.DataFrame, names: pd.Series, exposure: str) -> Table:
    """The white-space Kreise; counts below 5 and what would reveal them withheld."""
    from analysis import market

    shown = market.publishable(
        white.assign(name=white["ags"].map(names)),
        "observed",
        ["ratio", "ratio_ci_low", "ratio_ci_high", "shortfall", "p_below"],
    )
    columns = [
        Column("rank", _("Rank"), "int"),
        Column("name", _("Kreis"), "text"),
        Column("expected", _("Expected customers"), "number", 1),
        Column("observed", _("Customers"), "int"),
        Column("ratio", _("Observed / expected"), "number", 2),
        Column("shortfall", _("Shortfall (expected − observed)"), "number", 1),
        Column("hc_count", _("Hidden Champions"), "number", 1),
        Column(exposure, _("Employees") if exposure == "employees" else _("Inhabitants"), "int"),
    ]
    return table(shown, columns, caption=_("White-space Kreise: high potential, low coverage"))


def matching_table(summary: pd.DataFrame) -> Table:
    """Firms of the list by matching outcome."""
    total = summary["firms"].sum()
    frame = summary.assign(
        outcome=summary["outcome"].map(status_label),
        share=summary["firms"] / total if total else math.nan,
    )
    columns = [
        Column("outcome", _("Matching outcome"), "text"),
        Column("firms", _("Firms"), "int"),
        Column("share", _("Share"), "share", 1),
    ]
    return table(frame, columns, caption=_("Firms of the list by matching outcome"))


def not_customers_table(not_customers: pd.DataFrame, top_n: int) -> Table:
    """The largest Hidden Champions that are not customers (firm names, never accounts)."""
    frame = not_customers.assign(crm_status=not_customers["crm_status"].map(status_label))
    columns = [
        Column("firm", _("Firm"), "text"),
        Column("kreis", _("Kreis"), "text"),
        Column("market_segment", _("Market segment"), "text"),
        Column("revenue_meur", _("Revenue (m EUR)"), "number", 1),
        Column("employees", _("Employees"), "int"),
        Column("crm_status", _("In the CRM"), "text"),
    ]
    caption = _("The {n} largest Hidden Champions that are not customers").format(n=top_n)
    return table(frame, columns, caption=caption)


def land_table(by_land: pd.DataFrame) -> Table:
    """Hidden Champions per Land and how many are customers (small counts withheld)."""
    champions = pd.to_numeric(by_land["champions"], errors="coerce")
    customers = pd.to_numeric(by_land["customers"], errors="coerce")
    frame = by_land.reset_index().assign(
        share=(customers / champions).where(customers.notna(), "x").to_numpy()
    )
    columns = [
        Column("land", _("Land"), "text"),
        Column("champions", _("Hidden Champions"), "number", 1),
        Column("customers", _("of them customers"), "number", 0),
        Column("share", _("Share customers"), "share", 0),
    ]
    return table(frame, columns, caption=_("Hidden Champions per Land and how many are customers"))


def coverage_table(coverage: pd.DataFrame, sites: pd.DataFrame) -> Table:
    """Shares within 50/100/200 km of the nearest sales location."""
    rows = {
        "accounts": _("Accounts"),
        "customers": _("Customers"),
        "expected customers (potential)": _("Expected customers (potential)"),
        "Hidden Champions": _("Hidden Champions"),
        "employees": _("Employees"),
        "population": _("Inhabitants"),
    }
    frame = coverage.rename(index=lambda r: rows.get(r, r)).reset_index(names="what")
    columns = [Column("what", _("Share of"), "text")] + [
        Column(c, _("within {km} km").format(km=c.split()[1]), "share", 0) for c in coverage.columns
    ]
    caption = _("Share within a straight-line distance of the nearest sales location ({sites})")
    return table(frame, columns, caption=caption.format(sites=", ".join(sites["site"])))


def data_sentence(crm, firms, indicators: pd.DataFrame, population) -> Text:
    """What was read, and how postcodes spanning several Kreise are split (appendix)."""
    split = (
        _("Postcodes spanning several Kreise are split equally.")
        if population is None
        else _("Postcodes spanning several Kreise are split by the population of their Gemeinden.")
    )
    return say(
        _(
            "Read {accounts} accounts and {opportunities} opportunities, {firms} firms of the "
            "Hidden Champion list and {kreise} Kreise."
        ).format(
            accounts=i18n.fmt_int(len(crm.accounts)),
            opportunities=i18n.fmt_int(len(crm.opportunities)),
            firms=i18n.fmt_int(firms.n_firms),
            kreise=i18n.fmt_int(len(indicators)),
        ),
        split,
    )


def match_evaluation(result, truth: dict | None) -> dict | None:
    """Precision and recall of the firm ↔ account matching against the demo's true pairs.

    Parameters
    ----------
    result : analysis.market.matching.MatchResult
    truth : dict or None
        The ``crm`` part of the demo truths (``datasets.demo_truth(dataset, "crm").data``);
        None on official data, which has no truth: then None.
    """
    from analysis.market import matching

    if truth is None or truth.get("champion_customers") is None:
        return None
    pairs = pd.DataFrame(truth["champion_customers"], columns=["firm_id", "account_id"])
    return matching.evaluate_matches(result.matches, pairs.astype("str"))
