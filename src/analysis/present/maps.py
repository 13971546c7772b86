"""Orientation on Kreis maps: Land borders and the names of a few large places.

Used by the map functions of :mod:`analysis.present.plots`; pure drawing on a given Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def land_borders(ax, geometry: pd.DataFrame, *, color: str = "#333", linewidth: float = 0.8):
    """Draw the borders of the Länder over a Kreis map (for orientation).

    A Land border is every Kreis edge that no other Kreis of the same Land shares (the
    Land is the first two digits of the Kreis code); coastlines are drawn too. Works on
    boundary files whose neighbouring Kreise share vertices, as VG2500 does.

    Returns
    -------
    matplotlib Axes
    """
    from collections import Counter

    from matplotlib.collections import LineCollection

    edges: dict[str, Counter] = {}
    for code, rings in zip(geometry["ags"], geometry["geometry"], strict=True):
        counter = edges.setdefault(str(code)[:2], Counter())
        for ring in rings:
            points = [tuple(np.round(np.asarray(p, dtype=float), 6)) for p in ring]
            for a, b in zip(points, points[1:] + points[:1], strict=True):
                if a != b:
                    counter[(a, b) if a < b else (b, a)] += 1
    segments = [edge for counter in edges.values() for edge, n in counter.items() if n == 1]
    ax.add_collection(LineCollection(segments, colors=color, linewidths=linewidth, zorder=4))
    return ax


def label_places(ax, geometry: pd.DataFrame, names: pd.Series, *, fontsize: int = 7):
    """Write place names at the centroids of the given Kreise (orientation on a map).

    Parameters
    ----------
    ax : matplotlib Axes
        A map drawn by :func:`choropleth` or :func:`funnel_map`.
    geometry : DataFrame
        ``ags``, ``geometry`` (lon/lat rings).
    names : Series
        Names to write, indexed by Kreis code (e.g. the five largest cities).

    Returns
    -------
    matplotlib Axes
    """
    from analysis.market.proximity import polygon_centroid

    rings = geometry.set_index("ags")["geometry"]
    for code, name in names.items():
        if code not in rings.index:
            continue
        lat, lon = polygon_centroid(rings.loc[code])
        ax.annotate(
            str(name),
            (lon, lat),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=fontsize,
            color="#222",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
        )
        ax.plot([lon], [lat], marker="o", ms=2.5, color="#222")
    return ax
