"""Tables and figures of the sales report (notebook 04), in the report language.

Each ``*_table`` turns a result of :mod:`analysis.sales` (after ``publishable``: small
counts already withheld as ``"x"``) into a :class:`~analysis.present.tables.Table`; each
``*_figure`` draws, shows (source line, alt text) and closes one figure.
"""

from __future__ import annotations

import pandas as pd

from analysis.present import i18n, plots
from analysis.present.i18n import gettext as _
from analysis.present.tables import Column, Table, shortened_note, table


def _period(value: object) -> str:
    return {"pre": _("before"), "post": _("after")}.get(str(value), str(value))


def _periods(frame: pd.DataFrame, column: str = "period") -> pd.DataFrame:
    return frame.assign(**{column: frame[column].map(_period)})


def rates_table(frame: pd.DataFrame, counts: list[tuple[str, str]], rate: str, caption: str):
    """A before/after table of counts, a rate and its Wilson interval."""
    columns = [Column("period", _("Period"), "text")]
    columns += [Column(name, text, "int") for name, text in counts]
    columns += [
        Column(rate, _("Rate"), "share", 1),
        Column("ci_low", _("95 % interval, lower"), "share", 1),
        Column("ci_high", _("95 % interval, upper"), "share", 1),
    ]
    return table(_periods(frame), columns, caption=caption)


def win_rate_table(win_rates: pd.DataFrame) -> Table:
    """Win rate of closed deals before and after."""
    return rates_table(
        win_rates,
        [("n_closed", _("Closed deals")), ("n_won", _("Won deals"))],
        "win_rate",
        _("Win rate of the deals closed before and after the unification"),
    )


def conversion_table(conversion: pd.DataFrame) -> Table:
    """Lead → opportunity within 90 days before and after."""
    return rates_table(
        conversion,
        [("n_leads", _("Leads")), ("n_converted", _("Converted within 90 days"))],
        "rate",
        _("Leads converted into an opportunity within 90 days"),
    )


def deal_size_table(deal_size: pd.DataFrame) -> Table:
    """Won deals' sizes before and after (EUR)."""
    columns = [
        Column("period", _("Period"), "text"),
        Column("n_won", _("Won deals"), "int"),
        Column("geometric_mean", _("Geometric mean (EUR)"), "currency", 0),
        Column("median", _("Median (EUR)"), "currency", 0),
        Column("mean", _("Mean (EUR)"), "currency", 0),
        Column("total", _("Total (EUR)"), "currency", 0),
    ]
    return table(_periods(deal_size), columns, caption=_("Size of won deals"))


def team_table(teams: pd.DataFrame) -> Table:
    """Win rate per team (never per rep)."""
    columns = [
        Column("team", _("Team"), "text"),
        Column("period", _("Period"), "text"),
        Column("n_closed", _("Closed deals"), "int"),
        Column("n_won", _("Won deals"), "int"),
        Column("n_lost", _("Lost deals"), "int"),
        Column("win_rate", _("Win rate"), "share", 1),
    ]
    note = _(
        "Sales reps appear only as teams (teams with fewer than three reps are pooled); team "
        "differences are descriptive: teams serve different regions and accounts."
    )
    return table(_periods(teams), columns, caption=_("Win rate by team"), notes=[note])


def cycle_table(cycle: pd.DataFrame) -> Table:
    """Median days to a decision and shares won within 90/180/365 days."""
    frame = cycle.assign(group=cycle["group"].map(_period))
    columns = [
        Column("group", _("Created"), "text"),
        Column("n", _("Deals"), "int"),
        Column("n_won", _("Won"), "int"),
        Column("n_lost", _("Lost"), "int"),
        Column("n_open", _("Still open"), "int"),
        Column("median_days_to_close", _("Median days to a decision"), "int"),
        Column("median_ci_low", _("95 % interval, lower"), "int"),
        Column("median_ci_high", _("95 % interval, upper"), "int"),
        Column("won_within_180d", _("Won within 180 days"), "share", 1),
        Column("naive_mean_days_won", _("Average cycle of won deals (biased)"), "int"),
    ]
    return table(frame, columns, caption=_("Sales cycle by creation before and after"))


def funnel_wide(funnel: pd.DataFrame) -> pd.DataFrame:
    """The funnel by cohort, one row per cohort (quarter) with counts and step rates."""
    wide = funnel.pivot(index="cohort", columns="stage", values=["n", "rate"])
    wide.columns = [f"{value}_{stage}" for value, stage in wide.columns]
    mature = funnel.groupby("cohort")["mature"].all()
    quarters = wide.index.to_period("Q").astype(str).str.replace("Q", " Q", regex=False)
    return wide.assign(
        quarter=quarters,
        mature=mature.map({True: _("yes"), False: _("no")}),
    ).reset_index(drop=True)


def funnel_table(funnel: pd.DataFrame, last: int | None = None) -> Table:
    """Lead → MQL → opportunity → won per lead cohort (the last ``last`` cohorts, or all)."""
    wide = funnel_wide(funnel)
    shown = wide.tail(last) if last else wide
    columns = [
        Column("quarter", _("Lead cohort"), "text"),
        Column("n_lead", _("Leads"), "int"),
        Column("n_mql", _("MQL"), "int"),
        Column("rate_mql", _("MQL rate"), "share", 1),
        Column("n_opportunity", _("Opportunities"), "int"),
        Column("rate_opportunity", _("MQL → opportunity"), "share", 1),
        Column("n_won", _("Won"), "int"),
        Column("rate_won", _("Opportunity → won"), "share", 1),
        Column("mature", _("Mature"), "text"),
    ]
    notes = [
        _(
            "Young cohorts still have open leads and deals (not mature): their rates will "
            "still rise."
        )
    ]
    if last:
        notes.append(shortened_note(len(shown), len(wide)))
    return table(shown, columns, caption=_("Funnel by lead cohort"), notes=[n for n in notes if n])


def quality_table(quality: pd.DataFrame) -> Table:
    """Rows used and set aside per exported object."""
    columns = [
        Column("object", _("Object"), "text"),
        Column("n_rows_used", _("Rows used"), "int"),
        Column("n_deleted", _("Deleted"), "int"),
        Column("n_merged", _("Merged away"), "int"),
        Column("n_duplicates", _("Duplicates"), "int"),
        Column("n_quarantined", _("Set aside"), "int"),
    ]
    frame = quality.rename_axis("object").reset_index()
    return table(frame, columns, caption=_("What was read and set aside"))


def quarantine_table(quarantine: pd.DataFrame) -> Table:
    """Rows set aside, by file and reason."""
    columns = [
        Column("file", _("File"), "text"),
        Column("reason", _("Reason"), "text"),
        Column("n_rows", _("Rows"), "int"),
    ]
    return table(quarantine, columns, caption=_("Rows set aside"))


def methods_table(methods: pd.DataFrame) -> Table:
    """The time-series models side by side (appendix)."""
    frame = methods.assign(
        **{c: methods[c] * 100 for c in ("level_change", "ci_low", "ci_high", "slope_change")}
    )
    columns = [
        Column("method", _("Model"), "text"),
        Column("level_change", _("Level change (points)"), "number", 1),
        Column("ci_low", _("95 % interval, lower"), "number", 1),
        Column("ci_high", _("95 % interval, upper"), "number", 1),
        Column("p_value", _("p-value"), "number", 4),
        Column("slope_change", _("Slope change (points per month)"), "number", 2),
        Column("rho", _("Error autocorrelation"), "number", 2),
        Column("n_months", _("Months"), "int"),
    ]
    return table(frame, columns, caption=_("Interrupted time series: model comparison"))


def sensitivity_table(sensitivity: pd.DataFrame) -> Table:
    """The estimate with 0-6 transition months left out (appendix)."""
    frame = sensitivity.assign(
        **{c: sensitivity[c] * 100 for c in ("level_change", "ci_low", "ci_high")}
    )
    columns = [
        Column("transition_months", _("Months left out"), "int"),
        Column("level_change", _("Level change (points)"), "number", 1),
        Column("ci_low", _("95 % interval, lower"), "number", 1),
        Column("ci_high", _("95 % interval, upper"), "number", 1),
        Column("n_months", _("Months"), "int"),
    ]
    return table(frame, columns, caption=_("Sensitivity to the transition window"))


def pipeline_table(pipeline: pd.DataFrame, rules: pd.DataFrame) -> Table:
    """Marketing's share of pipeline under each rule, before and after."""
    rule_text = dict(zip(rules["definition"], rules["rule"], strict=True))
    frame = _periods(pipeline).assign(
        definition=pipeline["definition"].map(lambda d: _(rule_text.get(d, d)))
    )
    columns = [
        Column("definition", _("Rule: an opportunity counts as marketing's when …"), "text"),
        Column("period", _("Period"), "text"),
        Column("n_opportunities", _("Opportunities"), "int"),
        Column("n_marketing", _("Marketing's"), "int"),
        Column("share_count", _("Share of opportunities"), "share", 1),
        Column("share_value", _("Share of pipeline value"), "share", 1),
    ]
    return table(frame, columns, caption=_("Marketing-sourced and -influenced pipeline"))


def demo_check_table(checks: pd.DataFrame | None):
    """Injected truths against estimates (nothing on official data)."""
    if checks is None:
        return None
    columns = [
        Column("quantity", _("Quantity"), "text"),
        Column("injected", _("Injected"), "number", 1),
        Column("estimate", _("Estimate"), "number", 1),
        Column("ci_low", _("95 % interval, lower"), "number", 1),
        Column("ci_high", _("95 % interval, upper"), "number", 1),
        Column("covered", _("Covered"), "text"),
    ]
    return table(checks, columns, caption=_("Checks against the injected demo truths"))


def _date_line(ax, date) -> None:
    ax.axvline(date, color="#555", lw=1, ls="--")


def fill_rate_figure(opportunity_fill, lead_fill, date, source: str) -> None:
    """Share of records with key fields filled, by quarter of creation."""
    fill = pd.concat(
        [
            opportunity_fill.assign(field="Opportunity." + opportunity_fill["field"]),
            lead_fill.assign(field="Lead." + lead_fill["field"]),
        ]
    )
    fill = fill.loc[fill["n"] >= 5]
    ax = fill.pivot(index="period", columns="field", values="fill_rate").plot(marker=".")
    _date_line(ax, date)
    ax.set(xlabel="", ylabel=_("Share filled"))
    ax.set_title(_("Key fields were filled far more often after the unification"), loc="left")
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    plots.show(
        ax,
        alt=_(
            "Line chart of the share of opportunities and leads with LeadSource, campaign, "
            "type, industry and postcode filled, by quarter of creation, with the date of "
            "the unification marked."
        ),
        source=source,
    )


def cohort_figure(funnel: pd.DataFrame, date, source: str) -> None:
    """MQL → opportunity rate by lead cohort with Wilson intervals."""
    steps = funnel.loc[(funnel["stage"] == "opportunity") & (funnel["n"] >= 5)]
    steps = steps.set_index("cohort")
    ax = steps["rate"].plot(marker="o")
    ax.fill_between(steps.index, steps["ci_low"], steps["ci_high"], alpha=0.2)
    _date_line(ax, date)
    ax.set(xlabel="", ylabel=_("MQL → opportunity"))
    after = steps.index >= date
    ax.set_title(
        _("MQL → opportunity: {before} of the cohorts before, {after} after (mean)").format(
            before=i18n.fmt_percent(steps.loc[~after, "rate"].mean(), 1),
            after=i18n.fmt_percent(steps.loc[after, "rate"].mean(), 1),
        ),
        loc="left",
    )
    plots.show(
        ax,
        alt=_(
            "Line chart of the share of MQLs converted into an opportunity per lead cohort "
            "(quarter), with its 95 % interval as a band and the unification date marked."
        ),
        source=source,
    )


def cycle_figure(cif: pd.DataFrame, cycle_summary: pd.DataFrame, source: str) -> None:
    """Cumulative incidence of winning and losing, before vs after."""
    import matplotlib.pyplot as plt

    _fig, ax = plt.subplots()
    wide = cif.assign(group=cif["group"].map(_period)).pivot(
        index="days", columns="group", values=["cif_won", "cif_lost"]
    )
    won = wide["cif_won"].add_prefix(_("won, created") + " ")
    lost = wide["cif_lost"].add_prefix(_("lost, created") + " ")
    won.plot(ax=ax)
    lost.plot(ax=ax, ls="--")
    ax.set(xlabel=_("days since creation"), ylabel=_("share of deals"))
    rows = cycle_summary.set_index("group")["won_within_180d"]
    ax.set_title(
        _("Won within 180 days: {before} of the deals created before, {after} after").format(
            before=i18n.fmt_percent(rows.get("pre"), 1),
            after=i18n.fmt_percent(rows.get("post"), 1),
        ),
        loc="left",
    )
    ax.legend(frameon=False, fontsize=7)
    plots.show(
        ax,
        alt=_(
            "Line chart of the share of deals won (solid) and lost (dashed) within a number "
            "of days since creation, for deals created before and after the unification."
        ),
        source=source,
    )


def its_figure(fit, date, source: str) -> None:
    """Observed and fitted monthly win rate with the counterfactual."""
    shown = fit.fitted.set_index("month")
    ax = shown["observed"].plot(style="o", ms=3, color="#222", label=_("observed"))
    shown["fitted"].plot(ax=ax, label=_("fitted"))
    shown["counterfactual"].plot(ax=ax, ls="--", label=_("without the change"))
    _date_line(ax, date)
    ax.set(xlabel="", ylabel=_("win rate"))
    verb = _("higher") if fit.level_change > 0 else _("lower")
    ax.set_title(
        _("After the unification the monthly win rate runs {points} {verb}").format(
            points=i18n.fmt_points(abs(100 * fit.level_change), 1, signed=False), verb=verb
        ),
        loc="left",
    )
    ax.legend(frameon=False, fontsize=8)
    plots.show(
        ax,
        alt=_(
            "Monthly win rate of closed deals (dots) with the fitted segmented regression "
            "and the dashed line the model expects without the change; level change "
            "{change}."
        ).format(change=i18n.fmt_points(100 * fit.level_change, 1)),
        source=source,
    )


def placebo_figure(placebo: pd.DataFrame, fit, source: str) -> None:
    """Histogram of level changes at placebo dates with the real estimate."""
    ax = (100 * placebo["level_change"]).plot.hist(bins=12, alpha=0.7, label=_("placebo dates"))
    ax.axvline(100 * fit.level_change, color=plots.ACCENT, label=_("estimate at the real date"))
    ax.set(xlabel=_("level change of the win rate (points)"), ylabel=_("placebo dates"))
    n_large = int((placebo["level_change"].abs() >= abs(fit.level_change)).sum())
    ax.set_title(
        _("{n} of {total} placebo dates give a change as large as the real one").format(
            n=i18n.fmt_int(n_large), total=i18n.fmt_int(len(placebo))
        ),
        loc="left",
    )
    ax.legend(frameon=False, fontsize=8)
    plots.show(
        ax,
        alt=_(
            "Histogram of the level changes estimated at {n} placebo dates before the "
            "unification, with the estimate at the real date marked."
        ).format(n=i18n.fmt_int(len(placebo))),
        source=source,
    )
