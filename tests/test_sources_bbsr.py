"""Tests for analysis.sources.official.bbsr (BBSR Kreis crosswalk and the post-2020 change list)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import mirror_or_skip

from analysis.errors import InputError
from analysis.sources.official.bbsr import check_weights, read_bbsr_crosswalk, read_kreis_changes

HEADER_1990 = (
    "Kreise\n 31.12.1990",
    "Kreisname 1990",
    "flächen-\nproportionaler\nUmsteige-schlüssel",
    "bevölkerungs- \nproportionaler \nUmsteige- \nschlüssel",
    "Fläche am 31.12.1990 in km²",
    "Bevölkerung am 31.12.1990 in 1000",
    "Kreise\n 31.12.2020",
    "Kreisname 2020",
)
HEADER_2015 = (
    "Kreise\n 31.12.2015",
    "Kreisname 2015",
    "flächen-\nproportionaler\nUmsteige-schlüssel",
    "bevölkerungs- \nproportionaler \nUmsteige- \nschlüssel",
    "beschäftigten- \nproportionaler \nUmsteige- \nschlüssel",
    "Fläche am 31.12.2015 in km²",
    "Bevölkerung am 31.12.2015 in 1000",
    "sozialvers.pflichtig Beschäftigte am Arbeitsort am 30.6.2015 in 1000",
    "Kreise\n 31.12.2020",
    "Kreisname 2020",
)


_mirror = mirror_or_skip


def _write_xlsx(path: Path, sheets: dict[str, list[tuple]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


@pytest.fixture
def small_xlsx(tmp_path: Path) -> Path:
    """Two sheets in the BBSR layout: 1990 (no employment weights) and 2015 (a split)."""
    return _write_xlsx(
        tmp_path / "ref-kreise-umrech-2020-1990-2019.xlsx",
        {
            "1990-2020": [
                HEADER_1990,
                (1001000, "KS Flensburg", 1, 1, 56.36, 86.6, 1001000, "Flensburg, Stadt"),
                (3152000, "Göttingen", 1, 1, 1117.0, 250.0, 3159000, "Göttingen"),
            ],
            "2015-2020": [
                HEADER_2015,
                (3152000, "Göttingen", 1, 1, 1, 1117.0, 255.7, 90.1, 3159000, "Göttingen"),
                (3156000, "Osterode", 1, 1, 1, 636.0, 73.9, 20.0, 3159000, "Göttingen"),
                (
                    16063000,
                    "Wartburgkreis",
                    0.75,
                    0.8,
                    0.9,
                    1300.0,
                    125.0,
                    40.0,
                    16063000,
                    "Wartburgkreis",
                ),
                (
                    16063000,
                    "Wartburgkreis",
                    0.25,
                    0.2,
                    0.1,
                    40.0,
                    3.3,
                    0.7,
                    16066000,
                    "Schmalkalden-Meiningen",
                ),
                (None, None, None, None, None, None, None, None, None, None),
            ],
        },
    )


def test_reads_sheets_into_long_form_with_padded_codes(small_xlsx: Path) -> None:
    crosswalk = read_bbsr_crosswalk(small_xlsx)

    assert list(crosswalk.columns) == [
        "year", "kreis_from", "name_from", "kreis_to", "name_to", "w_area", "w_pop", "w_emp",
        "area_km2_from", "pop_1000_from", "svb_1000_from", "year_to",
    ]  # fmt: skip
    assert len(crosswalk) == 6  # the empty trailing row is not a row
    assert crosswalk.attrs["year_to"] == 2020
    flensburg = crosswalk.iloc[0]
    assert (flensburg["year"], flensburg["kreis_from"], flensburg["kreis_to"]) == (
        1990,
        "01001",
        "01001",
    )
    split = crosswalk.query("year == 2015 and kreis_from == '16063'").set_index("kreis_to")
    assert split.loc["16066", "w_pop"] == pytest.approx(0.2)
    assert split.loc["16066", "w_emp"] == pytest.approx(0.1)


def test_employment_weights_are_missing_before_1997(small_xlsx: Path) -> None:
    crosswalk = read_bbsr_crosswalk(small_xlsx)

    assert crosswalk.loc[crosswalk["year"] == 1990, "w_emp"].isna().all()
    assert crosswalk.loc[crosswalk["year"] == 1990, "svb_1000_from"].isna().all()
    assert crosswalk.loc[crosswalk["year"] == 2015, "w_emp"].notna().all()


def test_weights_that_do_not_sum_to_one_are_reported(tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "bad.xlsx",
        {
            "2015-2020": [
                HEADER_2015,
                (16063000, "W", 0.75, 0.8, 0.9, 1, 1, 1, 16063000, "W"),
                (16063000, "W", 0.25, 0.3, 0.1, 1, 1, 1, 16066000, "S"),
            ]
        },
    )

    with pytest.raises(InputError) as info:
        read_bbsr_crosswalk(path)

    message = str(info.value)
    assert "2015 16063 w_pop sums to 1.1" in message
    assert "w_area" not in message.split("offender")[1]  # area weights are fine


def test_check_weights_flags_partly_missing_weights() -> None:
    crosswalk = pd.DataFrame(
        {
            "year": [2000, 2000, 2001],
            "kreis_from": ["01001", "01001", "01001"],
            "w_area": [0.5, 0.5, 1.0],
            "w_pop": [0.5, 0.5, 1.0],
            "w_emp": [0.5, np.nan, np.nan],
        }
    )

    offenders = check_weights(crosswalk)

    assert offenders[["year", "kreis_from", "weight"]].values.tolist() == [[2000, "01001", "w_emp"]]


def test_malformed_code_names_sheet_row_and_column(tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "bad.xlsx",
        {"2015-2020": [HEADER_2015, (1001000, "F", 1, 1, 1, 1, 1, 1, 1001000, "F"),
                       ("10x1", "F", 1, 1, 1, 1, 1, 1, 1001000, "F")]},
    )  # fmt: skip

    with pytest.raises(InputError) as info:
        read_bbsr_crosswalk(path)

    assert info.value.line == 3
    assert info.value.column == "A"
    assert "sheet '2015-2020'" in str(info.value) and "'10x1'" in str(info.value)


def test_missing_weight_column_is_an_input_error(tmp_path: Path) -> None:
    header = tuple(h for h in HEADER_1990 if "bevölkerungs" not in h)
    path = _write_xlsx(
        tmp_path / "bad.xlsx", {"1990-2020": [header, (1001000, "F", 1, 1, 1, 1001000, "F")]}
    )

    with pytest.raises(InputError, match="w_pop"):
        read_bbsr_crosswalk(path)


def test_not_an_xlsx_and_truncated_xlsx_are_input_errors(tmp_path: Path, small_xlsx: Path) -> None:
    text = tmp_path / "text.xlsx"
    text.write_text("year;kreis\n")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(small_xlsx.read_bytes()[:2000])

    for path in (text, truncated):
        with pytest.raises(InputError, match="xlsx"):
            read_bbsr_crosswalk(path)


def test_sheets_without_year_names_are_an_input_error(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "x.xlsx", {"Erläuterungen": [("text",)]})

    with pytest.raises(InputError, match="'<year>-<target year>'"):
        read_bbsr_crosswalk(path)


def test_kreis_changes_file_is_read_and_validated(tmp_path: Path) -> None:
    good = tmp_path / "changes.csv"
    good.write_text(
        "kreis_from,name_from,kreis_to,name_to,effective_date,w_area,w_pop,note\n"
        '16056,"Eisenach, Stadt",16063,Wartburgkreis,2021-07-01,1,1,"merger"\n',
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "kreis_from,kreis_to,effective_date,w_area,w_pop\n16056,16063,1.7.2021,1,1\n",
        encoding="utf-8",
    )

    changes = read_kreis_changes(good)

    assert changes.loc[0, ["kreis_from", "kreis_to"]].tolist() == ["16056", "16063"]
    assert changes.loc[0, "effective_date"] == pd.Timestamp("2021-07-01")
    assert changes.loc[0, "w_emp"] == 1.0  # whole merger: employment follows population
    with pytest.raises(InputError) as info:
        read_kreis_changes(bad)
    assert (info.value.line, info.value.column) == (2, "effective_date")


@pytest.fixture(scope="module")
def real_crosswalk() -> pd.DataFrame:
    return read_bbsr_crosswalk(
        _mirror() / "bbsr_kreis_crosswalk" / "ref-kreise-umrech-2020-1990-2019.xlsx"
    )


@pytest.mark.mirror
def test_real_crosswalk_matches_the_mirrors_derived_csv(real_crosswalk: pd.DataFrame) -> None:
    oracle = pd.read_csv(
        _mirror() / "bbsr_kreis_crosswalk" / "kreis_crosswalk_1990_2019_to_2020.csv",
        dtype={"kreis_from": "str", "kreis_to_2020": "str"},
    ).rename(columns={"year_from": "year", "kreis_to_2020": "kreis_to", "name_to_2020": "name_to"})
    key = ["year", "kreis_from", "kreis_to"]

    mine = real_crosswalk.sort_values(key).reset_index(drop=True)
    oracle = oracle.sort_values(key).reset_index(drop=True)

    assert len(mine) == len(oracle) == 13771
    assert mine[key].equals(oracle[key].astype({"year": "int64"}))
    for col in ("w_area", "w_pop", "w_emp"):
        np.testing.assert_allclose(mine[col], oracle[col], rtol=0, atol=1e-9, err_msg=col)
    # The derived CSV rounds areas and counts to 2 decimals.
    for col in ("area_km2_from", "pop_1000_from", "svb_1000_from"):
        np.testing.assert_allclose(mine[col], oracle[col], rtol=0, atol=0.005 + 1e-9, err_msg=col)
    # BBSR left some 1990/1993 names blank (" "); the reader strips them to "".
    assert (mine["name_from"] == oracle["name_from"].str.strip()).all()


@pytest.mark.mirror
def test_real_crosswalk_facts(real_crosswalk: pd.DataFrame) -> None:
    per_year = real_crosswalk.groupby("year")["kreis_from"].nunique()

    assert real_crosswalk["kreis_to"].nunique() == 401  # Gebietsstand 31.12.2020
    assert per_year[1990] == 543 and per_year[2015] == 402 and per_year[2019] == 401
    assert check_weights(real_crosswalk).empty
    goettingen = real_crosswalk.query("year == 2015 and kreis_from in ['03152', '03156']")
    assert set(goettingen["kreis_to"]) == {"03159"} and (goettingen["w_pop"] == 1).all()
    demmin = real_crosswalk.query("year == 2010 and kreis_from == '13052'").set_index("kreis_to")
    assert demmin["w_area"].round(3).to_dict() == {"13071": 0.822, "13075": 0.178}


@pytest.mark.mirror
def test_real_change_list_agrees_with_the_constant() -> None:
    from analysis.territory import EISENACH_2021

    changes = read_kreis_changes(
        _mirror() / "bbsr_kreis_crosswalk" / "kreis_changes_2020_to_2021_handmade.csv"
    )

    assert len(changes) == 1
    row = changes.iloc[0]
    assert (row["kreis_from"], row["kreis_to"]) == (
        EISENACH_2021.kreis_from,
        EISENACH_2021.kreis_to,
    )
    assert row["effective_date"].date() == EISENACH_2021.effective_date
