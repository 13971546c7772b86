"""Wording follows the data: direction from the sign, certainty from the interval."""

from __future__ import annotations

import math

import pytest

from analysis.present import i18n, narrative


@pytest.fixture(autouse=True)
def _reset():
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_a_fall_is_never_called_a_rise():
    assert narrative.change_words(-1.2) == "sank"
    assert narrative.change_words(1.2) == "stieg"
    assert narrative.change_words(0.01, tolerance=0.05) == "blieb etwa gleich"
    assert narrative.change_words(math.nan) == "ist nicht vergleichbar"
    i18n.set_language("en")
    assert narrative.change_words(-0.001) == "fell"


def test_certainty_from_the_interval():
    assert narrative.certainty(0.1, 0.5).startswith("klar positiv")
    assert narrative.certainty(-0.5, -0.1).startswith("klar negativ")
    assert narrative.certainty(-0.1, 0.5).startswith("nicht klar von null verschieden")


@pytest.mark.parametrize(
    ("percentile", "words"),
    [
        (95, "im obersten Zehntel"),
        (80, "im obersten Viertel"),
        (50, "über dem Median"),
        (30, "unter dem Median"),
        (5, "im untersten Viertel"),
    ],
)
def test_position(percentile, words):
    assert narrative.position(percentile) == words


def test_before_after_is_not_called_proof():
    text = narrative.before_after_caveat()
    assert "Vorher-Nachher" in text and "beweist aber nicht" in text


def test_summary_has_three_to_five_findings_and_a_marker():
    bundle = narrative.summary(["a.", "b.", "c."])._repr_mimebundle_()
    assert 'class="wb-summary"' in bundle["text/html"]
    assert "Das Wichtigste in Kürze" in bundle["text/markdown"]
    assert bundle[narrative.SUMMARY_MIME]["findings"] == ["a.", "b.", "c."]
    with pytest.raises(ValueError):
        narrative.summary(["1", "2", "3", "4", "5", "6"])


def test_title_output_is_marked():
    bundle = narrative.title("Regionalprofil", "Warum?")._repr_mimebundle_()
    assert bundle["text/markdown"].startswith("# Regionalprofil\n\nWarum?")
    assert bundle[narrative.TITLE_MIME] == {"title": "Regionalprofil", "question": "Warum?"}
    assert narrative.join_names(["A", "B", "C"]) == "A, B und C"
