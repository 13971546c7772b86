"""The catalogue of official open-data sources.

One entry per product the workbook can fetch: publisher, table or product, where
the publisher serves it, the file name(s) it gets in the shared layout
``official/<folder>/<file>`` (the same in ``data/raw/``, in a mirror directory and
under a mirror URL), its licence and the credit line a report must show.

The catalogue is plain Python data (no file to ship or parse). ``workbook data
fetch`` (:mod:`analysis.sources.official.fetch`) downloads entries; loaders look up credit lines
with :func:`source_for_file` so that reports credit what they read.

Reference dates describe the vintage the entry was written against (the one in
the shared mirror); a fresh download from the publisher may be newer, and the
file itself is always authoritative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Credit line required by dl-de/by-2-0 for the statistical offices' data.
CREDIT_STATISTIK = "© Statistische Ämter des Bundes und der Länder, Deutschland"
CREDIT_DESTATIS = "Quelle: Statistisches Bundesamt (Destatis), Gemeindeverzeichnis GV-ISys"
CREDIT_BKG = "© GeoBasis-DE / BKG"
CREDIT_BBSR = "Quelle: BBSR Bonn, Umstiegsschlüssel Kreise (Referenzdateien)"
CREDIT_OSM = "© OpenStreetMap contributors (ODbL), via suche-postleitzahl.org"

DL_DE_BY_2_0 = "dl-de/by-2-0 (Datenlizenz Deutschland – Namensnennung – 2.0)"
ODBL = "ODbL 1.0 (Open Database License)"

#: Default GENESIS web service (Regionaldatenbank Deutschland); ``GENESIS_URL``
#: overrides it (e.g. GENESIS-Online ``https://www-genesis.destatis.de/genesisWS/rest/2020/``).
GENESIS_REGIO_URL = "https://www.regionalstatistik.de/genesisws/rest/2020/"

_REGIO_TABLE = "https://www.regionalstatistik.de/genesis/online?operation=table&code={table}"


@dataclass(frozen=True)
class Source:
    """One fetchable product.

    Attributes
    ----------
    id : str
        Stable identifier used by ``workbook data fetch --only``.
    publisher : str
        Who publishes it.
    product : str
        Table code or product name.
    title : str
        Human-readable title.
    folder : str
        Folder under ``official/`` (same in ``data/raw/`` and in a mirror).
    files : tuple of str
        File names the entry consists of (a shapefile set has several).
    url : str
        Where the publisher serves it (landing page or direct download).
    licence, credit : str
        Licence and the credit line reports must show.
    reference_date : str
        Reference date or period of the vintage described here.
    kind : {"genesis", "http", "zip", "mirror_only"}
        How to get it without a mirror: the GENESIS web service, a direct HTTP
        download of ``download_url``, a ZIP at ``download_url`` whose members are
        ``files``, or only from a mirror (derived or hand-made files).
    fmt : str
        Format key for verification (``ffcsv``, ``classic``, ``xlsx``, ``bbsr``,
        ``gv_isys``, ``shp``, ``shx``, ``dbf``, ``text``, ``plz``, ``geojson``, ``csv``).
    required : bool
        Needed by the official reports. A required source that is missing or
        fails makes ``workbook data fetch`` exit 1; a missing optional source is
        only reported (unless named with ``--only``).
    genesis : dict
        Extra web-service parameters for ``kind="genesis"`` (``format``,
        ``language``, ``startyear``, ...).
    mirror_files : tuple of str
        Other names the same product may carry in a mirror (e.g. a row subset).
    download_url : str
        Direct download (``kind`` ``http`` or ``zip``); empty if only a page.
    note : str
        Anything a user must know.
    """

    id: str
    publisher: str
    product: str
    title: str
    folder: str
    files: tuple[str, ...]
    url: str
    licence: str
    credit: str
    reference_date: str
    kind: str
    fmt: str
    required: bool = True
    genesis: dict = field(default_factory=dict)
    mirror_files: tuple[str, ...] = ()
    download_url: str = ""
    note: str = ""


def _genesis(
    table: str,
    title: str,
    reference_date: str,
    *,
    file: str | None = None,
    id_suffix: str = "",
    language: str = "de",
    required: bool = True,
    mirror_files: tuple[str, ...] = (),
    note: str = "",
    period: str = "",
) -> Source:
    """A GENESIS flat-file entry; ``period`` (a year or ``YYYY-MM-DD``) fixes one vintage.

    Vintage entries get the id ``genesis-<table>-<period>``, the file name
    ``<table>_<period>_<language>_flat.csv`` and web-service parameters limiting the
    download to that year.
    """
    extra = {}
    if period:
        id_suffix = id_suffix or f"-{period}"
        file = file or f"{table}_{period}_{language}_flat.csv"
        extra = {"startyear": period[:4], "endyear": period[:4]}
    return Source(
        id=f"genesis-{table}{id_suffix}",
        publisher="Statistische Ämter des Bundes und der Länder (Regionaldatenbank Deutschland)",
        product=table,
        title=title,
        folder="genesis_ffcsv",
        files=(file or f"{table}_{language}_flat.csv",),
        url=_REGIO_TABLE.format(table=table),
        licence=DL_DE_BY_2_0,
        credit=CREDIT_STATISTIK,
        reference_date=reference_date,
        kind="genesis",
        fmt="ffcsv",
        required=required,
        genesis={"format": "ffcsv", "language": language, **extra},
        mirror_files=mirror_files,
        note=note,
    )


def _classic(
    table: str,
    title: str,
    year: int,
    *,
    required: bool = False,
    note: str = (
        "The mirror holds the 2017 download (Gebietsstand 31.12.2015); the web "
        "service returns today's revision of the same year."
    ),
) -> Source:
    return Source(
        id=f"classic-{table}-{year}",
        publisher="Statistische Ämter des Bundes und der Länder (Regionaldatenbank Deutschland)",
        product=table,
        title=f"{title} (classic table CSV, {year})",
        folder="regionalstatistik_classic_csv",
        files=(f"{table}.csv",),
        url=_REGIO_TABLE.format(table=table),
        licence=DL_DE_BY_2_0,
        credit=CREDIT_STATISTIK,
        reference_date=str(year),
        kind="genesis",
        fmt="classic",
        required=required,
        genesis={
            "format": "csv",
            "language": "de",
            "startyear": str(year),
            "endyear": str(year),
        },
        note=note,
    )


_VG2500_PAGE = "https://gdz.bkg.bund.de/index.php/default/verwaltungsgebiete-1-2-500-000-stand-31-12-vg2500-31-12.html"
_VG2500_ZIP = (
    "https://daten.gdz.bkg.bund.de/produkte/vg/vg2500/aktuell/vg2500_12-31.utm32s.shape.zip"
)
_SHAPE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _vg2500(layer: str, title: str) -> Source:
    return Source(
        id=f"bkg-vg2500-{layer.lower()}",
        publisher="Bundesamt für Kartographie und Geodäsie (BKG)",
        product=f"VG2500 {layer}",
        title=title,
        folder="bkg_vg2500",
        files=tuple(f"VG2500_{layer}{ext}" for ext in _SHAPE_PARTS),
        url=_VG2500_PAGE,
        licence=DL_DE_BY_2_0,
        credit=CREDIT_BKG,
        reference_date="31.12. (edition of 2023; 400 Kreise)",
        kind="zip",
        fmt="shp",
        download_url=_VG2500_ZIP,
        note="EPSG:25832; the ZIP holds several layers, only these members are kept.",
    )


CATALOGUE: tuple[Source, ...] = (
    _genesis(
        "12411-01-01-4",
        "Bevölkerung nach Geschlecht, Stichtag 31.12., Kreise",
        "2024-12-31",
    ),
    _genesis(
        "12411-01-01-4",
        "Population by sex, reference date 31 Dec, districts (English labels)",
        "2024-12-31",
        id_suffix="-en",
        language="en",
        required=False,
    ),
    _genesis(
        "12411-01-01-4",
        "Bevölkerung nach Geschlecht, Stichtag 31.12., Kreise (previous year: population change)",
        "2023-12-31",
        period="2023-12-31",
        required=False,
    ),
    _genesis(
        "13111-01-03-4",
        "Sozialversicherungspflichtig Beschäftigte am Arbeitsort nach Nationalität und Geschlecht",
        "2025-06-30",
        note="The 2025 release lists only '-' for the Kreise; the 2024 vintage has them.",
    ),
    _genesis(
        "13111-01-03-4",
        "Sozialversicherungspflichtig Beschäftigte am Arbeitsort nach Nationalität und "
        "Geschlecht (30.06.2024, all Kreise with numbers)",
        "2024-06-30",
        period="2024-06-30",
        required=False,
    ),
    _genesis(
        "21311-01-01-4-B",
        "Studierende nach Geschlecht, Nationalität und Fächergruppen, regionale Ebenen",
        "WS 2023/24 (2023-10P6M)",
        mirror_files=("21311-01-01-4-B_subset_insgesamt_de_flat.csv",),
        note=(
            "The full table is 14.9 MB; the shared mirror holds a row subset "
            "(Geschlecht = Nationalität = Insgesamt) under its own file name."
        ),
    ),
    _genesis("11111-02-01-4", "Zahl der Gemeinden, Stichtag 31.12., Kreise", "2024-12-31"),
    _genesis("52411-02-01-4", "Unternehmensinsolvenzen, Jahressumme, Kreise", "2024"),
    _genesis(
        "52311-01-04-4",
        "Gewerbeanmeldungen, -abmeldungen, Jahressumme, Kreise (founding activity)",
        "latest year",
        required=False,
    ),
    _genesis(
        "73111-01-01-4",
        "Lohn- und Einkommensteuerpflichtige, Gesamtbetrag der Einkünfte, Kreise "
        "(income per taxpayer)",
        "2021 (Kreise only; published with a lag of about 3-4 years)",
        required=False,
    ),
    _genesis(
        "73111-01-01-4",
        "Lohn- und Einkommensteuerpflichtige, Gesamtbetrag der Einkünfte, alle Ebenen "
        "(previous year)",
        "2020",
        period="2020",
        required=False,
    ),
    _genesis(
        "21111-02-06-4",
        "Absolventen/Abgänger allgemeinbildender Schulen nach Geschlecht und "
        "Abschlussarten, Kreise (school leavers with Abitur)",
        "latest school year",
        required=False,
    ),
    _classic("12411-01-01-4", "Bevölkerung nach Geschlecht, Stichtag 31.12., Kreise", 2015),
    _classic("11111-01-01-4", "Gebietsfläche in qkm, Stichtag 31.12., Kreise", 2015),
    _classic("21111-01-03-4", "Allgemeinbildende Schulen: Schulen, Schüler nach Schulart", 2015),
    _classic(
        "21111-02-06-4",
        "Absolvierende/Abgehende allgemeinbildender Schulen nach Geschlecht und Abschlussarten",
        2023,
        note=(
            "School year 2022/23 (download of 13.03.2025); Hamburg and Berlin appear only "
            "as Land rows 02/11, read as Kreise 02000/11000."
        ),
    ),
    Source(
        id="gv-isys",
        publisher="Statistisches Bundesamt (Destatis)",
        product="GV-ISys Gemeindeverzeichnis, Auszug (quarterly)",
        title="Gemeinden in Deutschland nach Fläche, Bevölkerung und Postleitzahl",
        folder="gv_isys_2024",
        files=("AuszugGV2QAktuell.xlsx",),
        url=(
            "https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/"
            "Gemeindeverzeichnis/Administrativ/Archiv/GVAuszugQ/AuszugGV2QAktuell.html"
        ),
        licence=DL_DE_BY_2_0,
        credit=CREDIT_DESTATIS,
        reference_date=(
            "Gebietsstand 2024-06-30; area and population 2022-12-31 "
            "(Fortschreibung on the Zensus 2011 basis)"
        ),
        kind="http",
        fmt="gv_isys",
        download_url=(
            "https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/"
            "Gemeindeverzeichnis/Administrativ/Archiv/GVAuszugQ/AuszugGV2QAktuell.xlsx"
            "?__blob=publicationFile"
        ),
        note="Destatis replaces the file every quarter under the same name.",
    ),
    Source(
        id="bbsr-kreis-crosswalk",
        publisher="Bundesinstitut für Bau-, Stadt- und Raumforschung (BBSR)",
        product="Umstiegsschlüssel Kreise 1990-2019 → 31.12.2020",
        title="Referenzdateien / Umstiegsschlüssel für Kreise",
        folder="bbsr_kreis_crosswalk",
        files=("ref-kreise-umrech-2020-1990-2019.xlsx",),
        url=(
            "https://www.bbsr.bund.de/BBSR/DE/forschung/raumbeobachtung/"
            "umstiegsschluessel/umstiegsschluessel.html"
        ),
        licence=DL_DE_BY_2_0 + " (as stated by BBSR for its open data; not inside the file)",
        credit=CREDIT_BBSR,
        reference_date="Gebietsstände 31.12.1990-2019 → 31.12.2020",
        kind="http",
        fmt="bbsr",
        download_url=(
            "https://www.bbsr.bund.de/BBSR/DE/forschung/raumbeobachtung/"
            "umstiegsschluessel/downloads/ref-kreise-umrech-2020-1990-2019.xlsx"
            "?__blob=publicationFile"
        ),
    ),
    Source(
        id="bbsr-kreis-changes-2021",
        publisher="hand-made from GV-ISys and regionalstatistik (not a publisher product)",
        product="Kreis changes after 31.12.2020",
        title="Eisenach 16056 → Wartburgkreis 16063 (2021-07-01)",
        folder="bbsr_kreis_crosswalk",
        files=("kreis_changes_2020_to_2021_handmade.csv",),
        url="",
        licence="facts of law (Thüringer Gesetz); no licence needed",
        credit="",
        reference_date="2021-07-01",
        kind="mirror_only",
        fmt="csv",
        required=False,
        note="analysis.territory knows this change without the file.",
    ),
    _vg2500("KRS", "Verwaltungsgebiete 1:2.500.000, Kreise"),
    _vg2500("LAN", "Verwaltungsgebiete 1:2.500.000, Länder"),
    Source(
        id="bkg-vg2500-geojson",
        publisher="Bundesamt für Kartographie und Geodäsie (BKG), reprojected",
        product="VG2500 KRS/LAN as GeoJSON (EPSG:4326)",
        title="VG2500 Kreise and Länder, WGS84 GeoJSON (Daten verändert)",
        folder="bkg_vg2500",
        files=("vg2500_krs_wgs84.geojson", "vg2500_lan_wgs84.geojson"),
        url=_VG2500_PAGE,
        licence=DL_DE_BY_2_0,
        credit=CREDIT_BKG + " (Daten verändert)",
        reference_date="as the VG2500 shapefiles",
        kind="mirror_only",
        fmt="geojson",
        required=False,
        note="Derived from the shapefiles by the mirror's maintainer.",
    ),
    Source(
        id="plz-osm",
        publisher="suche-postleitzahl.org (from OpenStreetMap)",
        product="zuordnung_plz_ort.csv",
        title="PLZ → Gemeinde (AGS) → Landkreis",
        folder="plz_osm",
        files=("zuordnung_plz_ort.csv",),
        url="https://www.suche-postleitzahl.org/downloads",
        licence=ODBL,
        credit=CREDIT_OSM,
        reference_date="OSM extract after 2021 (mirror copy of 2022-11)",
        kind="http",
        fmt="plz",
        download_url="https://downloads.suche-postleitzahl.org/v2/public/zuordnung_plz_ort.csv",
        note="Copies edited in spreadsheets lose leading zeros; the reader restores them.",
    ),
)


def catalogue() -> tuple[Source, ...]:
    """Every source the workbook knows, in fetch order."""
    return CATALOGUE


def vintages(product: str) -> tuple[Source, ...]:
    """The entries of one table or product (several vintages or formats), newest first.

    Parameters
    ----------
    product : str
        Table code (``"12411-01-01-4"``) or product name.
    """
    found = [entry for entry in CATALOGUE if entry.product == product]
    return tuple(sorted(found, key=lambda e: e.reference_date, reverse=True))


def source(source_id: str) -> Source:
    """Return the catalogue entry with this id.

    Raises
    ------
    KeyError
        For an unknown id (the message lists the known ones).
    """
    for entry in CATALOGUE:
        if entry.id == source_id:
            return entry
    known = ", ".join(entry.id for entry in CATALOGUE)
    raise KeyError(f"unknown source id {source_id!r}; known: {known}")


def source_for_file(path: str | Path) -> Source | None:
    """The catalogue entry a file belongs to, by its file name (or ``None``).

    Loaders use it to note credit lines: ``note_input(path, credit=entry.credit, ...)``.
    """
    name = Path(path).name
    for entry in CATALOGUE:
        if name in entry.files or name in entry.mirror_files:
            return entry
    return None


def local_path(source_id: str, official_root: str | Path | None = None) -> Path | None:
    """Where a fetched source lies under ``official/`` (first file), or ``None``.

    Looks for the entry's own file name and then its mirror names, so that a
    loader finds a row subset fetched from a mirror as well as the full table.

    Parameters
    ----------
    source_id : str
        Catalogue id.
    official_root : path, optional
        The ``official/`` folder (default :func:`analysis.paths.official_dir`).
    """
    from analysis.paths import official_dir

    entry = source(source_id)
    root = Path(official_root) if official_root is not None else official_dir()
    for name in (entry.files[0], *entry.mirror_files):
        candidate = root / entry.folder / name
        if candidate.is_file():
            return candidate
    return None


def note_catalogued(path: str | Path, *, source: str = "", credit: str = "") -> None:
    """Note a file read for the report, with its catalogue entry's credit line.

    Files not in the catalogue are noted with the given ``source`` and ``credit``
    (nothing is noted when neither is given).
    """
    from analysis.provenance import note_input

    entry = source_for_file(path)
    if entry is not None:
        note_input(
            path,
            source=f"{entry.publisher}: {entry.product}",
            credit=entry.credit,
            reference_date=entry.reference_date,
        )
    elif source or credit:
        note_input(path, source=source, credit=credit)
