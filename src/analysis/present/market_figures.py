"""Figures of the market-potential report (notebook 05), each shown with source line and alt text."""

from __future__ import annotations

import pandas as pd

from analysis.present import i18n, plots
from analysis.present.i18n import gettext as _
from analysis.present.maps import label_places
from analysis.present.narrative import say

#: The funnel positions of ``analysis.market`` in the report language.
FUNNEL_TEXT = {
    "below 99.8 %": "below the 99.8 % limit",
    "below 95 %": "below the 95 % limit",
    "within": "within the limits",
    "above 95 %": "above the 95 % limit",
    "above 99.8 %": "above the 99.8 % limit",
    "not fitted": "not fitted",
}


def _no_map():
    return say(_("No Kreis boundaries in this dataset: the maps are not available."))


def maps(geometry, frame: pd.DataFrame, model, exposure: str, places: pd.Series, source: str):
    """Customer density (Kreise with at least 5 customers) and the funnel position per Kreis."""
    if geometry is None:
        return _no_map()
    density = (frame["customers"] / frame[exposure] * 1e5).where(frame["customers"] >= 5)
    per = _("employees") if exposure == "employees" else _("inhabitants")
    ax = plots.choropleth(
        geometry,
        density.set_axis(frame["ags"]),
        title=_("Customers per 100,000 {per} (grey: fewer than 5 customers)").format(per=per),
        label=_("customers per 100,000 {per}").format(per=per),
    )
    plots.show(
        label_places(ax, geometry, places),
        alt=_(
            "Map of the Kreise coloured by customers per 100,000 {per}; Kreise with fewer "
            "than 5 customers are grey."
        ).format(per=per),
        source=source,
    )
    flags = model.frame.set_index("ags")["funnel"].astype(str)
    below = int(flags.str.startswith("below").sum())
    above = int(flags.str.startswith("above").sum())
    ax = plots.funnel_map(
        geometry,
        flags,
        title=_(
            "{below} Kreise with significantly fewer, {above} with more customers than expected"
        ).format(below=i18n.fmt_int(below), above=i18n.fmt_int(above)),
    )
    legend = ax.get_legend()
    for text in legend.get_texts():
        text.set_text(_(FUNNEL_TEXT.get(text.get_text(), text.get_text())))
    legend.set_title(_("Position in the funnel"))
    plots.show(
        label_places(ax, geometry, places),
        alt=_(
            "Map of the Kreise by their position in the funnel plot: orange below the "
            "limits (fewer customers than expected), blue above, light grey within; {n} "
            "Kreise lie below."
        ).format(n=i18n.fmt_int(below)),
        source=source,
    )
    return None


def funnel_figure(model, curve: pd.DataFrame, source: str):
    """Observed / expected customers per Kreis against the expectation, with exact limits.

    Kreise whose customer count the tables hide are not drawn (their point would give
    the count back, since the white-space table publishes the expectation); a sentence
    under the figure says how many.
    """
    from analysis.market import plottable

    below = int(model.frame["funnel"].astype(str).str.startswith(("below", "above")).sum())
    points = plottable(model.frame)
    ax = plots.funnel_plot(
        points,
        curve,
        title=_("{n} of {total} Kreise lie outside the 95 % limits").format(
            n=i18n.fmt_int(below), total=i18n.fmt_int(model.n_used)
        ),
        xlabel=_("expected customers (log scale)"),
        ylabel=_("observed / expected"),
    )
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_text(text.get_text().replace("limits", _("limits")))
    plots.show(
        ax,
        alt=_(
            "Funnel plot: observed divided by expected customers for every Kreis against its "
            "expected number, with exact 95 % and 99.8 % limits (Poisson, widened where the "
            "counts vary more than Poisson); {n} Kreise lie outside the 95 % limits."
        ).format(n=i18n.fmt_int(below)),
        source=source,
    )
    return say(
        _(
            "{n} Kreise with fewer than 5 customers (including none) are not drawn: their "
            "point would reveal a count that the tables hide."
        ).format(n=i18n.fmt_int(points.attrs["n_hidden"]))
    )


def distance_map(geometry, kreis_distance: pd.DataFrame, sites: pd.DataFrame, source: str):
    """Distance of each Kreis to the nearest sales location, with the locations."""
    if geometry is None:
        return _no_map()
    ax = plots.choropleth(
        geometry,
        kreis_distance.set_index("ags")["distance_km"],
        title=_("Distance to the nearest sales location (km); dots: sales locations"),
        label=_("km"),
        cmap="magma_r",
    )
    ax.scatter(sites["lon"], sites["lat"], s=60, color=plots.ACCENT, edgecolor="white", zorder=5)
    plots.show(
        ax,
        alt=_(
            "Map of the Kreise coloured by straight-line distance to the nearest of {n} "
            "sales locations, which are drawn as dots."
        ).format(n=i18n.fmt_int(len(sites))),
        source=source,
    )
    return None
