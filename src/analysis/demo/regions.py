"""Demo part "regions": regional statistics of the fictional geography in real formats.

Writes into ``out/official/``, in the folders of the source catalogue
(``genesis_ffcsv/``, ``gv_isys_2024/``, ``plz_osm/``, ``bkg_vg2500/``, see :data:`FILES`):

``12411-01-01-4_de_flat.csv``
    Population by sex (GES), 31.12.2023 and 31.12.2024, level KREISE, as a GENESIS
    flat file (ffcsv): UTF-8 with BOM, ``;``, LF, the header and codes of the real
    table; empty attribute code for "Insgesamt"; abolished Kreise carry ``-``; a few
    8-digit city rows that are not Kreise.
``13111-01-03-4_de_flat.csv``
    SV-Beschäftigte am Arbeitsort by nationality (NAT) and sex (GES), 30.06.2024, with
    mixed levels DINSG, DLAND and KREISE in one file; ``.`` for suppressed cells.
``21311-01-01-4-B_de_flat.csv``
    Students by Fächergruppe (HS-FG2; MINT = HS-FG04 + HS-FG08), Wintersemester
    2023/24 (``2023-10P6M``); only the "Insgesamt" rows for sex and nationality, like
    the mirror's subset; ``-`` where a Kreis has no students of a field.
``kreise_2024.csv``
    The Kreis list in the layout of the mirror's derived ``gv_isys_2024/kreise_2024.csv``
    (CRLF, minimal quoting); its population is the 31.12.2022 figure on the *old*
    census basis (about 0.8 % above the 12411 series), as in the real GV-ISys extract.
``zuordnung_plz_ort.csv``
    Postcode → Gemeinde → Kreis in the layout of the OSM-derived real file, including
    its flaw: leading zeros of ``ags`` and ``plz`` are lost.
``vg2500_krs_wgs84.geojson``
    Kreis outlines (hexagon cells) with the properties of the VG2500 GeoJSON
    (``ARS``, ``AGS``, ``GEN``, ``BEZ``, ``NUTS``); sorted keys, 5 decimals.

All randomness comes from ``SeedSequence([seed, crc32(b"regions")])``; totals come
from the :class:`~analysis.demo.geography.Geography`, so the files agree with it
exactly (population, employees, students and MINT students per Kreis).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.demo import part_rng
from analysis.demo.geography import (
    DEMO_COMPARE,
    DEMO_REGION,
    TRUTH,
    Geography,
    landkreis_digit,
)
from analysis.demo.land_facts import LANDS
from analysis.demo.placenames import unique_names
from analysis.demo.region_files import (
    CENSUS_BASIS_SHIFT,
    kreis_list_csv,
    plz_file_csv,
    vg2500_geojson,
)

README_SECTION = """\
## official/ (part "regions")

Regional statistics of the fictional geography, in the formats of the real files:

| file | real counterpart | content |
|---|---|---|
| `genesis_ffcsv/12411-01-01-4_de_flat.csv` | GENESIS ffcsv 12411-01-01-4 | population by sex, 31.12.2023 and 31.12.2024 |
| `genesis_ffcsv/13111-01-03-4_de_flat.csv` | GENESIS ffcsv 13111-01-03-4 | employees at workplace by nationality and sex, 30.06.2024, levels DINSG/DLAND/KREISE |
| `genesis_ffcsv/21311-01-01-4-B_de_flat.csv` | GENESIS ffcsv 21311-01-01-4-B (Insgesamt rows) | students by Fächergruppe, WS 2023/24 |
| `gv_isys_2024/kreise_2024.csv` | the mirror's *derived* Kreis list (same name and layout; not a publisher format) | Kreis list with area and population 31.12.2022 on the old census basis |
| `plz_osm/zuordnung_plz_ort.csv` | OSM `zuordnung_plz_ort.csv` | postcode → Gemeinde → Kreis, leading zeros lost as in the real copy |
| `bkg_vg2500/vg2500_krs_wgs84.geojson` | BKG VG2500 GeoJSON, reprojected (same name) | hexagon-cell outlines with ARS, AGS, GEN, BEZ, NUTS |

Kreis codes have the real Land prefix but a third digit (8 = kreisfreie Stadt,
9 = Landkreis, 6 in Nordrhein-Westfalen) that no real Kreis has used since 1990. Traps of the real files are
reproduced on purpose: abolished Kreise with `-`, 8-digit city rows that are not
Kreise, `.` for suppressed cells (also HS-FG08 of two Thüringen Kreise, so their MINT
students are unknown, as for Jena in the real table), `-` for "nothing", mixed regional levels, the
old-census population in the Kreis list, lost leading zeros in the postcode file.
"""

OFFICIAL = "official"

#: Files written under ``official/``, in the folders of the source catalogue
#: (:mod:`analysis.sources.official.catalogue`) so that one loader finds demo and official files alike.
FILES = {
    "population": "genesis_ffcsv/12411-01-01-4_de_flat.csv",
    "employees": "genesis_ffcsv/13111-01-03-4_de_flat.csv",
    "students": "genesis_ffcsv/21311-01-01-4-B_de_flat.csv",
    "kreis_list": "gv_isys_2024/kreise_2024.csv",
    "plz": "plz_osm/zuordnung_plz_ort.csv",
    "geometry": "bkg_vg2500/vg2500_krs_wgs84.geojson",
}

# Header lines of the real tables (format, not data).
_HEADER_2 = (
    "statistics_code;statistics_label;time_code;time_label;time;"
    "1_variable_code;1_variable_label;1_variable_attribute_code;1_variable_attribute_label;"
    "2_variable_code;2_variable_label;2_variable_attribute_code;2_variable_attribute_label;"
    "value;value_unit;value_variable_code;value_variable_label"
)
_HEADER_3 = (
    "statistics_code;statistics_label;time_code;time_label;time;"
    "1_variable_code;1_variable_label;1_variable_attribute_code;1_variable_attribute_label;"
    "2_variable_code;2_variable_label;2_variable_attribute_code;2_variable_attribute_label;"
    "3_variable_code;3_variable_label;3_variable_attribute_code;3_variable_attribute_label;"
    "value;value_unit;value_variable_code;value_variable_label"
)
_HEADER_4 = (
    "statistics_code;statistics_label;time_code;time_label;time;"
    "1_variable_code;1_variable_label;1_variable_attribute_code;1_variable_attribute_label;"
    "2_variable_code;2_variable_label;2_variable_attribute_code;2_variable_attribute_label;"
    "3_variable_code;3_variable_label;3_variable_attribute_code;3_variable_attribute_label;"
    "4_variable_code;4_variable_label;4_variable_attribute_code;4_variable_attribute_label;"
    "value;value_unit;value_variable_code;value_variable_label"
)
_KREISE = ("KREISE", "Kreise und kreisfreie Städte")
_GES = (("", "Insgesamt"), ("GESM", "männlich"), ("GESW", "weiblich"))
_NAT = (("", "Insgesamt"), ("NATA", "ausländisch"))

#: Fächergruppen of table 21311 in the real file's order of codes (no HS-FG06).
FAECHERGRUPPEN = (
    ("HS-FG01", "Geisteswissenschaften", 0.12),
    ("HS-FG02", "Sport", 0.012),
    ("HS-FG03", "Rechts-, Wirtschafts- und Sozialwissenschaften", 0.42),
    ("HS-FG04", "Mathematik/Naturwissenschaften", None),
    ("HS-FG05", "Humanmedizin/Gesundheitswissenschaften", 0.11),
    ("HS-FG07", "Agrar-, Forst- und Ernährungswissensch., Veterinär", 0.025),
    ("HS-FG08", "Ingenieurwissenschaften", None),
    ("HS-FG09", "Kunst, Kunstwissenschaft", 0.045),
    ("HS-FG10", "Außerhalb der Studienbereichsgliederung", 0.005),
)
MINT_FIELDS = ("HS-FG04", "HS-FG08")

POPULATION_DATES = ("2023-12-31", "2024-12-31")
EMPLOYMENT_DATE = "2024-06-30"
SEMESTER = "2023-10P6M"

# ------------------------------------------------------------------------ labels


def genesis_label(name: str, kreis_type: str, land_code: str) -> str:
    """The Kreis label as GENESIS prints it ("Name, Landkreis", "Name, kreisfreie Stadt")."""
    if kreis_type == "Kreisfreie Stadt":
        return f"{name}, Stadtkreis" if land_code == "08" else f"{name}, kreisfreie Stadt"
    if name.endswith("kreis"):
        return name
    return f"{name}, Kreis" if land_code in ("01", "05") else f"{name}, Landkreis"


# ---------------------------------------------------------------------- writing


def _write_text(path: Path, text: str, *, bom: bool = False) -> None:
    data = text.encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + data if bom else data)


def _ffcsv(path: Path, header: str, rows: list[tuple]) -> None:
    """Write a GENESIS flat file: BOM, ``;``, LF, one line per value."""
    lines = [header]
    lines.extend(";".join(str(field) for field in row) for row in rows)
    _write_text(path, "\n".join(lines) + "\n", bom=True)


def _split(rng: np.random.Generator, total: int, p: float) -> tuple[int, int]:
    first = int(rng.binomial(total, p)) if total > 0 else 0
    return first, total - first


# ----------------------------------------------------------------------- tables


def _extra_codes(rng: np.random.Generator, kreise: pd.DataFrame) -> pd.DataFrame:
    """Abolished (fictional) Kreise that the real files still list with ``-``."""
    rows = []
    for land in LANDS:
        n_lk = land.n_kreise - land.n_cities
        if n_lk < 10:
            continue
        for k in range(int(rng.integers(0, 3))):
            rows.append((f"{land.code}{landkreis_digit(land.code)}{n_lk + 1 + k:02d}", land.code))
    names = unique_names(rng, [r[1] for r in rows], taken=set(kreise["name"]))
    return pd.DataFrame(
        {
            "ags": [r[0] for r in rows],
            "label": [f"{n}, Landkreis" for n in names],
        }
    )


def _city_rows(rng: np.random.Generator, geo: Geography) -> pd.DataFrame:
    """8-digit rows that are not Kreise: big cities inside a Landkreis and the districts
    of the largest city-state, with their share of the Kreis."""
    k = geo.kreise.set_index("ags")
    g = geo.gemeinden.set_index("ags8")
    rows = []
    for kreis_ags, ags8 in k.loc[k["city_row_ags8"] != "", "city_row_ags8"].items():
        share = g.loc[ags8, "population"] / k.loc[kreis_ags, "population"]
        rows.append((ags8, f"{g.loc[ags8, 'name']}, Stadt", kreis_ags, float(share), False))
    berlin = [la.code for la in LANDS if la.name == "Berlin"][0]
    city = k[k["land_code"] == berlin].index[0]
    n = 8
    shares = rng.dirichlet(np.full(n, 12.0))
    names = unique_names(rng, [berlin] * n, taken={k.loc[city, "name"]})
    for i in range(n):
        rows.append(
            (
                f"{city}{i + 1:03d}",
                f"{k.loc[city, 'name']}-{names[i]}",
                city,
                float(shares[i]),
                True,
            )
        )
    return pd.DataFrame(rows, columns=["ags8", "label", "kreis_ags", "share", "district"])


def _population_rows(rng, geo, extra, city_rows):
    kreise = geo.kreise
    male_share = np.clip(rng.normal(0.493, 0.008, len(kreise)), 0.46, 0.52)
    rows = []
    stat = ("12411", "Fortschreibung des Bevölkerungsstandes", "STAG", "Stichtag")
    unit = ("Anzahl", "BEVSTD", "Bevölkerungsstand")
    for t, column in zip(POPULATION_DATES, ("population_prev", "population"), strict=True):
        per_kreis = {}
        for i, kreis in enumerate(kreise.itertuples(index=False)):
            total = int(getattr(kreis, column))
            male = int(round(total * male_share[i]))
            per_kreis[kreis.ags] = (kreis, total, male)
            label = genesis_label(kreis.name, kreis.kreis_type, kreis.land_code)
            for (code, glabel), v in zip(_GES, (total, male, total - male), strict=True):
                rows.append(
                    (
                        *stat,
                        t,
                        *_KREISE,
                        kreis.ags,
                        label,
                        "GES",
                        "Geschlecht",
                        code,
                        glabel,
                        v,
                        *unit,
                    )
                )
        for row in extra.itertuples(index=False):
            for code, glabel in _GES:
                rows.append(
                    (
                        *stat,
                        t,
                        *_KREISE,
                        row.ags,
                        row.label,
                        "GES",
                        "Geschlecht",
                        code,
                        glabel,
                        "-",
                        *unit,
                    )
                )
        for row in city_rows.itertuples(index=False):
            kreis, total_k, male_k = per_kreis[row.kreis_ags]
            total = int(round(total_k * row.share))
            male = int(round(male_k * row.share))
            for (code, glabel), v in zip(_GES, (total, male, total - male), strict=True):
                rows.append(
                    (
                        *stat,
                        t,
                        *_KREISE,
                        row.ags8,
                        row.label,
                        "GES",
                        "Geschlecht",
                        code,
                        glabel,
                        v,
                        *unit,
                    )
                )
    return rows


def _employment_rows(rng, geo, extra, city_rows):
    kreise = geo.kreise
    stat = ("13111", "Statistik der sozialversicherungspflichtig Beschäftigten", "STAG", "Stichtag")
    unit = ("Anzahl", "ERW032", "Sozialversicherungspfl. Beschäftigte (Arbeitsort)")
    is_city = (kreise["kreis_type"] == "Kreisfreie Stadt").to_numpy()
    east = kreise["land_code"].isin([la.code for la in LANDS if la.east]).to_numpy()
    foreign_p = np.clip(rng.normal(np.where(is_city, 0.20, 0.14) - 0.07 * east, 0.03), 0.02, 0.45)
    male_p = np.clip(rng.normal(0.535, 0.02, len(kreise)), 0.45, 0.62)
    foreign_male_p = np.clip(rng.normal(0.61, 0.03, len(kreise)), 0.45, 0.75)

    cells: dict[str, np.ndarray] = {}  # ags -> 2x3 array [NAT][GES]
    for i, kreis in enumerate(kreise.itertuples(index=False)):
        total = int(kreis.employees)
        foreign = int(rng.binomial(total, foreign_p[i]))
        male, female = _split(rng, total, male_p[i])
        f_male, f_female = _split(rng, foreign, foreign_male_p[i])
        cells[kreis.ags] = np.array([[total, male, female], [foreign, f_male, f_female]])

    def emit(level, level_label, code, label, values):
        for a, (nat_code, nat_label) in enumerate(_NAT):
            for b, (ges_code, ges_label) in enumerate(_GES):
                v = values if isinstance(values, str) else values[a][b]
                rows.append(
                    (
                        *stat,
                        EMPLOYMENT_DATE,
                        level,
                        level_label,
                        code,
                        label,
                        "NAT",
                        "Nationalität",
                        nat_code,
                        nat_label,
                        "GES",
                        "Geschlecht",
                        ges_code,
                        ges_label,
                        v,
                        *unit,
                    )
                )

    rows: list[tuple] = []
    emit("DINSG", "Deutschland", "DG", "Deutschland", sum(cells.values()).tolist())
    land_of = kreise["land_code"].to_numpy()
    for land in LANDS:
        codes = kreise["ags"].to_numpy()[land_of == land.code]
        emit("DLAND", "Bundesländer", land.code, land.name, sum(cells[c] for c in codes).tolist())
    for kreis in kreise.itertuples(index=False):
        label = genesis_label(kreis.name, kreis.kreis_type, kreis.land_code)
        emit(*_KREISE, kreis.ags, label, cells[kreis.ags].tolist())
    for row in extra.itertuples(index=False):
        emit(*_KREISE, row.ags, row.label, "-")
    for row in city_rows.itertuples(index=False):
        # jobs concentrate in the cities: a city row holds more than its population share
        share = min(row.share * (1.0 if row.district else 1.25), 0.95)
        values = np.round(cells[row.kreis_ags] * share).astype(int)
        values[:, 2] = values[:, 0] - values[:, 1]
        shown = values.astype(object)
        if row.district:
            shown[1, 2] = "."  # suppressed, as the real district rows are
        emit(*_KREISE, row.ags8, row.label, shown.tolist())
    return rows


def _student_counts(rng, geo) -> pd.DataFrame:
    """Students per Kreis and Fächergruppe consistent with the geography's totals."""
    kreise = geo.kreise
    other = [fg for fg in FAECHERGRUPPEN if fg[2] is not None]
    base = np.array([fg[2] for fg in other])
    base = base / base.sum()
    counts = np.zeros((len(kreise), len(FAECHERGRUPPEN)), dtype=np.int64)
    pos = {fg[0]: j for j, fg in enumerate(FAECHERGRUPPEN)}
    other_pos = [pos[fg[0]] for fg in other]
    for i, kreis in enumerate(kreise.itertuples(index=False)):
        total, mint = int(kreis.students_total), int(kreis.mint_students)
        if total == 0:
            continue
        engineering = int(rng.binomial(mint, 1 / (1 + math.exp(-(0.35 + rng.normal(0, 0.6))))))
        counts[i, pos["HS-FG08"]] = engineering
        counts[i, pos["HS-FG04"]] = mint - engineering
        # small Hochschulen teach few fields: a low Dirichlet concentration leaves gaps
        concentration = 3.0 if total < 3000 else 25.0
        p = rng.dirichlet(concentration * base)
        counts[i, other_pos] = rng.multinomial(total - mint, p)
    return pd.DataFrame(counts, columns=[fg[0] for fg in FAECHERGRUPPEN], index=kreise["ags"])


#: Fields shown as "." in a few Kreise (Thüringen suppresses small cells, Jena's HS-FG08
#: among them); two per Kreis so that the total does not reveal the hidden one.
SUPPRESSED_FIELDS = ("HS-FG02", "HS-FG08")


def _suppressed_kreise(rng, geo, counts) -> list[str]:
    k = geo.kreise
    fg = counts.reindex(k["ags"])
    candidates = k.loc[
        k["land_code"].eq("16").to_numpy()
        & (k["students_total"].between(1, 5000)).to_numpy()
        & (fg["HS-FG08"] > 0).to_numpy()
        & ~k["ags"].isin([DEMO_REGION, DEMO_COMPARE]).to_numpy(),
        "ags",
    ].tolist()
    n = min(2, len(candidates))
    return sorted(rng.choice(candidates, size=n, replace=False).tolist()) if n else []


def _student_rows(rng, geo, extra, city_rows, counts, suppressed=()):
    kreise = geo.kreise
    stat = ("21311", "Statistik der Studierenden", "SEMEST", "Semester", SEMESTER)
    fixed = (
        "GESINS",
        "Geschlecht",
        "INSGESAMT",
        "Insgesamt",
        "NAT01",
        "Nationalität (inkl. insgesamt)",
        "INSGESAMT",
        "Insgesamt",
        "HS-FG2",
        "Fächergruppe (mit Insgesamt)",
    )
    unit = ("Anzahl", "HS-W02", "Studierende (im Kreisgebiet)")
    fields = [("INSGESAMT", "Insgesamt")] + [(fg[0], fg[1]) for fg in FAECHERGRUPPEN]
    rows = []

    def emit(code, label, values, secret_below=0):
        for (fg_code, fg_label), v in zip(fields, values, strict=True):
            if isinstance(v, str):
                shown = v
            elif v == 0:
                shown = "-"  # GENESIS: nothing there
            elif v < secret_below:
                shown = "."
            else:
                shown = v
            rows.append((*stat, *_KREISE, code, label, *fixed, fg_code, fg_label, shown, *unit))

    hidden = [i + 1 for i, fg in enumerate(FAECHERGRUPPEN) if fg[0] in SUPPRESSED_FIELDS]
    for kreis in kreise.itertuples(index=False):
        per_field = counts.loc[kreis.ags].to_numpy()
        label = genesis_label(kreis.name, kreis.kreis_type, kreis.land_code)
        values = [int(per_field.sum()), *per_field.tolist()]
        if kreis.ags in suppressed:
            for j in hidden:
                values[j] = "."
        emit(kreis.ags, label, values)
    for row in extra.itertuples(index=False):
        emit(row.ags, row.label, ["-"] * len(fields))
    for row in city_rows.itertuples(index=False):
        per_field = counts.loc[row.kreis_ags].to_numpy()
        # the Hochschulen of a Landkreis sit in its big city; districts share the city's
        share = row.share if row.district else rng.uniform(0.85, 1.0)
        values = rng.binomial(per_field, share)
        emit(
            row.ags8,
            row.label,
            [int(values.sum()), *values.tolist()],
            secret_below=150 if row.district else 0,
        )
    return rows


# ------------------------------------------------------------------------- part


def write_part(out: Path, geo: Geography, seed: int) -> dict:
    """Write the regional statistics of the demo into ``out/official/``.

    Parameters
    ----------
    out : Path
        Root of the demo dataset being written (the orchestrator's temporary folder).
    geo : Geography
        The fictional geography (see :func:`analysis.demo.geography.build_geography`).
    seed : int
        Seed of the demo; this part draws from ``SeedSequence([seed, crc32(b"regions")])``.

    Returns
    -------
    dict
        The injected truths for ``TRUTH.json`` (totals, the relations between
        ``mint_score`` and the indicators, special rows planted in the files).
    """
    rng = part_rng(seed, "regions")
    root = Path(out) / OFFICIAL
    for relative in sorted(FILES.values()):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
    kreise = geo.kreise

    extra = _extra_codes(rng, kreise)
    city_rows = _city_rows(rng, geo)
    _ffcsv(root / FILES["population"], _HEADER_2, _population_rows(rng, geo, extra, city_rows))
    _ffcsv(root / FILES["employees"], _HEADER_3, _employment_rows(rng, geo, extra, city_rows))
    counts = _student_counts(rng, geo)
    suppressed = _suppressed_kreise(rng, geo, counts)
    _ffcsv(
        root / FILES["students"],
        _HEADER_4,
        _student_rows(rng, geo, extra, city_rows, counts, suppressed),
    )
    _write_text(root / FILES["kreis_list"], kreis_list_csv(rng, geo))
    _write_text(root / FILES["plz"], plz_file_csv(geo))
    _write_text(root / FILES["geometry"], vg2500_geojson(geo))

    per_1000 = kreise["mint_students"] / kreise["population"] * 1000
    top = kreise.loc[per_1000.idxmax()]
    spanning = geo.plz.groupby("plz")["kreis_ags"].nunique()
    return {
        "n_kreise": int(len(kreise)),
        "population_total": int(kreise["population"].sum()),
        "population_prev_total": int(kreise["population_prev"].sum()),
        "employees_total": int(kreise["employees"].sum()),
        "students_total": int(kreise["students_total"].sum()),
        "mint_students_total": int(kreise["mint_students"].sum()),
        "n_kreise_with_students": int((kreise["students_total"] > 0).sum()),
        "demo_region": DEMO_REGION,
        "demo_compare": DEMO_COMPARE,
        "top_mint_kreis_per_1000": str(top["ags"]),
        "top_mint_kreis_absolute": str(kreise.loc[kreise["mint_students"].idxmax(), "ags"]),
        "university_towns": sorted(kreise.loc[kreise["university_town"], "ags"].tolist()),
        "relations": TRUTH,
        "mint_score_note": "latent standardized MINT strength per Kreis (mean 0, sd 1 with ddof 0)",
        "abolished_codes": sorted(extra["ags"].tolist()),
        "suppressed_student_cells": {code: list(SUPPRESSED_FIELDS) for code in suppressed},
        "city_rows_not_kreise": sorted(city_rows["ags8"].tolist()),
        "census_basis_shift_kreis_list": CENSUS_BASIS_SHIFT,
        "files": {key: f"{OFFICIAL}/{relative}" for key, relative in FILES.items()},
        "n_plz": int(len(spanning)),
        "n_plz_spanning_kreise": int((spanning > 1).sum()),
        "reference_dates": {
            "population": list(POPULATION_DATES),
            "employees": EMPLOYMENT_DATE,
            "students": SEMESTER,
        },
    }
