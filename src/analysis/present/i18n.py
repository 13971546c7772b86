"""The report language: one gettext message catalogue and Babel locale formatting.

Every text the product writes goes through :func:`gettext` (imported as ``_`` by the
modules that write text), every number and date through the ``fmt_*`` helpers. German
is the default; English on request. The active language is set once per report by
``analysis.report_setup(language=...)`` from the notebook parameter ``language``.

Message ids are the English texts (English needs no translation file); German texts
live in ``present/locale/de/LC_MESSAGES/workbook.po``. The ``.po`` file is compiled with
Babel in memory on first use, so a fresh clone needs no build step and no ``.mo``
file is committed.

Examples
--------
>>> from analysis.present import i18n
>>> i18n.fmt_number(83577140, 0, language="de")
'83.577.140'
>>> i18n.fmt_percent(0.23, 1, language="de")
'23,0\\xa0%'
>>> i18n.gettext("Key figures", language="de")
'Kennzahlen'
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as _gettext
import io
import math
from pathlib import Path

#: Languages a report can be written in; the first is the default.
LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "de"
#: The gettext domain (file name of the catalogue).
DOMAIN = "workbook"
#: Folder holding ``<language>/LC_MESSAGES/workbook.po``.
LOCALE_DIR = Path(__file__).with_name("locale")
#: Babel locale of each language (English dates and numbers as in the UK: 31 Dec 2024).
LOCALES = {"de": "de_DE", "en": "en_GB"}
#: Shown for a missing value.
MISSING = "–"

_active = {"language": DEFAULT_LANGUAGE}


def check_language(language: str) -> str:
    """Return ``language`` if supported, else raise ``ValueError`` naming the choices."""
    if language not in LANGUAGES:
        raise ValueError(
            f"language must be one of {', '.join(repr(x) for x in LANGUAGES)}, got {language!r}"
        )
    return language


def set_language(language: str) -> None:
    """Make ``language`` the active report language (``report_setup`` calls this)."""
    _active["language"] = check_language(language)


def get_language() -> str:
    """The active report language (``"de"`` unless set)."""
    return _active["language"]


def _lang(language: str | None) -> str:
    return check_language(language) if language is not None else get_language()


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    """The gettext translations of ``language``, compiled from its ``.po`` with Babel.

    The returned object works with Jinja2's i18n extension
    (``env.install_gettext_translations(translations("de"), newstyle=True)``).

    Raises
    ------
    ValueError
        For an unsupported language.
    FileNotFoundError
        When a language other than English has no catalogue.
    """
    check_language(language)
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" and not po.is_file():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str, *, language: str | None = None) -> str:
    """``message`` (its English text) in ``language`` (default: the active language)."""
    return translations(_lang(language)).gettext(message)


#: The conventional short name; ``from analysis.present.i18n import _``.
_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a text for the catalogue without translating it now (``gettext_noop``).

    For labels defined at import time (indicator names, units): they stay English ids
    in data structures and are translated with :func:`gettext` when shown.
    """
    return message


def ngettext(singular: str, plural: str, n: int, *, language: str | None = None) -> str:
    """Singular or plural form of a message for the count ``n``."""
    return translations(_lang(language)).ngettext(singular, plural, n)


def babel_locale(language: str | None = None) -> str:
    """The Babel locale name of a language (``de`` → ``de_DE``)."""
    return LOCALES[_lang(language)]


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value) or (isinstance(value, float) and math.isinf(value))
    except (TypeError, ValueError):
        return False


def fmt_number(value: float | None, decimals: int = 1, *, language: str | None = None) -> str:
    """A number with the locale's separators and exactly ``decimals`` decimals.

    ``fmt_number(21481.447, 1)`` → ``21.481,4`` (de), ``21,481.4`` (en); missing → ``–``.
    """
    if _missing(value):
        return MISSING
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(float(value), format=pattern, locale=babel_locale(language))


def fmt_int(value: float | None, *, language: str | None = None) -> str:
    """A whole number with thousands separators (``83.577.140``)."""
    return fmt_number(value, 0, language=language)


def fmt_percent(share: float | None, decimals: int = 1, *, language: str | None = None) -> str:
    """A share as a percentage in the locale's style: 0.23 → ``23,0 %`` (de), ``23.0%`` (en).

    The German form has a non-breaking space before ``%`` (DIN 5008), so the sign never
    wraps onto its own line.
    """
    if _missing(share):
        return MISSING
    from babel import Locale
    from babel.numbers import format_percent

    locale = babel_locale(language)
    base = Locale.parse(locale).percent_formats[None].pattern
    places = "." + "0" * decimals if decimals > 0 else ""
    pattern = base.replace("#,##0", "#,##0" + places, 1)
    return format_percent(float(share), format=pattern, locale=locale, decimal_quantization=True)


def fmt_points(
    value: float | None, decimals: int = 1, *, signed: bool = True, language: str | None = None
) -> str:
    """A difference of percentages in percentage points: ``+2,5 Prozentpunkte``.

    ``signed=False`` leaves out the ``+`` (after a verb that already says the direction).
    """
    if _missing(value):
        return MISSING
    sign = "+" if value > 0 and signed else ""
    return f"{sign}{fmt_number(value, decimals, language=language)} " + gettext(
        "percentage points", language=language
    )


def fmt_date(value: dt.date | str | None, *, language: str | None = None) -> str:
    """A date in the locale's medium form: ``31.12.2024`` (de), ``31 Dec 2024`` (en)."""
    if _missing(value) or value == "":
        return MISSING
    from babel.dates import format_date

    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    elif isinstance(value, dt.datetime):
        value = value.date()
    elif hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        value = value.date()
    return format_date(value, format="medium", locale=babel_locale(language))


def fmt_currency(
    value: float | None,
    currency: str = "EUR",
    decimals: int = 0,
    *,
    language: str | None = None,
) -> str:
    """An amount with currency sign: ``21.481 €`` (de), ``€21,481`` (en)."""
    if _missing(value):
        return MISSING
    from babel.numbers import format_currency

    locale = babel_locale(language)
    pattern = None
    if decimals == 0:
        from babel import Locale

        base = Locale.parse(locale).currency_formats["standard"].pattern
        pattern = base.replace(".00", "")
    return format_currency(
        float(value),
        currency,
        format=pattern,
        locale=locale,
        currency_digits=decimals != 0,
    )


def fmt_value(value: object, decimals: int = 1, *, language: str | None = None) -> str:
    """Any key-figure value for display: numbers localized, text as it is."""
    if isinstance(value, bool):
        return gettext("yes" if value else "no", language=language)
    if isinstance(value, int):
        return fmt_int(value, language=language)
    if isinstance(value, float):
        whole = math.isfinite(value) and value == int(value) and abs(value) >= 1000
        return fmt_number(value, 0 if whole else decimals, language=language)
    if _missing(value):
        return MISSING
    return str(value)
