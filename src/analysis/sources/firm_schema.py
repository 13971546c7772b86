"""Firm-list schema: columns, accepted header labels, scopes and awareness levels (data).

See :mod:`analysis.sources.firms` for the schema in prose.
"""

from __future__ import annotations

import re
import unicodedata

SOURCE_LABEL = "Hidden-Champion firm list"

#: Canonical columns of :attr:`FirmList.frame`, in order (``row`` is the source row).
COLUMNS: tuple[str, ...] = (
    "firm_id",
    "name",
    "plz",
    "ags",
    "city",
    "sector",
    "wz_division",
    "revenue_eur",
    "employees",
    "export_share",
    "market_rank",
    "market_segment",
    "market_scope",
    "continents",
    "founded",
    "public_awareness",
    "source",
    "source_date",
    "name_key",
    "row",
)

#: Columns a list must have (plus at least one of ``plz`` and ``ags``).
REQUIRED: tuple[str, ...] = (
    "name",
    "sector",
    "revenue_eur",
    "export_share",
    "market_rank",
    "market_scope",
    "continents",
    "public_awareness",
)
LOCATION_COLUMNS: tuple[str, ...] = ("plz", "ags")

#: Accepted header labels per canonical column (after :func:`label_key`).
ALIASES: dict[str, tuple[str, ...]] = {
    "firm_id": ("firm_id", "id", "firmen_id", "firmenid", "company_id", "unternehmens_id"),
    "name": (
        "name",
        "firma",
        "firmenname",
        "unternehmen",
        "unternehmensname",
        "company",
        "company_name",
        "firm",
        "firm_name",
    ),
    "plz": ("plz", "postleitzahl", "postcode", "post_code", "postal_code", "zip", "zip_code"),
    "ags": (
        "ags",
        "ags8",
        "ags5",
        "gemeindeschluessel",
        "kreisschluessel",
        "amtlicher_gemeindeschluessel",
        "municipality_code",
    ),
    "city": ("city", "ort", "stadt", "sitz", "town", "standort"),
    "sector": (
        "sector",
        "wz",
        "wz2008",
        "wz_2008",
        "wz_code",
        "nace",
        "nace_code",
        "branche",
        "wirtschaftszweig",
        "industry",
    ),
    "revenue_eur": ("revenue_eur", "revenue", "umsatz", "umsatz_eur", "turnover", "sales"),
    "employees": (
        "employees",
        "mitarbeiter",
        "beschaeftigte",
        "anzahl_mitarbeiter",
        "staff",
        "headcount",
    ),
    "export_share": (
        "export_share",
        "share_abroad",
        "foreign_share",
        "auslandsanteil",
        "auslandsquote",
        "exportquote",
        "exportanteil",
    ),
    "market_rank": (
        "market_rank",
        "rank",
        "rang",
        "position",
        "marktposition",
        "weltmarktposition",
    ),
    "market_segment": ("market_segment", "segment", "marktsegment", "product", "produkt"),
    "market_scope": (
        "market_scope",
        "scope",
        "markt",
        "marktraum",
        "continent",
        "kontinent",
        "region",
    ),
    "continents": (
        "continents",
        "continents_present",
        "n_continents",
        "kontinente",
        "anzahl_kontinente",
        "praesenz_kontinente",
    ),
    "founded": (
        "founded",
        "founding_year",
        "year_founded",
        "gruendungsjahr",
        "gegruendet",
        "gruendung",
    ),
    "public_awareness": ("public_awareness", "awareness", "bekanntheit", "bekanntheitsgrad"),
    "source": ("source", "quelle"),
    "source_date": ("source_date", "quelldatum", "stand", "datum", "as_of"),
}

#: Continents (and "world") as written in lists, to their canonical names.
SCOPES: dict[str, str] = {
    "world": "world",
    "welt": "world",
    "weltweit": "world",
    "global": "world",
    "worldwide": "world",
    "weltmarkt": "world",
    "europe": "Europe",
    "europa": "Europe",
    "asia": "Asia",
    "asien": "Asia",
    "north_america": "North America",
    "nordamerika": "North America",
    "south_america": "South America",
    "suedamerika": "South America",
    "lateinamerika": "South America",
    "latin_america": "South America",
    "africa": "Africa",
    "afrika": "Africa",
    "oceania": "Oceania",
    "ozeanien": "Oceania",
    "australia": "Oceania",
    "australien": "Oceania",
}

AWARENESS: dict[str, str] = {
    "low": "low",
    "gering": "low",
    "niedrig": "low",
    "little_known": "low",
    "wenig_bekannt": "low",
    "kaum_bekannt": "low",
    "medium": "medium",
    "mittel": "medium",
    "moderate": "medium",
    "high": "high",
    "hoch": "high",
    "well_known": "high",
    "bekannt": "high",
}

MISSING = {"", "-", "–", "?", "n/a", "na", "nan", "none", "k.a.", "k. a.", "ka", "unbekannt"}
HEADER_SCAN_ROWS = 30
MIN_HEADER_LABELS = 3

# --------------------------------------------------------------------------- building


def fold(text: str) -> str:
    text = str(text).strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def label_key(label: object) -> str:
    text = fold("" if label is None else str(label))
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text)  # a unit in brackets
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


_ALIAS_TO_COLUMN = {alias: col for col, aliases in ALIASES.items() for alias in aliases}


def canonical(label: object) -> str | None:
    return _ALIAS_TO_COLUMN.get(label_key(label))


def is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
