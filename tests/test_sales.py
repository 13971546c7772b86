"""Tests for analysis.sales: funnel, win rate, deal size, sales cycle, marketing, quality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import sales
from analysis.errors import ParameterError
from analysis.sales import its

Z = stats.norm.ppf(0.975)


def opps(rows: list[tuple]) -> pd.DataFrame:
    """Canonical opportunities from (id, created, close, closed, won, amount_eur[, type, owner])."""
    cols = ["opportunity_id", "created_date", "close_date", "is_closed", "is_won", "amount_eur"]
    frame = pd.DataFrame([r[:6] for r in rows], columns=cols)
    frame["created_date"] = pd.to_datetime(frame["created_date"])
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    frame["amount"] = frame["amount_eur"]
    frame["currency"] = "EUR"
    frame["type"] = [r[6] if len(r) > 6 else "New Business" for r in rows]
    frame["owner_id"] = [r[7] if len(r) > 7 else "u1" for r in rows]
    frame["lead_source"] = ""
    frame["campaign_id"] = ""
    return frame


# --------------------------------------------------------------------------- intervals


def test_wilson_interval_matches_the_hand_formula():
    k, n = 8, 20
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    low, high = sales.wilson_interval(k, n)
    assert float(low) == pytest.approx(centre - half, abs=1e-12)
    assert float(high) == pytest.approx(centre + half, abs=1e-12)
    low, high = sales.wilson_interval([0, 5], [0, 5])
    assert np.isnan(low[0]) and high[1] == pytest.approx(1.0)


def test_proportion_difference_contains_the_difference():
    result = sales.proportion_difference(30, 100, 20, 100)
    assert result["difference"] == pytest.approx(0.10)
    assert result["ci_low"] < 0.10 < result["ci_high"]
    assert result["ci_low"] < 0  # 30 % vs 20 % with 100 each is not conclusive
    assert 0.05 < result["p_value"] < 0.2


# --------------------------------------------------------------------------- segments, currency


def test_filter_segment_and_amount_column():
    frame = opps(
        [
            ("a", "2023-01-01", "2023-02-01", True, True, 10.0, "New Business"),
            ("b", "2023-01-01", "2023-02-01", True, True, 10.0, "Existing Business"),
            ("c", "2023-01-01", "2023-02-01", True, True, 10.0, ""),
        ]
    )
    assert list(sales.filter_segment(frame, "new_business")["opportunity_id"]) == ["a"]
    assert list(sales.filter_segment(frame, "existing_business")["opportunity_id"]) == ["b"]
    assert len(sales.filter_segment(frame, "all")) == 3
    with pytest.raises(ParameterError, match="segment"):
        sales.filter_segment(frame, "smb")
    assert sales.amount_column(frame, "eur")[1] == "amount_eur"
    with pytest.raises(ParameterError, match="CHF"):
        sales.amount_column(frame, "CHF")


# --------------------------------------------------------------------------- win rate


def test_monthly_win_rate_fills_empty_months_and_respects_as_of():
    frame = opps(
        [
            ("a", "2023-01-01", "2023-01-10", True, True, 100.0),
            ("b", "2023-01-01", "2023-01-20", True, False, 50.0),
            ("c", "2023-01-01", "2023-03-05", True, False, 10.0),
            ("d", "2023-01-01", "2023-05-05", True, True, 10.0),  # after as_of
            ("e", "2023-01-01", "2023-02-05", False, False, 10.0),  # open
        ]
    )
    monthly = sales.monthly_win_rate(frame, as_of="2023-04-30")
    assert list(monthly["month"].dt.strftime("%Y-%m")) == [
        "2023-01",
        "2023-02",
        "2023-03",
        "2023-04",
    ]
    assert list(monthly["n_closed"]) == [2, 0, 1, 0]
    assert monthly["win_rate"].iloc[0] == pytest.approx(0.5)
    assert np.isnan(monthly["win_rate"].iloc[1])
    assert monthly["win_rate_value"].iloc[0] == pytest.approx(100 / 150)


def test_its_series_trims_ramp_up_and_blanks_thin_months():
    monthly = pd.DataFrame(
        {
            "month": pd.date_range("2021-01-01", periods=6, freq="MS"),
            "n_closed": [3, 25, 30, 4, 28, 2],
            "win_rate": [0.3, 0.2, 0.25, 0.5, 0.2, 1.0],
        }
    )
    kept = sales.its_series(monthly, min_closed=20)
    assert list(kept["month"].dt.strftime("%m")) == ["02", "03", "04", "05"]
    assert np.isnan(kept["win_rate"].iloc[2])
    assert kept.attrs["dropped_months"] == ["2021-01", "2021-04", "2021-06"]


def test_win_rate_before_after_with_transition_window():
    frame = opps(
        [
            ("a", "2023-01-01", "2023-03-10", True, True, 1.0),
            ("b", "2023-01-01", "2023-03-20", True, False, 1.0),
            ("c", "2023-01-01", "2023-04-05", True, False, 1.0),  # transition
            ("d", "2023-01-01", "2023-05-05", True, True, 1.0),
            ("e", "2023-01-01", "2023-06-05", True, True, 1.0),
            ("f", "2023-01-01", "2023-06-05", False, False, 1.0),  # open
        ]
    )
    table = sales.win_rate_before_after(frame, unification_date="2023-04-01", transition_months=1)
    assert list(table["n_closed"]) == [2, 2]
    assert list(table["win_rate"]) == [0.5, 1.0]
    assert table.attrs["difference"]["difference"] == pytest.approx(0.5)


def test_deal_size_geometric_means_and_ratio_by_hand():
    frame = opps(
        [
            ("a", "2023-01-01", "2023-02-01", True, True, 100.0),
            ("b", "2023-01-01", "2023-02-02", True, True, 400.0),
            ("c", "2023-01-01", "2023-02-03", True, False, 9999.0),  # lost: ignored
            ("d", "2023-01-01", "2023-05-01", True, True, 200.0),
            ("e", "2023-01-01", "2023-05-02", True, True, 800.0),
        ]
    )
    table = sales.deal_size_before_after(frame, unification_date="2023-04-01")
    assert list(table["geometric_mean"]) == pytest.approx([200.0, 400.0])
    assert list(table["median"]) == pytest.approx([250.0, 500.0])
    ratio = table.attrs["ratio"]
    assert ratio["ratio"] == pytest.approx(2.0)
    # Welch on logs: both groups have log-sd ln(4)/sqrt(2), n = 2, df = 2
    se = np.sqrt(2 * (np.log(4) ** 2 / 2) / 2)
    q = stats.t.ppf(0.975, 2)
    assert ratio["ci_low"] == pytest.approx(2.0 * np.exp(-q * se))
    assert ratio["ci_high"] == pytest.approx(2.0 * np.exp(q * se))


def test_win_rate_by_team_never_shows_reps():
    rows = [
        (f"{u}{i}", "2023-01-01", date, True, won, 1.0, "New Business", u)
        for i, (u, date, won) in enumerate(
            [
                ("u1", "2023-02-01", True),
                ("u2", "2023-02-01", False),
                ("u3", "2023-02-01", False),
                ("u1", "2023-05-01", True),
                ("u4", "2023-05-01", True),  # the only rep of team Süd
                ("ux", "2023-05-01", True),  # not in the user table
            ]
        )
    ]
    users = pd.DataFrame(
        {"user_id": ["u1", "u2", "u3", "u4"], "team": ["Nord", "Nord", "Nord", "Süd"]}
    )
    table = sales.win_rate_by_team(opps(rows), users, unification_date="2023-04-01")
    assert set(table.columns) == {"team", "period", "n_closed", "n_won", "n_lost", "win_rate"}
    nord_pre = table.query("team == 'Nord' and period == 'pre'")
    assert nord_pre[["n_closed", "n_won"]].iloc[0].tolist() == [3, 1]
    assert "Süd" not in set(table["team"])  # a one-rep team is pooled


def test_publishable_hides_rows_with_a_small_count():
    table = pd.DataFrame(
        {
            "team": ["A", "B", "C"],
            "n_closed": [40, 40, 3],
            "n_won": [3, 20, 0],
            "win_rate": [0.075, 0.5, 0.0],
        }
    )
    shown = sales.publishable(table, ["n_closed", "n_won"])
    assert shown.loc[0, "win_rate"] == "x" and shown.loc[0, "n_closed"] == "x"
    assert shown.loc[1, "win_rate"] == 0.5
    assert shown.loc[2, "n_closed"] == "x"  # 3 closed deals
    assert list(shown.columns) == list(table.columns)


# --------------------------------------------------------------------------- sales cycle


def test_cycle_data_censors_open_and_late_deals_at_as_of():
    frame = opps(
        [
            ("won", "2023-01-01", "2023-02-01", True, True, 1.0),
            ("lost", "2023-01-01", "2023-01-11", True, False, 1.0),
            ("stale", "2023-01-01", "2023-03-01", False, False, 1.0),  # open, close date passed
            ("late", "2023-05-01", "2023-07-15", True, True, 1.0),  # closes after as_of
            ("future", "2023-07-01", "2023-08-01", False, False, 1.0),  # created after as_of
            ("bad", "2023-05-10", "2023-05-01", True, False, 1.0),  # close before creation
        ]
    )
    cycle = sales.cycle_data(frame, as_of="2023-06-30", unification_date="2023-04-01").set_index(
        "opportunity_id"
    )
    assert "future" not in cycle.index
    assert cycle.loc["won", ["days", "status"]].tolist() == [31, 1]
    assert cycle.loc["lost", ["days", "status"]].tolist() == [10, 2]
    assert cycle.loc["stale", ["days", "status"]].tolist() == [180, 0]
    assert cycle.loc["late", ["days", "status"]].tolist() == [60, 0]
    assert cycle.loc["bad", "days"] == 0
    assert cycle.attrs["n_negative_durations"] == 1
    assert list(cycle["cohort"]) == ["pre", "pre", "pre", "post", "post"]


TINY = pd.DataFrame({"days": [2, 3, 3, 5, 8, 9], "status": [1, 0, 2, 1, 0, 2], "cohort": "x"})


def test_kaplan_meier_matches_hand_values():
    # closed = won or lost; at t=3 one deal closes and one is censored
    km = sales.kaplan_meier(TINY, event="closed")
    assert list(km["days"]) == [2, 3, 5, 9]
    assert list(km["survival"]) == pytest.approx([5 / 6, 2 / 3, 4 / 9, 0.0])
    assert list(km["n_at_risk"]) == [6, 5, 3, 1]
    assert km.attrs["medians"]["x"][0] == 5
    # Greenwood at t=2: S^2 * d / (n (n - d)) = (5/6)^2 * 1/30
    assert km["se"].iloc[0] == pytest.approx(np.sqrt((5 / 6) ** 2 / 30))


def test_cumulative_incidence_matches_aalen_johansen_by_hand():
    cif = sales.cumulative_incidence(TINY).set_index("days")
    assert cif.loc[2, "cif_won"] == pytest.approx(1 / 6)
    assert cif.loc[3, "cif_lost"] == pytest.approx(1 / 6)
    assert cif.loc[5, "cif_won"] == pytest.approx(1 / 6 + (2 / 3) * (1 / 3))
    assert cif.loc[9, "cif_lost"] == pytest.approx(1 / 6 + 4 / 9)
    assert cif.loc[9, "cif_won"] + cif.loc[9, "cif_lost"] == pytest.approx(1.0)
    # evaluated on a grid, the curve is a step function (0 before the first event)
    grid = sales.cumulative_incidence(TINY, times=[1, 4, 100]).set_index("days")
    assert list(grid["cif_won"]) == pytest.approx([0.0, 1 / 6, 7 / 18])


def hand_logrank(days, event, group):
    """Two-group log-rank statistic written out from the textbook formula."""
    days, event, group = map(np.asarray, (days, event, group))
    g1 = group == group[0]
    o_minus_e = var = 0.0
    for t in np.unique(days[event == 1]):
        at_risk = days >= t
        n, n1 = at_risk.sum(), (at_risk & g1).sum()
        d = ((days == t) & (event == 1)).sum()
        d1 = ((days == t) & (event == 1) & g1).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return o_minus_e**2 / var


def test_logrank_matches_the_textbook_statistic():
    rng = np.random.default_rng(4)
    cycle = pd.DataFrame(
        {
            "days": np.r_[rng.integers(1, 60, 25), rng.integers(1, 90, 25)].astype(float),
            "status": rng.choice([0, 1, 2], size=50, p=[0.2, 0.3, 0.5]),
            "cohort": ["pre"] * 25 + ["post"] * 25,
        }
    )
    result = sales.logrank(cycle, event="closed")
    expected = hand_logrank(cycle["days"], (cycle["status"] > 0).astype(int), cycle["cohort"])
    assert result["statistic"] == pytest.approx(expected, rel=1e-9)
    assert result["p_value"] == pytest.approx(stats.chi2.sf(expected, 1), rel=1e-9)


def test_cycle_summary_shows_the_naive_average_next_to_km():
    cycle = pd.concat([TINY, TINY.assign(cohort="y", days=TINY["days"] * 2)], ignore_index=True)
    summary = sales.cycle_summary(cycle, horizons=(5,)).set_index("group")
    assert summary.loc["x", "median_days_to_close"] == 5
    assert summary.loc["y", "median_days_to_close"] == 10
    assert summary.loc["x", "won_within_5d"] == pytest.approx(7 / 18)
    assert summary.loc["x", "naive_mean_days_won"] == pytest.approx(3.5)
    assert summary.loc["x", ["n", "n_won", "n_lost", "n_open"]].tolist() == [6, 2, 2, 2]


# --------------------------------------------------------------------------- funnel


def funnel_frames():
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
            "created_date": pd.to_datetime(
                ["2023-01-05", "2023-02-01", "2023-03-01", "2023-03-02", "2023-04-10", "2023-05-01"]
            ),
            "is_converted": [True, True, False, True, False, True],
            "converted_date": pd.to_datetime(
                ["2023-01-20", "2023-07-01", None, "2023-03-10", None, "2023-05-20"]
            ),
            "converted_opportunity_id": ["O1", "O2", "", "000000000000000AAA", "", "O6"],
            "lead_source": ["Web", "Partner Referral", "", "Web", "Webinar", ""],
        }
    )
    prospects = pd.DataFrame(
        {"crm_lead_fid": ["L1", "L2", "L3", "L6", ""], "score": [150.0, 120.0, 40.0, 99.0, 500.0]}
    )
    opportunities = opps(
        [
            ("O1", "2023-01-20", "2023-03-01", True, True, 100.0),
            ("O2", "2023-07-01", "2023-08-01", True, False, 200.0),
            ("O6", "2023-05-20", "2023-06-01", False, False, 300.0),
            ("O9", "2023-05-20", "2023-06-01", True, True, 50.0),  # not from a lead
        ]
    )
    return leads, prospects, opportunities


def test_funnel_by_cohort_counts_nested_steps():
    leads, prospects, opportunities = funnel_frames()
    funnel = sales.funnel_by_cohort(
        leads, prospects, opportunities, as_of="2023-12-01", freq="QS", maturity_days=180
    )
    q1 = funnel[funnel["cohort"] == pd.Timestamp("2023-01-01")].set_index("stage")
    assert q1["n"].tolist() == [4, 2, 2, 1]  # leads, MQL (L1, L2), opp among MQL, won
    assert q1["base"].tolist() == [4, 4, 2, 2]
    assert q1.loc["opportunity", "rate"] == 1.0
    assert q1.loc["won", "rate_from_lead"] == pytest.approx(0.25)
    assert bool(q1["mature"].all())
    q2 = funnel[funnel["cohort"] == pd.Timestamp("2023-04-01")].set_index("stage")
    assert q2["n"].tolist() == [2, 0, 0, 0]  # L6 converted but scored 99 < 100
    assert not bool(q2["mature"].any())
    low, high = sales.wilson_interval(2, 4)
    assert q1.loc["mql", "ci_low"] == pytest.approx(float(low))


def test_lead_conversion_uses_a_fixed_horizon():
    leads, _, _ = funnel_frames()
    table = sales.lead_conversion_before_after(
        leads, unification_date="2023-03-01", as_of="2023-08-15", horizon_days=60
    ).set_index("period")
    # pre: L1 (converted after 15 d: yes), L2 (after 150 d: no); post: L3, L4 (sentinel
    # Id: not an opportunity), L5; L6 is too young for a 60-day horizon? 2023-05-01 + 60 d
    # = 2023-06-30 <= as_of, so it counts (converted after 19 d).
    assert table.loc["pre", ["n_leads", "n_converted"]].tolist() == [2, 1]
    assert table.loc["post", ["n_leads", "n_converted"]].tolist() == [4, 1]
    assert table.attrs["difference"]["difference"] == pytest.approx(0.25 - 0.5)


# --------------------------------------------------------------------------- marketing


def test_marketing_attribution_rules():
    leads, _, opportunities = funnel_frames()
    opportunities = opportunities.assign(
        campaign_id=["C1", "", "000000000000000AAA", ""],
        lead_source=["Web", "", "", "Trade Show"],
    )
    members = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L6"],
            "has_responded": [True, False, True],
            "first_responded_date": pd.to_datetime(["2023-01-10", None, "2023-06-01"]),
            "created_date": pd.to_datetime(["2023-01-06", "2023-02-01", "2023-05-02"]),
        }
    )
    flags = sales.marketing_attribution(opportunities, leads, members).set_index("opportunity_id")
    assert flags["campaign_source"].tolist() == [True, False, False, False]
    assert flags["lead_source"].tolist() == [True, False, False, True]
    assert flags["converted_lead"].tolist() == [True, False, False, False]
    assert flags["any_sourced"].tolist() == [True, False, False, True]
    # L6 responded only after O6 was created; L2 never responded
    assert flags["influenced"].tolist() == [True, False, False, False]
    pipeline = sales.marketing_pipeline(
        opportunities, flags.reset_index(), unification_date="2023-04-01"
    ).set_index(["definition", "period"])
    assert pipeline.loc[("any_sourced", "pre"), "share_value"] == pytest.approx(1.0)
    assert pipeline.loc[("any_sourced", "post"), "share_value"] == pytest.approx(50 / 550)
    assert set(pipeline.index.get_level_values(0)) == set(sales.MARKETING_RULES["definition"])


# --------------------------------------------------------------------------- quality


def test_fill_rates_treat_the_null_sentinel_as_empty():
    frame = pd.DataFrame(
        {
            "created_date": pd.to_datetime(
                ["2023-01-01", "2023-02-01", "2023-04-01", "2023-05-01"]
            ),
            "campaign_id": ["C1", "000000000000000AAA", "", "C2"],
            "amount": [1.0, np.nan, 2.0, 3.0],
        }
    )
    rates = sales.fill_rates(
        frame, date_col="created_date", fields=["campaign_id", "amount"]
    ).set_index(["field", "period"])
    assert rates.loc[("campaign_id", pd.Timestamp("2023-01-01")), "fill_rate"] == 0.5
    assert rates.loc[("amount", pd.Timestamp("2023-01-01")), "n_filled"] == 1
    with pytest.raises(ParameterError):
        sales.fill_rates(frame, date_col="created_date", fields=["nope"])


def test_quarantine_summary_counts_by_file_and_reason():
    quarantine = pd.DataFrame(
        {
            "file": ["/x/Lead.csv", "/x/Lead.csv", "/x/Opportunity.csv"],
            "line": [3, 9, 4],
            "column": ["Id", "Id", "CloseDate"],
            "reason": ["duplicate Id", "duplicate Id", "bad date"],
            "record_id": ["a", "b", "c"],
        }
    )
    summary = sales.quarantine_summary(quarantine)
    assert summary.iloc[0].tolist() == ["Lead.csv", "quarantined", "duplicate Id", 2]
    assert "record_id" not in summary.columns
    assert len(sales.quarantine_summary(quarantine.iloc[:0])) == 0
    kept = quarantine.assign(action=["duplicate", "duplicate", "kept"])
    assert sales.quarantine_summary(kept)["action"].tolist() == ["duplicate", "kept"]


def test_fill_before_after_has_both_sides_even_without_records():
    frame = pd.DataFrame(
        {
            "created_date": pd.to_datetime(["2023-01-05", "2023-02-01", "2023-07-01"]),
            "lead_source": ["Web", "", "Partner"],
        }
    )
    fill = sales.fill_rates(frame, date_col="created_date", fields=["lead_source"])

    share = sales.fill_before_after(fill, "2023-04-01", fields=["lead_source"])
    assert share.loc["lead_source"].tolist() == [0.5, 1.0, 2, 1]
    empty = sales.fill_before_after(fill.iloc[:0], "2023-04-01", fields=["lead_source"])
    assert empty.loc["lead_source", ["n_before", "n_after"]].tolist() == [0, 0]
    assert np.isnan(empty.loc["lead_source", "before"])


# --------------------------------------------------------------------------- demo end to end


# (fixture demo_crm: a small demo CRM export of seed 11, in tests/conftest.py)


def test_demo_its_interval_covers_the_injected_uplift(demo_crm):
    data, truth = demo_crm
    monthly = sales.its_series(sales.monthly_win_rate(data.opportunities, as_of=truth["as_of"]))
    fit = its.segmented_regression(
        monthly,
        intervention=truth["unification_date"],
        outcome="win_rate",
        transition_months=truth["transition_months"],
    )
    # One seed: a 95 % interval misses 1 time in 20 (seed 11 does, by 2.3 standard
    # errors); coverage over many seeds is measured by validation/its_coverage.py.
    assert abs(fit.level_change - truth["win_rate_uplift"]) <= 3 * fit.se
    assert fit.method == "reml" and fit.effects["months_after"].tolist() == [6, 12]
    # (whether the interval also excludes 0 depends on the seed: the ITS has a power of
    # roughly 60-70 % for a 6-point uplift with ~90 closes a month)
    before_after = sales.win_rate_before_after(
        data.opportunities,
        unification_date=truth["unification_date"],
        as_of=truth["as_of"],
        transition_months=truth["transition_months"],
    )
    assert before_after.attrs["difference"]["difference"] > 0.03


def test_demo_lead_conversion_and_cycle_recover_truths(demo_crm):
    data, truth = demo_crm
    conversion = sales.lead_conversion_before_after(
        data.leads, unification_date=truth["unification_date"], as_of=truth["as_of"]
    ).attrs["difference"]
    assert conversion["ci_low"] <= truth["lead_conversion_uplift"] <= conversion["ci_high"]
    cycle = sales.cycle_data(
        data.opportunities, as_of=truth["as_of"], unification_date=truth["unification_date"]
    )
    summary = sales.cycle_summary(cycle).set_index("group")
    change = (
        summary.loc["post", "median_days_to_close"] - summary.loc["pre", "median_days_to_close"]
    )
    assert change == pytest.approx(truth["cycle_days_change"], abs=5)
    assert (
        summary.loc["pre", "median_ci_low"]
        <= truth["cycle_median_days_pre"]
        <= summary.loc["pre", "median_ci_high"]
    )
    assert sales.logrank(cycle)["p_value"] < 0.001


def test_demo_funnel_mql_rate_and_marketing_measurement_break(demo_crm):
    data, truth = demo_crm
    funnel = sales.funnel_by_cohort(
        data.leads, data.prospects, data.opportunities, as_of=truth["as_of"], freq="YS"
    )
    mql = funnel[(funnel["stage"] == "mql") & funnel["mature"]]
    pooled = mql["n"].sum() / mql["base"].sum()
    assert pooled == pytest.approx(truth["mql_rate"], abs=0.02)
    flags = sales.marketing_attribution(data.opportunities, data.leads, data.campaign_members)
    pipeline = sales.marketing_pipeline(
        data.opportunities, flags, unification_date=truth["unification_date"]
    ).set_index(["definition", "period"])
    # Primary Campaign Source filled far more often after the unification
    jump = (
        pipeline.loc[("campaign_source", "post"), "share_count"]
        - pipeline.loc[("campaign_source", "pre"), "share_count"]
    )
    assert jump > 0.1
