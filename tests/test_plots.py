"""Figures draw what they are given (smoke tests with exact counts, no pixel checks)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from analysis.present import maps, plots


def _square(x0, y0, size):
    return np.array([[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size]])


def test_choropleth_draws_enclaves_on_top_of_the_kreis_around_them():
    geometry = pd.DataFrame(
        {
            "ags": ["00900", "00100"],
            "geometry": [[_square(2, 2, 1)], [_square(0, 0, 5)]],  # city listed first
        }
    )
    ax = plots.choropleth(geometry, pd.Series({"00900": 1.0, "00100": 2.0}), highlight=["00900"])
    fills = ax.collections[0]
    first, second = fills.get_paths()
    assert abs(plots._ring_area(first.vertices[:-1])) > abs(plots._ring_area(second.vertices[:-1]))
    assert len(ax.collections) == 3  # fills + highlight outline + Land borders


def test_ring_area_shoelace():
    assert plots._ring_area(_square(0, 0, 2)) == 4.0
    assert plots._ring_area(_square(0, 0, 2)[::-1]) == -4.0


def test_show_needs_alt_text():
    import pytest

    ax = plots.grouped_bars(pd.DataFrame({"a": [1.0, 2.0]}, index=["x", "y"]))
    with pytest.raises(ValueError, match="text alternative"):
        plots.show(ax, alt=" ")


def test_show_emits_png_with_alt_in_metadata(monkeypatch):
    import base64

    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(
        IPython.display, "display", lambda data, metadata, raw: shown.append((data, metadata))
    )
    ax = plots.grouped_bars(pd.DataFrame({"a": [1.0, 2.0]}, index=["x", "y"]), title="T")
    plots.show(ax, alt="Zwei Balken", source="Demo")
    ((data, metadata),) = shown
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert data["text/plain"] == metadata["image/png"]["alt"] == "Zwei Balken"


def test_ticks_and_source_line_in_the_report_language():
    from analysis.present import i18n

    ax = plots.grouped_bars(pd.DataFrame({"a": [0.5, 1500.0]}, index=["x", "y"]))
    plots.localize_ticks(ax)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "1.500" in labels or "1.000" in labels, labels
    assert i18n.gettext("Source") == "Quelle"
    png = plots.render_png(ax, source="Demo")
    assert png.startswith(b"\x89PNG")


def test_land_borders_keep_outer_edges_and_drop_shared_ones():
    # two Kreise of Land 01 side by side, one of Land 02 to the right
    geometry = pd.DataFrame(
        {
            "ags": ["01001", "01002", "02001"],
            "geometry": [[_square(0, 0, 1)], [_square(1, 0, 1)], [_square(2, 0, 1)]],
        }
    )
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    maps.land_borders(ax, geometry)
    segments = ax.collections[0].get_segments()
    # Land 01: 6 outer edges (its shared edge x=1 dropped); Land 02: 4 edges
    assert len(segments) == 10
    shared = [s for s in segments if (s[:, 0] == 1).all()]
    assert shared == [], "the edge between two Kreise of one Land is no Land border"
    plt.close("all")
