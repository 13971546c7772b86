"""The run diff flags key figures that moved beyond a threshold."""

from __future__ import annotations

import math

import pytest

from analysis.report.diff import diff_figures, diff_settings


def test_relative_threshold_flags_only_changes_above_it():
    # Arrange: 100 -> 100.5 is +0.5 %, 1.0 -> 1.2 is +20 %, 50 -> 40 is -20 %.
    previous = {"a": 100, "b": 1.0, "c": 50, "same": 7}
    current = {"a": 100.5, "b": 1.2, "c": 40, "same": 7}

    # Act
    result = diff_figures(previous, current, relative=0.01, against="run-1")

    # Assert
    by_name = {c["name"]: c for c in result["changes"]}
    assert set(by_name) == {"a", "b", "c"}, "unchanged figures are not listed"
    assert result["flagged"] == ["b", "c"]
    assert by_name["a"]["rel_change"] == pytest.approx(0.005, abs=1e-12)
    assert by_name["a"]["flagged"] is False
    assert by_name["b"]["abs_change"] == pytest.approx(0.2, abs=1e-12)
    assert by_name["b"]["rel_change"] == pytest.approx(0.2, abs=1e-9)
    assert by_name["c"]["abs_change"] == -10 and by_name["c"]["rel_change"] == 0.2
    assert result["against"] == "run-1"
    assert result["thresholds"] == {"relative": 0.01, "absolute": 0.0}


def test_absolute_threshold_is_a_noise_floor_for_small_values():
    # 0.001 -> 0.002 doubles (+100 %) but moves by only 0.001.
    previous, current = {"share": 0.001, "count": 10}, {"share": 0.002, "count": 20}
    result = diff_figures(previous, current, relative=0.01, absolute=0.5)
    assert result["flagged"] == ["count"]


def test_change_from_zero_counts_as_infinite_relative_change():
    result = diff_figures({"n": 0}, {"n": 3})
    (change,) = result["changes"]
    assert change["rel_change"] is None and change["abs_change"] == 3 and change["flagged"]
    assert not math.isnan(change["abs_change"])


def test_text_flags_lists_and_appearing_or_vanishing_figures_are_flagged():
    previous = {"top": "03159", "ok": True, "ranks": [1, 2], "gone": 5}
    current = {"top": "09162", "ok": True, "ranks": [2, 1], "new": 1}
    result = diff_figures(previous, current)
    status = {c["name"]: c.get("status") for c in result["changes"]}
    assert status == {"top": "changed", "ranks": "changed", "gone": "removed", "new": "added"}
    assert result["flagged"] == ["gone", "new", "ranks", "top"]


def test_bool_is_not_treated_as_number():
    result = diff_figures({"flag": True}, {"flag": False})
    assert result["changes"][0]["abs_change"] is None and result["flagged"] == ["flag"]


def test_no_previous_run_flags_nothing():
    result = diff_figures(None, {"a": 1})
    assert result == {
        "against": None,
        "thresholds": {"relative": 0.01, "absolute": 0.0},
        "changes": [],
        "flagged": [],
    }


def test_settings_are_validated_and_completed_with_defaults():
    assert diff_settings(None, "plan") == {"relative": 0.01, "absolute": 0.0}
    assert diff_settings({"relative": 0.05}, "plan") == {"relative": 0.05, "absolute": 0.0}
    with pytest.raises(ValueError, match="report 'x': diff.relative must be a number >= 0"):
        diff_settings({"relative": -1}, "report 'x'")
    with pytest.raises(ValueError, match="unknown key"):
        diff_settings({"relativ": 0.1}, "plan")
    with pytest.raises(ValueError, match="must be a mapping"):
        diff_settings(0.1, "plan")
