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
