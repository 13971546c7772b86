"""What a reader sees of the sales analysis (notebook 04): findings, sentences, demo checks.

Builds on the results of :mod:`analysis.sales` (before/after comparisons with Wilson and
Newcombe intervals, survival curves, the interrupted time series). Every sentence takes
its direction word from the sign of the estimate and its certainty from the interval;
before/after results always carry the caveat that they are no proof of cause. Tables
and figures are in :mod:`analysis.present.sales_tables`.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.present import i18n
from analysis.present.i18n import gettext as _
from analysis.present.narrative import (
    Finding,
    Text,
    before_after_caveat,
    certainty,
    change_words,
    say,
    title,
)


def _pp(share: float) -> str:
    """A difference of shares (0-1) in signed percentage points."""
    return i18n.fmt_points(100 * share, 1)


def _interval_pp(low: float, high: float) -> str:
    return _("95 % interval {low} to {high}").format(
        low=i18n.fmt_number(100 * low, 1), high=i18n.fmt_number(100 * high, 1)
    )


def sales_title():
    """Title and question of the sales report."""
    return title(
        _("Sales and Marketing united: are we more successful?"),
        _(
            "The company united Sales and Marketing in one team and one system. What changed, "
            "by how much, how sure are we, and what else could explain it?"
        ),
    )


def crm_source(dataset: str, as_of: str) -> str:
    """Source line for figures from the CRM exports."""
    if dataset == "demo":
        return _("synthetic demo data (CRM exports), snapshot {date}").format(
            date=i18n.fmt_date(as_of)
        )
    return _("own CRM (Salesforce and Pardot exports), snapshot {date}").format(
        date=i18n.fmt_date(as_of)
    )


def its_finding(fit, date: pd.Timestamp) -> Finding:
    """The headline: level change of the monthly win rate at the date, how sure, no causal claim."""
    return Finding(
        _(
            "At the unification ({date}) the monthly win rate {verb} by {change} "
            "({interval}), {sure}, after trend and season are taken into account. {caveat}"
        ).format(
            date=i18n.fmt_date(date),
            verb=change_words(fit.level_change),
            change=i18n.fmt_points(abs(100 * fit.level_change), 1, signed=False),
            interval=_interval_pp(fit.ci_low, fit.ci_high),
            sure=certainty(fit.ci_low, fit.ci_high),
            caveat=before_after_caveat(),
        ),
        "its",
    )


def rate_finding(table: pd.DataFrame, rate: str, what: str, key: str) -> Finding:
    """A before/after rate with the Newcombe interval of the difference, in plain words."""
    diff = table.attrs["difference"]
    before, after = float(table[rate].iloc[0]), float(table[rate].iloc[1])
    return Finding(
        _("{what} {verb} from {before} to {after} ({change}; {interval}): {sure}.").format(
            what=what,
            verb=change_words(after - before),
            before=i18n.fmt_percent(before, 1),
            after=i18n.fmt_percent(after, 1),
            change=_pp(diff["difference"]),
            interval=_interval_pp(diff["ci_low"], diff["ci_high"]),
            sure=certainty(diff["ci_low"], diff["ci_high"]),
        ),
        key,
    )


def win_rate_finding(win_rates: pd.DataFrame) -> Finding:
    """Win rate of closed deals, before vs after."""
    return rate_finding(win_rates, "win_rate", _("The win rate of closed deals"), "win_rate")


def conversion_finding(conversion: pd.DataFrame) -> Finding:
    """Lead → opportunity within 90 days, before vs after."""
    what = _("The share of leads converted into an opportunity within 90 days")
    return rate_finding(conversion, "rate", what, "conversion")


def _median_range(row: pd.Series) -> str:
    return _("{median} days (95 % interval {low} to {high})").format(
        median=i18n.fmt_int(row["median_days_to_close"]),
        low=i18n.fmt_int(row["median_ci_low"]),
        high=i18n.fmt_int(row["median_ci_high"]),
    )


def cycle_finding(cycle_table: pd.DataFrame) -> Finding:
    """Median time to a decision, before vs after, with the direction from the data."""
    rows = cycle_table.set_index("group")
    pre, post = rows.loc["pre"], rows.loc["post"]
    change = float(post["median_days_to_close"] - pre["median_days_to_close"])
    separate = post["median_ci_high"] < pre["median_ci_low"] or (
        post["median_ci_low"] > pre["median_ci_high"]
    )
    verdict = (
        _("the intervals do not overlap")
        if separate
        else _("the intervals overlap, so the change is not certain")
    )
    direction = _("faster") if change < 0 else _("slower") if change > 0 else _("as fast as before")
    return Finding(
        _(
            "Half of the deals created before the date were decided within {pre}, of those "
            "created after within {post}: {direction}; {verdict}."
        ).format(
            pre=_median_range(pre), post=_median_range(post), direction=direction, verdict=verdict
        ),
        "cycle",
    )


def pipeline_finding(pipeline: pd.DataFrame) -> Finding:
    """Marketing's share of pipeline value under the rules, with the measurement caveat."""
    shares = pipeline.set_index(["definition", "period"])["share_value"].unstack()
    shares = shares.apply(pd.to_numeric, errors="coerce").dropna()
    low_pre, high_pre = shares["pre"].min(), shares["pre"].max()
    low_post, high_post = shares["post"].min(), shares["post"].max()
    return Finding(
        _(
            "Marketing's share of the pipeline value was {pre} before and {post} after, "
            "depending on the definition; part of the change is measurement, because the "
            "fields these definitions use were filled far more often in the new system."
        ).format(
            pre=_("{low} to {high}").format(
                low=i18n.fmt_percent(low_pre, 0), high=i18n.fmt_percent(high_pre, 0)
            ),
            post=_("{low} to {high}").format(
                low=i18n.fmt_percent(low_post, 0), high=i18n.fmt_percent(high_post, 0)
            ),
        ),
        "pipeline",
    )


def findings(fit, date, win_rates, conversion, cycle_table, pipeline) -> list[Finding]:
    """The five findings that open the sales report."""
    return [
        its_finding(fit, date),
        win_rate_finding(win_rates),
        conversion_finding(conversion),
        cycle_finding(cycle_table),
        pipeline_finding(pipeline),
    ]


def deal_size_sentence(deal_size: pd.DataFrame) -> Text:
    """Won deals' geometric mean size, before vs after, in plain words."""
    ratio = deal_size.attrs["ratio"]
    change = ratio["ratio"] - 1
    return say(
        _("Won deals are {change} {direction} by geometric mean ({interval}): {sure}.").format(
            change=i18n.fmt_percent(abs(change), 1),
            direction=_("larger") if change > 0 else _("smaller"),
            interval=_("95 % interval {low} to {high}").format(
                low=i18n.fmt_percent(ratio["ci_low"] - 1, 1),
                high=i18n.fmt_percent(ratio["ci_high"] - 1, 1),
            ),
            sure=certainty(ratio["ci_low"] - 1, ratio["ci_high"] - 1),
        ),
        _("This simple comparison ignores trend and season; the time series below does not."),
    )


def fill_sentence(opportunity_fill: pd.DataFrame, date: pd.Timestamp) -> Text:
    """How often LeadSource and the Primary Campaign Source were filled before and after."""
    after = opportunity_fill["period"] >= date
    grouped = opportunity_fill.assign(after=after).groupby(["field", "after"])[["n", "n_filled"]]
    sums = grouped.sum()
    share = (sums["n_filled"] / sums["n"]).unstack()
    return say(
        _(
            "Before the unification {source_pre} of the opportunities had a LeadSource and "
            "{campaign_pre} a Primary Campaign Source; afterwards {source_post} and "
            "{campaign_post}. Fields that the new system made mandatory or fills "
            "automatically change what 'marketing-sourced' means over time: a measurement "
            "break at the very date we want to evaluate."
        ).format(
            source_pre=i18n.fmt_percent(share.loc["lead_source", False], 0),
            campaign_pre=i18n.fmt_percent(share.loc["campaign_id", False], 0),
            source_post=i18n.fmt_percent(share.loc["lead_source", True], 0),
            campaign_post=i18n.fmt_percent(share.loc["campaign_id", True], 0),
        )
    )


def its_sentence(fit, methods: pd.DataFrame, monthly: pd.DataFrame, min_closed: int) -> Text:
    """The time-series estimate with its effects 6 and 12 months on, the model comparison."""
    by = methods.set_index("method")
    effects = fit.effects.set_index("months_after")
    dropped = monthly.attrs.get("dropped_months", [])
    return say(
        _(
            "Level change of the monthly win rate at the date: {change} ({interval}); "
            "slope change {slope} per month, so that the estimated effect is {e6} "
            "({i6}) six months on and {e12} ({i12}) twelve months on. Other models of "
            "the errors give a level change of {hac} (HAC, fixed-b), {glsar} (GLSAR) "
            "and {sarimax} (SARIMAX)."
        ).format(
            change=_pp(fit.level_change),
            interval=_interval_pp(fit.ci_low, fit.ci_high),
            slope=i18n.fmt_points(100 * fit.slope_change, 2),
            e6=_pp(effects.loc[6, "effect"]),
            i6=_interval_pp(effects.loc[6, "ci_low"], effects.loc[6, "ci_high"]),
            e12=_pp(effects.loc[12, "effect"]),
            i12=_interval_pp(effects.loc[12, "ci_low"], effects.loc[12, "ci_high"]),
            hac=_pp(by.loc["hac", "level_change"]),
            glsar=_pp(by.loc["glsar", "level_change"]),
            sarimax=_pp(by.loc["sarimax", "level_change"]),
        ),
        _(
            "{n} months in the fit; {dropped} months with fewer than {min} closed deals are "
            "gaps in the monthly series (never treated as neighbours)."
        ).format(n=i18n.fmt_int(fit.n_months), dropped=i18n.fmt_int(len(dropped)), min=min_closed),
    )


def robustness_sentence(fit, placebo: pd.DataFrame, sensitivity: pd.DataFrame) -> Text:
    """Placebo dates and transition windows in plain words."""
    larger = (
        float((placebo["level_change"].abs() >= abs(fit.level_change)).mean())
        if len(placebo)
        else math.nan
    )
    return say(
        _(
            "{n} placebo dates in the pre-period: {share} of their intervals exclude zero "
            "(about 5 % would by chance), and {larger} of the placebo estimates are at least "
            "as large as the real one. Leaving out 0 to 6 months after the date moves the "
            "estimate between {low} and {high}."
        ).format(
            n=i18n.fmt_int(len(placebo)),
            share=i18n.fmt_percent(placebo.attrs["share_excluding_zero"], 0),
            larger=i18n.fmt_percent(larger, 0),
            low=_pp(sensitivity["level_change"].min()),
            high=_pp(sensitivity["level_change"].max()),
        )
    )


def threats(fit, methods: pd.DataFrame, placebo: pd.DataFrame) -> Text:
    """What else could explain the change (before the appendix)."""
    by = methods.set_index("method")
    return say(
        _(
            "(1) Definitions changed with the new system: LeadSource and the Primary Campaign "
            "Source were filled much more often afterwards, so funnel and attribution figures "
            "before and after do not measure the same thing; the win rate (won ÷ closed) "
            "depends least on such fields."
        ),
        _(
            "(2) Young cohorts still hold open leads and deals; the comparisons use closed "
            "deals, fixed horizons and censoring-aware curves, but the last quarters remain "
            "provisional."
        ),
        _(
            "(3) {n} monthly points are few; the error autocorrelation estimated by GLSAR and "
            "SARIMAX is {glsar} and {sarimax}, and {share} of the placebo intervals exclude zero."
        ).format(
            n=i18n.fmt_int(fit.n_months),
            glsar=i18n.fmt_number(by.loc["glsar", "rho"], 2),
            sarimax=i18n.fmt_number(by.loc["sarimax", "rho"], 2),
            share=i18n.fmt_percent(placebo.attrs["share_excluding_zero"], 0),
        ),
        _(
            "(4) Anything else that changed at the same time (market, prices, staff, a new "
            "product) is not separated from the unification by a single interrupted series; "
            "that would need a comparison group that was not affected."
        ),
    )


def methods_text() -> Text:
    """Definitions and models (appendix)."""
    return say(
        _(
            "Win rate = won ÷ (won + lost) of the deals closed in the period; the transition "
            "months after the date belong to neither period. Intervals of rates: Wilson; of "
            "differences of rates: Newcombe. Deal size: geometric mean of won deals (Welch "
            "interval on the log scale). Sales cycle: deals still open at the snapshot are "
            "censored, losing is a competing risk for winning (cumulative incidence, "
            "Kaplan–Meier median, log-rank test). Time series: segmented regression of the "
            "monthly win rate with trend and month-of-year effects, AR(1) errors estimated by "
            "REML with Satterthwaite degrees of freedom (Turner et al. 2021), compared with "
            "HAC errors with fixed-b critical values, Prais–Winsten (GLSAR), SARIMAX and plain "
            "OLS; months with too few closed deals are gaps on a regular monthly index. In "
            "1,000 simulated series the 95 % interval held the true change in 95.7 % of cases; "
            "with strong autocorrelation (AR(1), rho = 0.7) in 90.4 %, and when the mix of "
            "deal types shifts at the date in only 83.5 % (validation/its_coverage.py)."
        )
    )


def demo_checks(truth: dict | None, conversion, fit, cycle_table) -> pd.DataFrame | None:
    """Injected demo truths against the estimates (None on official data).

    Returns
    -------
    DataFrame or None
        ``quantity``, ``injected``, ``estimate``, ``ci_low``, ``ci_high``, ``covered``.
    """
    if truth is None:
        return None
    diff = conversion.attrs["difference"]
    rows = cycle_table.set_index("group")
    cycle_change = float(
        rows.loc["post", "median_days_to_close"] - rows.loc["pre", "median_days_to_close"]
    )
    checks = [
        (
            _("Lead conversion uplift (points)"),
            100 * truth["lead_conversion_uplift"],
            100 * diff["difference"],
            100 * diff["ci_low"],
            100 * diff["ci_high"],
        ),
        (
            _("Win rate level change, time series (points)"),
            100 * truth["win_rate_uplift"],
            100 * fit.level_change,
            100 * fit.ci_low,
            100 * fit.ci_high,
        ),
        (
            _("Change of the median sales cycle (days)"),
            truth["cycle_days_change"],
            cycle_change,
            math.nan,
            math.nan,
        ),
    ]
    frame = pd.DataFrame(checks, columns=["quantity", "injected", "estimate", "ci_low", "ci_high"])
    covered = (frame["ci_low"] <= frame["injected"]) & (frame["injected"] <= frame["ci_high"])
    return frame.assign(
        covered=[
            i18n.MISSING if math.isnan(lo) else (_("yes") if c else _("no"))
            for lo, c in zip(frame["ci_low"], covered, strict=True)
        ]
    )


def demo_check_sentence(checks: pd.DataFrame | None) -> Text:
    """What the comparison with the demo truths shows (or that there is none)."""
    if checks is None:
        return say(_("Official data: there are no injected truths to compare with."))
    with_interval = checks[checks["covered"] != i18n.MISSING]
    n_covered = int((with_interval["covered"] == _("yes")).sum())
    return say(
        _(
            "Synthetic demo data: the generator injected known effects. {covered} of {n} "
            "95 % intervals cover the injected value."
        ).format(covered=i18n.fmt_int(n_covered), n=i18n.fmt_int(len(with_interval)))
    )
