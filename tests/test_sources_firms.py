"""Tests for analysis.sources.firms: the Hidden-Champion firm-list reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.sources.firms import (
    ALIASES,
    COLUMNS,
    REQUIRED,
    normalize_firm_name,
    parse_amount,
    read_firm_list,
)

FIXTURES = Path(__file__).parent / "fixtures" / "firms"
GERMAN = FIXTURES / "german_problems.csv"


def _issues(firms, row, kind):
    report = firms.report
    return report[(report["row"] == row) & (report["kind"] == kind)]


# --------------------------------------------------------------------------- parse_amount


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,2 Mrd. €", 1.2e9),
        ("850 Mio", 850e6),
        ("850 Mio. EUR", 850e6),
        ("1.234.567", 1_234_567.0),
        ("1,234,567", 1_234_567.0),
        ("12,5", 12.5),
        ("12,5 Mio. €", 12.5e6),
        ("1.234.567,89", 1_234_567.89),
        ("1,234,567.89", 1_234_567.89),
        ("120 Tsd", 120e3),
        ("3 bn", 3e9),
        ("850m", 850e6),
        ("EUR 1.500.000", 1.5e6),
        ("1 234 567", 1_234_567.0),
        (850_000_000, 850e6),
        (12.5, 12.5),
    ],
)
def test_parse_amount_reads_numbers_and_text(cell, expected):
    value, _ = parse_amount(cell)
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("cell", "decimal", "expected"),
    [("1.234", ",", 1234.0), ("1.234", ".", 1.234), ("1,234", ",", 1.234), ("1,234", ".", 1234.0)],
)
def test_parse_amount_ambiguous_separator_follows_file_convention(cell, decimal, expected):
    value, notes = parse_amount(cell, decimal=decimal)
    assert value == pytest.approx(expected)
    assert notes == ["ambiguous_separator"]


@pytest.mark.parametrize("cell", ["", "  ", "k.A.", "n/a", "-", None, float("nan")])
def test_parse_amount_missing(cell):
    assert parse_amount(cell) == (None, [])


@pytest.mark.parametrize("cell", ["viel", "1.23.4", "12 Äpfel", "1,2,3,4"])
def test_parse_amount_rejects_non_amounts(cell):
    with pytest.raises(ValueError, match="amount|unit|number"):
        parse_amount(cell)


def test_parse_amount_reports_what_it_normalized():
    assert parse_amount("1,2 Mrd. €")[1] == ["decimal_comma", "text_amount"]
    assert parse_amount("1.234.567")[1] == ["thousands_separator"]
    assert parse_amount("850000000")[1] == []


def test_normalize_firm_name_ignores_case_umlauts_punctuation_and_legal_form():
    assert normalize_firm_name("Müller Antriebstechnik GmbH") == normalize_firm_name(
        "MUELLER ANTRIEBSTECHNIK GmbH & Co. KG"
    )
    assert normalize_firm_name("Müller Antriebstechnik GmbH") != normalize_firm_name(
        "Müller Sensorik GmbH"
    )


# --------------------------------------------------------------------------- German CSV


@pytest.fixture(scope="module")
def german():
    return read_firm_list(GERMAN)


def test_german_list_loses_no_row(german):
    # Arrange: the fixture has 8 firm rows (lines 2-4 and 6-10) and one blank line (5).
    data_lines = [
        n
        for n, line in enumerate(GERMAN.read_text(encoding="utf-8-sig").splitlines(), 1)
        if n > 1 and line.strip()
    ]
    # Act / Assert
    assert german.n_rows == len(data_lines) == 8
    assert len(german.frame) + len(german.quarantine) == german.n_rows
    assert sorted([*german.frame["row"], *german.quarantine["row"]]) == data_lines
    assert list(german.frame.columns) == list(COLUMNS)
    assert len(_issues(german, 5, "blank_row")) == 1


def test_german_list_revenue_text_and_separators(german):
    revenue = german.frame.set_index("firm_id")["revenue_eur"]
    assert revenue["F001"] == pytest.approx(1.2e9)
    assert revenue["F002"] == pytest.approx(850e6)
    assert revenue["F003"] == pytest.approx(850e6)
    assert revenue["F005"] == pytest.approx(1_234_567)
    assert revenue["F006"] == pytest.approx(12.5e6)
    # each normalization is reported with line and column
    text = _issues(german, 2, "text_amount")
    assert len(text) == 1
    assert text["message"].iloc[0].startswith("german_problems.csv, line 2, column 'Umsatz (EUR)'")
    assert len(_issues(german, 7, "thousands_separator")) == 1
    assert len(_issues(german, 8, "decimal_comma")) == 1


def test_german_list_thousands_points_resolved_by_file_convention(german):
    employees = german.frame.set_index("firm_id")["employees"]
    assert employees["F001"] == 1200  # "1.200": the file writes decimal commas
    assert employees["F003"] == 2400
    assert len(_issues(german, 2, "ambiguous_separator")) == 1


def test_german_list_percent_and_decimal_comma_shares(german):
    share = german.frame.set_index("firm_id")["export_share"]
    assert share["F001"] == pytest.approx(0.65)
    assert share["F005"] == pytest.approx(0.125)  # "12,5 %"


def test_german_list_duplicate_flagged_first_kept(german):
    dup = german.quarantine[german.quarantine["reason"] == "duplicate"]
    assert dup["row"].tolist() == [6]
    assert dup["duplicate_of"].tolist() == [2]
    assert "F001" in set(german.frame["firm_id"]) and "F004" not in set(german.frame["firm_id"])
    message = _issues(german, 6, "duplicate")["message"].iloc[0]
    assert "line 6" in message and "duplicate of line 2" in message


def test_german_list_missing_name_quarantined(german):
    no_name = german.quarantine[german.quarantine["reason"] == "name missing"]
    assert no_name["row"].tolist() == [9]


def test_german_list_leading_zero_and_ags(german):
    frame = german.frame.set_index("firm_id")
    assert frame.loc["F001", "plz"] == "07973"
    assert "leading zero" in _issues(german, 2, "leading_zero")["message"].iloc[0]
    assert pd.isna(frame.loc["F006", "plz"]) and frame.loc["F006", "ags"] == "03159016"
    assert frame.loc["F008", "plz"] == "03707"  # a 4-digit postcode is zero-padded too


def test_german_list_unusable_values_are_warnings_naming_line_and_column(german):
    bad = german.report[(german.report["row"] == 10) & (german.report["severity"] == "warning")]
    assert set(bad["column"]) == {
        "Umsatz (EUR)",
        "Mitarbeiter",
        "Auslandsanteil",
        "Rang",
        "Markt",
        "Kontinente",
        "Gründungsjahr",
        "Bekanntheit",
        "Stand",
    }
    assert all(m.startswith("german_problems.csv, line 10, column '") for m in bad["message"])
    row = german.frame.set_index("firm_id").loc["F008"]
    assert np.isnan(row["revenue_eur"]) and pd.isna(row["market_rank"])


def test_german_list_categories_and_dates(german):
    frame = german.frame.set_index("firm_id")
    assert frame.loc["F002", "market_scope"] == "world"  # "weltweit"
    assert frame.loc["F003", "market_scope"] == "Europe"
    assert frame.loc["F003", "public_awareness"] == "medium"
    assert frame.loc["F001", "source_date"] == "2024-12-31"
    assert frame.loc["F002", "sector"] == "26.51" and frame.loc["F002", "wz_division"] == "26"
    assert frame.loc["F002", "market_rank"] == 2  # "Nr. 2"


def test_summary_counts_kinds(german):
    summary = german.summary()
    assert summary["n"].sum() == len(german.report)
    assert {"severity", "kind", "n"} <= set(summary.columns)


# --------------------------------------------------------------------------- English CSV


def test_english_headers_comma_separated():
    firms = read_firm_list(FIXTURES / "english.csv")
    frame = firms.frame.set_index("name")
    assert len(frame) == 4 and firms.quarantine.empty
    assert frame.loc["Alpha Instruments GmbH", "revenue_eur"] == pytest.approx(1_234_567)
    assert frame.loc["Beta Motion AG", "revenue_eur"] == pytest.approx(12_500_000.5)
    assert frame.loc["Gamma Coatings SE", "revenue_eur"] == pytest.approx(850e6)
    # "1,234" in a file that writes decimal points: a thousands separator
    assert frame.loc["Delta Optics KG", "revenue_eur"] == pytest.approx(1234)
    assert frame.loc["Beta Motion AG", "public_awareness"] == "low"  # "little known"
    assert frame.loc["Beta Motion AG", "market_scope"] == "North America"
    assert frame["export_share"].tolist() == pytest.approx([0.65, 0.7, 0.5, 0.45])
    assert frame["ags"].isna().all()


# --------------------------------------------------------------------------- header and columns


def test_missing_required_columns_named_with_expected_set():
    with pytest.raises(InputError) as err:
        read_firm_list(FIXTURES / "missing_columns.csv")
    message = str(err.value)
    for column in ("sector", "export_share", "market_scope", "continents", "public_awareness"):
        assert column in message
    assert "required columns are:" in message
    assert "missing_columns.csv, line 1" in message


def test_no_header_row(tmp_path):
    path = tmp_path / "nothing.csv"
    path.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    with pytest.raises(InputError, match="no header row found"):
        read_firm_list(path)


def test_two_columns_with_the_same_meaning(tmp_path):
    header = "Firma;Name;PLZ;WZ;Umsatz;Auslandsanteil;Rang;Markt;Kontinente;Bekanntheit"
    path = tmp_path / "twice.csv"
    path.write_text(header + "\nA;B;37073;28;1;0,5;1;Welt;3;gering\n", encoding="utf-8")
    with pytest.raises(InputError, match="both mean 'name'"):
        read_firm_list(path)


def test_missing_file():
    with pytest.raises(InputError, match="file not found"):
        read_firm_list(FIXTURES / "does_not_exist.csv")


def test_every_required_column_has_aliases():
    for column in REQUIRED:
        assert column in ALIASES and column in ALIASES[column]


def test_plain_percent_column(tmp_path):
    header = "Firma;PLZ;WZ;Umsatz;Auslandsanteil (%);Rang;Markt;Kontinente;Bekanntheit"
    path = tmp_path / "percent.csv"
    path.write_text(
        header + "\nA;37073;28;1;65;1;Welt;3;gering\nB;37073;28;1;1;1;Welt;3;gering\n",
        encoding="utf-8",
    )
    firms = read_firm_list(path)
    assert firms.frame["export_share"].tolist() == pytest.approx([0.65, 0.01])
    assert (firms.report["kind"] == "percent_column").sum() == 1


def test_cp1252_file(tmp_path):
    header = "Firma;PLZ;WZ;Umsatz;Auslandsanteil;Rang;Markt;Kontinente;Bekanntheit"
    path = tmp_path / "latin.csv"
    path.write_bytes(
        (header + "\nGroß Präzision GmbH;37073;28;1;0,5;1;Welt;3;gering\n").encode("cp1252")
    )
    assert read_firm_list(path).frame["name"].tolist() == ["Groß Präzision GmbH"]


# --------------------------------------------------------------------------- XLSX


def _write_xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Champions"
    sheet.append(["Weltmarktführer in Südniedersachsen"])
    sheet.append(["Stand: 31.12.2024, eigene Recherche"])
    sheet.append(
        [
            "Unternehmen",
            "Postleitzahl",
            "Ort",
            "Branche",
            "Umsatz",
            "Auslandsquote",
            "Weltmarktposition",
            "Kontinent",
            "Anzahl Kontinente",
            "Bekanntheitsgrad",
            "Quelle",
            "Datum",
        ]
    )
    sheet.append(
        [
            "Alpha GmbH",
            1067,
            "Dresden",
            28.41,
            850_000_000,
            0.65,
            1,
            "Welt",
            4,
            "gering",
            "x",
            dt.datetime(2024, 12, 31),
        ]
    )
    sheet.append(
        [
            "Beta AG",
            "37073",
            "Göttingen",
            "26.51",
            "1,2 Mrd. €",
            "55 %",
            2,
            "Welt",
            3,
            "hoch",
            "x",
            "31.12.2024",
        ]
    )
    sheet.append(
        ["Gamma KG", 37075, "Göttingen", 28, "viel", 0.5, 1, "Europa", 3, "gering", "x", None]
    )
    sheet.append(
        ["Alpha GmbH", 1067, "Dresden", 28.41, 850_000_000, 0.65, 1, "Welt", 4, "gering", "x", None]
    )
    book.save(path)


def test_xlsx_with_header_in_row_3(tmp_path):
    # Arrange
    path = tmp_path / "champions.xlsx"
    _write_xlsx(path)
    # Act
    firms = read_firm_list(path)
    # Assert
    assert firms.header_row == 3
    header_note = firms.report[firms.report["kind"] == "header_row"]
    assert len(header_note) == 1 and "row 3" in header_note["message"].iloc[0]
    frame = firms.frame.set_index("name")
    assert frame.loc["Alpha GmbH", "plz"] == "01067"  # a number cell lost the zero
    assert frame.loc["Alpha GmbH", "sector"] == "28.41"
    assert frame.loc["Alpha GmbH", "source_date"] == "2024-12-31"
    assert frame.loc["Beta AG", "revenue_eur"] == pytest.approx(1.2e9)
    assert frame.loc["Beta AG", "export_share"] == pytest.approx(0.55)
    assert frame["row"].tolist() == [4, 5, 6]
    bad = firms.report[firms.report["kind"] == "bad_number"]["message"].iloc[0]
    assert bad.startswith("champions.xlsx, sheet 'Champions', row 6, column 'Umsatz'")
    assert firms.quarantine["row"].tolist() == [7]
    assert firms.quarantine["duplicate_of"].tolist() == [4]


def test_xlsx_unknown_sheet(tmp_path):
    path = tmp_path / "champions.xlsx"
    _write_xlsx(path)
    with pytest.raises(InputError, match="no sheet 'Firms'"):
        read_firm_list(path, sheet="Firms")


def test_broken_xlsx(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match="not a readable XLSX"):
        read_firm_list(path)


def test_sector_codes_without_points(tmp_path):
    header = "Firma;PLZ;WZ;Umsatz;Auslandsanteil;Rang;Markt;Kontinente;Bekanntheit"
    path = tmp_path / "wz.csv"
    lines = [
        f"{name};37073;{wz};1;0,5;1;Welt;3;gering"
        for name, wz in (("A", "2841"), ("B", "28410"), ("C", "WZ 2008: 26.51"), ("D", "C 28"))
    ]
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    firms = read_firm_list(path)
    assert firms.frame["sector"].tolist() == ["28.41", "28.41.0", "26.51", "28"]
    assert firms.frame["wz_division"].tolist() == ["28", "28", "26", "28"]
    assert (firms.report["kind"] == "sector_code").sum() == 4


# --------------------------------------------------------------------------- one name key

SPELLINGS = [
    ("Gebr. Müller & Söhne GmbH & Co. KG", "Gebrüder Mueller und Soehne"),
    ("Weiß Präzisionstechnik UG (haftungsbeschränkt)", "WEISS-PRAEZISIONSTECHNIK"),
    ("Schmidt Maschinenbau Aktiengesellschaft", "Schmidt Maschinenbau AG"),
    ("Krämer Holding SE", "Kraemer"),
    ("Société Générale de Mécanique S.A.", "Societe Generale de Mecanique"),
]


@pytest.mark.parametrize(("a", "b"), SPELLINGS)
def test_firm_list_and_matching_use_the_same_name_key(a, b):
    from analysis.market.matching import normalize_company_name

    # one normalizer: the same key for de-duplication and matching, for every spelling
    assert normalize_firm_name(a) == normalize_company_name(a) == normalize_company_name(b)
    assert normalize_firm_name(b) == normalize_company_name(b)


def test_duplicates_in_the_firm_list_are_the_names_matching_would_merge(tmp_path):
    from analysis.market.matching import normalize_company_name

    header = "Firma;PLZ;WZ;Umsatz;Auslandsanteil;Rang;Markt;Kontinente;Bekanntheit"
    rows = [f"{a};37073;28;1;0,5;1;Welt;3;gering" for a, _ in SPELLINGS]
    rows += [f"{b};37073;28;1;0,5;1;Welt;3;gering" for _, b in SPELLINGS]
    path = tmp_path / "firms.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    firms = read_firm_list(path)

    assert len(firms.frame) == len(SPELLINGS)
    duplicates = firms.quarantine.dropna(subset=["duplicate_of"])
    assert len(duplicates) == len(SPELLINGS)
    kept = set(firms.frame["name"].map(normalize_company_name))
    assert set(duplicates["name"].map(normalize_company_name)) == kept
