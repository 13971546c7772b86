"""Figures draw what they are given (smoke tests with exact counts, no pixel checks)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from analysis.present import plots


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
    assert len(ax.collections) == 2  # fills + highlight outline


def test_ring_area_shoelace():
    assert plots._ring_area(_square(0, 0, 2)) == 4.0
    assert plots._ring_area(_square(0, 0, 2)[::-1]) == -4.0


def test_table_formats_and_escapes():
    frame = pd.DataFrame({"big_number": [1234567.0, 2000.0], "name": ["<script>x</script>", "y"]})
    html = plots.table(frame).to_html()
    assert "1,234,567" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "Big number" in html
    assert html == plots.table(frame).to_html(), "stable ids: same table, same bytes"
