"""Tests for analysis.sources.official.gv_isys (Destatis Gemeindeverzeichnis workbooks)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.sources.official.genesis import TIDY_COLUMNS
from analysis.sources.official.gv_isys import gv_isys_tidy, read_gv_isys

HEADER = [
    [
        "Satz-art", "Text-kenn-zeichen", "Amtlicher Regionalschlüssel (ARS)", None, None, None,
        None, "Gemeindename", "Fläche km2 1)", "Bevölkerung2)", None, None, None,
        "Postleit-zahl3)", "Geografische Mittelpunktkoordinaten", None, "Reisegebiete", None,
        "Grad der Verstädterung", None,
    ],
    [
        None, None, "Land", "RB", "Kreis", "VB", "Gem", None, None, "insgesamt", "männlich",
        "weiblich", "je km2", None, "Längengrad", "Breitengrad", None, None, None, None,
    ],
    [
        None, None, "Gebietsstand am 30.06.2097 (2. Quartal)", None, None, None, None, None,
        "31.12.2096 (Jahr)", "am 31.12.2096 (Jahr)", None, None, None, None,
        "Zuordnungsstand am 31.12.2096", None, "Schlüssel", "Bezeichnung", "Schlüssel",
        "Bezeichnung",
    ],
]  # fmt: skip

# Fictional records in the GV-ISys layout (authored fixture).
RECORDS = [
    ["10", None, "03", None, None, None, None, "Niedersachsen"],
    ["20", None, "03", "1", None, None, None, "Statistische Region Braunschweig"],
    ["40", "44", "03", "1", "59", None, None, "Göttingen"],
    ["50", "50", "03", "1", "59", "0016", None, "Göttingen, Stadt"],
    [
        "60", "63", "03", "1", "59", "0016", "016", "Göttingen, Stadt", 116.89, 118911, 57000,
        61911, 1017, "37073", "9,93", "51,54", "X01", "Harz", "01", "dicht besiedelt",
    ],
    ["50", "52", "03", "1", "59", "5401", None, "Radolfshausen, Samtgemeinde"],
    [
        "60", "64", 3, 1, 59, "5401", "001", "Ebergötzen", 22.5, 1900, 950, 950, 84, 37136,
        "10,1", "51,57", "X01", "Harz", "03", "gering besiedelt",
    ],
    [
        "60", "66", "03", "1", "59", "5401", "501", "Gemeindefreies Gebiet", 3.5, 0, 0, 0, 0,
        None, "10,2", "51,6", None, None, None, None,
    ],
]  # fmt: skip


def _workbook(path: Path, records=RECORDS, header=HEADER) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Inhalt"
    wb.active.append(["Gemeindeverzeichnis"])
    ws = wb.create_sheet("Onlineprodukt_Gemeinden")
    ws.append(["Gemeinden in Deutschland nach Fläche, Bevölkerung und Postleitzahl am 30.06.2097"])
    ws.append([])
    for row in header:
        ws.append(row)
    ws.append([])
    for row in records:
        ws.append(row)
    ws.append([])
    ws.append(["Quelle: Gemeindeverzeichnis-Informationssytem GV-ISys"])
    ws.append(["© Daten (im Auftrag der Herausgebergemeinschaft …) Statistisches Bundesamt"])
    wb.save(path)
    return path


@pytest.fixture(scope="session")
def official(mirror) -> Path:
    """The mirror of real official files (conftest skips when it is absent)."""
    return mirror


@pytest.fixture(scope="module")
def real_tables(official) -> dict[str, pd.DataFrame]:
    return read_gv_isys(official / "gv_isys_2024" / "AuszugGV2QAktuell.xlsx")


# --------------------------------------------------------------------------- fixture workbook


def test_records_become_kreise_and_gemeinden(tmp_path):
    # Arrange
    path = _workbook(tmp_path / "gv.xlsx")

    # Act
    tables = read_gv_isys(path)

    # Assert
    gemeinden = tables["gemeinden"].set_index("ags8")
    assert list(gemeinden.index) == ["03159016", "03159001", "03159501"]
    goe = gemeinden.loc["03159016"]
    assert goe["kreis_ags"] == "03159" and goe["ars12"] == "031590016016"
    assert (goe["lon"], goe["lat"]) == (pytest.approx(9.93), pytest.approx(51.54))
    assert goe["plz"] == "37073" and goe["urbanisation"] == "dicht besiedelt"
    assert goe["gemeinde_type"] == "Stadt"
    # Excel numbers lose leading zeros: the reader pads them again
    assert gemeinden.loc["03159001", "land_code"] == "03"
    assert gemeinden.loc["03159001", "plz"] == "37136"
    assert gemeinden.loc["03159501", "plz"] == ""
    kreis = tables["kreise"].set_index("ags5").loc["03159"]
    assert kreis["kreis_type"] == "Landkreis" and kreis["land_name"] == "Niedersachsen"
    assert kreis["rb_name"] == "Statistische Region Braunschweig"
    assert kreis["population"] == 118911 + 1900 + 0
    assert kreis["area_km2"] == pytest.approx(116.89 + 22.5 + 3.5)
    assert kreis["n_gemeinden"] == 3
    assert set(tables["gemeindeverbaende"]["verband_type"]) == {
        "Verbandsfreie Gemeinde",
        "Samtgemeinde",
    }


def test_reference_dates_and_population_basis(tmp_path):
    # Arrange
    path = _workbook(tmp_path / "gv.xlsx")

    # Act
    attrs = read_gv_isys(path)["kreise"].attrs

    # Assert
    assert attrs["gebietsstand"] == "2097-06-30"
    assert attrs["population_date"] == "2096-12-31"
    assert attrs["area_date"] == "2096-12-31"
    assert attrs["plz_date"] == "2096-12-31"
    assert attrs["population_basis"] == "Zensus 2022" and attrs["population_basis_inferred"]
    assert attrs["licence_text"].startswith("©")


def test_tidy_view_has_the_common_columns(tmp_path):
    # Arrange
    tables = read_gv_isys(_workbook(tmp_path / "gv.xlsx"))

    # Act
    tidy = gv_isys_tidy(tables)

    # Assert
    assert list(tidy.columns) == list(TIDY_COLUMNS)
    kreis_pop = tidy.query("level == 'KREISE' and measure == 'population'")["value"].item()
    assert kreis_pop == 120811
    assert set(tidy["time"]) == {"2096-12-31"}


def test_unknown_satzart(tmp_path):
    # Arrange
    records = [*RECORDS, ["70", None, "03", "1", "59", None, None, "?"]]
    path = _workbook(tmp_path / "gv.xlsx", records=records)

    # Act
    with pytest.raises(InputError) as info:
        read_gv_isys(path)

    # Assert
    assert info.value.line == 15 and info.value.column == "Satzart"


def test_bad_key_and_bad_number(tmp_path):
    # Arrange
    bad_key = [r.copy() for r in RECORDS]
    bad_key[4][4] = "5X"
    bad_number = [r.copy() for r in RECORDS]
    bad_number[4][14] = "9,9,3"

    # Act
    with pytest.raises(InputError) as key_info:
        read_gv_isys(_workbook(tmp_path / "a.xlsx", records=bad_key))
    with pytest.raises(InputError) as number_info:
        read_gv_isys(_workbook(tmp_path / "b.xlsx", records=bad_number))

    # Assert
    assert (key_info.value.line, key_info.value.column) == (11, "kreis")
    assert (number_info.value.line, number_info.value.column) == (11, "lon")


def test_missing_header_and_not_a_workbook(tmp_path):
    # Arrange
    header = [row.copy() for row in HEADER]
    header[1][5] = None  # no "VB" column
    no_vb = _workbook(tmp_path / "a.xlsx", header=header)
    text = tmp_path / "b.xlsx"
    text.write_text("Satzart;Textkennzeichen\n")

    # Act / Assert
    with pytest.raises(InputError, match="missing vb"):
        read_gv_isys(no_vb)
    with pytest.raises(InputError, match="expected an xlsx workbook"):
        read_gv_isys(text)


# --------------------------------------------------------------------------- real file


@pytest.mark.mirror
def test_real_workbook_has_400_kreise_and_the_population_total(real_tables):
    kreise, gemeinden = real_tables["kreise"], real_tables["gemeinden"]
    assert len(kreise) == 400 and kreise["ags5"].is_unique
    assert gemeinden["population"].sum() == 84_349_751
    assert kreise["population"].sum() == 84_349_751
    assert len(real_tables["laender"]) == 16
    assert kreise.attrs["gebietsstand"] == "2024-06-30"
    assert kreise.attrs["population_date"] == "2022-12-31"
    assert kreise.attrs["population_basis"] == "Zensus 2011"
    located = gemeinden.dropna(subset=["lon", "lat"])
    assert located["lon"].between(5.8, 15.1).all() and located["lat"].between(47.2, 55.1).all()
    # only a few unpopulated unincorporated areas have no coordinates
    unlocated = gemeinden[gemeinden["lon"].isna()]
    assert len(unlocated) <= 5 and set(unlocated["gemeinde_type"]) == {
        "Gemeindefreies Gebiet, unbewohnt"
    }
    assert gemeinden["ags8"].str.fullmatch(r"\d{8}").all()
    assert (gemeinden["plz"].str.fullmatch(r"\d{5}") | gemeinden["plz"].eq("")).all()


@pytest.mark.mirror
def test_real_workbook_matches_the_derived_kreis_table(real_tables, official):
    # Arrange: the mirror's derived table, read here only as an oracle
    oracle = pd.read_csv(
        official / "gv_isys_2024" / "kreise_2024.csv",
        dtype={"ags5": str, "land_code": str, "rb_code": str, "textkennzeichen": str},
    )

    # Act
    merged = real_tables["kreise"].merge(oracle, on="ags5", suffixes=("", "_oracle"))

    # Assert
    assert len(merged) == 400
    assert (merged["population"] == merged["population_2022_12_31"]).all()
    assert (merged["area_km2"] - merged["area_km2_oracle"]).abs().max() < 1e-6
    for column in ("name", "textkennzeichen", "kreis_type", "land_code", "rb_code", "n_gemeinden"):
        assert (merged[column] == merged[f"{column}_oracle"]).all(), column
    assert (merged["land_name"] == merged["land_name_oracle"]).all()
