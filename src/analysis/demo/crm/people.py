"""Invented people and company names for the CRM demo (never real persons or firms).

The name tables and the helpers that draw from them: company names
(:func:`company_names`), e-mail slugs (:func:`slug`) and people with e-mail addresses
and phone numbers (:func:`people`). Every draw comes from the caller's generator.
"""

from __future__ import annotations

import functools

import numpy as np

FIRST_NAMES = (
    "Anna Lena Sophie Marie Laura Julia Katharina Sabine Petra Claudia Monika Andrea Birgit Jana "
    "Franziska Nicole Stefanie Melanie Christina Sandra Lukas Jonas Maximilian Felix Paul Thomas "
    "Michael Andreas Stefan Markus Christian Frank Jürgen Uwe Ralf Matthias Tobias Florian Sebastian "
    "Jörg Björn Sören Timo Dirk Holger"
).split()
LAST_NAMES = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
    "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange "
    "Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter "
    "Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich "
    "Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon "
    "Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel"
).split()
COMPANY_STEMS = (
    "Nordwerk Südtec Rheinmetallbau Elbtal Weserland Alpina Harzer Spreetec Mainfränkische "
    "Bodensee Schwarzwald Allgäuer Lausitzer Emsland Ostfriesische Saalewerk Moselland Eifeler "
    "Taunus Odenwälder Vogtland Erzgebirgische Altmark Uckermark Hunsrück Sauerland Bergische "
    "Westfälische Fränkische Oberpfälzer Kraichgau Hohenloher Ammersee Chiemgauer Donau Isar Lech "
    "Neckar Fulda Werra Havel Oder Mulde Ilm Lahn Sieg Ruhr Lippe Aller Leine Innovatec Präzitec "
    "Feinwerk Hydrotec Thermotec Optotec Mechatron Sensortec Polytec Flexwerk Stahlbau Kunststoff"
).split()
COMPANY_KINDS = (
    "Maschinenbau",
    "Präzisionstechnik",
    "Antriebstechnik",
    "Messtechnik",
    "Sensorik",
    "Automation",
    "Werkzeugbau",
    "Kunststofftechnik",
    "Medizintechnik",
    "Verpackungstechnik",
    "Oberflächentechnik",
    "Elektronik",
    "Fördertechnik",
    "Laborgeräte",
    "Filtertechnik",
    "Pumpenwerke",
    "Spezialchemie",
    "Industrieservice",
)
LEGAL_FORMS = (
    "GmbH",
    "GmbH",
    "GmbH",
    "GmbH & Co. KG",
    "GmbH & Co. KG",
    "AG",
    "SE",
    "KG",
    "e.K.",
    "mbH",
)
MARKUP_NAMES = (
    "<script>alert(1)</script> GmbH",
    "<b>Fett</b> & Söhne GmbH",
    '"><img src=x onerror=alert(2)> AG',
)


def company_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` invented company names ("Owner Trade GmbH", "Stem Trade AG", "A & B KG").

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    n : int
        Number of names.

    Returns
    -------
    numpy.ndarray
        Names (object dtype).
    """
    pattern = rng.integers(0, 3, size=n)
    stem = rng.choice(COMPANY_STEMS, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    kind = rng.choice(COMPANY_KINDS, size=n)
    legal = rng.choice(LEGAL_FORMS, size=n)
    names = np.where(
        pattern == 0,
        np.char.add(np.char.add(np.char.add(last.astype(str), " "), kind.astype(str)), " "),
        np.where(
            pattern == 1,
            np.char.add(np.char.add(np.char.add(stem.astype(str), " "), kind.astype(str)), " "),
            np.char.add(
                np.char.add(np.char.add(last.astype(str), " & "), rng.choice(LAST_NAMES, n)), " "
            ),
        ),
    )
    return np.char.add(names, legal.astype(str)).astype(object)


@functools.lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (umlauts written out), at most 20.

    Parameters
    ----------
    text : str
        A name.

    Returns
    -------
    str
        The slug, ``"firma"`` when nothing is left.
    """
    table = str.maketrans(
        {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
    )
    base = text.translate(table).lower()
    return "".join(c for c in base if c.isalnum())[:20] or "firma"


def people(rng: np.random.Generator, n: int, companies: np.ndarray) -> dict[str, np.ndarray]:
    """``n`` invented people, their e-mail addresses at their companies, and phone numbers.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    n : int
        Number of people.
    companies : numpy.ndarray
        Company name of each person (its first word gives the e-mail domain).

    Returns
    -------
    dict of numpy.ndarray
        ``first``, ``last``, ``salutation``, ``email``, ``phone``, ``mobile``.
    """
    first = rng.choice(FIRST_NAMES, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    female = np.isin(first, FIRST_NAMES[:20])
    domains = np.array([slug(c.split(" ")[0]) for c in companies], dtype=object)
    email = np.array(
        [f"{slug(f)}.{slug(s)}@{d}.example" for f, s, d in zip(first, last, domains, strict=True)],
        dtype=object,
    )
    phone = np.array(
        [
            f"+49 {a} {b}"
            for a, b in zip(rng.integers(30, 999, n), rng.integers(100000, 9999999, n), strict=True)
        ],
        dtype=object,
    )
    mobile = np.array(
        [
            f"+49 15{a} {b}"
            for a, b in zip(rng.integers(1, 9, n), rng.integers(1000000, 9999999, n), strict=True)
        ],
        dtype=object,
    )
    return {
        "first": first.astype(object),
        "last": last.astype(object),
        "salutation": np.where(female, "Frau", "Herr").astype(object),
        "email": email,
        "phone": phone,
        "mobile": mobile,
    }
