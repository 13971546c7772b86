"""The one company-name normalizer: firm-list de-duplication and account matching agree.

:func:`normalize_company_name` turns ``Müller Sensorik GmbH & Co. KG``,
``MUELLER-SENSORIK GmbH`` and ``Mueller Sensorik`` into one key. The firm-list reader
(:mod:`analysis.sources.firms`) uses it to find duplicated firms and the matcher
(:mod:`analysis.market.matching`) to compare firms with CRM accounts, with one list
of legal forms (:data:`LEGAL_FORMS`), so the two can never disagree about whether
two spellings are the same company.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd

#: Legal forms and company-type words, as token sequences after normalization
#: (lower case, umlauts transliterated, punctuation split). Longer sequences are
#: removed first so that "GmbH & Co. KG" does not leave "co kg" behind.
LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            tuple(form.split())
            for form in (
                "gmbh co kg",
                "gmbh und co kg",
                "gmbh u co kg",
                "gmbh co kgaa",
                "gmbh co ohg",
                "mbh co kg",
                "ag co kg",
                "ag co kgaa",
                "se co kg",
                "se co kgaa",
                "ug haftungsbeschraenkt co kg",
                "ug haftungsbeschraenkt",
                "ug haftungsbeschrankt",
                "gesellschaft mit beschraenkter haftung",
                "gesellschaft mbh",
                "ges mbh",
                "gmbh",
                "g m b h",
                "ggmbh",
                "mbh",
                "ag",
                "a g",
                "aktiengesellschaft",
                "se",
                "s e",
                "kg",
                "k g",
                "kgaa",
                "kommanditgesellschaft",
                "ohg",
                "o h g",
                "offene handelsgesellschaft",
                "e k",
                "ek",
                "e kfm",
                "e kfr",
                "eingetragener kaufmann",
                "e v",
                "ev",
                "eg",
                "e g",
                "gbr",
                "partg",
                "partg mbb",
                "ug",
                "co",
                "cie",
                "holding",
                "ltd",
                "limited",
                "inc",
                "llc",
                "plc",
                "bv",
                "nv",
                "sarl",
                "s a r l",
                "sa",
                "s a",
                "spa",
                "s p a",
                "srl",
            )
        },
        key=lambda seq: (-len(seq), seq),
    )
)

#: Connector words dropped from names ("Müller & Söhne" = "Müller und Söhne").
CONNECTORS = frozenset({"und", "u", "and", "et"})

#: Abbreviations written out (whole tokens only).
ABBREVIATIONS: dict[str, str] = {
    "gebr": "gebrueder",
    "gebrd": "gebrueder",
    "techn": "technik",
    "masch": "maschinen",
    "maschb": "maschinenbau",
    "ind": "industrie",
    "intl": "international",
    "dt": "deutsche",
    "ing": "ingenieur",
    "soehne": "soehne",
}

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})
_TOKEN = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=65536)
def normalize_company_name(name: object) -> str:
    """A comparison key for a company name.

    Lower case; ``ä ö ü`` → ``ae oe ue`` and ``ß`` → ``ss`` (so ``Müller`` and
    ``Mueller`` give the same key); other accents removed (``é`` → ``e``);
    punctuation and ``&`` split words; legal forms (:data:`LEGAL_FORMS`) and
    connectors (:data:`CONNECTORS`) removed wherever they stand; abbreviations
    (:data:`ABBREVIATIONS`) written out; single spaces.

    Parameters
    ----------
    name : str
        A company name (missing values give ``""``).

    Returns
    -------
    str
        Space-separated tokens, e.g. ``"mueller sensorik"``; ``""`` when nothing but a
        legal form remains.

    Examples
    --------
    >>> normalize_company_name("Müller Sensorik GmbH & Co. KG")
    'mueller sensorik'
    >>> normalize_company_name("MUELLER-SENSORIK GmbH")
    'mueller sensorik'
    >>> normalize_company_name("Weiß Präzisionstechnik UG (haftungsbeschränkt)")
    'weiss praezisionstechnik'
    """
    if name is None or (isinstance(name, float) and np.isnan(name)) or name is pd.NA:
        return ""
    text = unicodedata.normalize("NFC", str(name)).lower().translate(_TRANSLIT)
    # remaining accents (é, ç, ...) and compatibility forms
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    tokens = _TOKEN.findall(text)
    tokens = _drop_legal_forms(tokens)
    tokens = [ABBREVIATIONS.get(t, t) for t in tokens if t not in CONNECTORS]
    return " ".join(tokens)


def _drop_legal_forms(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for form in LEGAL_FORMS:
            if tuple(tokens[i : i + len(form)]) == form:
                i += len(form)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out
