"""Tests for analysis.sources.official.plz (OSM PLZ → Gemeinde → Kreis mapping)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import mirror_or_skip

from analysis.errors import InputError
from analysis.sources.official.plz import read_plz

FIXTURE = Path(__file__).parent / "fixtures" / "territory" / "plz_small.csv"
HEADER = "osm_id,ags,ort,plz,landkreis,bundesland\n"


_mirror = mirror_or_skip


def test_restores_leading_zeros_and_derives_the_kreis() -> None:
    plz = read_plz(FIXTURE)

    assert list(plz.columns) == ["plz", "ags8", "kreis_ags", "ort", "bundesland"]
    elbstadt = plz[plz["ort"] == "Elbstadt"].iloc[0]
    assert (elbstadt["plz"], elbstadt["ags8"], elbstadt["kreis_ags"]) == (
        "01067",
        "14612000",
        "14612",
    )
    nordstadt = plz[plz["ort"] == "Nordstadt"].iloc[0]
    assert (nordstadt["ags8"], nordstadt["kreis_ags"]) == ("03159016", "03159")
    assert plz["plz"].str.fullmatch(r"\d{5}").all() and plz["ags8"].str.fullmatch(r"\d{8}").all()


def test_repeated_pairs_are_folded_and_counted() -> None:
    plz = read_plz(FIXTURE)

    assert plz.attrs["n_rows_read"] == 10
    assert plz.attrs["n_duplicates"] == 1
    assert not plz.duplicated(["plz", "ags8"]).any()
    assert sorted(plz.loc[plz["plz"] == "37127", "kreis_ags"]) == ["03155", "03155", "03159"]


@pytest.mark.parametrize(
    ("row", "column", "needle"),
    [
        ("1,3159016,X,370,,Niedersachsen\n", "plz", "'370'"),
        ("1,3159016,X,37A73,,Niedersachsen\n", "plz", "'37A73'"),
        ("1,31590,X,37073,,Niedersachsen\n", "ags", "'31590'"),
        ("1,3159016,X,37073,,Bayern\n", "ags", "Land 03"),
        ("1,3159016,X,37073,Niedersachsen\n", None, "expected 6 fields, found 5"),
    ],
)
def test_bad_rows_name_file_line_and_column(tmp_path: Path, row: str, column, needle: str) -> None:
    path = tmp_path / "zuordnung_plz_ort.csv"
    path.write_text(HEADER + "2,3159016,Nordstadt,37073,,Niedersachsen\n" + row, encoding="utf-8")

    with pytest.raises(InputError) as info:
        read_plz(path)

    assert info.value.line == 3
    assert info.value.column == column
    assert needle in str(info.value) and str(path) in str(info.value)


def test_wrong_header_empty_and_binary_files_are_input_errors(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("postcode;gemeinde\n37073;Nordstadt\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "1,16064037,K\xf6rner,99998,,Th\xfcringen\n").encode("latin-1"))
    only_header = tmp_path / "header.csv"
    only_header.write_text(HEADER, encoding="utf-8")

    with pytest.raises(InputError, match="expected a header with plz"):
        read_plz(wrong)
    with pytest.raises(InputError, match="empty file"):
        read_plz(empty)
    with pytest.raises(InputError, match="UTF-8") as info:
        read_plz(latin)
    assert info.value.line == 2
    with pytest.raises(InputError, match="no data rows"):
        read_plz(only_header)


@pytest.mark.mirror
def test_real_file_matches_the_mirrors_padded_table() -> None:
    folder = _mirror() / "plz_osm"

    plz = read_plz(folder / "zuordnung_plz_ort.csv")
    oracle = pd.read_csv(folder / "plz_gemeinde_kreis.csv", dtype="str")

    assert len(plz) == 12871
    assert plz["plz"].nunique() == 8170
    assert plz["kreis_ags"].nunique() == 400
    assert (plz.groupby("plz")["kreis_ags"].nunique() > 1).sum() == 154
    mine = set(zip(plz["plz"], plz["ags8"], plz["kreis_ags"], strict=True))
    theirs = set(zip(oracle["plz"], oracle["ags8"], oracle["kreis_ags5"], strict=True))
    assert mine == theirs
