"""Tests for analysis.sources.official.classic (classic regionalstatistik table CSVs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.sources.official.classic import read_classic
from analysis.sources.official.genesis import TIDY_COLUMNS, kreise_only

FIXTURES = Path(__file__).parent / "fixtures" / "official"


@pytest.fixture(scope="session")
def official(mirror) -> Path:
    """The mirror of real official files (conftest skips when it is absent)."""
    return mirror


def _copy_with(tmp_path: Path, name: str, old: bytes, new: bytes) -> Path:
    data = (FIXTURES / name).read_bytes()
    assert old in data
    path = tmp_path / name
    path.write_bytes(data.replace(old, new, 1))
    return path


# --------------------------------------------------------------------------- layouts


def test_time_in_first_column_with_row_dimension_and_title_measure():
    # Arrange
    path = FIXTURES / "classic_time_first_column.csv"

    # Act
    frame = read_classic(path)

    # Assert: 4 regions x 3 age rows x 3 value columns
    assert len(frame) == 36
    assert list(frame.columns) == [*TIDY_COLUMNS, "Altersjahren", "Geschlecht"]
    assert set(frame["time"]) == {"2015-12-31"}
    assert set(frame["measure"]) == {"Bevölkerungsstand"} and set(frame["unit"]) == {"Anzahl"}
    assert set(frame["Geschlecht"]) == {"Insgesamt", "männlich", "weiblich"}
    assert set(frame["Altersjahren"]) == {"unter 1 Jahr", "1 bis unter 2 Jahre", "Insgesamt"}
    row = frame.query("ags == '03152' and Altersjahren == 'Insgesamt' and Geschlecht == 'weiblich'")
    assert row["value"].item() == 1990
    assert row["region_name"].item() == "Göttingen, Landkreis"  # indentation removed
    assert set(frame.loc[frame["ags"] == "03159", "flag"]) == {"-"}
    assert frame.attrs["title"] == (
        "Bevölkerungsstand: Bevölkerung nach Geschlecht und Altersjahren (79) - Stichtag 31.12. -"
    )
    assert frame.attrs["table"] == "12411-04-02-4"
    assert frame.attrs["stand"] == "14.12.2017 / 15:51:18"
    assert frame.attrs["licence_text"].startswith("© Statistische Ämter")
    assert "fiktive Werte" in frame.attrs["footnotes"]


def test_variable_and_attribute_header_pairs():
    # Arrange
    path = FIXTURES / "classic_variable_pairs.csv"

    # Act
    frame = read_classic(path)

    # Assert
    assert list(frame.columns) == [*TIDY_COLUMNS, "Nationalität", "Geschlecht"]
    assert set(frame["measure"]) == {"Sozialversicherungspfl. Beschäftigte (Arbeitsort)"}
    assert set(frame["unit"]) == {"Anzahl"}
    levels = frame.drop_duplicates("ags").set_index("ags")["level"].to_dict()
    assert levels == {
        "DG": "DINSG",
        "03": "DLAND",
        "031": "REGBEZ",
        "03241": "KREISE",
        "03241001": "GEMEINDE",
        "03159": "KREISE",
    }
    hannover = frame[frame["ags"] == "03241"].set_index(["Nationalität", "Geschlecht"])
    assert hannover.loc[("Insgesamt", "männlich"), "value"] == 50
    assert hannover.loc[("Ausländer(innen)", "männlich"), "flag"] == "."
    assert hannover.loc[("Ausländer(innen)", "weiblich"), "flag"] == "x"
    city = frame[frame["ags"] == "03241001"]
    assert sorted(city["flag"]) == ["", "", "", "", "...", "/"]
    assert city["value"].isna().sum() == 2


def test_dates_units_and_measures_in_header_rows():
    # Arrange
    path = FIXTURES / "classic_header_dates_units.csv"

    # Act
    frame = read_classic(path)

    # Assert
    assert list(frame.columns) == list(TIDY_COLUMNS)
    germany = frame[frame["ags"] == "DG"]
    assert germany["time"].tolist() == ["2014-12-31", "2015-12-31", "2015-12-31"]
    assert germany["measure"].tolist() == ["Gebietsfläche", "Gebietsfläche", "Bevölkerungsdichte"]
    assert germany["unit"].tolist() == ["qkm", "qkm", "Ew. je qkm"]
    assert germany["value"].tolist() == pytest.approx([357375.62, 357385.71, 229.9])
    assert frame.attrs["header_rows"] == 3


def test_utf8_copy_of_a_classic_table_reads_the_same(tmp_path):
    # Arrange
    source = FIXTURES / "classic_variable_pairs.csv"
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(source.read_bytes().decode("latin-1").encode("utf-8"))

    # Act
    latin = read_classic(source)
    again = read_classic(utf8)

    # Assert
    assert latin.attrs["encoding"] == "cp1252" and again.attrs["encoding"] == "utf-8"
    pd.testing.assert_frame_equal(latin, again, check_like=False)


# --------------------------------------------------------------------------- bad input


def test_missing_footer_means_truncated(tmp_path):
    # Arrange
    data = (FIXTURES / "classic_header_dates_units.csv").read_bytes()
    path = tmp_path / "cut.csv"
    path.write_bytes(data[: data.index(b"__________")])

    # Act / Assert
    with pytest.raises(InputError, match="truncated"):
        read_classic(path)


def test_short_data_line_names_line(tmp_path):
    # Arrange
    path = _copy_with(tmp_path, "classic_header_dates_units.csv", b";167,9\n", b"\n")

    # Act
    with pytest.raises(InputError) as info:
        read_classic(path)

    # Assert
    assert info.value.line == 9
    assert "found 4" in str(info.value)


def test_bad_value_names_line_and_column(tmp_path):
    # Arrange
    path = _copy_with(tmp_path, "classic_variable_pairs.csv", b";90;50;", b";90;5O;")

    # Act
    with pytest.raises(InputError) as info:
        read_classic(path)

    # Assert
    assert (info.value.line, info.value.column) == (14, 5)
    assert "'5O'" in str(info.value)


def test_bad_regional_key(tmp_path):
    # Arrange
    path = _copy_with(tmp_path, "classic_variable_pairs.csv", b";03241;", b";3241;")

    # Act
    with pytest.raises(InputError) as info:
        read_classic(path)

    # Assert
    assert info.value.line == 14
    assert "'3241'" in str(info.value)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "empty"),
        (b"a;b;c\nx;y;z\n", "not a classic"),
        (b"PK\x03\x04\x00\x00", "ZIP archive"),
    ],
)
def test_unusable_files(tmp_path, payload, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(payload)
    with pytest.raises(InputError, match=expected):
        read_classic(path)


# --------------------------------------------------------------------------- real files


@pytest.mark.mirror
def test_every_mirror_classic_table_parses(official):
    files = sorted((official / "regionalstatistik_classic_csv").glob("*.csv"))
    assert len(files) >= 4  # 2015 population, area, schools; 2023 school leavers
    for path in files:
        frame = read_classic(path)
        assert len(frame) > 0
        assert list(frame.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
        assert (frame["value"].isna() == frame["flag"].ne("")).all()
        assert frame.attrs["licence_text"].startswith("©")
        assert frame.attrs["stand"]


@pytest.mark.mirror
def test_population_2015_has_402_kreise_before_the_goettingen_merger(official):
    # Arrange
    frame = read_classic(official / "regionalstatistik_classic_csv" / "12411-01-01-4.csv")

    # Act
    totals = kreise_only(frame).query("Geschlecht == 'Insgesamt'").set_index("ags")
    existing = totals[totals["flag"] == ""]

    # Assert
    assert len(existing) == 402
    assert {"02000", "11000"} <= set(existing.index)  # Hamburg, Berlin: Land rows as Kreise
    assert existing.loc["03152", "value"] > 0 and existing.loc["03156", "value"] > 0
    assert totals.loc["03159", "flag"] == "-" and np.isnan(totals.loc["03159", "value"])
    germany = frame.query("ags == 'DG' and Geschlecht == 'Insgesamt'")["value"].item()
    assert existing["value"].sum() == germany == 82_175_684
    assert set(frame["time"]) == {"2015-12-31"}


@pytest.mark.mirror
def test_area_2015_time_in_first_column(official):
    frame = read_classic(official / "regionalstatistik_classic_csv" / "11111-01-01-4.csv")
    assert set(frame["measure"]) == {"Gebietsfläche"} and set(frame["unit"]) == {"qkm"}
    assert set(frame["period_start"]) == {pd.Timestamp("2015-12-31")}
    assert frame.loc[frame["ags"] == "DG", "value"].item() == pytest.approx(357385.71)
    # the Länder cover Germany up to unincorporated areas (footnoted; < 0.1 %)
    laender = frame[frame["level"] == "DLAND"]
    assert len(laender) == 16
    assert laender["value"].sum() == pytest.approx(357385.71, rel=1e-3)


@pytest.mark.mirror
def test_schools_2015_row_dimension_and_header_pairs(official):
    frame = read_classic(official / "regionalstatistik_classic_csv" / "21111-01-03-4.csv")
    assert list(frame.columns[len(TIDY_COLUMNS) :])[:3] == [
        "Schulart",
        "Geschlecht",
        "Nationalität",
    ]
    assert set(frame["time"]) == {"2015"}
    assert "Gymnasien" in set(frame["Schulart"])
    pupils = frame[
        (frame["ags"] == "DG")
        & (frame["Schulart"] == "Insgesamt")
        & (frame["Geschlecht"] == "Insgesamt")
    ]
    assert pupils["value"].item() == 8_335_061
    assert set(frame["flag"]) <= {"", "-", ".", "x"}


@pytest.mark.parametrize(
    ("title", "names"),
    [
        ("Bevölkerungsstand: Bevölkerung nach Geschlecht - Stichtag 31.12. -", ["Geschlecht"]),
        (
            "Bevölkerungsstand: Bevölkerung nach Geschlecht und Altersjahren (79) - Stichtag 31.12. -",
            ["Geschlecht", "Altersjahren"],
        ),
        (
            "Zu- und Fortzüge nach Altersgruppen (über Gemeindegrenzen und Grenzen des "
            "Bundesgebietes) - Jahressumme -",
            ["Altersgruppen"],
        ),
        (
            "Allgemeinbildende Schulen: Schulen, Schüler nach Schulart - Stichtag: Schuljahresbeginn -",
            ["Schulart"],
        ),
        ("Gebietsstand: Gebietsfläche in qkm - Stichtag 31.12. -", []),
    ],
)
def test_dimension_names_from_the_title(title, names):
    from analysis.sources.official.classic import _title_candidates

    assert _title_candidates(title) == names


def test_regional_depth_on_the_title_line_and_four_header_rows():
    # Arrange
    path = FIXTURES / "classic_depth_after_title.csv"

    # Act
    frame = read_classic(path)

    # Assert
    assert frame.attrs["title"] == "Einbürgerungen von Ausländern nach Kontinenten - Jahr -"
    assert frame.attrs["regional_depth"] == "Kreise und krfr. Städte"
    assert frame.attrs["statistic_label"] == "Einbürgerungsstatistik"
    assert list(frame.columns) == [*TIDY_COLUMNS, "Kontinente (einschl. staatenlos etc.)"]
    assert set(frame["measure"]) == {"Einbürgerungen von Ausländern"}
    assert set(frame["unit"]) == {"Anzahl"}
    assert set(frame["time"]) == {"2016"}
    goe = frame[frame["ags"] == "03159"].set_index("Kontinente (einschl. staatenlos etc.)")
    assert goe.loc["Europa", "value"] == 25
    assert goe.loc["Insgesamt", "value"] == goe["value"].drop("Insgesamt").sum()
