"""Location quotients and cluster stars against hand calculations."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.regions.clusters import category_summary, cluster_stars, location_quotient


def test_location_quotient_by_hand():
    part = pd.Series([30.0, 10.0, 0.0, 60.0])
    base = pd.Series([100.0, 100.0, 0.0, 800.0])
    lq = location_quotient(part, base)
    national = 100 / 1000  # the zero-base region does not count
    assert lq[0] == pytest.approx(0.30 / national)
    assert lq[1] == pytest.approx(0.10 / national)
    assert pd.isna(lq[2])
    assert lq[3] == pytest.approx(0.075 / national)


def test_stars_and_categories_by_hand():
    # 20 Kreise: one big specialized (K00), one small specialized (K01), rest average
    frame = pd.DataFrame(
        {
            "ags": [f"K{i:02d}" for i in range(20)],
            "mint": [500.0, 60.0] + [20.0] * 18,
            "pop": [1000.0, 100.0] + [1000.0] * 18,
            "mint_prev": [400.0, 60.0] + [20.0] * 18,
            "population": [1000] * 20,
        }
    )
    out = cluster_stars(frame, part="mint", base="pop", part_prev="mint_prev")
    national = 920 / 19100
    assert out.loc[0, "lq"] == pytest.approx(0.5 / national)
    assert bool(out.loc[0, "star_size"]) and bool(out.loc[0, "star_specialization"])
    assert bool(out.loc[0, "star_growth"])  # +25 % against national +11.4 %
    assert out.loc[0, "category"] == "MINT cluster" and out.loc[0, "stars"] == 3
    # K01: LQ = 0.6/0.048 ≈ 12.5 → specialization; size share 6.5 % is in the top 10 % (2 of 20)
    assert bool(out.loc[1, "star_specialization"]) and out.loc[1, "category"] == "MINT cluster"
    assert out.loc[5, "category"] == "no cluster"
    summary = category_summary(out)
    assert summary.loc["MINT cluster", "kreise"] == 2 and summary["kreise"].sum() == 20


def test_growth_star_is_unknown_without_two_periods():
    frame = pd.DataFrame({"mint": [1.0, 2.0, 3.0], "pop": [10.0, 10.0, 10.0]})
    out = cluster_stars(frame, part="mint", base="pop")
    assert out["star_growth"].isna().all()


def test_peer_groups_separate_obvious_groups_and_number_by_strength():
    import numpy as np

    from analysis.regions.clusters import peer_groups

    rng = np.random.default_rng(3)
    strong = rng.normal([50, 800], [1, 5], size=(10, 2))
    weak = rng.normal([5, 300], [1, 5], size=(12, 2))
    frame = pd.DataFrame(np.vstack([weak, strong]), columns=["mint", "jobs"])
    groups = peer_groups(frame, ["mint", "jobs"], k=2)
    assert (groups.iloc[12:] == 1).all() and (groups.iloc[:12] == 2).all()


def test_top_kreise_and_descriptions():
    from analysis.regions.clusters import describe_categories, describe_group, top_kreise

    frame = pd.DataFrame(
        {
            "ags": ["01001", "01002", "01003"],
            "name": ["A", "B", "C"],
            "population": [100.0, 100.0, 800.0],
            "mint_students": [50.0, 5.0, 40.0],
        }
    ).assign(mint_students_per_1000=lambda f: f["mint_students"] / f["population"] * 1000)
    stars = cluster_stars(frame, part="mint_students", base="population")
    top = top_kreise(stars, 2)
    assert list(top.index) == ["A (01001)", "B (01002)"]
    # LQ of A = 0.5 / (95/1000) = 5.26 → specialization star; share 52.6 % → size star
    text = describe_categories(stars, "01001")
    assert "A is 'MINT cluster' with location quotient 5.26" in text
    assert "growth star needs two periods" in text
    grouped = frame.assign(peer_group=pd.array([1, 1, 2], dtype="Int64"))
    assert "peer group 1 of 2 (2 Kreise" in describe_group(grouped, "01001")
