"""Tests for analysis.market: accounts located, Poisson GLM, funnel limits, white space."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import market
from analysis.errors import ParameterError
from analysis.market import (
    account_outcomes,
    fit_potential,
    funnel_limits,
    kreis_frame,
    locate_accounts,
    observed_by_kreis,
    poisson_quantile_limit,
    poisson_tail_probabilities,
    publishable,
    ratio_interval,
    white_space,
)


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu), summed by hand."""
    if k < 0:
        return 0.0
    return sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k + 1))


def _hand_limit(mu: float, p: float) -> float:
    """Spiegelhalter's interpolated Poisson quantile, from hand-summed probabilities."""
    r = 0
    while _poisson_cdf(r, mu) < p:
        r += 1
    f_r, f_prev = _poisson_cdf(r, mu), _poisson_cdf(r - 1, mu)
    return max(r - (f_r - p) / (f_r - f_prev), 0.0)


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize("mu", [0.3, 1.0, 4.0, 10.0, 37.5])
@pytest.mark.parametrize("p", [0.001, 0.025, 0.975, 0.999])
def test_control_limits_equal_hand_computed_poisson_quantiles(mu: float, p: float) -> None:
    # Arrange
    expected = _hand_limit(mu, p)

    # Act
    limit = poisson_quantile_limit([mu], p)[0]

    # Assert
    assert limit == pytest.approx(expected, abs=1e-9)


def test_control_limit_is_the_integer_quantile_where_the_cdf_jumps_past_p() -> None:
    # Arrange: r is the integer 97.5 % quantile of Poisson(10), found by hand
    mu = 10.0
    r = next(k for k in range(60) if _poisson_cdf(k, mu) >= 0.975)
    f_r, f_prev = _poisson_cdf(r, mu), _poisson_cdf(r - 1, mu)

    # Act
    lower, upper = funnel_limits([mu], 0.95)

    # Assert: the upper limit lies in (r - 1, r] and hits r exactly when p = F(r)
    assert r - 1 < upper[0] <= r
    assert poisson_quantile_limit([mu], f_r)[0] == pytest.approx(r, abs=1e-9)
    assert poisson_quantile_limit([mu], f_prev + 1e-12)[0] == pytest.approx(r - 1, abs=1e-6)
    assert lower[0] == pytest.approx(_hand_limit(mu, 0.025), abs=1e-9)


def test_units_on_target_fall_outside_the_95_funnel_at_most_5_percent() -> None:
    # Arrange: 20,000 units with Poisson counts at their expectation
    rng = np.random.default_rng(11)
    expected = rng.uniform(0.5, 60, 20_000)
    observed = rng.poisson(expected)

    # Act
    lower, upper = funnel_limits(expected, 0.95)
    outside = np.mean((observed < lower) | (observed > upper))

    # Assert: discrete counts make exact limits conservative, never liberal
    assert 0.02 < outside <= 0.05 + 0.004


def test_overdispersed_limits_are_normal_with_the_dispersion() -> None:
    # Arrange
    mu, phi = np.array([4.0, 100.0]), 2.5
    z = 1.959963984540054

    # Act
    lower, upper = funnel_limits(mu, 0.95, dispersion=phi)

    # Assert
    np.testing.assert_allclose(upper, mu + z * np.sqrt(phi * mu))
    np.testing.assert_allclose(lower, np.maximum(mu - z * np.sqrt(phi * mu), 0))


def test_ratio_interval_matches_closed_forms() -> None:
    # Arrange: O = 0 -> upper = -ln(a/2) / E; O = 1 -> lower = -ln(1 - a/2) / E
    e, a = 4.0, 0.05

    # Act
    low0, high0 = ratio_interval([0.0], [e], 0.95)
    low1, _ = ratio_interval([1.0], [e], 0.95)

    # Assert
    assert low0[0] == 0.0
    assert high0[0] == pytest.approx(-math.log(a / 2) / e, rel=1e-10)
    assert low1[0] == pytest.approx(-math.log(1 - a / 2) / e, rel=1e-10)


def test_tail_probabilities_equal_poisson_sums_at_integers() -> None:
    # Arrange
    observed, expected = np.array([0.0, 3.0, 12.0]), np.array([2.5, 7.0, 9.0])

    # Act
    below, above = poisson_tail_probabilities(observed, expected)

    # Assert
    for o, e, b, a in zip(observed, expected, below, above, strict=True):
        assert b == pytest.approx(_poisson_cdf(int(o), e), rel=1e-10)
        assert a == pytest.approx(1 - _poisson_cdf(int(o) - 1, e), rel=1e-10)


def test_levels_outside_zero_one_are_refused() -> None:
    with pytest.raises(ParameterError):
        funnel_limits([1.0], 1.2)
    with pytest.raises(ParameterError):
        ratio_interval([1.0], [1.0], 0)


# --------------------------------------------------------------------------- GLM


def _simulated(rng, n=400, beta=(-9.0, 0.35, -0.2), under=()):
    employees = rng.lognormal(11.0, 0.9, n)
    hc_log = rng.gamma(2.0, 0.5, n)
    mint_log = rng.normal(1.0, 0.6, n)
    rate = np.exp(beta[0] + beta[1] * hc_log + beta[2] * mint_log)
    mu = employees * rate
    factor = np.ones(n)
    factor[list(under)] = 0.2
    return pd.DataFrame(
        {
            "ags": [f"{i:05d}" for i in range(n)],
            "name": [f"Kreis {i}" for i in range(n)],
            "employees": employees,
            "hc_log": hc_log,
            "mint_log": mint_log,
            "customers": rng.poisson(mu * factor).astype(float),
            "true_mu": mu,
        }
    )


def test_glm_recovers_injected_coefficients_within_their_interval() -> None:
    # Arrange
    beta = (-9.0, 0.35, -0.2)
    frame = _simulated(np.random.default_rng(3), n=2000, beta=beta)

    # Act
    model = fit_potential(frame)

    # Assert
    coef = model.coefficients.set_index("term")
    for term, true in zip(("intercept", "hc_log", "mint_log"), beta, strict=True):
        assert coef.loc[term, "ci_low"] <= true <= coef.loc[term, "ci_high"]
        assert abs(coef.loc[term, "coef"] - true) < 3 * coef.loc[term, "se"]
    assert model.dispersion == pytest.approx(1.0, abs=0.1)
    # a Poisson GLM with an intercept reproduces the total
    assert model.frame["expected"].sum() == pytest.approx(frame["customers"].sum(), rel=1e-8)


@pytest.mark.slow
def test_glm_interval_covers_the_truth_in_about_95_percent_of_samples() -> None:
    # Arrange
    rng = np.random.default_rng(5)
    beta = (-9.0, 0.35, -0.2)

    # Act
    hits = []
    for _ in range(200):
        coef = fit_potential(_simulated(rng, beta=beta)).coefficients.set_index("term")
        hits.append(coef.loc["hc_log", "ci_low"] <= beta[1] <= coef.loc["hc_log", "ci_high"])

    # Assert: 200 draws, sd of the share 0.015
    assert 0.90 <= np.mean(hits) <= 0.99


def test_kreise_without_exposure_or_covariate_are_excluded_and_listed() -> None:
    # Arrange
    frame = _simulated(np.random.default_rng(1), n=50)
    frame.loc[3, "employees"] = 0
    frame.loc[7, "mint_log"] = np.nan

    # Act
    model = fit_potential(frame)

    # Assert
    assert model.excluded["ags"].tolist() == ["00003", "00007"]
    assert model.excluded["reason"].tolist() == ["employees missing or 0", "a covariate is missing"]
    assert model.frame.loc[[3, 7], "expected"].isna().all()
    assert model.frame.loc[[3, 7], "funnel"].eq("not fitted").all()
    assert model.n_used == 48


def test_revenue_is_a_quasi_poisson_fit_with_dispersion() -> None:
    # Arrange: amounts = customers * deal size (strongly overdispersed)
    rng = np.random.default_rng(8)
    frame = _simulated(rng).assign(won_eur=lambda f: f["customers"] * rng.lognormal(9, 0.5, 400))

    # Act
    counts = fit_potential(frame, "customers")
    revenue = fit_potential(frame, "won_eur")

    # Assert
    assert not revenue.count and counts.count
    assert revenue.dispersion > 100
    # quasi-Poisson: standard errors scaled by sqrt(dispersion) of the Poisson ones
    unscaled = np.sqrt(np.diag(revenue.result.normalized_cov_params))
    np.testing.assert_allclose(
        revenue.coefficients["se"], unscaled * np.sqrt(revenue.dispersion), rtol=1e-8
    )
    assert revenue.frame["expected"].sum() == pytest.approx(frame["won_eur"].sum(), rel=1e-6)


def test_missing_columns_are_named() -> None:
    with pytest.raises(ParameterError, match="employees"):
        fit_potential(pd.DataFrame({"ags": ["1"], "customers": [1.0]}), covariates=())


# --------------------------------------------------------------------------- white space


def test_white_space_finds_injected_underserved_kreise_ranked_by_shortfall() -> None:
    # Arrange: 8 high-potential Kreise reach only 20 % of their expectation
    rng = np.random.default_rng(21)
    base = _simulated(rng, n=400, beta=(-8.0, 0.3, -0.1))
    big = base["true_mu"].nlargest(60).index.to_numpy()
    under = rng.choice(big, 8, replace=False)
    frame = _simulated(np.random.default_rng(21), n=400, beta=(-8.0, 0.3, -0.1), under=under)

    # Act
    model = fit_potential(frame)
    ws = white_space(model, level=0.998)

    # Assert
    found = set(ws["ags"])
    injected = {f"{i:05d}" for i in under}
    assert len(found & injected) >= 7
    assert len(found - injected) <= 1
    assert ws["shortfall"].is_monotonic_decreasing
    assert ws["rank"].tolist() == list(range(1, len(ws) + 1))
    assert (ws["expected"] >= ws.attrs["min_expected"]).all()


def test_white_space_without_underserved_kreise_is_nearly_empty() -> None:
    # Arrange
    frame = _simulated(np.random.default_rng(4), n=400, beta=(-8.0, 0.3, -0.1))

    # Act
    ws = white_space(fit_potential(frame), level=0.998)

    # Assert: 100 high-potential Kreise, 0.1 % one-sided each
    assert len(ws) <= 1


def test_white_space_ratio_threshold_adds_kreise() -> None:
    # Arrange: four equal Kreise; one has O/E = 0.6, low but not significantly so
    frame = pd.DataFrame(
        {
            "ags": ["00001", "00002", "00003", "00004"],
            "employees": [100.0, 100.0, 100.0, 100.0],
            "customers": [6.0, 10.0, 12.0, 12.0],
        }
    )
    model = fit_potential(frame, covariates=())

    # Act
    plain = white_space(model, potential_quantile=0.0)
    with_ratio = white_space(model, potential_quantile=0.0, max_ratio=0.7)

    # Assert: E = 10 everywhere; P(X <= 6 | 10) = 0.13 is not significant
    assert model.frame["expected"].to_numpy() == pytest.approx([10.0] * 4)
    assert plain.empty
    assert with_ratio["ags"].tolist() == ["00001"]
    assert with_ratio["reason"].iloc[0] == "O/E < 0.7"
    # by chance: each of the 4 Kreise is flagged when O <= 6, i.e. P(X <= 6 | 10) each
    assert with_ratio.attrs["expected_by_chance"] == pytest.approx(4 * _poisson_cdf(6, 10.0))
    assert with_ratio.attrs["n_significant"] == 0
    text = market.white_space_sentence(with_ratio, pd.Series({"00001": "Nordstadt"}))
    assert text.startswith("Among the 4 Kreise with the highest potential (at least 10.0 customers")
    assert "Chance alone would flag about 0.5 Kreise" in text and "Nordstadt" in text


# --------------------------------------------------------------------------- accounts


@pytest.fixture
def plz_map() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "plz": ["37073", "12345", "12345", "01067", "55555"],
            "ags8": ["03159016", "11111001", "22222001", "14612000", "99999001"],
            "kreis_ags": ["03159", "11111", "22222", "14612", "99999"],
            "ort": ["Göttingen", "A", "B", "Dresden", "Alt"],
            "bundesland": ["Niedersachsen"] * 5,
        }
    )


def test_every_account_is_placed_or_counted_apart_with_its_reason(plz_map) -> None:
    # Arrange
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(10)],
            "billing_postal_code": [
                "37073",  # placed
                "12345",  # split over two Kreise
                "",  # missing
                "8001",  # Swiss
                "37073 Göttingen",  # malformed
                "99998",  # unknown
                "1067",  # lost leading zero -> placed
                "D-37073",  # placed
                "55555",  # only in an abolished Kreis
                "1010",  # Vienna, country given as name only
            ],
            "billing_country_code": ["DE", "DE", "DE", "CH", "DE", "", "DE", "", "DE", ""],
            "billing_country": [
                "Deutschland",
                "",
                "",
                "Schweiz",
                "",
                "Germany",
                "",
                "DE",
                "",
                "Österreich",
            ],
        }
    )

    # Act
    located = locate_accounts(accounts, plz_map, kreis_codes=["03159", "11111", "22222", "14612"])

    # Assert
    status = dict(zip(located.unplaced["account_id"], located.unplaced["status"], strict=True))
    assert status == {
        "A2": "missing",
        "A3": "foreign",
        "A4": "malformed",
        "A5": "unknown",
        "A8": "outside",
        "A9": "foreign",
    }
    assert set(located.placed["account_id"]) == {"A0", "A1", "A6", "A7"}
    assert located.placed.groupby("account_id")["share"].sum().to_numpy() == pytest.approx(1.0)
    assert located.placed.loc[located.placed["account_id"] == "A1", "share"].tolist() == [0.5, 0.5]
    summary = located.summary.set_index("status")["accounts"]
    assert summary["total"] == 10
    assert summary.drop("total").sum() == 10
    assert summary["placed in a Kreis"] == 4
    assert summary["abroad (foreign country or postcode)"] == 2
    assert located.n_placed == 4 and located.n_accounts == 10


def test_customers_and_revenue_per_kreis_are_share_weighted(plz_map) -> None:
    # Arrange
    accounts = pd.DataFrame(
        {
            "account_id": ["A", "B", "C"],
            "billing_postal_code": ["37073", "12345", "37073"],
            "billing_country_code": ["DE", "DE", "DE"],
        }
    )
    opportunities = pd.DataFrame(
        {
            "account_id": ["A", "A", "B", "C", "Z"],
            "is_won": [True, True, True, False, True],
            "amount_eur": [100.0, np.nan, 50.0, 70.0, 999.0],
        }
    )

    # Act
    outcomes = account_outcomes(accounts, opportunities)
    observed = observed_by_kreis(locate_accounts(accounts, plz_map).placed, outcomes)

    # Assert
    per = outcomes.set_index("account_id")
    assert per.loc["A", "n_won"] == 2 and per.loc["A", "won_eur"] == 100.0
    assert not per.loc["C", "is_customer"]
    assert outcomes.attrs == {"won_without_amount": 1, "opportunities_without_account": 1}
    obs = observed.set_index("kreis_ags")
    assert obs.loc["03159"].tolist() == [2.0, 1.0, 100.0]
    assert obs.loc["11111"].tolist() == [0.5, 0.5, 25.0]
    assert obs.loc["22222"].tolist() == [0.5, 0.5, 25.0]


def test_kreis_frame_joins_potential_and_fills_zeros() -> None:
    # Arrange
    indicators = pd.DataFrame(
        {
            "ags": ["03159", "11111"],
            "name": ["Göttingen", "Berlin"],
            "population": [200_000.0, 100_000.0],
            "employees": [90_000.0, 50_000.0],
            "mint_students_per_1000": [40.0, 0.0],
        }
    )
    observed = pd.DataFrame(
        {
            "kreis_ags": ["03159", "77777"],
            "accounts": [3.0, 1.0],
            "customers": [2.0, 1.0],
            "won_eur": [10.0, 5.0],
        }
    )
    hc = pd.DataFrame({"ags": ["03159"], "hc_count": [4.0], "firms_listed": [5.0]})

    # Act
    frame = kreis_frame(indicators, observed, hc)

    # Assert
    row = frame.set_index("ags")
    assert row.loc["03159", "hc_per_100k"] == pytest.approx(2.0)
    assert row.loc["03159", "hc_log"] == pytest.approx(math.log(3.0))
    assert row.loc["03159", "mint_log"] == pytest.approx(math.log(41.0))
    assert row.loc["11111", ["accounts", "customers", "won_eur", "hc_count"]].tolist() == [0] * 4
    assert frame.attrs["outside"] == {"accounts": 1.0, "customers": 1.0, "won_eur": 5.0}


def test_publishable_hides_small_counts_and_everything_derived() -> None:
    # Arrange
    table = pd.DataFrame(
        {
            "name": ["a", "b", "c"],
            "expected": [9.0, 12.0, 3.0],
            "customers": [0.0, 12.0, 4.5],
            "ratio": [0.0, 1.0, 1.5],
        }
    )

    # Act
    shown = publishable(table, "customers", ["ratio"], decimals={"customers": 1, "ratio": 2})

    # Assert
    assert shown["customers"].tolist() == ["<5", "12.0", "<5"]
    assert shown["ratio"].tolist() == ["x", "1.00", "x"]
    assert shown["expected"].tolist() == [9.0, 12.0, 3.0]
    assert shown.attrs["n_suppressed"] == 2


def test_location_sentence_counts_every_account(plz_map) -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["A", "B"],
            "billing_postal_code": ["37073", ""],
            "billing_country": ["", ""],
        }
    )
    text = market.location_sentence(locate_accounts(accounts, plz_map))
    assert text.startswith("1 of 2 accounts (50.0%)")
    assert "<5 no postcode" in text  # small counts never printed


# --------------------------------------------------------------------------- champions


@pytest.fixture
def located_firms() -> pd.DataFrame:
    """Firms as champions.locate_firms gives them: F3 is split over two Kreise."""
    return pd.DataFrame(
        {
            "firm_id": ["F1", "F2", "F3", "F3", None],
            "row": [2, 3, 4, 4, 6],
            "name": ["Alpha GmbH", "Beta AG", "Gamma KG", "Gamma KG", "Delta SE"],
            "plz": ["11111", "22222", "33333", "33333", "44444"],
            "kreis_ags": ["K1", "K2", "K2", "K3", "K1"],
            "weight": [1.0, 1.0, 0.7, 0.3, 1.0],
            "sector": ["28.41"] * 5,
            "market_segment": ["Pumpen"] * 5,
            "revenue_eur": [5e8, 9e8, 2e8, 2e8, 7e8],
            "employees": [100, 200, 300, 300, 400],
        }
    )


def test_firm_keys_fall_back_to_the_row_and_frames_for_matching(located_firms, plz_map) -> None:
    # Arrange
    unplaced = pd.DataFrame(
        {"firm_id": ["F9"], "row": [9], "name": ["Omega GmbH"], "plz": ["99999"], "reason": ["x"]}
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["A", "B"],
            "account_name": ["Alpha", "Beta"],
            "billing_postal_code": ["37073", ""],
        }
    )

    # Act
    keys = market.firm_key(located_firms)
    firms = market.firms_for_matching(located_firms, unplaced)
    accs = market.accounts_for_matching(locate_accounts(accounts, plz_map))

    # Assert
    assert keys.tolist() == ["F1", "F2", "F3", "F3", "row 6"]
    assert firms["firm_key"].tolist() == ["F1", "F2", "F3", "F3", "row 6", "F9"]
    assert firms["kreis_ags"].tolist()[-1] == ""
    assert accs[["account_id", "plz5", "kreis_ags"]].values.tolist() == [
        ["A", "37073", "03159"],
        ["B", "", ""],
    ]


def test_champions_not_customers_lists_firm_names_by_revenue(located_firms) -> None:
    # Arrange: F1 customer, F2 an account without a won deal, "row 6" ambiguous
    status = pd.Series(
        {
            "F1": "customer",
            "F2": "account, not a customer",
            "F3": "not in the CRM",
            "row 6": "ambiguous",
        }
    )
    names = pd.Series({"K1": "Eins", "K2": "Zwei", "K3": "Drei"})

    # Act
    table = market.champions_not_customers(located_firms, status, names, definition="all")

    # Assert: F3 once, in the Kreis with the larger share
    assert table["firm"].tolist() == ["Beta AG", "Gamma KG"]
    assert table["kreis"].tolist() == ["Zwei", "Zwei"]
    assert table["revenue_meur"].tolist() == [900.0, 200.0]
    assert table.attrs["n_champions"] == 4
    assert (table.attrs["n_customers"], table.attrs["n_ambiguous"]) == (1, 1)
    assert table.attrs["n_not_customers"] == 2
    assert "Alpha GmbH" not in set(table["firm"]) and "Delta SE" not in set(table["firm"])


def test_champion_coverage_by_land_hides_small_counts_and_their_complement() -> None:
    # Arrange: 30 champions in A (12 customers), 10 in B (3), 20 in C (8)
    rows = [("A", 12, 30), ("B", 3, 10), ("C", 8, 20)]
    firms = pd.DataFrame(
        [
            {"firm_id": f"{land}{i}", "kreis_ags": land, "weight": 1.0}
            for land, _, n in rows
            for i in range(n)
        ]
    )
    status = pd.Series(
        {f"{land}{i}": "customer" for land, k, _ in rows for i in range(k)}, dtype="str"
    )
    lands = pd.Series({"A": "Land A", "B": "Land B", "C": "Land C"})

    # Act
    table = market.champion_coverage_by_land(firms, status, lands, definition="all")

    # Assert: B is hidden, and so is one more cell, else Total - A - C would give it
    assert table.loc["Land B", "customers"] == "x"
    assert table.loc["Land B", "share_customers"] == "x"
    assert (table["customers"] == "x").sum() >= 2
    assert table.loc["Total", "champions"] == 60.0
    shown = table.loc[table["customers"] != "x", "customers"]
    assert "3.0" not in set(shown)


def test_sentences_never_print_a_customer_count_below_five() -> None:
    table = pd.DataFrame({"firm": ["Beta AG"], "kreis": ["Zwei"]})
    table.attrs = {
        "n_champions": 40,
        "n_customers": 3,
        "n_ambiguous": 1,
        "n_not_customers": 36,
        "definition": "simon",
    }
    text = market.champion_sentence(
        table,
        {"precision": 1.0, "recall": 0.5, "true_positives": 1, "n_true": 2, "false_positives": 0},
    )
    # 40 - 1 undecided - 36 open would give 3 customers: neither 1 nor 36 is printed
    assert "all but fewer than 5 are not yet customers" in text
    assert " 3 " not in text and "36" not in text and " 1 could" not in text
    assert "largest of them by revenue is Beta AG (Zwei)" in text
    assert "precision of 1.000 and a recall of 0.500" in text
    assert market.count_text(0) == "<5" and market.count_text(12.4) == "12"


def test_count_table_hides_small_counts_so_the_total_does_not_reveal_them() -> None:
    # Arrange
    counts = pd.Series({"placed": 120, "abroad": 3, "no postcode": 9, "invalid": 0})

    # Act
    table = market.count_table(counts)

    # Assert
    assert table.loc["abroad", "accounts"] == "x"
    assert table.loc["invalid", "accounts"] == "0"
    assert table.loc["Total", "accounts"] == "132"
    assert (table["accounts"] == "x").sum() >= 2  # complementary suppression
    assert table.loc["placed", "share"] in {"90.9%", "x"}


def test_exposure_falls_back_to_population_without_employment() -> None:
    frame = pd.DataFrame({"employees": [np.nan, np.nan, 5.0], "population": [1.0, 2.0, 3.0]})
    assert market.choose_exposure(frame) == "population"
    assert market.choose_exposure(frame.assign(employees=[1.0, 2.0, 3.0])) == "employees"
    with pytest.raises(ParameterError):
        market.choose_exposure(frame.assign(population=np.nan))


@pytest.mark.mirror
def test_accounts_at_real_postcodes_land_in_their_real_kreise(mirror) -> None:
    # Arrange
    from analysis.sources.official.plz import read_plz

    plz_map = read_plz(mirror / "plz_osm" / "zuordnung_plz_ort.csv")
    accounts = pd.DataFrame(
        {
            "account_id": ["goe", "muc", "dd", "ber", "zrh", "none"],
            "billing_postal_code": ["37073", "80331", "1067", "D-10115", "8001", ""],
            "billing_country_code": ["DE", "DE", "DE", "", "CH", "DE"],
            "billing_country": ["", "", "", "Deutschland", "Schweiz", ""],
        }
    )

    # Act
    located = locate_accounts(accounts, plz_map)

    # Assert: Göttingen, München, Dresden (leading zero lost), Berlin (D- prefix)
    kreis = located.placed.groupby("account_id")["kreis_ags"].first()
    assert kreis.to_dict() == {"goe": "03159", "muc": "09162", "dd": "14612", "ber": "11000"}
    assert dict(zip(located.unplaced["account_id"], located.unplaced["status"], strict=True)) == {
        "zrh": "foreign",
        "none": "missing",
    }


# --------------------------------------------------------------------------- overdispersion


def _overdispersed(rng, phi, n=400, beta=(-9.0, 0.35, -0.2)):
    """Counts with mean mu and variance phi * mu (gamma-Poisson, the NB1 form)."""
    frame = _simulated(rng, n=n, beta=beta)
    mu = frame["true_mu"].to_numpy()
    shape = mu / (phi - 1)
    counts = rng.poisson(rng.gamma(shape, (phi - 1) * np.ones(n)))
    return frame.assign(customers=counts.astype(float))


def test_nb1_tail_probabilities_equal_hand_sums_and_have_variance_phi_e() -> None:
    from scipy import stats

    from analysis.market.limits import count_cdf, count_tail_probabilities

    mu, phi = 6.0, 2.5
    size, prob = mu / (phi - 1), 1 / phi
    pmf = stats.nbinom.pmf(np.arange(200), size, prob)
    # closed forms of the NB1 mean and variance
    assert (np.arange(200) * pmf).sum() == pytest.approx(mu)
    assert ((np.arange(200) - mu) ** 2 * pmf).sum() == pytest.approx(phi * mu)
    below, above = count_tail_probabilities(np.array([0.0, 3.0, 9.0]), mu, phi)
    assert below == pytest.approx([pmf[:1].sum(), pmf[:4].sum(), pmf[:10].sum()], rel=1e-9)
    assert above == pytest.approx([1.0, pmf[3:].sum(), pmf[9:].sum()], rel=1e-9)
    assert count_cdf(3, mu, phi) == pytest.approx(pmf[:4].sum())
    # phi <= 1 is Poisson
    assert count_tail_probabilities(3.0, mu, 1.0)[0] == pytest.approx(stats.poisson.cdf(3, mu))


def test_flags_from_tail_probabilities_never_exceed_the_nominal_rate() -> None:
    from scipy import stats

    from analysis.market.limits import count_tail_probabilities

    grid = np.linspace(0.3, 30, 300)
    ks = np.arange(0, 120)
    worst_exact, worst_limit = 0.0, 0.0
    for mu in grid:
        pmf = stats.poisson.pmf(ks, mu)
        _, above = count_tail_probabilities(ks.astype(float), mu)
        worst_exact = max(worst_exact, pmf[above < 0.025].sum())
        _, upper = funnel_limits(mu, 0.95)
        worst_limit = max(worst_limit, pmf[ks > upper].sum())
    # exact tails: at most 2.5 % above by construction; the integer-vs-interpolated
    # comparison of the old flags exceeds it at small E
    assert worst_exact <= 0.025 + 1e-12
    assert worst_limit > 0.04


def test_overdispersed_counts_use_the_estimated_dispersion() -> None:
    rng = np.random.default_rng(8)
    frame = _overdispersed(rng, phi=3.0)

    model = fit_potential(frame)

    assert model.dispersion == pytest.approx(3.0, rel=0.25)
    assert model.dispersion_used == model.dispersion
    poisson_se = np.sqrt(np.diag(model.result.normalized_cov_params))  # (X'WX)^-1
    assert model.coefficients["se"].to_numpy() == pytest.approx(
        poisson_se * np.sqrt(model.dispersion), rel=1e-6
    )
    # share of on-target Kreise flagged outside the 95 % funnel stays near 5 %
    flagged = model.frame["funnel"].isin(
        ["below 95 %", "below 99.8 %", "above 95 %", "above 99.8 %"]
    )
    assert flagged.mean() <= 0.08


def test_overdispersed_flag_rate_with_scale_one_would_be_far_too_high() -> None:
    from analysis.market.limits import count_tail_probabilities

    rng = np.random.default_rng(9)
    frame = _overdispersed(rng, phi=3.0)
    model = fit_potential(frame)
    e, o = model.frame["expected"], model.frame["observed"]

    below, above = count_tail_probabilities(o, e, 1.0)
    pure_poisson = ((below < 0.025) | (above < 0.025)).mean()

    assert pure_poisson > 0.15  # what scale 1 did
    assert (model.frame["p_below"] < 0.025).mean() + (model.frame["p_above"] < 0.025).mean() < 0.08


@pytest.mark.slow
def test_overdispersed_coefficient_interval_covers_about_95_percent() -> None:
    rng = np.random.default_rng(12)
    beta = (-9.0, 0.35, -0.2)
    hits = []
    for _ in range(200):
        coef = fit_potential(_overdispersed(rng, 3.0, beta=beta)).coefficients.set_index("term")
        hits.append(coef.loc["hc_log", "ci_low"] <= beta[1] <= coef.loc["hc_log", "ci_high"])
    assert 0.91 <= np.mean(hits) <= 0.99


def test_model_sentence_says_what_the_model_can_and_cannot_tell() -> None:
    model = fit_potential(_overdispersed(np.random.default_rng(8), phi=3.0))

    text = market.model_sentence(model)

    assert "times as much as pure chance" in text
    assert "cannot tell" in text and "not a cause" in text
