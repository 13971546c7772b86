"""Figures from results: pure functions that draw on a given or new Axes.

No I/O and no ``plt.show()``: notebooks call these and end the line with ``;``.
Colours are colour-blind safe (seaborn's "colorblind" palette); the highlighted
region is always drawn in the same accent colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The seaborn palette of every figure (colour-blind safe).
PALETTE = "colorblind"
ACCENT = "#d55e00"  # the highlighted region
BASE = "#0072b2"
MUTED = "#b8bfcc"


def set_theme() -> None:
    """Set the one seaborn theme and colour-blind-safe palette of every report figure.

    ``analysis.report_setup`` calls this; call it yourself outside a report notebook.
    """
    import seaborn as sns

    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        font_scale=0.85,
        rc={"axes.spines.top": False, "axes.spines.right": False, "grid.color": "#e6e6e6"},
    )


def _axes(ax=None, figsize=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def rank_strip(
    values: pd.Series,
    highlight: Sequence[str] = (),
    *,
    labels: pd.Series | None = None,
    title: str = "",
    xlabel: str = "",
    log: bool = False,
    ax=None,
):
    """All Kreise as dots on one axis, highlighted ones labelled.

    Parameters
    ----------
    values : Series
        One value per Kreis, indexed by Kreis code.
    highlight : sequence of str
        Kreis codes to mark and label.
    labels : Series, optional
        Display names indexed by Kreis code (default: the codes).
    title, xlabel : str
        Texts.
    log : bool
        Logarithmic axis (for skewed indicators).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(8, 2.6))
    clean = values.dropna()
    rng = np.random.default_rng(0)  # jitter only for legibility; fixed for stable figures
    jitter = rng.uniform(-0.3, 0.3, size=len(clean))
    ax.scatter(clean.to_numpy(), jitter, s=10, color=MUTED, alpha=0.8, linewidths=0)
    median = float(clean.median())
    ax.axvline(median, color="#555", lw=1, ls="--")
    from analysis.present.i18n import gettext as _

    ax.text(median, 0.45, " " + _("median"), va="bottom", ha="left", fontsize=8, color="#555")
    for i, code in enumerate(highlight):
        if code not in clean.index:
            continue
        x = float(clean.loc[code])
        ax.scatter([x], [0], s=60, color=ACCENT if i == 0 else BASE, zorder=3)
        name = str(labels.loc[code]) if labels is not None and code in labels.index else code
        ax.annotate(
            name,
            (x, 0),
            xytext=(0, 14 + 12 * (i % 2)),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            arrowprops={"arrowstyle": "-", "color": "#555", "lw": 0.6},
        )
    if log and (clean > 0).all():
        ax.set_xscale("log")
    ax.set_ylim(-0.6, 0.9)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    return ax


def grouped_bars(
    table: pd.DataFrame,
    *,
    title: str = "",
    ylabel: str = "",
    reference: float | None = None,
    ax=None,
):
    """Bars per indicator (rows) and entity (columns), e.g. region vs comparison vs median.

    Parameters
    ----------
    table : DataFrame
        Rows are indicators, columns the entities compared; values on one scale
        (use an index such as "Germany = 100" for mixed units).
    """
    ax = _axes(ax, figsize=(8, 3.6))
    n_rows, n_cols = table.shape
    width = 0.8 / max(n_cols, 1)
    colours = [ACCENT, BASE, MUTED, "#009e73", "#cc79a7"]
    x = np.arange(n_rows)
    for j, column in enumerate(table.columns):
        ax.bar(
            x + (j - (n_cols - 1) / 2) * width,
            table[column].to_numpy(dtype=float),
            width=width,
            label=str(column),
            color=colours[j % len(colours)],
        )
    if reference is not None:
        ax.axhline(reference, color="#555", lw=1, ls="--")
    import textwrap

    ax.set_xticks(x, [textwrap.fill(str(i), 18) for i in table.index], rotation=0, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _ring_area(ring: np.ndarray) -> float:
    """Signed area of a ring by the shoelace formula (in squared degrees)."""
    if len(ring) < 3:
        return 0.0
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def choropleth(
    geometry: pd.DataFrame,
    values: pd.Series,
    *,
    highlight: Sequence[str] = (),
    title: str = "",
    label: str = "",
    cmap: str = "viridis",
    categorical: bool = False,
    colors: dict | None = None,
    borders: bool = True,
    ax=None,
):
    """A map of Kreise coloured by ``values``, with the Land borders for orientation.

    Parameters
    ----------
    geometry : DataFrame
        Columns ``ags`` and ``geometry`` (a list of rings, each an (n, 2) array-like of
        lon/lat), as returned by ``analysis.sources.official.vg2500.read_vg2500`` or
        ``read_geojson``.
    values : Series
        Indexed by Kreis code; Kreise without a value are drawn grey.
    highlight : sequence of str
        Kreis codes outlined in the accent colour.
    categorical : bool
        Values are categories (a legend instead of a colour bar).
    colors : dict, optional
        Colour per category (default: the palette in category order).
    borders : bool
        Draw the Land borders (:func:`land_borders`).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib as mpl
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    ax = _axes(ax, figsize=(6.5, 8))
    polygons, codes = [], []
    for code, rings in zip(geometry["ags"], geometry["geometry"], strict=True):
        for ring in rings:
            polygons.append(np.asarray(ring, dtype=float))
            codes.append(code)
    # Rings are drawn filled, so a Kreis with a hole (an enclaved kreisfreie Stadt) would
    # cover the city inside it: draw large rings first and small ones on top.
    areas = [abs(_ring_area(p)) for p in polygons]
    order = sorted(range(len(polygons)), key=lambda i: -areas[i])
    polygons = [polygons[i] for i in order]
    codes = [codes[i] for i in order]
    codes_s = pd.Series(codes)
    mapped = codes_s.map(values)
    facecolors: list
    if categorical:
        import seaborn as sns

        cats = [c for c in pd.unique(values.dropna()) if c is not None]
        if isinstance(values.dtype, pd.CategoricalDtype):
            cats = [c for c in values.cat.categories if c in set(cats)]
        else:
            cats = sorted(cats, key=str)
        palette = sns.color_palette(PALETTE, max(len(cats), 1))
        lookup = {c: (colors or {}).get(c, palette[i]) for i, c in enumerate(cats)}
        facecolors = [lookup.get(v, (0.85, 0.85, 0.85, 1)) for v in mapped]
        handles = [Patch(color=col, label=str(cat)) for cat, col in lookup.items()]
        ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, title=label)
    else:
        numeric = pd.to_numeric(mapped, errors="coerce")
        finite = numeric.dropna()
        lo, hi = (
            (float(finite.quantile(0.02)), float(finite.quantile(0.98))) if len(finite) else (0, 1)
        )
        norm = mpl.colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
        colormap = mpl.colormaps[cmap]
        facecolors = [
            (0.85, 0.85, 0.85, 1)
            if (v is None or (isinstance(v, float) and math.isnan(v)))
            else colormap(norm(v))
            for v in numeric
        ]
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=colormap)
        ax.figure.colorbar(sm, ax=ax, shrink=0.6, label=label)
    collection = PolyCollection(polygons, facecolors=facecolors, edgecolors="white", linewidths=0.2)
    ax.add_collection(collection)
    wanted = set(highlight)
    outline = [p for p, c in zip(polygons, codes, strict=True) if c in wanted]
    if outline:
        ax.add_collection(
            PolyCollection(outline, facecolors="none", edgecolors=ACCENT, linewidths=1.6)
        )
    if borders:
        from analysis.present.maps import land_borders

        land_borders(ax, geometry)
    ax.autoscale_view()
    ax.set_aspect(1 / math.cos(math.radians(51)))
    ax.set_axis_off()
    ax.set_title(title, loc="left")
    return ax


def observed_vs_expected(
    predictions: pd.DataFrame,
    highlight: Sequence[str] = (),
    *,
    observed: str = "observed",
    expected: str = "expected_negbin",
    key: str = "ags",
    label: str = "name",
    title: str = "",
    ax=None,
):
    """Observed against model-expected counts per Kreis (log-log, with the diagonal).

    Parameters
    ----------
    predictions : DataFrame
        One row per Kreis, e.g. ``CountModels.predictions`` of
        :func:`analysis.champions.fit_count_models`.
    highlight : sequence of str
        Kreis codes drawn and labelled in the accent colour.
    observed, expected, key, label : str
        Column names.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(5.5, 5))
    # log1p axes keep Kreise with no champion on the plot
    x = np.log1p(predictions[expected].to_numpy(dtype=float))
    y = np.log1p(predictions[observed].to_numpy(dtype=float))
    chosen = predictions[key].astype(str).isin(set(highlight)).to_numpy()
    ax.scatter(x[~chosen], y[~chosen], s=12, color=BASE, alpha=0.6, linewidths=0)
    ax.scatter(x[chosen], y[chosen], s=40, color=ACCENT, zorder=3)
    for xi, yi, text in zip(x[chosen], y[chosen], predictions.loc[chosen, label], strict=True):
        ax.annotate(str(text), (xi, yi), xytext=(4, 4), textcoords="offset points", color=ACCENT)
    top = float(max(x.max(initial=0), y.max(initial=0))) * 1.05
    ax.plot([0, top], [0, top], color=MUTED, linewidth=1, zorder=0)
    ticks = [t for t in (0, 1, 2, 5, 10, 20, 50, 100, 200) if np.log1p(t) <= top]
    ax.set_xticks(np.log1p(ticks), [str(t) for t in ticks])
    ax.set_yticks(np.log1p(ticks), [str(t) for t in ticks])
    ax.set_xlabel("expected (model)")
    ax.set_ylabel("observed")
    ax.set_title(title, loc="left")
    return ax


def funnel_plot(
    frame: pd.DataFrame,
    curve: pd.DataFrame,
    *,
    observed: str = "observed",
    expected: str = "expected",
    flag: str | None = "funnel",
    title: str = "",
    xlabel: str = "expected (model)",
    ylabel: str = "observed / expected",
    ax=None,
):
    """Funnel plot: O/E of every unit against its expected value, with control limits.

    Units are drawn without labels; those outside the limits are coloured (below:
    accent colour, above: blue), the rest grey. A small unit far from 1 inside the
    funnel is noise, not a finding.

    Parameters
    ----------
    frame : DataFrame
        One row per unit with ``observed`` and ``expected`` (and ``flag``), e.g.
        ``PotentialModel.frame`` of :func:`analysis.market.fit_potential`.
    curve : DataFrame
        :func:`analysis.market.funnel_curve`: ``expected`` and ``low_<tag>``,
        ``high_<tag>`` columns (tag 95, 998) on the ratio scale.
    observed, expected, flag : str
        Column names (``flag=None``: all units grey).
    title, xlabel, ylabel : str

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(7, 4.6))
    data = frame[frame[expected] > 0]
    e = data[expected].to_numpy(dtype=float)
    ratio = data[observed].to_numpy(dtype=float) / e
    colours = np.full(len(data), MUTED, dtype=object)
    if flag is not None and flag in data.columns:
        text = data[flag].astype(str).to_numpy()
        colours[np.char.startswith(text.astype(str), "below")] = ACCENT
        colours[np.char.startswith(text.astype(str), "above")] = BASE
    cap = 6.0  # tiny units reach O/E of 20 and more; they sit on the top edge
    clipped = ratio > cap
    ax.scatter(
        e[~clipped], ratio[~clipped], s=14, c=list(colours[~clipped]), alpha=0.85, lw=0, zorder=3
    )
    if clipped.any():
        ax.scatter(
            e[clipped],
            np.full(clipped.sum(), cap),
            s=22,
            marker="^",
            c=list(colours[clipped]),
            alpha=0.85,
            lw=0,
            zorder=3,
            label=f"O/E above {cap:g} (drawn at {cap:g})",
        )
    styles = {"95": ("--", "95 % limits"), "998": (":", "99.8 % limits")}
    for tag, (style, name) in styles.items():
        if f"low_{tag}" not in curve.columns:
            continue
        ax.plot(curve["expected"], curve[f"low_{tag}"], color="#555", ls=style, lw=1, label=name)
        ax.plot(curve["expected"], curve[f"high_{tag}"], color="#555", ls=style, lw=1)
    ax.axhline(1.0, color="#555", lw=0.8)
    ax.set_xscale("log")
    top = max(float(np.nanmax(ratio, initial=1.0)) * 1.05, 2.0)
    ax.set_ylim(-0.05, min(top, cap * 1.05))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    return ax


#: Colours of funnel positions in :func:`funnel_map`.
FUNNEL_COLOURS = {
    "below 99.8 %": ACCENT,
    "below 95 %": "#f0a35e",
    "within": "#dcdfe6",
    "above 95 %": "#6baed6",
    "above 99.8 %": BASE,
    "not fitted": "#ffffff",
}


def funnel_map(geometry: pd.DataFrame, flags: pd.Series, *, title: str = "", ax=None):
    """A map of Kreise coloured by their position in a funnel plot.

    Within the limits is light grey, below orange (the accent colour beyond the
    99.8 % limit), above blue, not fitted white: the eye goes to the exceptions.

    Parameters
    ----------
    geometry : DataFrame
        ``ags``, ``geometry`` (lon/lat rings), as for :func:`choropleth`.
    flags : Series
        Indexed by Kreis code, values the keys of :data:`FUNNEL_COLOURS` (the
        ``funnel`` column of ``analysis.market.PotentialModel.frame``).

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    ax = _axes(ax, figsize=(6.5, 8))
    polygons, colours = [], []
    for code, rings in zip(geometry["ags"], geometry["geometry"], strict=True):
        colour = FUNNEL_COLOURS.get(str(flags.get(code, "not fitted")), "#ffffff")
        for ring in rings:
            polygons.append(np.asarray(ring, dtype=float))
            colours.append(colour)
    ax.add_collection(
        PolyCollection(polygons, facecolors=colours, edgecolors="#999", linewidths=0.2)
    )
    present = set(flags.astype(str))
    handles = [
        Patch(facecolor=c, edgecolor="#999", label=k)
        for k, c in FUNNEL_COLOURS.items()
        if k in present
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, title="funnel")
    from analysis.present.maps import land_borders

    land_borders(ax, geometry)
    ax.autoscale_view()
    ax.set_aspect(1 / math.cos(math.radians(51)))
    ax.set_axis_off()
    ax.set_title(title, loc="left")
    return ax


def localize_ticks(ax) -> None:
    """Tick labels of plain numeric axes in the report language (``1.000``, ``0,5``)."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    from analysis.present.i18n import fmt_number

    for axis in (ax.xaxis, ax.yaxis):
        if not isinstance(axis.get_major_formatter(), ScalarFormatter):
            continue
        ticks = [t for t in axis.get_majorticklocs() if math.isfinite(t)]
        decimals = next((d for d in range(7) if all(abs(round(t, d) - t) < 1e-9 for t in ticks)), 6)
        axis.set_major_formatter(FuncFormatter(lambda v, _pos, d=decimals: fmt_number(v, d)))


def render_png(ax, *, source: str = "", title: str | None = None) -> bytes:
    """The finished figure as PNG bytes: localized ticks, source line under it; closes it.

    Parameters
    ----------
    ax : matplotlib Axes or Figure
    source : str
        Written as ``Quelle: …`` / ``Source: …`` under everything else.
    title : str, optional
        Replaces the (first) axes title.
    """
    import io

    import matplotlib.pyplot as plt

    from analysis.present.i18n import gettext as _

    figure = ax if hasattr(ax, "savefig") else ax.figure
    if title is not None:
        figure.axes[0].set_title(title, loc="left")
    for axes in figure.axes:
        localize_ticks(axes)
    # passing bbox_extra_artists replaces matplotlib's own choice: name legends too
    extra = [a.get_legend() for a in figure.axes if a.get_legend() is not None]
    if source:
        # below everything drawn so far (tick labels, x label, legends), in inches from
        # the corner; draw first so that aspect and legend positions are final
        figure.canvas.draw()
        box = figure.get_tightbbox(figure.canvas.get_renderer())
        # in figure fractions: savefig(bbox_inches="tight") shifts those, not inches
        width, height = figure.get_size_inches()
        import textwrap

        # wrap to the drawing's width (about 0.6 em per character at 7 pt): a long credit
        # line must not widen the image
        chars = max(40, int((box.x1 - box.x0) * 72 / (7 * 0.6)))
        text = figure.text(
            box.x0 / width,
            (box.y0 - 0.08) / height,
            textwrap.fill(f"{_('Source')}: {source}", chars),
            ha="left",
            va="top",
            fontsize=7,
            color="#555",
        )
        extra.append(text)
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        bbox_inches="tight",
        bbox_extra_artists=extra or None,
        metadata={"Software": None},
    )
    plt.close(figure)
    return buffer.getvalue()


def show(ax, *, alt: str, source: str = "", title: str | None = None) -> None:
    """Show a finished figure in the report: source line under it, alt text with it.

    Displays one ``display_data`` output with ``image/png`` and, as its text
    alternative, ``text/plain`` and ``metadata["image/png"]["alt"]`` (the convention of
    ``present/README.md``), then closes the figure so it is not shown twice.

    Parameters
    ----------
    ax : matplotlib Axes or Figure
        What a drawing function of this module returned.
    alt : str
        Text alternative: what the figure shows and its finding, in the report language.
    source : str
        The data source (``"Statistische Ämter des Bundes und der Länder, 12411"``),
        written as ``Quelle: …`` under the figure.
    title : str, optional
        Replaces the axes title (a title that states the finding).

    Raises
    ------
    ValueError
        When ``alt`` is empty: every image needs a text alternative.
    """
    import base64

    if not alt.strip():
        raise ValueError("every figure needs a text alternative (alt)")
    png = render_png(ax, source=source, title=title)
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": alt}
    metadata = {"image/png": {"alt": alt}}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return
    if get_ipython() is not None:
        display(data, metadata=metadata, raw=True)
