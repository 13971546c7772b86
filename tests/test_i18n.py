"""Report language: catalogue lookups and Babel formatting for German and English."""

from __future__ import annotations

import ast
import datetime as dt
import math
from pathlib import Path

import pytest

from analysis.present import i18n

SRC = Path(__file__).resolve().parents[1] / "src" / "analysis"


@pytest.fixture(autouse=True)
def _reset_language():
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_german_is_the_default_and_english_on_request():
    assert i18n.get_language() == "de"
    assert i18n.gettext("Key findings") == "Das Wichtigste in Kürze"
    i18n.set_language("en")
    assert i18n.gettext("Key findings") == "Key findings"


def test_unknown_language_is_refused_and_changes_nothing():
    with pytest.raises(ValueError, match="'de', 'en'"):
        i18n.set_language("fr")
    assert i18n.get_language() == "de"


@pytest.mark.parametrize(
    ("call", "de", "en"),
    [
        (lambda lang: i18n.fmt_int(83577140, language=lang), "83.577.140", "83,577,140"),
        (lambda lang: i18n.fmt_number(21481.447, 1, language=lang), "21.481,4", "21,481.4"),
        (lambda lang: i18n.fmt_number(0.126, 2, language=lang), "0,13", "0.13"),
        (lambda lang: i18n.fmt_percent(0.23, 1, language=lang), "23,0\xa0%", "23.0%"),
        (lambda lang: i18n.fmt_percent(0.5, 0, language=lang), "50\xa0%", "50%"),
        (
            lambda lang: i18n.fmt_date(dt.date(2024, 12, 31), language=lang),
            "31.12.2024",
            "31 Dec 2024",
        ),
        (
            lambda lang: i18n.fmt_date("2024-12-31T10:00:00", language=lang),
            "31.12.2024",
            "31 Dec 2024",
        ),
        (lambda lang: i18n.fmt_currency(21481.447, language=lang), "21.481\xa0€", "€21,481"),
        (lambda lang: i18n.fmt_number(math.nan, 1, language=lang), "–", "–"),
        (lambda lang: i18n.fmt_percent(None, language=lang), "–", "–"),
    ],
)
def test_locale_formats(call, de, en):
    assert call("de") == de
    assert call("en") == en


def test_points_carry_their_sign_and_unit():
    assert i18n.fmt_points(2.5, language="de") == "+2,5 Prozentpunkte"
    assert i18n.fmt_points(-1.25, 1, language="en") == "-1.2 percentage points"


def _python_sources():
    """The package's modules and the code cells of the report notebooks."""
    import json

    for path in SRC.rglob("*.py"):
        yield path.read_text(encoding="utf-8")
    for path in (SRC.parents[1] / "notebooks").glob("[0-9]*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                yield "".join(cell["source"])


def _messages_in_code() -> set[str]:
    """English texts passed literally to ``_``/``N_``/``gettext``/``ngettext``."""
    found = set()
    for source in _python_sources():
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in {"_", "N_", "gettext", "ngettext"}:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return found


def test_every_message_in_the_code_has_a_german_text():
    from babel.messages.pofile import read_po

    po = i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    translated = set()
    for message in catalog:
        if not message.id:
            continue
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            translated.add(singular)
    missing = sorted(_messages_in_code() - translated)
    assert not missing, f"no German text in {po.name} for: {missing}"


def test_placeholders_survive_translation():
    from babel.messages.pofile import read_po

    po = i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    import string

    def fields(text):
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for message in catalog:
        if message.id and message.string and isinstance(message.id, str):
            assert fields(message.id) == fields(message.string), message.id


def test_every_indicator_label_and_unit_has_a_german_text():
    from analysis.regions.profile import PROFILE_INDICATORS

    for indicator in PROFILE_INDICATORS:
        for text in (indicator.label, indicator.unit):
            if text not in {"%", "EUR"}:
                assert i18n.gettext(text, language="de") != text, text


def test_report_setup_sets_the_language_and_refuses_others():
    import analysis

    analysis.report_setup(language="en")
    assert i18n.get_language() == "en"
    with pytest.raises(ValueError, match="language"):
        analysis.report_setup(language="fr")
    assert i18n.get_language() == "en", "a refused language changes nothing"
