"""Tables for people: headers with units, locale numbers, no index, suppressed cells marked."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.present import i18n
from analysis.present.tables import SUPPRESSED, Column, shortened_note, table


@pytest.fixture(autouse=True)
def _reset():
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


FRAME = pd.DataFrame(
    {
        "name": ["Göttingen", "<script>x</script>"],
        "population": [328028.0, 1512491.0],
        "hc_per_100k": [3.6571, 12.25],
        "win_rate": [0.23, None],
    },
    index=[7, 9],
)
SPEC = [
    Column("name", "Kreis", "text"),
    Column("population", "Einwohner", "int"),
    Column("hc_per_100k", "Champions je 100.000 Einw.", "number", 1),
    Column("win_rate", "Abschlussquote", "share", 1),
]


def test_german_numbers_labels_and_no_index():
    rendered = table(FRAME, SPEC, caption="Zwei Kreise")
    assert rendered.frame.to_dict("list") == {
        "Kreis": ["Göttingen", "<script>x</script>"],
        "Einwohner": ["328.028", "1.512.491"],
        "Champions je 100.000 Einw.": ["3,7", "12,2"],
        "Abschlussquote": ["23,0\xa0%", "–"],
    }
    html = rendered.to_html()
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "hc_per_100k" not in html and ">7<" not in html and ">9<" not in html
    assert "text-align: right" in html
    assert html == table(FRAME, SPEC, caption="Zwei Kreise").to_html(), "stable ids"


def test_english_numbers():
    rendered = table(FRAME, SPEC, language="en")
    assert rendered.frame["Einwohner"].tolist() == ["328,028", "1,512,491"]
    assert rendered.frame["Abschlussquote"].tolist() == ["23.0%", "–"]


def test_suppressed_cells_get_one_symbol_and_a_footnote():
    mask = pd.DataFrame({"population": [False, True]}, index=FRAME.index)
    rendered = table(FRAME, SPEC, suppressed=mask)
    assert rendered.frame["Einwohner"].tolist() == ["328.028", SUPPRESSED]
    assert rendered.notes[0].startswith(f"{SUPPRESSED} weniger als 5 Datensätze")
    assert "wb-table-note" in rendered.to_html()


def test_unknown_column_and_kind_are_named():
    with pytest.raises(KeyError, match="nope"):
        table(FRAME, [Column("nope", "X")])
    with pytest.raises(ValueError, match="kind"):
        Column("name", "X", "money")


def test_shortened_note():
    assert shortened_note(10, 400) == (
        "Die ersten 10 von 400 Zeilen; die vollständige Tabelle steht im Anhang."
    )
    assert shortened_note(10, 10) == ""


def test_cells_withheld_by_privacy_are_marked_too():
    frame = FRAME.assign(population=[328028, "x"])
    rendered = table(frame, SPEC)
    assert rendered.frame["Einwohner"].tolist() == ["328.028", SUPPRESSED]
    assert rendered.notes and rendered.notes[0].startswith(SUPPRESSED)
