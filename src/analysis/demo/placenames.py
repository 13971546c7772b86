"""Invented, German-sounding place names for the demo geography.

Names are glued from a root and a suffix with a light regional flavour (``-leben``
and ``-itz`` in the east, ``-ing`` in Bavaria, ``-büttel`` in the north), so that a
demo map reads plausibly while no name is meant to be a real Kreis. The generator
draws from the caller's RNG only, so names are deterministic for a seed.
"""

from __future__ import annotations

import numpy as np

ROOTS = (
    "Adel",
    "Ahorn",
    "Alber",
    "Amsel",
    "Arn",
    "Asch",
    "Auer",
    "Bären",
    "Bern",
    "Biber",
    "Birken",
    "Bläs",
    "Brom",
    "Buchen",
    "Burg",
    "Dachs",
    "Dorn",
    "Drossel",
    "Eber",
    "Eck",
    "Eichen",
    "Eisen",
    "Elster",
    "Erlen",
    "Eschen",
    "Falken",
    "Farn",
    "Fichten",
    "Finken",
    "Fohlen",
    "Fuchs",
    "Gams",
    "Gold",
    "Grafen",
    "Greifen",
    "Haber",
    "Hagel",
    "Hasel",
    "Heide",
    "Hermels",
    "Hirsch",
    "Holler",
    "Hopfen",
    "Hummel",
    "Igel",
    "Immen",
    "Kalk",
    "Kamp",
    "Kiefer",
    "Kirsch",
    "Klee",
    "Kranich",
    "Kressen",
    "Kupfer",
    "Lachs",
    "Lärchen",
    "Lerchen",
    "Linden",
    "Luchs",
    "Marder",
    "Meisen",
    "Mispel",
    "Mohn",
    "Moos",
    "Mühlen",
    "Nessel",
    "Otter",
    "Pappel",
    "Quell",
    "Raben",
    "Rehn",
    "Reiher",
    "Ried",
    "Rosen",
    "Salz",
    "Sand",
    "Schlehen",
    "Schilf",
    "Schwalben",
    "Silber",
    "Sommer",
    "Sperlings",
    "Specht",
    "Stein",
    "Storchen",
    "Tannen",
    "Tauben",
    "Ulmen",
    "Unken",
    "Wachtel",
    "Weiden",
    "Wiesel",
    "Wolfs",
    "Zeisig",
    "Zinn",
)

SUFFIXES_COMMON = (
    "au",
    "bach",
    "berg",
    "born",
    "bruck",
    "burg",
    "dorf",
    "feld",
    "felde",
    "furt",
    "hagen",
    "hain",
    "hausen",
    "heim",
    "hof",
    "horst",
    "kamp",
    "kirchen",
    "rode",
    "stadt",
    "stedt",
    "tal",
    "wald",
    "werder",
    "winkel",
)

SUFFIXES_BY_LAND = {
    "01": ("büttel", "um", "wedel", "husen", "koog"),
    "02": ("büttel", "wedel", "fleth"),
    "03": ("büttel", "lohe", "wedel", "ingen", "loh"),
    "04": ("fleth", "wedel", "moor"),
    "05": ("scheid", "beck", "hövel", "ingen", "loh"),
    "06": ("bach", "roda", "hain", "ungen"),
    "07": ("weiler", "scheid", "ingen", "born"),
    "08": ("ingen", "weiler", "hofen", "stetten"),
    "09": ("ing", "ach", "reuth", "hofen", "zell"),
    "10": ("weiler", "ingen", "bach"),
    "11": ("ow", "itz", "felde", "see"),
    "12": ("ow", "itz", "werder", "see", "witz"),
    "13": ("ow", "hagen", "itz", "werder", "see"),
    "14": ("itz", "witz", "grün", "walde", "au"),
    "15": ("leben", "itz", "stedt", "ow"),
    "16": ("leben", "roda", "ungen", "itz"),
}

PREFIXES = ("Alt", "Neu", "Ober", "Nieder", "Groß", "Klein", "Hohen", "Unter")

#: Real Kreis names (current or abolished since 1990) that the roots and suffixes above
#: can form; a test checks the demo against the mirror's lists. Big-city names too.
_AVOID = frozenset(
    {
        "Arnstadt", "Auerbach", "Bernau", "Bernburg", "Biberach", "Birkenfeld", "Eisenach",
        "Eisenberg", "Rosenheim", "Salzwedel", "Steinburg", "Steinfurt", "Wolfsburg",
        "Salzgitter", "Lindau", "Falkensee", "Goldberg", "Lindenberg",
    }
)  # fmt: skip


def place_name(rng: np.random.Generator, land_code: str, *, prefix_p: float = 0.0) -> str:
    """Draw one invented place name.

    Parameters
    ----------
    rng : numpy.random.Generator
        The caller's generator (determinism is the caller's seed).
    land_code : str
        Two-digit Land code; selects regional suffixes.
    prefix_p : float
        Probability of a prefix such as ``Neu`` or ``Ober``.

    Returns
    -------
    str
        A name such as ``"Falkenrode"`` or ``"Oberlindenbach"``.
    """
    regional = SUFFIXES_BY_LAND.get(land_code, ())
    while True:
        root = ROOTS[rng.integers(len(ROOTS))]
        if regional and rng.random() < 0.35:
            suffix = regional[rng.integers(len(regional))]
        else:
            suffix = SUFFIXES_COMMON[rng.integers(len(SUFFIXES_COMMON))]
        if root.lower().startswith(suffix) or root.lower().endswith(suffix):
            continue  # "Kampkamp", "Auerau"
        name = root + suffix
        if prefix_p and rng.random() < prefix_p:
            name = PREFIXES[rng.integers(len(PREFIXES))] + name.lower()
        if name not in _AVOID:
            return name


def unique_names(
    rng: np.random.Generator,
    land_codes: list[str],
    *,
    taken: set[str] | None = None,
    prefix_p: float = 0.0,
) -> list[str]:
    """Draw one name per entry of ``land_codes``, all different (and not in ``taken``).

    Parameters
    ----------
    rng : numpy.random.Generator
    land_codes : list of str
        Land code for each name to draw.
    taken : set of str, optional
        Names that must not be drawn again; updated copy is not returned.
    prefix_p : float
        Probability of a prefix.

    Returns
    -------
    list of str
    """
    used = set(taken or ())
    names = []
    for code in land_codes:
        name = place_name(rng, code, prefix_p=prefix_p)
        while name in used:
            name = place_name(rng, code, prefix_p=max(prefix_p, 0.3))
        used.add(name)
        names.append(name)
    return names
