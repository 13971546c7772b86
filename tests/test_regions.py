"""Regional computations by hand, and the indicator loader against the demo's truth."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis.provenance
from analysis.demo import write_demo
from analysis.demo.geography import DEMO_COMPARE, DEMO_REGION, build_geography
from analysis.errors import InputError
from analysis.regions import (
    DEMO_CREDIT,
    INDICATORS,
    KEY_COLUMNS,
    compare_regions,
    find_tables,
    known_kreis_codes,
    load_kreis_indicators,
    location_quotient,
    location_quotients,
    nearest_peers,
    rank_kreise,
    standardize,
    validate_kreis_code,
)

# ------------------------------------------------------------------ pure functions


@pytest.fixture
def tiny() -> pd.DataFrame:
    # a: mean 2, sd 1 (ddof 0) -> z = -1, 1, -1, 1; b: mean 3, sd 1 -> z = -1, -1, 1, 1
    return pd.DataFrame(
        {
            "ags": ["01001", "01002", "01003", "01004", "01005"],
            "name": ["A", "B", "C", "D", "E"],
            "a": [1.0, 3.0, 1.0, 3.0, np.nan],
            "b": [2.0, 2.0, 4.0, 4.0, np.nan],
            "part": [30.0, 10.0, 0.0, 60.0, 5.0],
            "total": [1000.0, 1000.0, 500.0, 2000.0, 0.0],
        }
    )


def test_rank_one_is_highest_and_ties_share_the_best_rank():
    frame = pd.DataFrame({"ags": ["1", "2", "3", "4", "5"], "x": [5.0, 7.0, 5.0, 1.0, np.nan]})

    ranks = rank_kreise(frame, "x")
    lowest_first = rank_kreise(frame, "x", ascending=True)

    assert ranks.name == "rank_x"
    assert ranks.index.tolist() == ["1", "2", "3", "4", "5"]
    assert ranks.iloc[:4].tolist() == [2, 1, 2, 4]
    assert pd.isna(ranks["5"])
    assert lowest_first.iloc[:4].tolist() == [2, 4, 2, 1]


def test_standardize_by_hand_with_population_sd(tiny):
    z = standardize(tiny, ["a", "b"], log="none")

    assert z.loc["01001"].tolist() == [-1.0, -1.0]
    assert z.loc["01004"].tolist() == [1.0, 1.0]
    assert z.loc["01005"].isna().all()
    assert z.attrs["transform"] == {"a": "none", "b": "none"}


def test_standardize_logs_a_skewed_non_negative_column_only():
    frame = pd.DataFrame(
        {"ags": list("abcdef"), "skewed": [1.0, 1, 1, 1, 1, 100], "signed": [-5.0, -1, 0, 1, 2, 30]}
    )
    expected_log = np.log1p(frame["skewed"].to_numpy())
    expected = (expected_log - expected_log.mean()) / expected_log.std()

    z = standardize(frame, ["skewed", "signed"])

    assert z.attrs["transform"] == {"skewed": "log1p", "signed": "none"}
    assert np.allclose(z["skewed"], expected)
    assert z["signed"].mean() == pytest.approx(0.0, abs=1e-12)
    assert z["signed"].std(ddof=0) == pytest.approx(1.0)


def test_standardize_constant_column_is_zero():
    frame = pd.DataFrame({"ags": ["a", "b"], "c": [3.0, 3.0]})

    assert standardize(frame, ["c"])["c"].tolist() == [0.0, 0.0]


def test_nearest_peers_by_hand(tiny):
    peers = nearest_peers(tiny, "01001", ["a", "b"], n=3, log="none")

    # z(01001) = (-1, -1); 01002 (1, -1) and 01003 (-1, 1) at 2; 01004 (1, 1) at sqrt(8)
    assert peers["ags"].tolist() == ["01002", "01003", "01004"]
    assert np.allclose(peers["distance"], [2.0, 2.0, math.sqrt(8)])
    assert peers.columns.tolist() == ["ags", "name", "distance", "a", "b"]
    assert peers["a"].tolist() == [3.0, 1.0, 3.0]
    assert peers.attrs["n_excluded_incomplete"] == 1


def test_nearest_peers_limits_n_and_rejects_bad_regions(tiny):
    assert len(nearest_peers(tiny, "01004", ["a", "b"], n=1, log="none")) == 1
    with pytest.raises(ValueError, match="not in the indicator frame"):
        nearest_peers(tiny, "99999", ["a", "b"])
    with pytest.raises(ValueError, match="no value for a, b"):
        nearest_peers(tiny, "01005", ["a", "b"])


def test_location_quotient_by_hand(tiny):
    assert location_quotient(30, 1000, 200, 10000) == pytest.approx(1.5)
    assert math.isnan(location_quotient(5, 0, 200, 10000))
    assert math.isnan(location_quotient(5, 10, 0, 10000))

    lq = location_quotients(tiny, "part", "total")

    # national share over Kreise with both values: 105 / 4500
    national = 105 / 4500
    assert lq.name == "lq_part"
    assert lq["01001"] == pytest.approx(0.03 / national)
    assert lq["01003"] == 0.0
    assert lq["01004"] == pytest.approx(0.03 / national)
    assert math.isnan(lq["01005"])


def test_location_quotient_is_vectorized_over_series():
    part = pd.Series([10.0, 40.0], index=["x", "y"])
    total = pd.Series([100.0, 100.0], index=["x", "y"])

    lq = location_quotient(part, total, 50.0, 200.0)

    assert lq.index.tolist() == ["x", "y"]
    assert lq.tolist() == [pytest.approx(0.4), pytest.approx(1.6)]


def test_compare_regions_side_by_side(tiny):
    table = compare_regions(tiny, "01002", "01003", columns=["a", "part"])

    assert table.loc["a", "region"] == 3.0 and table.loc["a", "compare_to"] == 1.0
    assert table.loc["a", "difference"] == 2.0 and table.loc["a", "ratio"] == 3.0
    assert table.loc["a", "median"] == 2.0
    assert table.loc["a", "rank_region"] == 1 and table.loc["a", "rank_compare_to"] == 3
    assert math.isnan(table.loc["part", "ratio"])  # compare_to has 0
    assert table.loc["part", "n_ranked"] == 5
    assert table.attrs["region_name"] == "B" and table.attrs["compare_to_name"] == "C"


# ------------------------------------------------------------------- the loader


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    return write_demo(tmp_path_factory.mktemp("regions") / "demo", seed=1)


@pytest.fixture(scope="module")
def geo():
    return build_geography(1)


@pytest.fixture
def fresh_session(monkeypatch):
    monkeypatch.setattr(analysis.provenance._SESSION, "inputs", {})


def test_loader_recovers_the_geography_exactly(demo_root, geo, fresh_session):
    kreise = load_kreis_indicators("demo", root=demo_root)
    truth = geo.kreise.set_index("ags")

    assert kreise.columns.tolist() == [*KEY_COLUMNS, *INDICATORS]
    assert kreise["ags"].tolist() == sorted(truth.index)  # 400, no abolished or city rows
    assert kreise["population"].sum() == truth["population"].sum()
    assert kreise["population_prev"].sum() == truth["population_prev"].sum()
    frame = kreise.set_index("ags")
    for column in ("population", "population_prev", "employees", "students_total"):
        assert np.array_equal(
            frame[column].to_numpy(), truth.loc[frame.index, column].to_numpy()
        ), column
    # MINT students: exact, except where the demo suppressed HS-FG08 as '.' (unknown, NaN)
    suppressed = sorted(
        json.loads((demo_root / "TRUTH.json").read_text())["regions"]["suppressed_student_cells"]
    )
    assert len(suppressed) == 2
    assert kreise.attrs["suppressed"] == {"mint_students": suppressed}
    assert frame.loc[suppressed, "mint_students"].isna().all()
    known = frame.index.difference(suppressed)
    assert np.array_equal(frame.loc[known, "mint_students"], truth.loc[known, "mint_students"])
    assert np.allclose(frame["area_km2"], truth.loc[frame.index, "area_km2"])
    assert set(frame["kreis_type"]) == {"Kreisfreie Stadt", "Landkreis"}
    assert (frame["kreis_type"] == truth.loc[frame.index, "kreis_type"]).all()


def test_loader_derives_rates_by_hand(demo_root, fresh_session):
    kreise = load_kreis_indicators("demo", root=demo_root).set_index("ags")
    row = kreise.loc[DEMO_REGION]

    assert row["mint_students_per_1000"] == pytest.approx(
        row["mint_students"] / row["population"] * 1000
    )
    assert row["employees_per_1000"] == pytest.approx(row["employees"] / row["population"] * 1000)
    assert row["population_change_pct"] == pytest.approx(
        (row["population"] / row["population_prev"] - 1) * 100
    )
    assert row["mint_share_of_students_pct"] == pytest.approx(
        row["mint_students"] / row["students_total"] * 100
    )
    assert (
        row["mint_students"] == row["mint_math_science_students"] + row["mint_engineering_students"]
    )
    no_students = kreise[kreise["students_total"] == 0]
    assert len(no_students) and no_students["mint_share_of_students_pct"].isna().all()
    assert (no_students["mint_students_per_1000"] == 0).all()


def test_loader_names_missing_indicators_and_notes_sources(demo_root, fresh_session):
    kreise = load_kreis_indicators("demo", root=demo_root)
    noted = analysis.provenance.noted_inputs()

    assert kreise.attrs["missing_indicators"] == [
        "business_registrations",
        "business_registrations_per_10000",
        "income_per_taxpayer_eur",
        "abitur_share_pct",
        "mint_employment_share_pct",
        "median_wage_mint_eur",
        "population_longrun_start",
        "population_share_longrun_start_pct",
        "population_share_pct",
        "population_share_change_longrun_pct",
    ]
    assert kreise["income_per_taxpayer_eur"].isna().all()
    assert kreise.attrs["reference_dates"] == {
        "population": "2024-12-31",
        "population_prev": "2023-12-31",
        "employees": "2024-06-30",
        "students": "2023-10P6M",
        "mint_students": "2023-10P6M",
    }
    assert any("long-run change" in note for note in kreise.attrs["notes"])
    assert len(noted) == 4
    assert {item["credit"] for item in noted} == {DEMO_CREDIT}
    assert all(item["sha256"] and item["reference_date"] for item in noted)


def test_known_codes_are_fast_and_validation_names_valid_codes(demo_root, geo):
    start = time.perf_counter()
    codes = known_kreis_codes("demo", root=demo_root)
    elapsed = time.perf_counter() - start

    assert codes == set(geo.kreise["ags"])
    assert elapsed < 1.0
    validate_kreis_code(DEMO_REGION, "demo", root=demo_root)
    with pytest.raises(ValueError, match=r"'99999' is not a Kreis of the demo data.*400 Kreise"):
        validate_kreis_code("99999", "demo", root=demo_root)
    with pytest.raises(ValueError, match=r"such as 09801"):
        validate_kreis_code("09162", "demo", root=demo_root)


def test_validation_hints_at_a_lost_leading_zero(demo_root):
    with pytest.raises(ValueError, match=rf"did you mean '{DEMO_REGION}'"):
        validate_kreis_code(DEMO_REGION[1:], "demo", root=demo_root)


def test_missing_dataset_says_how_to_create_it(tmp_path):
    with pytest.raises(InputError, match="workbook demo"):
        known_kreis_codes("demo", root=tmp_path)
    with pytest.raises(InputError, match="workbook data fetch"):
        load_kreis_indicators("official", root=tmp_path)


def test_tables_are_found_by_statistic_code_not_by_name(demo_root, tmp_path):
    official = tmp_path / "official" / "anywhere"
    official.mkdir(parents=True)
    source = demo_root / "official" / "genesis_ffcsv"
    (official / "bevoelkerung.csv").write_bytes((source / "12411-01-01-4_de_flat.csv").read_bytes())
    (official / "x.csv").write_bytes((source / "21311-01-01-4-B_de_flat.csv").read_bytes())
    (official / "notes.csv").write_text("a;b\n1;2\n", encoding="utf-8")

    tables = find_tables(tmp_path / "official")
    kreise = load_kreis_indicators("official", root=tmp_path)

    assert sorted(tables) == ["12411", "21311"]
    assert len(kreise) == 400  # Kreise from the labels: abolished ('-') and 8-digit rows left out
    assert "employees" in kreise.attrs["missing_indicators"]
    assert any("no Kreis list" in note for note in kreise.attrs["notes"])
    assert set(kreise["kreis_type"]) == {"Kreisfreie Stadt", "Landkreis"}


_HEADER_12411 = (
    "statistics_code;statistics_label;time_code;time_label;time;1_variable_code;1_variable_label;"
    "1_variable_attribute_code;1_variable_attribute_label;2_variable_code;2_variable_label;"
    "2_variable_attribute_code;2_variable_attribute_label;value;value_unit;value_variable_code;"
    "value_variable_label"
)


def _ffcsv(rows: list[tuple[str, str, str, str]]) -> bytes:
    """A tiny 12411-like flat file: (time, ags, label, value)."""
    lines = [_HEADER_12411]
    for time_, ags, label, value in rows:
        lines.append(
            f"12411;Fortschreibung des Bevölkerungsstandes;STAG;Stichtag;{time_};KREISE;"
            f"Kreise und kreisfreie Städte;{ags};{label};GES;Geschlecht;;Insgesamt;{value};"
            "Anzahl;BEVSTD;Bevölkerungsstand"
        )
    return b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8")


def test_a_date_where_every_kreis_is_dash_counts_as_not_published(tmp_path):
    folder = tmp_path / "official" / "genesis_ffcsv"
    folder.mkdir(parents=True)
    (folder / "pop.csv").write_bytes(
        _ffcsv(
            [
                ("2023-12-31", "01001", "Aland, kreisfreie Stadt", "1000"),
                ("2023-12-31", "01051", "Bkreis, Kreis", "-"),
                ("2024-12-31", "01001", "Aland, kreisfreie Stadt", "1010"),
                ("2024-12-31", "01051", "Bkreis, Kreis", "500"),
                ("2024-12-31", "01052", "Cdorf, Landkreis", "-"),
                ("2024-12-31", "01001001", "Aland-Mitte", "300"),
            ]
        )
    )
    employees = _ffcsv(
        [
            ("2023-06-30", "01001", "Aland, kreisfreie Stadt", "400"),
            ("2023-06-30", "01051", "Bkreis, Kreis", "-"),
            ("2024-06-30", "01001", "Aland, kreisfreie Stadt", "-"),
            ("2024-06-30", "01051", "Bkreis, Kreis", "-"),
        ]
    ).replace(b"12411;Fortschreibung des Bev\xc3\xb6lkerungsstandes", b"13111;Besch\xc3\xa4ftigte")
    (folder / "emp.csv").write_bytes(employees)

    kreise = load_kreis_indicators("official", root=tmp_path).set_index("ags")

    assert kreise.index.tolist() == ["01001", "01051"]  # 01052 has only '-': not current
    assert kreise["population"].tolist() == [1010.0, 500.0]
    # '-' on a date that has numbers for other Kreise is "nothing": 0
    assert kreise["population_prev"].tolist() == [1000.0, 0.0]
    assert kreise["employees"].tolist() == [400.0, 0.0]
    assert kreise.attrs["reference_dates"]["employees"] == "2023-06-30"
    assert any("2024-06-30" in note for note in kreise.attrs["notes"])
    assert kreise.loc["01051", "kreis_type_detail"] == "Kreis"
    assert kreise.loc["01001", "name"] == "Aland, kreisfreie Stadt"


@pytest.mark.mirror
def test_official_mirror_loads_400_kreise_with_real_totals(mirror, fresh_session):
    kreise = load_kreis_indicators("official", root=mirror.parent).set_index("ags")
    noted = analysis.provenance.noted_inputs()

    assert len(kreise) == 400
    assert kreise["population"].sum() == 83_577_140
    assert kreise.loc["03159", "population"] == 328_028
    assert kreise.loc["09162", "kreis_type"] == "Kreisfreie Stadt"
    assert kreise.loc["09184", "kreis_type"] == "Landkreis"
    # 13111 lists only '-' for Kreise at 2025-06-30: the 2024-06-30 file is taken, and said so
    assert kreise.attrs["reference_dates"]["employees"] == "2024-06-30"
    assert "2025-06-30" in kreise.attrs["vintages"]["employees"]["why"]
    assert kreise.loc["03159", "employees"] == 134_251
    assert kreise.loc["09162", "employees"] == 970_646
    assert kreise.loc["09184", "employees"] == 265_273
    # two vintages of 12411 give the change 2023 -> 2024
    assert kreise["population_prev"].sum() == 83_456_045
    assert kreise.loc["03159", "population"] - kreise.loc["03159", "population_prev"] == -629
    assert kreise.loc["11000", "population_prev"] == 3_662_381
    # Thüringen suppresses HS-FG08 ('.') in Erfurt, Gera, Jena and the Wartburgkreis
    assert kreise.attrs["suppressed"]["mint_students"] == ["16051", "16052", "16053", "16063"]
    assert kreise["mint_students"].isna().sum() == 4
    assert kreise.loc["16053", "students_total"] == 20_789
    assert any(item["credit"].startswith("© Statistische Ämter") for item in noted)
    assert known_kreis_codes("official", root=mirror.parent) == set(kreise.index)
    peers = nearest_peers(
        kreise.reset_index(), "03159", ["mint_students_per_1000", "density_per_km2"]
    )
    assert len(peers) == 5 and "03159" not in set(peers["ags"])


def test_showcase_kreise_rank_high_on_mint_in_the_demo(demo_root, fresh_session):
    kreise = load_kreis_indicators("demo", root=demo_root)
    ranks = rank_kreise(kreise, "mint_students_per_1000")

    assert ranks[DEMO_REGION] <= 40
    assert ranks[DEMO_COMPARE] <= 40
    table = compare_regions(kreise, DEMO_REGION, DEMO_COMPARE)
    assert "mint_students_per_1000" in table.index
    assert table.loc["population", "ratio"] < 0.5


def test_validating_a_code_does_not_import_pandas(demo_root):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from analysis.regions import validate_kreis_code\n"
        f"validate_kreis_code({DEMO_REGION!r}, 'demo', root={str(demo_root)!r})\n"
        "print('pandas' in sys.modules, 'numpy' in sys.modules)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["False", "False"]


@pytest.mark.mirror
@pytest.mark.slow
def test_official_without_kreis_list_takes_names_and_area_from_gv_isys(
    mirror, tmp_path, fresh_session
):
    for folder, name in (
        ("genesis_ffcsv", "12411-01-01-4_de_flat.csv"),
        ("gv_isys_2024", "AuszugGV2QAktuell.xlsx"),
    ):
        (tmp_path / "official" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "official" / folder / name).symlink_to(mirror / folder / name)

    kreise = load_kreis_indicators("official", root=tmp_path).set_index("ags")

    assert len(kreise) == 400
    assert kreise["area_km2"].sum() == pytest.approx(357_588.5, abs=0.5)
    assert kreise.loc["03159", "name"] == "Göttingen"
    assert kreise.loc["10041", "kreis_type_detail"] == "Regionalverband"
    assert kreise.loc["10041", "kreis_type"] == "Landkreis"
    assert {"employees", "students_total"} <= set(kreise.attrs["missing_indicators"])


def _flat(statistic: str, label: str, rows: list[tuple[str, ...]], dims: int) -> bytes:
    """A current-variant flat file; rows: (time, ags, [dim code, dim attr, attr label]..., value,
    unit, measure, measure label)."""
    head = ["statistics_code", "statistics_label", "time_code", "time_label", "time"]
    for i in range(1, dims + 1):
        head += [
            f"{i}_variable_{p}" for p in ("code", "label", "attribute_code", "attribute_label")
        ]
    head += ["value", "value_unit", "value_variable_code", "value_variable_label"]
    lines = [";".join(head)]
    for time_, ags, *rest in rows:
        fields = [statistic, label, "JAHR", "Jahr", time_, "KREISE", "Kreise", ags, f"Kreis {ags}"]
        fields += list(rest)
        lines.append(";".join(fields))
    return b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8")


def test_optional_tables_are_found_by_their_labels(tmp_path):
    folder = tmp_path / "official" / "genesis_ffcsv"
    folder.mkdir(parents=True)
    (folder / "pop.csv").write_bytes(
        _ffcsv(
            [
                ("2024-12-31", "01001", "Aland, kreisfreie Stadt", "20000"),
                ("2024-12-31", "01051", "Bkreis, Kreis", "50000"),
            ]
        )
    )
    (folder / "gewerbe.csv").write_bytes(
        _flat(
            "52311",
            "Gewerbeanzeigenstatistik",
            [
                ("2023", "01001", "30", "Anzahl", "GEW001", "Gewerbeanmeldungen"),
                ("2023", "01001", "20", "Anzahl", "GEW002", "Gewerbeabmeldungen"),
                ("2023", "01051", "100", "Anzahl", "GEW001", "Gewerbeanmeldungen"),
                ("2023", "01051", "90", "Anzahl", "GEW002", "Gewerbeabmeldungen"),
            ],
            dims=1,
        )
    )
    (folder / "steuer.csv").write_bytes(
        _flat(
            "73111",
            "Lohn- und Einkommensteuerstatistik",
            [
                (
                    "2020",
                    "01001",
                    "10000",
                    "Anzahl",
                    "STP001",
                    "Lohn- und Einkommensteuerpflichtige",
                ),
                ("2020", "01001", "450000", "Tsd. EUR", "STP002", "Gesamtbetrag der Einkünfte"),
                (
                    "2020",
                    "01051",
                    "25000",
                    "Anzahl",
                    "STP001",
                    "Lohn- und Einkommensteuerpflichtige",
                ),
                ("2020", "01051", "1000000", "Tsd. EUR", "STP002", "Gesamtbetrag der Einkünfte"),
            ],
            dims=1,
        )
    )
    leavers = [
        ("2023", ags, "ABS", "Abschlussart", code, label, value, "Anzahl", "SCH001", "Absolventen")
        for ags, values in (("01001", ("200", "80", "30")), ("01051", ("500", "150", "100")))
        for (code, label), value in zip(
            (
                ("", "Insgesamt"),
                ("ABS05", "mit allgemeiner Hochschulreife"),
                ("ABS04", "mit Fachhochschulreife"),
            ),
            values,
            strict=True,
        )
    ]
    (folder / "schule.csv").write_bytes(
        _flat("21111", "Statistik der allgemeinbildenden Schulen", leavers, dims=2)
    )

    kreise = load_kreis_indicators("official", root=tmp_path).set_index("ags")

    assert kreise["business_registrations"].tolist() == [30.0, 100.0]
    assert kreise["business_registrations_per_10000"].tolist() == [15.0, 20.0]
    assert kreise["income_per_taxpayer_eur"].tolist() == [45_000.0, 40_000.0]
    assert kreise["abitur_share_pct"].tolist() == [40.0, 30.0]
    assert kreise.attrs["reference_dates"]["income_per_taxpayer_eur"] == "2020"
    assert not {"business_registrations", "income_per_taxpayer_eur", "abitur_share_pct"} & set(
        kreise.attrs["missing_indicators"]
    )


def test_vintages_of_one_table_are_merged_newest_file_first(tmp_path):
    folder = tmp_path / "official" / "genesis_ffcsv"
    folder.mkdir(parents=True)
    # the older release holds 2023 only; the newer holds a revised 2023 and 2024
    (folder / "12411-01-01-4_2023-12-31_de_flat.csv").write_bytes(
        _ffcsv(
            [
                ("2023-12-31", "01001", "Aland, kreisfreie Stadt", "990"),
                ("2023-12-31", "01051", "Bkreis, Kreis", "480"),
            ]
        )
    )
    (folder / "12411-01-01-4_de_flat.csv").write_bytes(
        _ffcsv(
            [
                ("2023-12-31", "01001", "Aland, kreisfreie Stadt", "1000"),
                ("2024-12-31", "01001", "Aland, kreisfreie Stadt", "1010"),
                ("2024-12-31", "01051", "Bkreis, Kreis", "500"),
            ]
        )
    )
    employees = [
        ("2025-06-30", "01001", "-", "Anzahl", "ERW032", "SV-Beschäftigte am Arbeitsort"),
        ("2025-06-30", "01051", "-", "Anzahl", "ERW032", "SV-Beschäftigte am Arbeitsort"),
    ]
    (folder / "13111-01-03-4_de_flat.csv").write_bytes(
        _flat("13111", "Beschäftigtenstatistik", employees, dims=1)
    )
    (folder / "13111-01-03-4_2024-06-30_de_flat.csv").write_bytes(
        _flat(
            "13111",
            "Beschäftigtenstatistik",
            [
                (t.replace("2025", "2024"), a, v, *rest)
                for t, a, _, *rest in employees
                for v in ["7"]
            ],
            dims=1,
        )
    )

    kreise = load_kreis_indicators("official", root=tmp_path).set_index("ags")

    assert kreise["population"].tolist() == [1010.0, 500.0]
    # 2023: the newer file's revised 1000 wins for 01001; 01051 only in the older file
    assert kreise["population_prev"].tolist() == [1000.0, 480.0]
    assert kreise["employees"].tolist() == [7.0, 7.0]
    vintages = kreise.attrs["vintages"]
    assert vintages["employees"]["files"] == ["13111-01-03-4_2024-06-30_de_flat.csv"]
    assert "2025-06-30" in vintages["employees"]["why"]
    assert vintages["population_prev"]["files"] == [
        "12411-01-01-4_2023-12-31_de_flat.csv",
        "12411-01-01-4_de_flat.csv",
    ]


def test_city_states_given_as_land_rows_become_kreise():
    from analysis.regions.tables import kreis_rows

    frame = pd.DataFrame(
        {
            "level": ["DLAND", "DLAND", "KREISE", "DLAND", "KREISE"],
            "ags": ["02", "11", "03159", "03", "11000"],
            "value": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )

    rows = kreis_rows(frame).set_index("ags")["value"]

    # Hamburg from its Land row; Berlin has its own Kreis row, which wins; Niedersachsen stays out
    assert rows.to_dict() == {"03159": 3.0, "11000": 5.0, "02000": 1.0}


def test_every_indicator_with_data_has_a_reference_date(demo_root):
    kreise = load_kreis_indicators("demo", root=demo_root)
    dates = kreise.attrs["indicator_dates"]

    with_data = [c for c in INDICATORS if c not in kreise.attrs["missing_indicators"]]
    assert set(dates) == set(with_data) - {"area_km2"}
    assert dates["employees_per_1000"] == "2024-06-30"
    assert dates["population_change_pct"] == "2023-12-31 → 2024-12-31"


def test_without_an_older_table_the_long_run_says_why(demo_root):
    from analysis.regions.longrun import describe_longrun

    kreise = load_kreis_indicators("demo", root=demo_root)

    assert kreise.attrs["longrun"] == {}
    assert describe_longrun(kreise).startswith("No long-run change")


# --------------------------------------------------------------------------- specialisation


def test_specialisation_quotient_by_hand_and_the_per_inhabitant_index_apart():
    from analysis.regions import (
        midrank_percentile,
        per_inhabitant_index,
        specialisation_quotient,
        specialisation_quotient_from_share,
    )

    frame = pd.DataFrame(
        {
            "ags": ["01001", "01002", "01003"],
            "mint_students": [400.0, 0.0, 2000.0],
            "students_total": [1000.0, 0.0, 8000.0],
            "population": [100_000.0, 200_000.0, 400_000.0],
            "mint_employment_share_pct": [10.0, 20.0, 5.0],
            "employees": [100.0, 100.0, 200.0],
        }
    )

    sq = specialisation_quotient(frame)
    per = per_inhabitant_index(frame)
    emp = specialisation_quotient_from_share(frame)

    # Germany: 2400 / 9000 = 0.2667 MINT share; 01001: 0.40 / 0.2667 = 1.5
    assert sq["01001"] == pytest.approx(1.5)
    assert sq["01003"] == pytest.approx(0.25 / (2400 / 9000))
    assert np.isnan(sq["01002"])  # no students: no share
    # per inhabitant: 400/100k over 2400/700k = 1.1667 — a different quantity
    assert per["01001"] == pytest.approx((400 / 100_000) / (2400 / 700_000))
    # employment: national share (10*100 + 20*100 + 5*200) / 400 = 10 %
    assert emp.tolist() == pytest.approx([1.0, 2.0, 0.5])
    # mid-rank percentiles: a value shared by 3 of 5 gets 30
    values = pd.Series([0.0, 0.0, 0.0, 1.0, 2.0])
    assert midrank_percentile(values).tolist() == pytest.approx([30, 30, 30, 70, 90])


def test_peer_groups_and_nearest_peers_use_one_standardisation():
    from analysis.regions import standardize
    from analysis.regions.clusters import peer_groups

    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "ags": [f"{i:05d}" for i in range(60)],
            "a": rng.lognormal(0, 1.2, 60),  # skewed and non-negative: log1p
            "b": rng.normal(0, 1, 60),
        }
    )
    z = standardize(frame, ["a", "b"])
    assert z.attrs["transform"] == {"a": "log1p", "b": "none"}

    groups = peer_groups(frame, ["a", "b"], k=3)

    from scipy.cluster.hierarchy import fcluster, linkage

    labels = fcluster(linkage(z.to_numpy(), method="ward"), t=3, criterion="maxclust")
    # the same partition (up to renumbering) as Ward on standardize()'s z-scores
    pairs = set(zip(groups.tolist(), labels.tolist(), strict=True))
    assert len(pairs) == 3
