"""Region profile: ranks, percentiles, medians and the comparison index by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.present import i18n
from analysis.present.regional import comparison_sentence, rank_sentence
from analysis.regions.profile import (
    available_indicators,
    rank_range,
    region_profile,
    side_by_side,
    with_derived,
)


@pytest.fixture(autouse=True)
def english():
    i18n.set_language("en")
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def describe_rank(profile, name, label):
    return rank_sentence(profile, name, label)


@pytest.fixture
def kreise():
    return pd.DataFrame(
        {
            "ags": ["01001", "01002", "01003", "01004"],
            "name": ["Aland", "Bstadt", "Cdorf", "Dheim"],
            "population": [100_000, 200_000, 50_000, 400_000],
            "mint_students_per_1000": [10.0, 30.0, 20.0, 20.0],
            "employees_per_1000": [500.0, 400.0, 300.0, 600.0],
            "students_total": [1000, 0, 500, 8000],
            "mint_students": [1000 * 0.4, 0, 500 * 0.5, 8000 * 0.25],
        }
    )


def test_rank_percentile_and_median_by_hand(kreise):
    profile = region_profile(kreise, "01003")
    row = profile.loc["MINT students per 1,000 inhabitants"]
    # values 10, 30, 20, 20: 01003 ties with 01004 for rank 2 ("min" ties); mid-rank
    # percentile: (1 lower + 0.5 * 2 tied) / 4 = 50
    assert row["value"] == 20.0 and row["rank"] == 2 and row["of"] == 4
    assert row["percentile"] == pytest.approx(50.0)
    assert row["germany_median"] == pytest.approx(20.0)
    assert profile.loc["Inhabitants", "rank"] == 4  # 50,000 is the smallest of four


def test_missing_indicators_are_named_not_dropped(kreise):
    available, missing = available_indicators(kreise)
    assert "income_per_taxpayer_eur" in {m.column for m in missing}
    assert "population" in {a.column for a in available}


def test_derived_mint_share_is_nan_without_students(kreise):
    derived = with_derived(kreise)
    assert derived["mint_share_of_students_pct"].tolist()[0] == pytest.approx(40.0)
    assert math.isnan(derived["mint_share_of_students_pct"].tolist()[1])
    assert "mint_share_of_students_pct" not in kreise.columns, "argument not mutated"


def test_side_by_side_percentiles_by_hand(kreise):
    table = side_by_side(kreise, "01001", "01004")
    row = table.loc["Employees at workplace per 1,000 inhabitants"]
    assert row["germany_median"] == 450.0  # of 500, 400, 300, 600
    # mid-rank: (2 lower + 0.5 * itself) / 4 = 62.5; Dheim (3 lower + 0.5) / 4 = 87.5
    assert row["region_percentile"] == pytest.approx(62.5)
    assert row["compare_percentile"] == pytest.approx(87.5)
    assert table.attrs == {"region_name": "Aland", "compare_name": "Dheim"}
    text = comparison_sentence(table)
    assert "Aland trails Dheim on" in text and "Employees at workplace" in text
    i18n.set_language("de")
    assert "Aland liegt hinter Dheim bei" in comparison_sentence(table)


def test_rank_range_by_hand(kreise):
    # MINT students per 1,000: 10, 30, 20, 20. Aland (10) ±5 %: 9.5-10.5, all others above
    assert rank_range(kreise, "mint_students_per_1000", "01001") == (4, 4)
    # Cdorf (20) ±5 %: 19-21 ties with Dheim (20): rank 2 if higher, 3 if lower
    assert rank_range(kreise, "mint_students_per_1000", "01003") == (2, 3)
    assert (
        rank_range(kreise.assign(mint_students_per_1000=None), "mint_students_per_1000", "01003")
        is None
    )


def test_describe_rank_sentence(kreise):
    profile = region_profile(kreise, "01002")
    text = describe_rank(profile, "Bstadt", "MINT students per 1,000 inhabitants")
    assert "rank 1 of 4" in text and "top" in text
    i18n.set_language("de")
    text = describe_rank(profile, "Bstadt", "MINT students per 1,000 inhabitants")
    assert text.startswith("MINT-Studierende je 1.000 Einwohner: Bstadt hat 30,0")
    assert "Rang 1 von 4" in text


def test_describe_rank_without_data_says_so(kreise):
    profile = region_profile(kreise, "01002")
    text = describe_rank(profile, "Bstadt", "Income per taxpayer (wage proxy)")
    assert text == "There is no data on Income per taxpayer (wage proxy) in this dataset."


def test_peer_columns_skip_what_the_region_lacks(kreise):
    from analysis.regions.profile import available_indicators, peer_columns

    frame = kreise.assign(employees_per_1000=[500.0, None, 300.0, 600.0])
    available, _ = available_indicators(frame)
    assert "employees_per_1000" in peer_columns(available)
    assert "employees_per_1000" not in peer_columns(available, frame, "01002")
    assert "mint_share_of_students_pct" not in peer_columns(available)


def test_suppressed_value_gets_a_sentence_and_no_rank(kreise):
    from analysis.regions.profile import figure_of

    frame = kreise.assign(mint_students_per_1000=[10.0, None, 20.0, 20.0])
    profile = region_profile(frame, "01002")
    label = "MINT students per 1,000 inhabitants"
    assert "no published value" in describe_rank(profile, "Bstadt", label)
    assert figure_of(profile, label) is None
    assert figure_of(region_profile(frame, "01003"), label) == 1
