"""Tests for analysis.territory: harmonization to today's Kreise, PLZ allocation, census bases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import mirror_or_skip

from analysis import territory
from analysis.errors import InputError, ParameterError
from analysis.sources.official.plz import read_plz
from analysis.territory import (
    EISENACH_2021,
    PopulationBaseError,
    allocate_plz,
    check_population_base,
    classify_codes,
    current_kreise,
    harmonize,
    harmonize_parts,
    is_current_kreis,
    kreise_at,
    population_base_for,
    split_levels,
    tag_population_base,
)

PLZ_FIXTURE = Path(__file__).parent / "fixtures" / "territory" / "plz_small.csv"


_mirror = mirror_or_skip


def _crosswalk() -> pd.DataFrame:
    """A tiny crosswalk in the shape of read_bbsr_crosswalk (target 31.12.2020).

    2015: 03152 and 03156 merge into 03159; 16063 is split 80/20 (population),
    75/25 (area), 90/10 (employment) into 16063 and 16066. 1995 has no employment
    weights, as in the BBSR file.
    """
    rows = [
        # year, from, to, w_area, w_pop, w_emp, name_to
        (2015, "01001", "01001", 1, 1, 1, "Flensburg, Stadt"),
        (2015, "02000", "02000", 1, 1, 1, "Hamburg, Stadt"),
        (2015, "03152", "03159", 1, 1, 1, "Göttingen"),
        (2015, "03156", "03159", 1, 1, 1, "Göttingen"),
        (2015, "04011", "04011", 1, 1, 1, "Bremen, Stadt"),
        (2015, "04012", "04012", 1, 1, 1, "Bremerhaven, Stadt"),
        (2015, "16056", "16056", 1, 1, 1, "Eisenach, Stadt"),
        (2015, "16063", "16063", 0.75, 0.8, 0.9, "Wartburgkreis"),
        (2015, "16063", "16066", 0.25, 0.2, 0.1, "Schmalkalden-Meiningen"),
        (2015, "16066", "16066", 1, 1, 1, "Schmalkalden-Meiningen"),
        (1995, "01001", "01001", 1, 1, np.nan, "Flensburg, Stadt"),
        (2019, "01001", "01001", 1, 1, 1, "Flensburg, Stadt"),
        (2019, "02000", "02000", 1, 1, 1, "Hamburg, Stadt"),
        (2019, "03159", "03159", 1, 1, 1, "Göttingen"),
        (2019, "04011", "04011", 1, 1, 1, "Bremen, Stadt"),
        (2019, "04012", "04012", 1, 1, 1, "Bremerhaven, Stadt"),
        (2019, "16056", "16056", 1, 1, 1, "Eisenach, Stadt"),
        (2019, "16063", "16063", 1, 1, 1, "Wartburgkreis"),
        (2019, "16066", "16066", 1, 1, 1, "Schmalkalden-Meiningen"),
    ]
    frame = pd.DataFrame(
        rows, columns=["year", "kreis_from", "kreis_to", "w_area", "w_pop", "w_emp", "name_to"]
    ).assign(name_from="", year_to=2020)
    frame.attrs = {"year_to": 2020}
    return frame


def _frame(values: dict[str, float], **extra) -> pd.DataFrame:
    """A tidy frame with one value per region code."""
    codes = list(values)
    return pd.DataFrame(
        {
            "statistic": "12411",
            "level": "KREISE",
            "ags": codes,
            "region_name": [f"name {c}" for c in codes],
            "time": "2015-12-31",
            "measure": "BEVSTD",
            "unit": "Anzahl",
            "value": [float(v) for v in values.values()],
            "flag": "",
            "quality": "",
            **extra,
        }
    )


def _by_code(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["ags"], frame["value"], strict=True))


# ------------------------------------------------------------------ harmonize


def test_merger_sums_and_split_uses_the_weight_of_the_measure() -> None:
    frame = _frame({"03152": 100, "03156": 50, "16056": 200, "16063": 1000, "16066": 300})

    people = _by_code(harmonize(frame, 2015, "people", _crosswalk()))
    jobs = _by_code(harmonize(frame, 2015, "jobs", _crosswalk()))
    area = _by_code(harmonize(frame, 2015, "area", _crosswalk()))

    # Göttingen: a whole merger. Eisenach joins Wartburgkreis after 2020.
    assert people["03159"] == 150
    assert people == {"03159": 150, "16063": 200 + 0.8 * 1000, "16066": 300 + 0.2 * 1000}
    assert jobs["16063"] == pytest.approx(200 + 0.9 * 1000)
    assert jobs["16066"] == pytest.approx(300 + 0.1 * 1000)
    assert area["16066"] == pytest.approx(300 + 0.25 * 1000)
    for result in (people, jobs, area):
        assert sum(result.values()) == pytest.approx(1650)


def test_output_keeps_keys_names_today_and_counts_sources() -> None:
    frame = _frame({"03152": 100, "03156": 50, "01001": 7})

    harmonized = harmonize(frame, 2015, "people", _crosswalk())
    result = harmonized.set_index("ags")

    assert list(harmonized.columns) == [
        "statistic", "level", "ags", "region_name", "time", "measure", "unit", "value", "flag",
        "quality", "n_sources",
    ]  # fmt: skip
    assert result.loc["03159", "region_name"] == "Göttingen"
    assert result.loc["03159", "n_sources"] == 2
    assert (result["level"] == "KREISE").all() and (result["time"] == "2015-12-31").all()
    assert result.attrs["territory"]["weight"] == "w_pop"


def test_dimension_keys_are_kept_apart_including_missing_ones() -> None:
    base = _frame({"03152": 100, "03156": 50})
    frame = pd.concat(
        [
            base.assign(GES="", value=[100.0, 50.0]),
            base.assign(GES="GESW", value=[60.0, 20.0]),
            base.assign(GES=pd.NA, measure="OTHER", value=[1.0, 2.0]),
        ],
        ignore_index=True,
    ).astype({"GES": "str"})

    result = harmonize(frame, 2015, "people", _crosswalk())

    assert len(result) == 3
    total = result[result["GES"] == ""]
    women = result[result["GES"] == "GESW"]
    other = result[result["measure"] == "OTHER"]
    assert total["value"].item() == 150 and women["value"].item() == 80
    assert other["value"].item() == 3 and other["GES"].isna().all()


def test_missing_values_propagate_with_their_flags() -> None:
    frame = _frame({"03152": np.nan, "03156": 50, "01001": 5}).assign(flag=[".", "", ""])

    result = harmonize(frame, 2015, "people", _crosswalk()).set_index("ags")

    assert np.isnan(result.loc["03159", "value"])
    assert result.loc["03159", "flag"] == "."
    assert result.loc["01001", "flag"] == ""


def test_cities_laender_and_germany_are_kept_apart() -> None:
    frame = _frame({"DG": 9999, "03": 888, "031": 77, "03152": 100, "03156": 50, "03241001": 500})

    parts = harmonize_parts(frame, 2015, "people", _crosswalk())

    assert _by_code(parts.kreise) == {"03159": 150}
    assert dict(zip(parts.apart["ags"], parts.apart["level_kind"], strict=True)) == {
        "DG": "germany", "03": "land", "031": "regbez", "03241001": "gemeinde",
    }  # fmt: skip
    assert parts.kreise.attrs["territory"]["n_apart"] == 4
    assert len(parts.apart) + len(parts.quarantine) + parts.kreise["n_sources"].sum() == len(frame)


def test_city_state_given_as_land_counts_as_its_kreis() -> None:
    only_land = _frame({"02": 1800, "04": 680, "04011": 570, "04012": 110})
    both = _frame({"02": 1800, "02000": 1800})

    first = harmonize_parts(only_land, 2015, "people", _crosswalk())
    second = harmonize_parts(both, 2015, "people", _crosswalk())

    # Hamburg is a Land with one Kreis; Bremen has two, so "04" stays a Land.
    assert _by_code(first.kreise) == {"02000": 1800, "04011": 570, "04012": 110}
    assert first.apart["ags"].tolist() == ["04"]
    assert _by_code(second.kreise) == {"02000": 1800}
    assert second.apart["ags"].tolist() == ["02"]


def test_abolished_kreise_without_values_are_set_aside_not_dropped() -> None:
    frame = _frame({"03152": 100, "03156": 50, "03159": np.nan}).assign(flag=["", "", "-"])

    parts = harmonize_parts(frame, 2015, "people", _crosswalk())

    assert _by_code(parts.kreise) == {"03159": 150}
    assert parts.quarantine["ags"].tolist() == ["03159"]
    assert parts.quarantine["reason"].str.startswith("no value").all()


def test_unknown_code_with_value_raises_or_is_quarantined() -> None:
    frame = _frame({"03152": 100, "05354": 42})
    frame.attrs = {"path": "table.csv"}

    with pytest.raises(InputError) as info:
        harmonize(frame, 2015, "people", _crosswalk())
    parts = harmonize_parts(frame, 2015, "people", _crosswalk(), on_unknown="quarantine")

    assert "05354 (42)" in str(info.value) and "table.csv" in str(info.value)
    assert parts.quarantine["ags"].tolist() == ["05354"]
    assert parts.quarantine["reason"].str.startswith("has a value").all()


def test_year_2020_applies_only_the_eisenach_merger() -> None:
    frame = _frame({"03159": 150, "16056": 40, "16063": 120})

    result = _by_code(harmonize(frame, 2020, "people", _crosswalk()))

    assert result == {"03159": 150, "16063": 160}
    with pytest.raises(InputError, match="03152"):
        harmonize(_frame({"03152": 1}), 2020, "people", _crosswalk())


def test_years_from_2021_are_identity_and_keep_their_names() -> None:
    frame = _frame({"03159": 150, "16063": 160, "16056": np.nan}).assign(flag=["", "", "-"])

    parts = harmonize_parts(frame, 2024, "people", _crosswalk())

    assert _by_code(parts.kreise) == {"03159": 150, "16063": 160}
    assert parts.kreise["region_name"].tolist() == ["name 03159", "name 16063"]
    assert parts.quarantine["ags"].tolist() == ["16056"]
    with pytest.raises(InputError, match="16056"):
        harmonize(_frame({"16056": 40}), 2024, "people", _crosswalk())


def test_changes_can_be_given_explicitly() -> None:
    no_changes = harmonize(_frame({"16056": 40}), 2020, "people", _crosswalk(), changes=[])

    assert _by_code(no_changes) == {"16056": 40}


def test_parameter_errors() -> None:
    frame = _frame({"01001": 1})

    with pytest.raises(ParameterError, match="measure_kind"):
        harmonize(frame, 2015, "euros", _crosswalk())
    with pytest.raises(ParameterError, match="1997"):
        harmonize(frame, 1995, "jobs", _crosswalk())
    with pytest.raises(ParameterError, match="Prozent"):
        harmonize(frame.assign(unit="Prozent"), 2015, "people", _crosswalk())
    with pytest.raises(ParameterError, match="year"):
        harmonize(frame, 1980, "people", _crosswalk())
    with pytest.raises(ParameterError, match="year"):
        harmonize(frame, "2015", "people", _crosswalk())


def test_harmonize_does_not_mutate_its_input() -> None:
    frame = _frame({"03152": 100, "03156": 50, "DG": 1})
    before = frame.copy()

    harmonize(frame, 2015, "people", _crosswalk())

    pd.testing.assert_frame_equal(frame, before)


# ------------------------------------------------------------------ code sets


def test_kreise_at_follows_the_data() -> None:
    crosswalk = _crosswalk()

    assert "03152" in kreise_at(crosswalk, 2015) and "03159" not in kreise_at(crosswalk, 2015)
    assert kreise_at(crosswalk, 2020) == {"01001", "02000", "03159", "04011", "04012", "16056",
                                          "16063", "16066"}  # fmt: skip
    assert kreise_at(crosswalk, 2021) == kreise_at(crosswalk, 2020) - {"16056"}
    assert kreise_at(crosswalk) == kreise_at(crosswalk, 2030)
    with pytest.raises(ParameterError, match="1995"):
        kreise_at(crosswalk, 1980)


def test_eisenach_constant() -> None:
    assert (EISENACH_2021.kreis_from, EISENACH_2021.kreis_to) == ("16056", "16063")
    assert str(EISENACH_2021.effective_date) == "2021-07-01"
    assert territory.POST_2020_CHANGES == (EISENACH_2021,)


def test_current_kreise_are_codes_with_values() -> None:
    frame = _frame({"DG": 5, "03159": 1, "16056": np.nan, "03241001": 2, "16063": 3})

    assert current_kreise(frame) == {"03159", "16063"}
    assert current_kreise(frame, value_col=None) == {"03159", "16056", "16063"}
    assert is_current_kreis("03159", current_kreise(frame))
    assert not is_current_kreis("3159", current_kreise(frame))
    assert is_current_kreis(pd.Series(["03159", "16056"]), current_kreise(frame)).tolist() == [
        True,
        False,
    ]


def test_classify_and_split_levels() -> None:
    codes = pd.Series(["DG", "03", "031", "03159", "03159016", "x", None])
    frame = pd.DataFrame({"ags": codes, "value": range(7)})

    kreise, apart = split_levels(frame)

    assert classify_codes(codes).tolist() == [
        "germany", "land", "regbez", "kreis", "gemeinde", "other", "other",
    ]  # fmt: skip
    assert kreise["ags"].tolist() == ["03159"]
    assert len(kreise) + len(apart) == len(frame)


# ------------------------------------------------------------------ PLZ


@pytest.fixture
def plz_map() -> pd.DataFrame:
    return read_plz(PLZ_FIXTURE)


def test_allocate_plz_splits_multi_kreis_postcodes_equally(plz_map: pd.DataFrame) -> None:
    records = pd.DataFrame({"id": ["a", "b", "c", "d"], "plz": ["37073", "37127", "1067", "D-80333"]},
                           index=[10, 11, 12, 13])  # fmt: skip

    placed, unplaced = allocate_plz(records, plz_map)

    assert unplaced.empty
    shares = placed.groupby([placed.index, "kreis_ags"])["share"].sum().to_dict()
    assert shares == {
        (10, "03159"): 1.0,
        (11, "03155"): 0.5,  # two Gemeinden, one Kreis
        (11, "03159"): 0.5,
        (12, "14612"): 1.0,
        (13, "09162"): 0.5,
        (13, "09184"): 0.5,
    }
    assert placed.loc[12, "plz5"] == "01067"
    assert placed.attrs["n_split_records"] == 2


def test_allocate_plz_weights_by_gemeinde_population(plz_map: pd.DataFrame) -> None:
    records = pd.DataFrame({"plz": ["37127", "80333"]})
    population = pd.Series({"03159001": 300.0, "03155001": 50.0, "03155002": 50.0})

    placed, _ = allocate_plz(records, plz_map, weight=population)

    shares = placed.groupby([placed.index, "kreis_ags"])["share"].sum().to_dict()
    assert shares[(0, "03159")] == pytest.approx(0.75)
    assert shares[(0, "03155")] == pytest.approx(0.25)
    # 80333's Gemeinden have no weight: equal shares, counted.
    assert shares[(1, "09162")] == shares[(1, "09184")] == 0.5
    assert placed.attrs["n_plz_equal_fallback"] == 1


def test_allocate_plz_reports_every_unusable_postcode(plz_map: pd.DataFrame) -> None:
    records = pd.DataFrame(
        {
            "plz": [None, "ABC", "A-1010", "99999", 37073, 1067.0, "00123", "80331", "37073 Nord"],
            "country": ["DE", "DE", "", "DE", "Deutschland", None, "DE", "AT", "DE"],
        }
    )

    placed, unplaced = allocate_plz(records, plz_map, country_col="country")

    assert unplaced["reason"].to_dict() == {
        0: "missing", 1: "malformed", 2: "foreign", 3: "unknown", 6: "malformed", 7: "foreign",
        8: "malformed",
    }  # fmt: skip
    assert sorted(placed.index.unique()) == [4, 5]
    assert placed.groupby(level=0)["share"].sum().eq(1).all()
    assert placed.attrs["n_unallocated"] == {
        "malformed": 3,
        "foreign": 2,
        "missing": 1,
        "unknown": 1,
    }
    assert placed.index.nunique() + len(unplaced) == len(records)


def test_allocate_plz_needs_its_columns(plz_map: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="postcode"):
        allocate_plz(pd.DataFrame({"zip": ["37073"]}), plz_map, plz_col="postcode")
    with pytest.raises(ParameterError, match="read_plz"):
        allocate_plz(pd.DataFrame({"plz": ["37073"]}), plz_map.drop(columns="ags8"))


# ------------------------------------------------------------------ population bases


@pytest.mark.parametrize(
    ("day", "source", "base"),
    [
        ("2024-12-31", "genesis", "zensus2022"),
        ("2022-12-31", "genesis", "zensus2022"),
        ("2021-12-31", "genesis", "zensus2011"),
        ("2015-12-31", "genesis", "zensus2011"),
        ("2010-12-31", "genesis", "pre_zensus2011"),
        ("2022-12-31", "gv_isys", "zensus2011"),
        ("2023-12-31", "gv_isys", "zensus2022"),
    ],
)
def test_population_base_for(day: str, source: str, base: str) -> None:
    assert population_base_for(day, source) == base


def test_population_base_inside_2022_must_be_tagged_explicitly() -> None:
    with pytest.raises(ParameterError, match="explicitly"):
        population_base_for("2022-06-30")


def test_mixing_population_bases_is_refused_unless_allowed() -> None:
    genesis = tag_population_base(_frame({"03159": 328028}), "zensus2022")
    gv_isys = tag_population_base(_frame({"03159": 325000}), "zensus2011")
    untagged = _frame({"03159": 1})

    assert check_population_base(genesis, genesis.copy()) == "zensus2022"
    with pytest.raises(PopulationBaseError, match="zensus2011"):
        check_population_base(genesis, gv_isys)
    assert check_population_base(genesis, gv_isys, allow_mixed=True) is None
    with pytest.raises(PopulationBaseError, match="no population_base"):
        check_population_base(genesis, untagged, allow_mixed=True)
    with pytest.raises(ParameterError):
        tag_population_base(untagged, "zensus1987")
    assert "population_base" not in untagged.attrs  # tagging returns a copy


def test_a_readers_stated_basis_counts_as_a_tag() -> None:
    gv_isys = _frame({"03159": 325000})
    gv_isys.attrs = {"population_basis": "Zensus 2011"}
    genesis = tag_population_base(_frame({"03159": 328028}), "Zensus 2022")

    assert territory.population_base_of(gv_isys) == "zensus2011"
    assert genesis.attrs["population_base"] == "zensus2022"
    with pytest.raises(PopulationBaseError, match="different census bases"):
        check_population_base(genesis, gv_isys)


# ------------------------------------------------------------------ real files


@pytest.fixture(scope="module")
def real_crosswalk() -> pd.DataFrame:
    from analysis.sources.official.bbsr import read_bbsr_crosswalk

    return read_bbsr_crosswalk(
        _mirror() / "bbsr_kreis_crosswalk" / "ref-kreise-umrech-2020-1990-2019.xlsx"
    )


@pytest.mark.mirror
def test_classic_2015_population_harmonized_to_today(real_crosswalk: pd.DataFrame) -> None:
    classic = pytest.importorskip("analysis.sources.official.classic")
    population = classic.read_classic(
        _mirror() / "regionalstatistik_classic_csv" / "12411-01-01-4.csv"
    )
    sex = [c for c in population.columns if c not in territory.REGION_COLUMNS][-1]
    source_kreise, _ = split_levels(population, kreis_codes=kreise_at(real_crosswalk, 2015))

    parts = harmonize_parts(population, 2015, "people", real_crosswalk)
    today = parts.kreise

    assert source_kreise.loc[source_kreise["value"].notna(), "ags"].nunique() == 402
    assert today["ags"].nunique() == 400
    assert set(today["ags"]) == kreise_at(real_crosswalk)
    germany = population[population["ags"] == "DG"].set_index(sex)["value"]
    for key, group in today.groupby(sex):
        assert group["value"].sum() == germany[key]  # total preserved exactly
        old = population[population[sex] == key].set_index("ags")["value"]
        new = group.set_index("ags")["value"]
        assert new["03159"] == old["03152"] + old["03156"]
        assert new["16063"] == pytest.approx(old["16056"] + 0.973499 * old["16063"], abs=1)
    assert today["value"].notna().all()
    assert parts.quarantine["reason"].str.startswith("no value").all()


@pytest.mark.mirror
@pytest.mark.slow  # reading GV-ISys takes ~10 s
def test_current_kreise_from_gv_isys_and_population_weights(real_crosswalk: pd.DataFrame) -> None:
    gv_isys = pytest.importorskip("analysis.sources.official.gv_isys")
    tables = gv_isys.read_gv_isys(_mirror() / "gv_isys_2024" / "AuszugGV2QAktuell.xlsx")
    plz_map = read_plz(_mirror() / "plz_osm" / "zuordnung_plz_ort.csv")
    population = tables["gemeinden"].set_index("ags8")["population"]
    records = pd.DataFrame({"plz": plz_map["plz"].drop_duplicates()})

    placed, unplaced = allocate_plz(records, plz_map, weight=population)

    assert current_kreise(tables["kreise"], ags_col="ags5", value_col=None) == kreise_at(
        real_crosswalk
    )
    assert territory.population_base_of(tables["kreise"]) == "zensus2011"
    assert unplaced.empty and placed["share"].sum() == pytest.approx(len(records))
    assert placed.groupby(level=0)["share"].sum().sub(1).abs().max() < 1e-12
    assert placed.attrs["n_split_records"] == 154


@pytest.mark.mirror
def test_current_kreise_from_12411_2024_match_the_crosswalk(real_crosswalk: pd.DataFrame) -> None:
    genesis = pytest.importorskip("analysis.sources.official.genesis")
    population = genesis.read_ffcsv(_mirror() / "genesis_ffcsv" / "12411-01-01-4_de_flat.csv")

    parts = harmonize_parts(population, 2024, "people", real_crosswalk)
    totals = parts.kreise[parts.kreise["GES"] == ""].set_index("ags")["value"]

    assert current_kreise(population) == kreise_at(real_crosswalk) and len(totals) == 400
    assert totals.sum() == 83_577_140
    assert totals["03159"] == 328_028
    assert (parts.apart["level_kind"] == "gemeinde").any()
    assert set(parts.quarantine["ags"]) >= {"16056", "03152", "03156"}
