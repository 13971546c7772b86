"""Static facts about the 16 Länder that shape the fictional demo geography (data).

:data:`LANDS` (counts of Kreise and cities, rounded population and area, approximate
centre, postcode regions) and :data:`OUTLINE`, a rough hand-drawn outline of Germany.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Land:
    """Static facts about one Land used to shape the fictional geography."""

    code: str
    name: str
    n_kreise: int  # as in reality (400 in total)
    n_cities: int  # kreisfreie Städte among them
    population: float  # rounded, in millions
    area_km2: float  # rounded
    lat: float  # approximate centre
    lon: float
    plz_regions: tuple[str, ...]  # two-digit postcode regions (Leitregionen)
    gemeinden_per_landkreis: int  # typical count (kept below reality for speed)
    east: bool


LANDS: tuple[Land, ...] = (
    Land(
        "01", "Schleswig-Holstein", 15, 4, 2.95, 15800, 54.20, 9.80, ("23", "24", "25"), 40, False
    ),
    Land("02", "Hamburg", 1, 1, 1.86, 755, 53.55, 10.00, ("20", "22"), 1, False),
    Land(
        "03",
        "Niedersachsen",
        45,
        8,
        8.00,
        47700,
        52.75,
        9.20,
        ("26", "29", "30", "31", "37", "38", "49"),
        16,
        False,
    ),
    Land("04", "Bremen", 2, 2, 0.70, 420, 53.10, 8.80, ("28",), 1, False),
    Land(
        "05",
        "Nordrhein-Westfalen",
        53,
        22,
        18.00,
        34100,
        51.45,
        7.55,
        (
            "32",
            "33",
            "40",
            "41",
            "42",
            "44",
            "45",
            "46",
            "47",
            "48",
            "50",
            "51",
            "52",
            "53",
            "57",
            "58",
            "59",
        ),
        10,
        False,
    ),
    Land(
        "06",
        "Hessen",
        26,
        5,
        6.28,
        21100,
        50.60,
        9.00,
        ("34", "35", "36", "60", "61", "63", "64", "65"),
        14,
        False,
    ),
    Land(
        "07",
        "Rheinland-Pfalz",
        36,
        12,
        4.13,
        19850,
        49.90,
        7.40,
        ("54", "55", "56", "67"),
        40,
        False,
    ),
    Land(
        "08",
        "Baden-Württemberg",
        44,
        9,
        11.25,
        35750,
        48.55,
        9.00,
        ("68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "88", "89"),
        20,
        False,
    ),
    Land(
        "09",
        "Bayern",
        96,
        25,
        13.25,
        70550,
        48.90,
        11.40,
        (
            "80",
            "81",
            "82",
            "83",
            "84",
            "85",
            "86",
            "87",
            "90",
            "91",
            "92",
            "93",
            "94",
            "95",
            "96",
            "97",
        ),
        18,
        False,
    ),
    Land("10", "Saarland", 6, 0, 1.01, 2570, 49.40, 6.95, ("66",), 9, False),
    Land("11", "Berlin", 1, 1, 3.69, 890, 52.52, 13.40, ("10", "12", "13"), 1, True),
    Land("12", "Brandenburg", 18, 4, 2.56, 29650, 52.35, 13.30, ("03", "14", "15", "16"), 20, True),
    Land(
        "13",
        "Mecklenburg-Vorpommern",
        8,
        2,
        1.57,
        23300,
        53.75,
        12.50,
        ("17", "18", "19"),
        50,
        True,
    ),
    Land(
        "14", "Sachsen", 13, 3, 4.04, 18450, 51.05, 13.30, ("01", "02", "04", "08", "09"), 30, True
    ),
    Land("15", "Sachsen-Anhalt", 14, 3, 2.14, 20450, 51.95, 11.70, ("06", "39"), 16, True),
    Land("16", "Thüringen", 22, 5, 2.10, 16200, 50.90, 11.00, ("07", "98", "99"), 25, True),
)


# A rough, hand-drawn outline of Germany (lon, lat), clockwise from the Danish border.
OUTLINE = (
    (8.65, 54.91),
    (9.45, 54.83),
    (10.0, 54.55),
    (11.1, 54.45),
    (10.9, 54.0),
    (11.6, 54.1),
    (12.3, 54.35),
    (13.0, 54.45),
    (13.4, 54.65),
    (14.25, 53.95),
    (14.4, 53.3),
    (14.15, 52.85),
    (14.6, 52.55),
    (14.75, 52.05),
    (14.95, 51.45),
    (15.0, 51.0),
    (14.3, 50.85),
    (13.2, 50.5),
    (12.3, 50.2),
    (12.4, 49.85),
    (12.9, 49.35),
    (13.85, 48.75),
    (13.45, 48.55),
    (12.8, 48.1),
    (13.0, 47.5),
    (12.2, 47.6),
    (11.2, 47.4),
    (10.4, 47.3),
    (9.6, 47.55),
    (8.8, 47.7),
    (7.6, 47.58),
    (7.55, 48.1),
    (8.2, 48.97),
    (7.1, 49.15),
    (6.35, 49.45),
    (6.1, 50.15),
    (6.0, 50.75),
    (6.0, 51.2),
    (6.1, 51.85),
    (6.75, 51.95),
    (7.05, 52.25),
    (7.0, 52.65),
    (7.2, 53.25),
    (7.0, 53.6),
    (7.8, 53.75),
    (8.5, 53.6),
    (8.65, 53.9),
    (8.9, 53.9),
    (8.85, 54.3),
    (8.6, 54.5),
)
