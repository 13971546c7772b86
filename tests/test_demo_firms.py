"""Tests for analysis.demo.firms: the synthetic Hidden-Champion list and its truths."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from analysis.champions import count_by_kreis, fit_count_models, locate_firms
from analysis.demo import firms as demo_firms
from analysis.sources.firms import read_firm_list


@dataclass(frozen=True)
class StandInGeography:
    """The slice of analysis.demo.geography.Geography the firms part uses."""

    kreise: pd.DataFrame
    gemeinden: pd.DataFrame
    plz: pd.DataFrame


def _stand_in(seed: int = 0, per_land: int = 15) -> StandInGeography:
    rng = np.random.default_rng(seed)
    lands = {"01": "24", "03": "37", "09": "80", "14": "01"}  # Land → postcode region
    kreise, plz = [], []
    for land, region in lands.items():
        for j in range(per_land):
            ags = f"{land}9{j:02d}"
            population = int(rng.lognormal(np.log(200_000), 0.5))
            mint = int(population * rng.lognormal(np.log(10), 0.8) / 1000) if j % 3 else 0
            kreise.append((ags, f"Kreis {ags}", land, population, mint))
            for g in range(3):
                plz.append((f"{region}{j:02d}{g}", f"{ags}{g + 1:03d}", ags, f"Ort {ags}{g}", 1.0))
    plz = pd.DataFrame(plz, columns=["plz", "ags8", "kreis_ags", "ort", "share"])
    # one postcode of the first Kreis reaches into the second one
    first = plz["plz"].iloc[0]
    plz = pd.concat(
        [
            plz.assign(share=np.where(plz["plz"] == first, 0.6, 1.0)),
            pd.DataFrame([(first, "01901001", "01901", "Ort 01901x", 0.4)], columns=plz.columns),
        ],
        ignore_index=True,
    )
    kreise = pd.DataFrame(
        kreise, columns=["ags", "name", "land_code", "population", "mint_students"]
    ).assign(kreis_type="Landkreis")
    gemeinden = plz[["ags8", "kreis_ags"]].drop_duplicates().assign(name="x")
    return StandInGeography(kreise, gemeinden, plz)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    geo = _stand_in()
    out = tmp_path_factory.mktemp("demo")
    truth = demo_firms.write_part(out, geo, seed=7)
    return geo, out, truth


def test_deterministic_bytes(tmp_path, written):
    geo, out, truth = written
    again = demo_firms.write_part(tmp_path / "a", geo, seed=7)
    assert (tmp_path / "a" / demo_firms.FILE).read_bytes() == (out / demo_firms.FILE).read_bytes()
    assert json.dumps(again, sort_keys=True) == json.dumps(truth, sort_keys=True)
    demo_firms.write_part(tmp_path / "b", geo, seed=8)
    assert (tmp_path / "b" / demo_firms.FILE).read_bytes() != (out / demo_firms.FILE).read_bytes()


def test_truth_is_json_and_documents_the_model(written):
    _, _, truth = written
    json.dumps(truth)  # must be serializable for TRUTH.json
    assert truth["hc_mint_elasticity"] == demo_firms.HC_MINT_ELASTICITY
    assert truth["nb_alpha"] == demo_firms.NB_ALPHA
    assert "log(mint_students_per_1000 + 1)" in truth["indicator"]
    assert sum(truth["kreis_counts"].values()) == truth["n_firms"]
    assert truth["n_rows"] == truth["n_firms"] + 1  # one duplicate row
    assert set(truth["land_effects"]) == {"01", "03", "09", "14"}
    # roughly the documented size (NB noise on 60 Kreise)
    assert 0.6 * demo_firms.N_FIRMS < truth["n_firms"] < 1.5 * demo_firms.N_FIRMS


def test_list_reads_back_with_every_quirk_reported(written):
    geo, out, truth = written
    quirks = truth["quirks"]
    firms = read_firm_list(out / demo_firms.FILE)
    # no row lost: all rows read, exactly the duplicate set aside
    assert firms.n_rows == truth["n_rows"]
    assert len(firms.frame) == truth["n_firms"]
    assert firms.quarantine["reason"].tolist() == ["duplicate"]
    assert firms.frame["firm_id"].is_unique
    # revenue written as text: every such row normalized and reported
    text_rows = firms.frame.loc[firms.frame["firm_id"].isin(quirks["revenue_text"]), "row"]
    reported = firms.report[firms.report["kind"].isin(["text_amount", "thousands_separator"])]
    assert set(text_rows) == set(reported["row"])
    assert firms.frame["revenue_eur"].notna().all()
    # lost leading zeros restored, missing values stay missing
    lost = firms.frame[firms.frame["firm_id"].isin(quirks["postcode_lost_leading_zero"])]
    assert lost["plz"].str.fullmatch(r"0\d{4}").all()
    assert len(firms.report[firms.report["kind"] == "leading_zero"]) == len(lost)
    missing = firms.frame[firms.frame["firm_id"].isin(quirks["missing_awareness"])]
    assert missing["public_awareness"].isna().all()
    assert firms.report[firms.report["severity"] == "warning"].empty


def test_firms_are_placed_where_they_were_drawn(written):
    geo, out, truth = written
    quirks = truth["quirks"]
    firms = read_firm_list(out / demo_firms.FILE)
    located, unplaced = locate_firms(firms, geo.plz, geo.kreise["ags"])
    assert sorted(unplaced["firm_id"]) == sorted(quirks["unknown_postcode"])
    by_ags = located[located["firm_id"].isin(quirks["ags_without_postcode"])]
    assert (by_ags["placed_by"] == "ags").all()
    assert len(by_ags) == len(quirks["ags_without_postcode"]) > 0
    counts = count_by_kreis(located, geo.kreise, "all").set_index("ags")["firms_listed"]
    drawn = pd.Series(truth["kreis_counts"]).reindex(counts.index, fill_value=0)
    # exactly the documented firms sit on a shared postcode ...
    shared = sorted(located.loc[located["placed_by"] == "plz_shared", "firm_id"].unique())
    assert shared == quirks["shared_postcode"] and len(shared) > 0
    # ... and only they and the unknown postcodes make counts differ from the drawn ones
    assert (counts - drawn).abs().sum() <= len(shared) + len(quirks["unknown_postcode"]) + 1e-9


def test_definitions_keep_a_place_independent_share(written):
    _, _, truth = written
    counts = truth["definition_counts"]
    assert counts["all"] == truth["n_firms"]
    assert 0.5 < counts["simon"] / counts["all"] < 0.85
    assert 0.2 < counts["wmi"] / counts["all"] < 0.55


def test_simulated_counts_follow_the_documented_nb2_model():
    # Arrange: fixed Land effects, many draws
    geo = _stand_in(1)
    effects = {"01": 0.2, "03": 0.0, "09": -0.1, "14": -0.3}
    draws = [
        demo_firms.simulate_counts(geo.kreise, np.random.default_rng(s), effects)
        for s in range(500)
    ]
    counts = np.stack([d["count"].to_numpy() for d in draws]).astype(float)
    mu = draws[0]["expected"].to_numpy()
    # Act / Assert: the mean is mu with the documented elasticity and Land effects ...
    x = np.log(demo_firms.mint_per_1000(geo.kreise).to_numpy() + 1)
    rate = mu / geo.kreise["population"].to_numpy()
    land = geo.kreise["land_code"].map(effects).to_numpy()
    log_rate = np.log(rate) - land
    slope = np.polyfit(x, log_rate, 1)[0]
    assert slope == pytest.approx(demo_firms.HC_MINT_ELASTICITY, abs=1e-9)
    assert mu.sum() == pytest.approx(demo_firms.N_FIRMS)
    z = (counts.mean(axis=0) - mu) / np.sqrt((mu + demo_firms.NB_ALPHA * mu**2) / len(draws))
    assert np.abs(z).max() < 4.5
    # ... and the variance is mu + alpha mu^2 (NB2): a moment estimate of alpha
    alpha_hat = ((counts - mu) ** 2 - mu).mean(axis=0).sum() / (mu**2).sum()
    assert alpha_hat == pytest.approx(demo_firms.NB_ALPHA, rel=0.15)


def test_elasticity_recovered_on_the_stand_in(written):
    geo, out, truth = written
    firms = read_firm_list(out / demo_firms.FILE)
    located, _ = locate_firms(firms, geo.plz, geo.kreise["ags"])
    kreise = geo.kreise.assign(mint_students_per_1000=demo_firms.mint_per_1000(geo.kreise))
    models = fit_count_models(count_by_kreis(located, kreise, "all"))
    assert models.elasticity.covers(truth["hc_mint_elasticity"])


def test_generator_regressor_is_the_notebooks_indicator(tmp_path):
    # The truth is only recoverable if the generator's MINT indicator is exactly the
    # column the notebook regresses on (load_kreis_indicators' mint_students_per_1000).
    from analysis.demo import regions as demo_regions
    from analysis.demo.geography import build_geography
    from analysis.regions import load_kreis_indicators

    geo = build_geography(3)
    demo_regions.write_part(tmp_path, geo, 3)
    indicators = load_kreis_indicators("demo", root=tmp_path).set_index("ags")
    kreise = geo.kreise.set_index("ags")
    assert indicators.index.equals(kreise.index.sort_values())
    observed = indicators["mint_students_per_1000"]
    # the demo suppresses the MINT cells of a few Kreise ("."): those leave the model
    known = observed.notna()
    assert known.sum() >= len(observed) - 5
    pd.testing.assert_series_equal(
        observed[known],
        demo_firms.mint_per_1000(kreise).reindex(indicators.index)[known],
        check_names=False,
        rtol=1e-12,
    )
    assert (indicators["population"] == kreise["population"].reindex(indicators.index)).all()
