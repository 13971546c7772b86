"""Tests for analysis.champions: definitions, placing firms, counts, count regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.champions import (
    MINT_TERM,
    classify,
    count_by_kreis,
    count_by_land,
    definition_table,
    fit_count_models,
    is_hidden_champion_simon,
    is_weltmarktfuehrer,
    locate_firms,
    mint_log_indicator,
    region_standing,
    sector_mix,
    top_kreise,
    wz_section,
)

NA = pd.NA


def _firms(rows: list[dict]) -> pd.DataFrame:
    """Firms with the reader's dtypes; unspecified criteria default to a clear champion."""
    base = {
        "market_rank": 1,
        "market_scope": "world",
        "revenue_eur": 1e8,
        "public_awareness": "low",
        "export_share": 0.8,
        "continents": 4,
    }
    frame = pd.DataFrame([base | r for r in rows])
    return frame.astype(
        {
            "market_rank": "Int64",
            "continents": "Int64",
            "market_scope": "str",
            "public_awareness": "str",
            "revenue_eur": "float64",
            "export_share": "float64",
        }
    )


# --------------------------------------------------------------------------- Simon


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, True),
        ({"revenue_eur": 5e9}, False),  # "below 5 bn": exactly 5 bn is not below
        ({"revenue_eur": 4_999_999_999.0}, True),
        ({"market_rank": 3}, True),  # top 3 worldwide
        ({"market_rank": 4}, False),
        ({"market_rank": 1, "market_scope": "Europe"}, True),  # no. 1 on its continent
        ({"market_rank": 2, "market_scope": "Asia"}, False),  # no. 2 on a continent is not enough
        ({"public_awareness": "medium"}, False),
        ({"public_awareness": "high"}, False),
        ({"revenue_eur": np.nan}, NA),
        ({"public_awareness": None}, NA),
        ({"market_rank": None}, NA),
        ({"market_rank": 1, "market_scope": None}, True),  # rank 1 qualifies on any scope
        ({"market_rank": 2, "market_scope": None}, NA),
        ({"market_rank": 4, "market_scope": None}, False),
        ({"revenue_eur": 8e9, "public_awareness": None}, False),  # one failed criterion decides
        ({"revenue_eur": np.nan, "market_rank": 5}, False),
    ],
)
def test_simon_definition(criteria, expected):
    result = is_hidden_champion_simon(_firms([criteria]))
    assert result.dtype == "boolean"
    if expected is NA:
        assert result.isna().iloc[0]
    else:
        assert result.iloc[0] == expected


# --------------------------------------------------------------------------- WMI


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, True),
        ({"revenue_eur": 50e6}, True),  # at least 50 m
        ({"revenue_eur": 49_999_999.0}, False),
        ({"revenue_eur": 30e9}, True),  # no upper bound
        ({"export_share": 0.5}, True),  # exactly 50 % abroad
        ({"export_share": 0.4999}, False),
        ({"market_rank": 2}, True),
        ({"market_rank": 3}, False),  # rank 3 worldwide: Simon yes, WMI no
        ({"market_rank": 1, "market_scope": "Europe"}, False),  # continental no. 1 only
        ({"continents": 3}, True),
        ({"continents": 2}, False),
        ({"continents": None}, NA),
        ({"export_share": np.nan}, NA),
        ({"market_scope": None}, NA),
        ({"market_scope": None, "market_rank": 3}, False),
        ({"export_share": np.nan, "continents": 1}, False),
        ({"public_awareness": "high"}, True),  # awareness plays no role
    ],
)
def test_wmi_definition(criteria, expected):
    result = is_weltmarktfuehrer(_firms([criteria]))
    assert result.dtype == "boolean"
    if expected is NA:
        assert result.isna().iloc[0]
    else:
        assert result.iloc[0] == expected


def test_classify_and_definition_table():
    firms = _firms([{}, {"market_rank": 3}, {"revenue_eur": np.nan}, {"public_awareness": "high"}])
    assert classify(firms, "all").tolist() == [True] * 4
    table = definition_table(firms).set_index("definition")
    assert table.loc["simon"].tolist() == [2, 1, 1]  # yes, no, unknown
    assert table.loc["wmi"].tolist() == [2, 1, 1]
    assert (table.sum(axis=1) == 4).all()
    with pytest.raises(ValueError, match="unknown definition"):
        classify(firms, "forbes")


# --------------------------------------------------------------------------- placing


@pytest.fixture
def plz_map():
    return pd.DataFrame(
        {
            "plz": ["37073", "37073", "37073", "80331", "01067"],
            "ags8": ["03159016", "03159016", "03155001", "09162000", "14612000"],
            "kreis_ags": ["03159", "03159", "03155", "09162", "14612"],
            "share": [0.5, 0.2, 0.3, 1.0, 1.0],
        }
    )


KREISE = ["03159", "03155", "09162", "14612"]


def _located_input():
    return _firms(
        [
            {"name": "A", "plz": "80331", "ags": None},
            {"name": "B", "plz": "37073", "ags": None},  # spans 03159 and 03155
            {"name": "C", "plz": None, "ags": "14612000"},  # AGS only
            {"name": "D", "plz": "99999", "ags": None},  # unknown postcode
            {"name": "E", "plz": None, "ags": None},
            {"name": "F", "plz": "80331", "ags": "03159016"},  # AGS wins over the postcode
            {"name": "G", "plz": "01067", "ags": "16056000"},  # abolished Kreis: by postcode
            {"name": "H", "plz": None, "ags": "16056"},
        ]
    ).astype({"plz": "str", "ags": "str", "name": "str"})


def test_locate_firms(plz_map):
    firms = _located_input()
    located, unplaced = locate_firms(firms, plz_map, KREISE)
    by_name = located.groupby("name")
    # every firm either located (weights summing to 1) or unplaced with a reason
    assert set(located["name"]) | set(unplaced["name"]) == set(firms["name"])
    assert not set(located["name"]) & set(unplaced["name"])
    assert by_name["weight"].sum().to_numpy() == pytest.approx(1.0)
    b = located[located["name"] == "B"].set_index("kreis_ags")
    assert b["weight"].to_dict() == pytest.approx({"03155": 0.5, "03159": 0.5})  # equal split
    assert set(b["placed_by"]) == {"plz_shared"}
    c = located[located["name"] == "C"].iloc[0]
    assert (c["kreis_ags"], c["placed_by"]) == ("14612", "ags")
    f = located[located["name"] == "F"].iloc[0]
    assert f["kreis_ags"] == "03159" and "lies in Kreis 09162" in f["location_note"]
    g = located[located["name"] == "G"].iloc[0]
    assert g["kreis_ags"] == "14612" and "not a current Kreis" in g["location_note"]
    reasons = unplaced.set_index("name")["reason"]
    assert reasons["D"] == "postcode 99999 not in the PLZ map"
    assert reasons["E"] == "no postcode and no AGS"
    assert reasons["H"] == "AGS 16056 is not a current Kreis"


def test_locate_firms_weights_shared_postcode_by_population(plz_map):
    population = pd.Series({"03159016": 70_000, "03155001": 30_000, "09162000": 1, "14612000": 1})
    located, _ = locate_firms(_located_input(), plz_map, KREISE, weight=population)
    b = located[located["name"] == "B"].set_index("kreis_ags")
    assert b["weight"].to_dict() == pytest.approx({"03155": 0.3, "03159": 0.7})


def test_locate_firms_renormalizes_when_a_kreis_is_not_current(plz_map):
    located, unplaced = locate_firms(_located_input(), plz_map, ["03159", "09162", "14612"])
    b = located[located["name"] == "B"]
    assert b["kreis_ags"].tolist() == ["03159"] and b["weight"].tolist() == [1.0]
    assert b["placed_by"].tolist() == ["plz"]


# --------------------------------------------------------------------------- counts


@pytest.fixture
def kreise():
    return pd.DataFrame(
        {
            "ags": KREISE,
            "name": ["Göttingen", "Northeim", "München", "Dresden"],
            "land_code": ["03", "03", "09", "14"],
            "land_name": ["Niedersachsen", "Niedersachsen", "Bayern", "Sachsen"],
            "population": [300_000, 100_000, 1_500_000, 500_000],
        }
    )


def test_count_by_kreis_fractional_and_density(plz_map, kreise):
    firms = _located_input().assign(
        public_awareness=["low", "low", "low", "low", "low", "high", None, "low"]
    )
    population = pd.Series({"03159016": 70_000, "03155001": 30_000, "09162000": 1, "14612000": 1})
    located, _ = locate_firms(firms, plz_map, KREISE, weight=population)
    counts = count_by_kreis(located, kreise, "simon").set_index("ags")
    # Göttingen: 0.7 of B (F is well known: not a Simon champion)
    assert counts.loc["03159", "hc_count"] == pytest.approx(0.7)
    assert counts.loc["03159", "firms_listed"] == pytest.approx(1.7)
    assert counts.loc["03155", "hc_count"] == pytest.approx(0.3)
    assert counts.loc["09162", "hc_count"] == pytest.approx(1.0)
    # Dresden: C counts, G is unknown (awareness missing)
    assert counts.loc["14612", "hc_count"] == pytest.approx(1.0)
    assert counts.loc["14612", "hc_unknown"] == pytest.approx(1.0)
    assert counts.loc["03159", "hc_per_100k"] == pytest.approx(0.7 / 300_000 * 1e5)
    assert counts["hc_count"].sum() == pytest.approx(3.0)

    land = count_by_land(counts.reset_index()).set_index("land_code")
    assert land.loc["03", "hc_count"] == pytest.approx(1.0)
    assert land.loc["03", "population"] == 400_000
    assert land.loc["03", "hc_per_100k"] == pytest.approx(1.0 / 400_000 * 1e5)
    assert land["share_of_hc"].sum() == pytest.approx(1.0)

    top = top_kreise(counts.reset_index(), n=2)
    assert top["ags"].tolist() == ["03155", "03159"]  # 0.3 and 0.23 per 100k
    assert top_kreise(counts.reset_index(), n=1, by="hc_count")["hc_count"].iloc[0] == 1.0


def test_count_by_kreis_keeps_kreise_without_firms(kreise):
    empty = pd.DataFrame(columns=["kreis_ags", "weight", *_firms([{}]).columns])
    counts = count_by_kreis(empty.astype(_firms([{}]).dtypes.to_dict()), kreise, "all")
    assert len(counts) == 4 and (counts["hc_count"] == 0).all()


def test_sector_mix():
    located = _firms([{}] * 5).assign(
        wz_division=["28", "28", "26", None, "28"], weight=[1.0, 0.5, 1.0, 1.0, 0.5]
    )
    mix = sector_mix(located, "all", top=1).set_index("wz_division")
    assert mix.loc["28", "hc_count"] == pytest.approx(2.0)
    assert mix.loc["other", "hc_count"] == pytest.approx(2.0)
    assert mix["share"].sum() == pytest.approx(1.0)
    assert mix.loc["28", "section"] == "C"
    assert wz_section("62") == "J" and wz_section("01") == "A" and wz_section(None) is None


# --------------------------------------------------------------------------- regression


def _simulate(
    seed: int,
    *,
    beta: float = 0.4,
    alpha: float | None = 0.3,
    n: int = 400,
    lands: int = 8,
    total: float = 1500.0,
) -> pd.DataFrame:
    """Kreise with NB2 (or Poisson when alpha is None) counts and a known elasticity."""
    rng = np.random.default_rng(seed)
    population = rng.lognormal(np.log(200_000), 0.5, n).round()
    mint = np.where(rng.random(n) < 0.4, 0.0, rng.lognormal(np.log(15), 1.0, n))
    land = rng.integers(0, lands, n)
    effects = rng.normal(0, 0.25, lands)
    rel = population * np.exp(beta * np.log(mint + 1) + effects[land])
    mu = total * rel / rel.sum()
    lam = mu if alpha is None else rng.gamma(1 / alpha, alpha * mu)
    return pd.DataFrame(
        {
            "ags": [f"{i:05d}" for i in range(n)],
            "land_code": [f"{k + 1:02d}" for k in land],
            "population": population,
            "mint_students_per_1000": mint,
            "hc_count": rng.poisson(lam).astype(float),
        }
    )


def test_mint_log_indicator():
    assert mint_log_indicator([0.0, np.e - 1]) == pytest.approx([0.0, 1.0])


def test_poisson_closed_form_two_groups():
    # With one binary regressor and no Land effects the Poisson MLE reproduces each
    # group's rate sum(y) / sum(population): beta = log(rate1 / rate0) / (x1 - x0).
    data = pd.DataFrame(
        {
            "ags": ["a", "b", "c", "d", "e"],
            "population": [100_000, 300_000, 200_000, 50_000, 150_000],
            "mint_students_per_1000": [0.0, 0.0, 9.0, 9.0, 9.0],
            "hc_count": [2.0, 5.0, 7.0, 1.0, 4.0],
        }
    )
    models = fit_count_models(data, land=None)
    rate0 = 7 / 400_000
    rate1 = 12 / 400_000
    poisson = models.coefficients.query("model == 'poisson'").set_index("term")["coef"]
    assert poisson[MINT_TERM] == pytest.approx(np.log(rate1 / rate0) / np.log(10), rel=1e-6)
    assert np.exp(poisson["Intercept"]) == pytest.approx(rate0, rel=1e-6)
    expected = models.predictions.set_index("ags")["expected_poisson"]
    assert expected["a"] == pytest.approx(100_000 * rate0, rel=1e-6)


def test_irr_is_exp_of_coefficient():
    models = fit_count_models(_simulate(1))
    table = models.coefficients
    assert table["irr"].to_numpy() == pytest.approx(np.exp(table["coef"].to_numpy()))
    assert table["irr_ci_low"].to_numpy() == pytest.approx(np.exp(table["ci_low"].to_numpy()))
    assert table["irr_ci_high"].to_numpy() == pytest.approx(np.exp(table["ci_high"].to_numpy()))
    # a 95 % Wald interval: coef ± 1.959964 se
    assert (table["ci_high"] - table["coef"]).to_numpy() == pytest.approx(
        1.959964 * table["se"].to_numpy(), rel=1e-5
    )
    assert models.elasticity.irr == pytest.approx(np.exp(models.elasticity.estimate))
    irr = models.irr_table()
    assert set(irr["term"]) == {"Intercept", MINT_TERM} and len(irr) == 4


def test_robust_se_is_the_sandwich_by_hand():
    # HC0 for the Poisson GLM: (X'WX)^-1 X' diag((y - mu)^2) X (X'WX)^-1, W = diag(mu).
    data = _simulate(2, n=120, lands=3)
    models = fit_count_models(data, cov_type="HC0")
    pred = models.predictions
    x = np.column_stack(
        [
            np.ones(len(pred)),
            np.log(pred["mint_students_per_1000"] + 1),
            *[
                (pred["land_code"] == code).to_numpy(float)
                for code in sorted(pred["land_code"].unique())
                if code != models.reference_land
            ],
        ]
    )
    mu = pred["expected_poisson"].to_numpy()
    bread = np.linalg.inv(x.T @ (x * mu[:, None]))
    meat = x.T @ (x * ((pred["observed"].to_numpy() - mu) ** 2)[:, None])
    se = np.sqrt(np.diag(bread @ meat @ bread))
    got = models.coefficients.query("model == 'poisson'")["se"].to_numpy()
    assert got == pytest.approx(se, rel=1e-6)


def test_hc1_and_hc3_by_hand():
    # HC1 = HC0 * n / (n - k); HC3 weights each score by 1 / (1 - h_i)^2 with the GLM
    # hat values h = diag(W^1/2 X (X'WX)^-1 X' W^1/2), W = diag(mu) for the Poisson GLM.
    data = _simulate(11, n=80, lands=1)
    hc0 = fit_count_models(data, land=None, cov_type="HC0")
    hc1 = fit_count_models(data, land=None, cov_type="HC1")
    hc3 = fit_count_models(data, land=None, cov_type="HC3")
    se = {
        m.cov_type: m.coefficients.query("model == 'poisson'")["se"].to_numpy()
        for m in (hc0, hc1, hc3)
    }
    assert se["HC1"] == pytest.approx(se["HC0"] * np.sqrt(80 / 78), rel=1e-9)
    pred = hc3.predictions
    x = np.column_stack([np.ones(len(pred)), np.log(pred["mint_students_per_1000"] + 1)])
    mu = pred["expected_poisson"].to_numpy()
    bread = np.linalg.inv(x.T @ (x * mu[:, None]))
    hat = np.einsum("ij,jk,ik->i", x * np.sqrt(mu)[:, None], bread, x * np.sqrt(mu)[:, None])
    resid = (pred["observed"].to_numpy() - mu) / (1 - hat)
    meat = x.T @ (x * (resid**2)[:, None])
    assert se["HC3"] == pytest.approx(np.sqrt(np.diag(bread @ meat @ bread)), rel=1e-6)
    assert (se["HC3"] > se["HC0"]).all()
    with pytest.raises(ValueError, match="cov_type"):
        fit_count_models(data, land=None, cov_type="HC9")


def test_elasticity_ci_covers_injected_beta():
    data = _simulate(3, beta=0.4)
    models = fit_count_models(data)
    assert models.elasticity.covers(0.4)
    assert models.elasticity_poisson.covers(0.4)
    assert abs(models.elasticity.estimate - 0.4) < 3 * models.elasticity.se
    assert 0.02 < models.elasticity.se < 0.2
    assert models.n == 400 and models.land_effects and models.reference_land is not None


def test_overdispersion_detected_on_nb_data():
    models = fit_count_models(_simulate(4, alpha=0.5))
    od = models.overdispersion.iloc[0]
    assert od["pearson_ratio"] > 1.5
    assert od["lr_p_value"] < 1e-4
    assert od["alpha_ci_low"] > 0 and od["alpha_ci_low"] < 0.5 < od["alpha_ci_high"]
    assert od["aic_negbin"] < od["aic_poisson"]


def test_no_overdispersion_on_poisson_data():
    models = fit_count_models(_simulate(5, alpha=None))
    od = models.overdispersion.iloc[0]
    assert 0.8 < od["pearson_ratio"] < 1.25
    assert od["lr_p_value"] > 0.01
    assert od["alpha"] < 0.05
    # without overdispersion both models agree
    assert models.elasticity.estimate == pytest.approx(models.elasticity_poisson.estimate, abs=0.02)


def test_land_without_champions_is_dropped_and_reported():
    data = _simulate(6, n=200, lands=4)
    data = data.assign(hc_count=data["hc_count"].where(data["land_code"] != "02", 0.0))
    models = fit_count_models(data)
    dropped = models.dropped
    assert set(dropped["ags"]) == set(data.loc[data["land_code"] == "02", "ags"])
    assert dropped["reason"].str.contains("not estimable").all()
    assert models.n == 200 - len(dropped)
    assert np.isfinite(models.coefficients["se"]).all()


def test_missing_indicator_dropped():
    data = _simulate(7, n=100, lands=2)
    data.loc[[0, 1], "mint_students_per_1000"] = np.nan
    models = fit_count_models(data)
    assert models.dropped["ags"].tolist() == ["00000", "00001"]
    assert models.n == 98


def test_fractional_counts_are_accepted():
    data = _simulate(8, n=200, lands=2)
    data = data.assign(hc_count=data["hc_count"] + np.where(np.arange(200) % 10 == 0, 0.3, 0.0))
    models = fit_count_models(data)
    assert np.isfinite(models.elasticity.estimate)


def test_region_standing():
    data = _simulate(9, n=100, lands=2)
    data = data.assign(hc_per_100k=data["hc_count"] / data["population"] * 1e5)
    models = fit_count_models(data)
    top = data.sort_values("hc_per_100k", ascending=False)["ags"].iloc[0]
    standing = region_standing(models, data, top).iloc[0]
    assert standing["density_rank"] == 1 and standing["density_percentile"] == 100.0
    mu = models.predictions.set_index("ags").loc[top, "expected_negbin"]
    in_sample = region_standing(models, data, top, leave_one_out=False).iloc[0]
    assert in_sample["expected_negbin"] == pytest.approx(mu)
    assert standing["expected_in_sample"] == pytest.approx(mu)
    # leave one out: the top Kreis no longer pulls its own expectation up
    assert standing["expected_negbin"] < mu
    assert standing["observed_to_expected"] == pytest.approx(
        standing["hc_count"] / standing["expected_negbin"]
    )
    assert standing["interval_low"] <= standing["expected_negbin"] <= standing["interval_high"]
    assert standing["verdict"] in {"above", "within", "below"}
    with pytest.raises(KeyError, match="not in the table"):
        region_standing(models, data, "nope")


def test_a_kreis_alone_in_its_land_is_judged_out_of_sample_and_flagged():
    data = _simulate(5, n=200, lands=4)
    # a city state: one Kreis in Land 99 with far more champions than its size implies
    city = data.iloc[[0]].assign(ags="99000", land_code="99", hc_count=60.0)
    data = pd.concat([data.iloc[1:], city], ignore_index=True)
    data = data.assign(hc_per_100k=data["hc_count"] / data["population"] * 1e5)
    models = fit_count_models(data)

    in_sample = region_standing(models, data, "99000", leave_one_out=False).iloc[0]
    loo = region_standing(models, data, "99000").iloc[0]

    # in sample, its own Land dummy fits it exactly: always "within"
    assert in_sample["expected_negbin"] == pytest.approx(60.0, rel=1e-3)
    assert in_sample["verdict"] == "within"
    # out of sample (no Land effects: its Land has no other Kreis) it stands out
    assert loo["verdict"] == "above" and loo["expected_negbin"] < 20
    assert "without Land effects" in loo["note"]
    assert loo["leverage"] == pytest.approx(1.0, abs=1e-6) and loo["high_leverage"]
    ordinary = region_standing(models, data, data["ags"].iloc[5]).iloc[0]
    assert ordinary["leverage"] < 0.2 and not ordinary["high_leverage"]


def test_leverage_is_the_glm_hat_value_by_qr():
    data = _simulate(6, n=120, lands=3)
    data = data.assign(hc_per_100k=data["hc_count"] / data["population"] * 1e5)
    models = fit_count_models(data)
    alpha = float(models.overdispersion["alpha"].iloc[0])
    frame = models.predictions
    x = pd.get_dummies(frame["land_code"], prefix="land", dtype=float)
    x = x.drop(columns=f"land_{models.reference_land}")
    x.insert(0, "mint", mint_log_indicator(frame["mint_students_per_1000"]))
    x.insert(0, "const", 1.0)
    mu = frame["expected_negbin"].to_numpy()
    # hat values of the IRLS weighted design: squared row norms of Q of sqrt(W) X
    q, _ = np.linalg.qr(x.to_numpy() * np.sqrt(mu / (1 + alpha * mu))[:, None])
    hat = (q**2).sum(axis=1)
    assert hat.sum() == pytest.approx(x.shape[1])  # trace = number of parameters

    levs = [
        region_standing(models, data, code, leave_one_out=False).iloc[0]["leverage"]
        for code in frame["ags"].iloc[[3, 7, 50]]
    ]

    assert levs == pytest.approx(hat[[3, 7, 50]], rel=1e-8)


# --------------------------------------------------------------------------- plot


def test_observed_vs_expected_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.present.plots import observed_vs_expected

    models = fit_count_models(_simulate(10, n=60, lands=2))
    predictions = models.predictions.assign(name=lambda f: "K" + f["ags"])
    ax = observed_vs_expected(predictions, ["00003"])
    points = [c.get_offsets() for c in ax.collections]
    assert [len(p) for p in points] == [59, 1]
    expected = np.log1p(predictions.loc[3, ["expected_negbin", "observed"]].to_numpy(float))
    assert np.asarray(points[1][0]).tolist() == pytest.approx(expected.tolist())
    assert [t.get_text() for t in ax.texts] == ["K00003"]
    plt.close(ax.figure)


# --------------------------------------------------------------------------- loading


def _dataset(root, firm_file="hidden_champions.csv"):
    (root / "firms").mkdir(parents=True)
    (root / "official" / "plz_osm").mkdir(parents=True)
    (root / "official" / "plz_osm" / "zuordnung_plz_ort.csv").write_text(
        "osm_id,ags,ort,plz,landkreis,bundesland\n"
        "1,3159016,Göttingen,37073,Landkreis Göttingen,Niedersachsen\n"
        "2,3155001,Northeim,37073,Landkreis Northeim,Niedersachsen\n"
        "3,9162000,München,80331,,Bayern\n",
        encoding="utf-8",
    )
    header = "Firma;PLZ;WZ;Umsatz;Auslandsanteil;Rang;Markt;Kontinente;Bekanntheit"
    (root / "firms" / firm_file).write_text(
        header + "\nA;37073;28;1;0,5;1;Welt;3;gering\nB;80331;28;1;0,5;1;Welt;3;gering\n"
        "C;99999;28;1;0,5;1;Welt;3;gering\n",
        encoding="utf-8",
    )


def test_load_firms_reads_and_places(tmp_path, monkeypatch):
    from analysis.champions import load_firms

    _dataset(tmp_path)
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(tmp_path))
    loaded = load_firms("demo", ["03159", "03155", "09162"])
    assert loaded.n_firms == 3
    assert loaded.located.groupby("name")["weight"].sum().to_dict() == pytest.approx(
        {"A": 1.0, "B": 1.0}
    )
    assert loaded.unplaced["name"].tolist() == ["C"]
    assert loaded.plz_path.name == "zuordnung_plz_ort.csv"


def test_find_firm_list_falls_back_and_explains(tmp_path, monkeypatch):
    from analysis.champions import find_firm_list
    from analysis.errors import InputError

    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(tmp_path))
    with pytest.raises(InputError, match="expected one firm list"):
        find_firm_list("demo")
    _dataset(tmp_path, firm_file="weltmarktfuehrer_2024.csv")
    assert find_firm_list("demo").name == "weltmarktfuehrer_2024.csv"
    (tmp_path / "firms" / "other.xlsx").write_bytes(b"")
    with pytest.raises(InputError, match="found other.xlsx, weltmarktfuehrer_2024.csv"):
        find_firm_list("demo")
