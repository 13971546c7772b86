"""Tests for analysis.sources.official.genesis (GENESIS flat files, both header variants)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.sources.official.genesis import TIDY_COLUMNS, kreise_only, read_ffcsv

FIXTURES = Path(__file__).parent / "fixtures" / "official"

CURRENT_HEADER = (
    "statistics_code;statistics_label;time_code;time_label;time;1_variable_code;"
    "1_variable_label;1_variable_attribute_code;1_variable_attribute_label;"
    "2_variable_code;2_variable_label;2_variable_attribute_code;2_variable_attribute_label;"
    "value;value_unit;value_variable_code;value_variable_label"
)


def _row(ags: str, ges: str, value: str, *, time: str = "2024-12-31") -> str:
    return (
        f"12411;Fortschreibung;STAG;Stichtag;{time};KREISE;Kreise;{ags};Ort {ags};"
        f"GES;Geschlecht;{ges};label;{value};Anzahl;BEVSTD;Bevölkerungsstand"
    )


def _write(tmp_path: Path, text: str, *, encoding: str = "utf-8", bom: bool = True) -> Path:
    path = tmp_path / "table_flat.csv"
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


@pytest.fixture(scope="session")
def official(mirror) -> Path:
    """The mirror of real official files (conftest skips when it is absent)."""
    return mirror


# --------------------------------------------------------------------------- current variant


def test_current_variant_columns_and_types(tmp_path):
    # Arrange
    path = _write(tmp_path, "\n".join([CURRENT_HEADER, _row("03159", "", "328028")]) + "\n")

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert list(frame.columns) == [*TIDY_COLUMNS, "GES"]
    assert frame["value"].dtype == np.float64
    assert frame["period_start"].dtype == "datetime64[ns]"
    row = frame.iloc[0]
    assert (row["statistic"], row["level"], row["ags"], row["GES"]) == (
        "12411",
        "KREISE",
        "03159",
        "",
    )
    assert (row["measure"], row["unit"], row["flag"], row["quality"]) == (
        "BEVSTD",
        "Anzahl",
        "",
        "",
    )
    assert row["value"] == 328028.0
    assert row["period_start"] == pd.Timestamp("2024-12-31")
    assert frame.attrs["variant"] == "ffcsv"
    assert frame.attrs["encoding"] == "utf-8-sig"
    assert frame.attrs["n_rows"] == 1


def test_fixture_with_features_value_q_levels_decimal_comma_and_specials():
    # Arrange
    path = FIXTURES / "ffcsv_current_features.csv"

    # Act
    frame = read_ffcsv(path)

    # Assert: levels as in the file, 8-digit rows kept at their level
    assert set(frame["level"]) == {"DINSG", "DLAND", "KREISE", "GEMEINDE"}
    assert frame.loc[frame["level"] == "GEMEINDE", "ags"].unique().tolist() == ["03159016"]
    area = frame[frame["measure"] == "FLC006"].set_index("ags")
    assert area.loc["DG", "value"] == pytest.approx(1234.5)
    assert area.loc["03159016", "value"] == pytest.approx(116.89)
    assert area.loc["03159", "quality"] == "p"
    assert area.loc["03152", "flag"] == "-" and np.isnan(area.loc["03152", "value"])
    # several value variables with their own units
    assert frame.groupby("measure")["unit"].first().to_dict() == {
        "BEVSTD": "Anzahl",
        "FLC006": "qkm",
    }
    # the GES dimension only applies to BEVSTD rows
    assert frame.loc[frame["measure"] == "FLC006", "GES"].isna().all()
    people = frame[frame["measure"] == "BEVSTD"]
    assert sorted(people["flag"]) == sorted(["", ".", "x", "/", "...", ""])
    assert people["value"].isna().sum() == 4
    assert frame.attrs["dimensions"]["GES"]["attributes"] == {
        "GESM": "männlich",
        "GESW": "weiblich",
    }
    assert frame.attrs["measures"] == {"FLC006": "Gebietsfläche", "BEVSTD": "Bevölkerungsstand"}


def test_several_dimensions_and_semester_time(tmp_path):
    # Arrange
    header = (
        "statistics_code;statistics_label;time_code;time_label;time;"
        + ";".join(
            f"{k}_variable_code;{k}_variable_label;{k}_variable_attribute_code;{k}_variable_attribute_label"
            for k in (1, 2, 3)
        )
        + ";value;value_unit;value_variable_code;value_variable_label"
    )
    line = (
        "21311;Studierende;SEMEST;Semester;2023-10P6M;KREISE;Kreise;03159;Göttingen;"
        "GESINS;Geschlecht;INSGESAMT;Insgesamt;HS-FG2;Fächergruppe;HS-FG04;Mathematik;"
        "1234;Anzahl;HS-W02;Studierende"
    )
    path = _write(tmp_path, f"{header}\n{line}\n")

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert list(frame.columns)[len(TIDY_COLUMNS) :] == ["GESINS", "HS-FG2"]
    assert frame.loc[0, "HS-FG2"] == "HS-FG04"
    assert frame.loc[0, "time"] == "2023-10P6M"
    assert frame.loc[0, "period_start"] == pd.Timestamp("2023-10-01")


def test_table_without_regional_dimension(tmp_path):
    # Arrange
    header = (
        "statistics_code;statistics_label;time_code;time_label;time;"
        "value;value_unit;value_variable_code;value_variable_label"
    )
    path = _write(tmp_path, f"{header}\n61111;VPI;JAHR;Jahr;2023;117,1;2020=100;PREIS1;VPI\n")

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert list(frame.columns) == list(TIDY_COLUMNS)
    assert (frame.loc[0, "level"], frame.loc[0, "ags"]) == ("", "")
    assert frame.loc[0, "value"] == pytest.approx(117.1)


def test_decimal_point_of_english_exports_and_grouped_german_numbers(tmp_path):
    # Arrange
    lines = [CURRENT_HEADER, _row("03159", "", "9.26"), _row("03152", "", "1.234,5")]
    path = _write(tmp_path, "\n".join(lines))

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame["value"].tolist() == pytest.approx([9.26, 1234.5])


def test_utf8_without_bom_and_cp1252(tmp_path):
    # Arrange
    text = (
        "\n".join([CURRENT_HEADER, _row("03159", "GESM", "1").replace("Ort", "Göttingen")]) + "\n"
    )
    plain = _write(tmp_path, text, bom=False)
    legacy = tmp_path / "legacy_flat.csv"
    legacy.write_bytes(text.encode("cp1252"))

    # Act
    from_utf8 = read_ffcsv(plain)
    from_cp1252 = read_ffcsv(legacy)

    # Assert
    assert from_utf8.attrs["encoding"] == "utf-8"
    assert from_cp1252.attrs["encoding"] == "cp1252"
    assert "Windows-1252" in from_cp1252.attrs["encoding_note"]
    assert from_cp1252.loc[0, "region_name"] == from_utf8.loc[0, "region_name"] == "Göttingen 03159"


def test_crlf_line_ends_and_trailing_blank_lines(tmp_path):
    # Arrange
    text = (
        "\r\n".join([CURRENT_HEADER, _row("03159", "", "5"), _row("03152", "", "6")]) + "\r\n\r\n"
    )
    path = _write(tmp_path, text)

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame["value"].tolist() == [5.0, 6.0]
    assert frame["measure_label"].tolist() == ["Bevölkerungsstand"] * 2


def test_kreise_only_keeps_five_digit_kreise_and_can_drop_abolished():
    # Arrange
    frame = read_ffcsv(FIXTURES / "ffcsv_current_features.csv")

    # Act
    kreise = kreise_only(frame)
    current = kreise_only(frame, drop_abolished=True)

    # Assert
    assert set(kreise["ags"]) == {"03159", "03152"}
    assert set(current["ags"]) == {"03159"}
    assert kreise.attrs["n_dropped_not_kreis"] == len(frame) - len(kreise)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        ([CURRENT_HEADER, _row("03159", "", "1"), _row("03152", "", "2")[:40]], 3, "truncated"),
        (
            [CURRENT_HEADER, _row("03159", "", "1") + ";extra", _row("03152", "", "2")],
            2,
            "found 18",
        ),
        ([CURRENT_HEADER, _row("03159", "", "1"), "", _row("03152", "", "2")], 3, "empty line"),
    ],
)
def test_wrong_field_counts_name_the_line(tmp_path, lines, line, expected):
    # Arrange
    path = _write(tmp_path, "\n".join(lines))

    # Act
    with pytest.raises(InputError) as info:
        read_ffcsv(path)

    # Assert
    assert info.value.line == line
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_bad_value_names_line_and_column(tmp_path):
    # Arrange
    lines = [CURRENT_HEADER, _row("03159", "", "1"), _row("03152", "", "12a")]
    path = _write(tmp_path, "\n".join(lines))

    # Act
    with pytest.raises(InputError) as info:
        read_ffcsv(path)

    # Assert
    assert (info.value.line, info.value.column) == (3, "value")
    assert "'12a'" in str(info.value)


def test_nan_text_is_not_a_number(tmp_path):
    # Arrange
    path = _write(tmp_path, "\n".join([CURRENT_HEADER, _row("03159", "", "nan")]))

    # Act / Assert
    with pytest.raises(InputError, match="expected a number"):
        read_ffcsv(path)


def test_missing_header_columns_are_listed(tmp_path):
    # Arrange
    header = CURRENT_HEADER.replace(";value_unit", "")
    path = _write(tmp_path, header + "\n")

    # Act
    with pytest.raises(InputError) as info:
        read_ffcsv(path)

    # Assert
    assert info.value.line == 1
    assert "value_unit" in str(info.value)


def test_incomplete_dimension_columns(tmp_path):
    # Arrange
    header = CURRENT_HEADER.replace("2_variable_attribute_label;", "")
    path = _write(tmp_path, header + "\n")

    # Act / Assert
    with pytest.raises(InputError, match="2_variable_attribute_label"):
        read_ffcsv(path)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"a,b,c\n1,2,3\n", "not a GENESIS flat file"),
        (b"\xef\xbb\xbf" + CURRENT_HEADER.encode() + b"\n", "found none"),
        ("x".encode("utf-16"), "UTF-16"),
        (
            b"\xef\xbb\xbf" + CURRENT_HEADER.encode() + b"\n12411;Fortschreibung \xe4\n",
            "not valid UTF-8",
        ),
        (CURRENT_HEADER.encode() + b"\n12411;\x81\n", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_unusable_files(tmp_path, payload, expected):
    # Arrange
    path = tmp_path / "bad_flat.csv"
    path.write_bytes(payload)

    # Act / Assert
    with pytest.raises(InputError, match=expected):
        read_ffcsv(path)


def test_undecodable_byte_is_located(tmp_path):
    # Arrange
    path = tmp_path / "bad_flat.csv"
    path.write_bytes(CURRENT_HEADER.encode() + b"\n12411;ab\x81c\n")

    # Act
    with pytest.raises(InputError) as info:
        read_ffcsv(path)

    # Assert
    # the byte is in the second field: the column is named by the header
    assert (info.value.line, info.value.column) == (2, "statistics_label")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_ffcsv(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- real files


@pytest.mark.mirror
def test_every_mirror_flat_file_parses(official):
    files = sorted((official / "genesis_ffcsv").glob("*.csv"))
    assert len(files) >= 6
    for path in files:
        frame = read_ffcsv(path)
        assert len(frame) > 0 and frame.attrs["variant"] == "ffcsv"
        assert list(frame.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
        assert set(frame["flag"]) <= {"", "-", ".", "x", "/", "..."}
        # numbers and flags are exclusive
        assert (frame["value"].isna() == frame["flag"].ne("")).all()


@pytest.mark.mirror
def test_population_2024_facts(official):
    # Arrange
    frame = read_ffcsv(official / "genesis_ffcsv" / "12411-01-01-4_de_flat.csv")

    # Act
    totals = kreise_only(frame).query("GES == ''")
    current = totals[totals["flag"] == ""]

    # Assert
    assert totals["ags"].nunique() == 474
    assert (totals["flag"] == "-").sum() == 74
    assert current["ags"].nunique() == 400
    assert current["value"].sum() == 83_577_140
    assert current.set_index("ags").loc["03159", "value"] == 328_028
    assert kreise_only(frame, drop_abolished=True)["ags"].nunique() == 400
    # 8-digit city rows stay at level KREISE
    cities = frame[(frame["level"] == "KREISE") & (frame["ags"].str.len() == 8)]
    assert "03241001" in set(cities["ags"])
    # male + female = total for Göttingen
    goe = frame[frame["ags"] == "03159"].set_index("GES")["value"]
    assert goe["GESM"] + goe["GESW"] == goe[""]


@pytest.mark.mirror
def test_english_export_matches_german(official):
    de = read_ffcsv(official / "genesis_ffcsv" / "12411-01-01-4_de_flat.csv")
    en = read_ffcsv(official / "genesis_ffcsv" / "12411-01-01-4_en_flat.csv")
    key = ["ags", "GES"]
    merged = de.merge(en, on=key, suffixes=("_de", "_en"))
    assert len(merged) == len(de)
    assert np.array_equal(
        merged["value_de"].to_numpy(), merged["value_en"].to_numpy(), equal_nan=True
    )


@pytest.mark.mirror
def test_mixed_levels_in_13111(official):
    frame = read_ffcsv(official / "genesis_ffcsv" / "13111-01-03-4_de_flat.csv")
    assert set(frame["level"]) == {"DINSG", "DLAND", "REGBEZ", "KREISE"}
    assert set(frame.loc[frame["level"] == "DINSG", "ags"]) == {"DG"}
    assert frame.loc[frame["level"] == "DLAND", "ags"].str.len().eq(2).all()
    assert frame.loc[frame["level"] == "REGBEZ", "ags"].str.len().eq(3).all()
    assert list(frame.columns[len(TIDY_COLUMNS) :]) == ["NAT", "GES"]
    # Germany: men + women = total (independent published rows)
    germany = frame[frame["level"] == "DINSG"].query("NAT == ''").set_index("GES")["value"]
    assert germany["GESM"] + germany["GESW"] == germany[""] == 34_885_481
    # the Länder add up to Germany except the employees without a Land (< 0.01 %)
    total = frame.query("NAT == '' and GES == ''")
    laender = total.loc[total["level"] == "DLAND", "value"].sum()
    assert laender == pytest.approx(34_885_481, rel=1e-4)


@pytest.mark.mirror
def test_semester_period_in_21311(official):
    frame = read_ffcsv(official / "genesis_ffcsv" / "21311-01-01-4-B_subset_insgesamt_de_flat.csv")
    assert set(frame["time"]) == {"2023-10P6M"}
    assert set(frame["period_start"]) == {pd.Timestamp("2023-10-01")}
    assert "HS-FG04" in set(frame["HS-FG2"])


@pytest.mark.mirror
def test_several_value_variables_in_52411(official):
    frame = read_ffcsv(official / "genesis_ffcsv" / "52411-02-01-4_de_flat.csv")
    assert set(frame["measure"]) == {"ISV006", "ISVNW1", "FOR002"}
    assert set(frame.loc[frame["measure"] == "FOR002", "unit"]) == {"Tsd. EUR"}
    # ISVAT3 only applies to ISV006
    assert frame.loc[frame["measure"] != "ISV006", "ISVAT3"].isna().all()
    assert frame.loc[frame["measure"] == "ISV006", "ISVAT3"].notna().all()


# --------------------------------------------------------------------------- older variant


def test_old_variant_latin1_german_dates_and_totals():
    # Arrange
    path = FIXTURES / "ffcsv_old_12411_latin1.csv"

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame.attrs["variant"] == "ffcsv_old"
    assert frame.attrs["encoding"] == "cp1252"
    assert list(frame.columns) == [*TIDY_COLUMNS, "GES"]
    assert set(frame["time"]) == {"2015-12-31"}
    assert set(frame["period_start"]) == {pd.Timestamp("2015-12-31")}
    assert set(frame["measure"]) == {"BEVSTD"}
    assert set(frame["measure_label"]) == {"Bevoelkerungsstand"}
    assert set(frame["unit"]) == {"Anzahl"}
    totals = frame[frame["GES"] == ""].set_index("ags")
    assert totals.loc["03152", "value"] == 250_000
    assert totals.loc["03159", "flag"] == "-"
    assert totals.loc["09162", "region_name"] == "München, Landeshauptstadt, Kreisfreie Stadt"
    by_sex = frame[frame["GES"] != ""].groupby("ags")["value"].sum(min_count=1)
    assert by_sex["03152"] == totals.loc["03152", "value"]


def test_old_variant_wide_values_become_long_with_quality():
    # Arrange
    path = FIXTURES / "ffcsv_old_multi_value_q.csv"

    # Act
    frame = read_ffcsv(path)

    # Assert: 7 regions x 3 value columns, the __q columns are qualities, not measures
    assert len(frame) == 21
    assert list(frame.columns) == list(TIDY_COLUMNS)
    assert frame.attrs["measures"] == {
        "FLC006": "Gebietsflaeche",
        "BEVSTD": "Bevoelkerungsstand",
        "BEV001": "Bevoelkerungsdichte",
    }
    units = frame.groupby("measure")["unit"].first().to_dict()
    assert units == {"BEV001": "Ew. je qkm", "BEVSTD": "Anzahl", "FLC006": "qkm"}
    wide = frame.pivot(index="ags", columns="measure", values="value")
    assert wide.loc["DG", "FLC006"] == pytest.approx(357582.35)
    assert wide.loc["03159016", "BEV001"] == pytest.approx(1017.3)
    quality = frame.pivot(index="ags", columns="measure", values="quality")
    assert quality.loc["031", "BEVSTD"] == "p"
    assert quality.loc["DG", "BEV001"] == ""  # no quality column for BEV001
    flags = frame.pivot(index="ags", columns="measure", values="flag")
    assert flags.loc["03159", "BEVSTD"] == "." and flags.loc["03159", "BEV001"] == "..."
    assert flags.loc["03241001", "BEVSTD"] == "x" and flags.loc["03241001", "BEV001"] == "/"
    levels = frame.drop_duplicates("ags").set_index("ags")["level"].to_dict()
    assert levels["031"] == "REGBEZ" and levels["03159016"] == "GEMEINDE"


def test_old_variant_rate_column_without_code(tmp_path):
    # Arrange: the consumer price index layout (a derived rate column "Label__CH0004")
    text = (
        "Statistik_Code;Statistik_Label;Zeit_Code;Zeit_Label;Zeit;"
        "PREIS1__Verbraucherpreisindex__2020=100;PREIS1__Verbraucherpreisindex__q;"
        "Verbraucherpreisindex__CH0004;Verbraucherpreisindex__CH0004__q\n"
        "61111;Verbraucherpreisindex;JAHR;Jahr;2023;117,1;e;5,9;e\n"
    )
    path = tmp_path / "61111-0001_flat.csv"
    path.write_bytes(text.encode("latin-1"))

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame["measure"].tolist() == ["PREIS1", "Verbraucherpreisindex__CH0004"]
    assert frame["unit"].tolist() == ["2020=100", ""]
    assert frame["value"].tolist() == pytest.approx([117.1, 5.9])
    assert frame["quality"].tolist() == ["e", "e"]
    assert frame.loc[0, "period_start"] == pd.Timestamp("2023-01-01")


def test_old_variant_without_value_column(tmp_path):
    # Arrange
    path = tmp_path / "x_flat.csv"
    path.write_text("Statistik_Code;Statistik_Label;Zeit_Code;Zeit_Label;Zeit\n1;a;b;c;2020\n")

    # Act / Assert
    with pytest.raises(InputError, match="value column"):
        read_ffcsv(path)


def test_old_variant_bad_value_names_its_column(tmp_path):
    # Arrange
    source = (FIXTURES / "ffcsv_old_12411_latin1.csv").read_bytes()
    path = tmp_path / "bad_flat.csv"
    path.write_bytes(source.replace(b";250000\r\n", b";25O000\r\n"))

    # Act
    with pytest.raises(InputError) as info:
        read_ffcsv(path)

    # Assert
    assert info.value.line == 2
    assert info.value.column == "BEVSTD__Bevoelkerungsstand__Anzahl"


@pytest.mark.parametrize(
    ("cell", "iso", "start"),
    [
        ("2024-12-31", "2024-12-31", "2024-12-31"),
        ("2024", "2024", "2024-01-01"),
        ("2023-10P6M", "2023-10P6M", "2023-10-01"),
        ("2024-01P3M", "2024-01P3M", "2024-01-01"),
        ("31.12.2015", "2015-12-31", "2015-12-31"),
        ("04/1991", "1991-04", "1991-04-01"),
        ("WS 2023/24", "2023-10P6M", "2023-10-01"),
        ("SS 2024", "2024-04P6M", "2024-04-01"),
        ("2015/16", "2015/16", "2015-08-01"),
    ],
)
def test_time_cells_are_normalised_with_period_start(cell, iso, start):
    from analysis.sources.text import parse_time

    assert parse_time(cell) == (iso, pd.Timestamp(start))


def test_unknown_time_keeps_text_and_has_no_start():
    from analysis.sources.text import parse_time

    text, start = parse_time("irgendwann")
    assert text == "irgendwann" and start is pd.NaT


# --------------------------------------------------------------------------- unusual cells


def test_marked_numbers_keep_value_and_record_the_mark(tmp_path):
    # Arrange
    lines = [
        CURRENT_HEADER,
        _row("03159", "", "(12)"),
        _row("03152", "", "1234,5 p"),
        _row("03156", "", "7r"),
    ]
    path = _write(tmp_path, "\n".join(lines))

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame["value"].tolist() == pytest.approx([12.0, 1234.5, 7.0])
    assert frame["quality"].tolist() == ["()", "p", "r"]
    assert frame["flag"].tolist() == ["", "", ""]


def test_unknown_regional_variable_is_recognised_by_its_keys(tmp_path):
    # Arrange: a regional variable code the reader does not know, with official keys
    header = CURRENT_HEADER.replace("2_variable", "9_unused").split(";")
    header = ";".join(h for h in header if not h.startswith("9_unused"))
    line = (
        "99999;Test;JAHR;Jahr;2023;GVBX;Gemeindeverbände;031595401;Radolfshausen;5;Anzahl;ABC;Etwas"
    )
    path = _write(tmp_path, f"{header}\n{line}\n")

    # Act
    frame = read_ffcsv(path)

    # Assert
    row = frame.iloc[0]
    assert (row["level"], row["ags"], row["region_name"]) == ("GEMVB", "031595401", "Radolfshausen")
    assert list(frame.columns) == list(TIDY_COLUMNS)


def test_old_variant_with_trailing_separators(tmp_path):
    # Arrange
    text = (
        "Statistik_Code;Statistik_Label;Zeit_Code;Zeit_Label;Zeit;1_Merkmal_Code;1_Merkmal_Label;"
        "1_Auspraegung_Code;1_Auspraegung_Label;FLC006__Gebietsflaeche__qkm;\n"
        "11111;Gebiet;STAG;Stichtag;31.12.2022;DLAND;Bundesländer;03;Niedersachsen;47709,9;\n"
    )
    path = tmp_path / "old_flat.csv"
    path.write_bytes(text.encode("latin-1"))

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame["measure"].tolist() == ["FLC006"]
    assert frame["value"].tolist() == pytest.approx([47709.9])


@pytest.mark.parametrize(
    ("cell", "iso", "start"),
    [
        ("Wintersemester 2023/24", "2023-10P6M", "2023-10-01"),
        ("Sommersemester 2024", "2024-04P6M", "2024-04-01"),
    ],
)
def test_semester_words(cell, iso, start):
    from analysis.sources.text import parse_time

    assert parse_time(cell) == (iso, pd.Timestamp(start))


def test_genesis_online_regional_variables_get_levels_from_key_length(tmp_path):
    # Arrange: the layout of a GENESIS-Online (Zensus 2022) export, fictional values
    header = (
        "statistics_code;statistics_label;time_code;time_label;time;1_variable_code;"
        "1_variable_label;1_variable_attribute_code;1_variable_attribute_label;value;value_unit;"
        "value_variable_code;value_variable_label;value_q"
    )
    rows = [
        "1000A;Bevölkerung kompakt;STAG;Stichtag;2022-05-15;GEODL1;Deutschland;DG;Deutschland;"
        "357000,5;qkm;FLC001;Fläche;e",
        "1000A;Bevölkerung kompakt;STAG;Stichtag;2022-05-15;GEOBL1;Bundesländer;03;Niedersachsen;"
        "47700,1;qkm;FLC001;Fläche;e",
        "1000A;Bevölkerung kompakt;STAG;Stichtag;2022-05-15;GEOGM4;Gemeinden (Gebietsstand "
        "15.05.2022);031590016016;Göttingen, Stadt;116,9;qkm;FLC001;Fläche;e",
    ]
    path = _write(tmp_path, "\n".join([header, *rows]) + "\n")

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame["level"].tolist() == ["DINSG", "DLAND", "GEMEINDE"]
    assert frame["ags"].tolist() == ["DG", "03", "031590016016"]
    assert frame["quality"].tolist() == ["e", "e", "e"]
    assert list(frame.columns) == list(TIDY_COLUMNS)


def test_windows_1252_typographic_special_values(tmp_path):
    # Arrange: office software turned "-" into an en dash and "..." into an ellipsis
    text = "\n".join([CURRENT_HEADER, _row("03159", "", "–"), _row("03152", "", "…")]) + "\n"
    path = tmp_path / "office_flat.csv"
    path.write_bytes(text.encode("cp1252"))

    # Act
    frame = read_ffcsv(path)

    # Assert
    assert frame.attrs["encoding"] == "cp1252"
    assert frame["flag"].tolist() == ["–", "…"]
    assert frame["value"].isna().all()


def test_quoted_fields_with_separators_and_line_numbers(tmp_path):
    # Arrange: every field quoted (as spreadsheet software saves it), a ';' inside a label
    def quote(line: str, label: str | None = None) -> str:
        cells = line.split(";")
        if label is not None:
            cells[8] = label
        return ";".join(f'"{cell}"' for cell in cells)

    lines = [
        quote(CURRENT_HEADER),
        quote(_row("03159", "", "5")),
        quote(_row("03152", "", "6"), "A;B"),
    ]
    good = tmp_path / "good_flat.csv"
    good.write_text("\n".join(lines) + "\n")
    wrong = tmp_path / "wrong_flat.csv"
    wrong.write_text("\n".join([*lines, quote(_row("03156", "", "x7"))]) + "\n")

    # Act
    frame = read_ffcsv(good)
    with pytest.raises(InputError) as info:
        read_ffcsv(wrong)

    # Assert
    assert frame["region_name"].tolist() == ["Ort 03159", "A;B"]
    assert frame["value"].tolist() == [5.0, 6.0]
    assert (info.value.line, info.value.column) == (4, "value")
