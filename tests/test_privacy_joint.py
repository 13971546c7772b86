"""Joint disclosure checks: linear relations among published numbers, teams, dominance.

Truths come from hand calculations on tiny tables; the attacker test reads the
published numbers of tables built from demo CRM data and bounds each hidden count
by linear programming.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.privacy import (
    DisclosureError,
    PublishedNumbers,
    assert_protected,
    dominance_mask,
    feasible_intervals,
    protection_check,
    team_only,
)

# --------------------------------------------------------------------------- LP check


def _partition(total, undecided, open_, customers, *, show_undecided=True):
    numbers = PublishedNumbers()
    numbers.publish("total", total)
    numbers.publish("open", open_)
    if show_undecided:
        numbers.publish("undecided", undecided)
    else:
        numbers.hide("undecided")
    numbers.hide("customers", 0, 4)  # the sentence says "<5"
    numbers.relate({"customers": 1, "undecided": 1, "open": 1, "total": -1})
    return numbers


def test_partition_with_all_other_parts_published_pins_the_hidden_count():
    numbers = _partition(100, 7, 90, 3)

    bounds = feasible_intervals(numbers).set_index("name")

    # by hand: customers = 100 - 7 - 90 = 3 exactly
    assert bounds.loc["customers", ["lower", "upper"]].tolist() == pytest.approx([3, 3])
    with pytest.raises(DisclosureError, match="customers"):
        assert_protected(numbers, {"customers": 3})


def test_merging_the_undecided_keeps_the_whole_range_open():
    numbers = _partition(100, 7, 90, 3, show_undecided=False)

    check = protection_check(numbers, {"customers": 3})

    # by hand: customers + undecided = 10, undecided >= 0, customers <= 4 -> [0, 4]
    assert check.loc[0, ["lower", "upper"]].tolist() == pytest.approx([0, 4])
    assert check.loc[0, "protected"]


def test_a_small_merged_remainder_narrows_the_range():
    numbers = _partition(100, 0, 98, 2, show_undecided=False)

    check = protection_check(numbers, {"customers": 2})

    # customers + undecided = 2 -> customers in [0, 2], narrower than 0-4
    assert check.loc[0, "upper"] == pytest.approx(2)
    assert not check.loc[0, "protected"]


def test_one_hidden_team_row_is_the_total_minus_the_others():
    numbers = PublishedNumbers()
    for team, won in {"a": 20, "b": 31}.items():
        numbers.publish(f"{team}/won", won)
    numbers.hide("c/won")
    numbers.publish("total/won", 54)
    numbers.sum_of("total/won", ["a/won", "b/won", "c/won"])

    bounds = feasible_intervals(numbers)

    assert bounds.loc[0, ["lower", "upper"]].tolist() == pytest.approx([3, 3])


def test_relations_naming_unknown_numbers_or_contradicting_are_errors():
    numbers = PublishedNumbers()
    numbers.publish("a", 1)
    numbers.hide("b")
    numbers.relate({"a": 1, "zzz": 1})
    with pytest.raises(ParameterError, match="zzz"):
        feasible_intervals(numbers)
    bad = PublishedNumbers()
    bad.publish("a", 1)
    bad.publish("b", 2)
    bad.hide("c")
    bad.relate({"a": 1, "b": -1})
    with pytest.raises(ParameterError, match="contradict"):
        feasible_intervals(bad)


def test_numbers_of_two_reports_are_checked_together():
    first = PublishedNumbers()
    first.publish("total", 50)
    first.publish("a", 46)
    first.hide("b", 0, 4)
    first.hide("c")
    first.sum_of("total", ["a", "b", "c"])
    second = PublishedNumbers()
    second.publish("c", 1)  # another report shows c

    assert protection_check(first, {"b": 3}).loc[0, "protected"]
    joint = protection_check(first.merge(second), {"b": 3})
    assert joint.loc[0, ["lower", "upper"]].tolist() == pytest.approx([3, 3])
    assert not joint.loc[0, "protected"]


# --------------------------------------------------------------------------- teams


USERS = pd.DataFrame(
    {
        "user_id": ["n1", "n2", "n3", "s1", "s2", "w1", "w2", "w3", "w4"],
        "team": ["North"] * 3 + ["South"] * 2 + ["West"] * 4,
    }
)


def test_team_size_is_counted_per_period_row():
    # North has 3 reps over both periods but only 1 after; West 4 before, 3 after
    deals = pd.DataFrame(
        {
            "owner_id": ["n1", "n2", "n3", "n1", "w1", "w2", "w3", "w4", "w1", "w2", "w3"],
            "period": ["pre"] * 3 + ["post"] + ["pre"] * 4 + ["post"] * 3,
        }
    )

    result = team_only(deals, "owner_id", USERS, period_col="period")

    post = result[result["period"] == "post"]
    assert "North" not in set(post["team"])
    assert result.attrs["pooled_by_period"]["post"] != []
    # the pool reaches 3 reps: North's one rep joins the smallest other team (West, 3)
    assert set(post["team"]) == {"other teams"}
    assert result.attrs["periods_below_min"] == []
    assert set(result.loc[result["period"] == "pre", "team"]) == {"North", "West"}


def test_a_pool_below_three_reps_takes_in_the_next_smallest_team():
    deals = pd.DataFrame({"owner_id": ["s1", "s2", "n1", "n2", "n3"]})

    result = team_only(deals, "owner_id", USERS)

    # South (2 reps) alone would be a pool of 2 -> North (3) joins it
    assert set(result["team"]) == {"other teams"}
    assert result.attrs["pooled_teams"] == ["North", "South"]


def test_a_period_with_fewer_than_three_reps_is_flagged():
    deals = pd.DataFrame({"owner_id": ["s1", "s2", "n1"], "period": ["post", "post", "pre"]})

    result = team_only(deals, "owner_id", USERS, period_col="period")

    assert sorted(result.attrs["periods_below_min"]) == ["post", "pre"]


def test_publishable_teams_hides_a_second_row_beside_published_totals():
    from analysis.sales import publishable_teams

    teams = pd.DataFrame(
        {
            "team": ["A", "B", "C", "A", "B", "C"],
            "period": ["pre"] * 3 + ["post"] * 3,
            "n_closed": [40, 50, 30, 40, 50, 30],
            "n_won": [10, 3, 12, 10, 20, 12],
        }
    ).assign(
        n_lost=lambda d: d["n_closed"] - d["n_won"], win_rate=lambda d: d["n_won"] / d["n_closed"]
    )

    shown = publishable_teams(teams)

    hidden = shown.attrs["hidden"]
    assert hidden.tolist() == [False, True, True, False, False, False]  # B pre + smallest C pre
    assert shown.loc[1, "n_won"] == "x" and shown.loc[2, "n_closed"] == "x"
    # the attacker with the pre totals: B's won count can be anything from 0 to 15
    numbers = PublishedNumbers()
    numbers.publish("total/closed", 120)
    numbers.publish("total/won", 25)
    numbers.publish("A/closed", 40)
    numbers.publish("A/won", 10)
    for team in ("B", "C"):
        numbers.hide(f"{team}/closed")
        numbers.hide(f"{team}/won")
        numbers.relate({f"{team}/won": 1, f"{team}/closed": -1}, 0.0)  # won <= closed below
    numbers.relations.pop()
    numbers.relations.pop()
    numbers.sum_of("total/closed", ["A/closed", "B/closed", "C/closed"])
    numbers.sum_of("total/won", ["A/won", "B/won", "C/won"])
    assert protection_check(numbers, {"B/won": 3}).loc[0, "protected"]


# --------------------------------------------------------------------------- dominance


def test_p_percent_rule_by_hand():
    deals = pd.DataFrame(
        {
            "cell": ["a"] * 4 + ["b"] * 4,
            "amount": [1000, 50, 30, 10, 100, 90, 80, 70],
        }
    )

    p = dominance_mask(deals, "amount", "cell", rule="p", p=10).set_index("cell")
    nk = dominance_mask(deals, "amount", "cell", rule="nk", n=1, k=60).set_index("cell")

    # a: 1090 - 1000 - 50 = 40 < 0.1 * 1000 -> sensitive; b: 340 - 190 = 150 >= 10
    assert p["sensitive"].tolist() == [True, False]
    assert p.loc["a", "total"] == 1090
    # (1, 60 %): 1000/1090 = 92 % > 60 %; 100/340 = 29 %
    assert nk["sensitive"].tolist() == [True, False]


def test_dominance_sums_records_of_one_contributor_first():
    deals = pd.DataFrame(
        {"cell": ["a"] * 4, "account": ["x", "x", "y", "z"], "amount": [50, 50, 60, 40]}
    )

    plain = dominance_mask(deals, "amount", "cell", rule="nk", n=1, k=40)
    by_account = dominance_mask(
        deals, "amount", "cell", contributor_col="account", rule="nk", n=1, k=40
    )

    assert not plain.loc[0, "sensitive"]  # 60/200 = 30 %
    assert by_account.loc[0, "sensitive"]  # x holds 100/200 = 50 %
    with pytest.raises(ParameterError):
        dominance_mask(deals, "amount", "cell", rule="q")


# --------------------------------------------------------------------------- sentences, plots


def _not_customers(n, customers, undecided, open_):
    frame = pd.DataFrame({"firm": ["F"], "kreis": ["K"]})
    frame.attrs = {
        "n_champions": n,
        "n_customers": customers,
        "n_ambiguous": undecided,
        "n_not_customers": open_,
        "definition": "simon",
    }
    return frame


def _numbers_in(text):
    import re

    return [int(x.replace(",", "")) for x in re.findall(r"\d[\d,]*", text)]


@pytest.mark.parametrize(
    ("n", "customers", "undecided"),
    [(100, 3, 7), (100, 2, 0), (100, 0, 4), (60, 4, 1), (40, 12, 3)],
)
def test_champion_sentence_never_lets_the_customer_count_be_derived(n, customers, undecided):
    from analysis.market import champion_sentence

    open_ = n - customers - undecided
    text = champion_sentence(_not_customers(n, customers, undecided, open_))

    printed = set(_numbers_in(text))
    numbers = PublishedNumbers()
    for name, value in (("total", n), ("undecided", undecided), ("open", open_)):
        if value in printed and not (name == "undecided" and customers < 5):
            numbers.publish(name, value)
        else:
            numbers.hide(name)
    if customers < 5:
        numbers.hide("customers", 0, 4)
        merged = customers + undecided
        if merged in printed and merged >= 5:
            numbers.publish("merged", merged)
            numbers.relate({"customers": 1, "undecided": 1, "merged": -1})
        numbers.relate({"customers": 1, "undecided": 1, "open": 1, "total": -1})
        assert protection_check(numbers, {"customers": customers}).loc[0, "protected"], text
        assert str(customers) not in text.split("fewer than")[0].split("Hidden Champions")[-1]
    else:
        assert f"{customers:,} are customers" in text


def test_funnel_points_of_hidden_kreise_are_not_drawn():
    from analysis.market import plottable

    frame = pd.DataFrame(
        {"ags": ["1", "2", "3"], "expected": [10.0, 8.0, 2.0], "observed": [12.0, 3.0, 0.0]}
    ).assign(ratio=lambda d: d["observed"] / d["expected"])

    points = plottable(frame)

    assert points["shown"].tolist() == [True, False, False]
    assert points["ratio"].isna().tolist() == [False, True, True]
    assert points["expected"].notna().all()  # E stays (the table shows it)
    assert points.attrs["n_hidden"] == 2 and frame["ratio"].notna().all()


# --------------------------------------------------------------------------- attacker


# (fixture demo_crm: a small demo CRM export of seed 11, in tests/conftest.py)


def _attack_team_table(shown, totals, truth_table):
    """Read the published team table and period totals like an attacker; bound hidden rows."""
    sensitive = {}
    numbers = PublishedNumbers()
    for period in ("pre", "post"):
        rows = shown[shown["period"] == period]
        for col in ("n_closed", "n_won"):
            total = f"{period}/total/{col}"
            numbers.publish(total, totals.loc[period, col])
            names = []
            for i, row in rows.iterrows():
                name = f"{period}/{row['team']}/{col}"
                names.append(name)
                if row[col] == "x":
                    numbers.hide(name)
                    if col == "n_won":
                        won = truth_table.loc[i, "n_won"]
                        lost = truth_table.loc[i, "n_lost"]
                        if 0 < won < 5:
                            sensitive[name] = won
                        if 0 < lost < 5:  # lost = closed - won, check the closed bound
                            numbers.hide(f"{period}/{row['team']}/n_lost")
                            sensitive[f"{period}/{row['team']}/n_lost"] = lost
                else:
                    numbers.publish(name, float(row[col]))
            numbers.sum_of(total, names)
    for name in list(numbers.hidden):
        if name.endswith("/n_lost"):
            stem = name[: -len("n_lost")]
            numbers.relate({name: 1, stem + "n_won": 1, stem + "n_closed": -1})
    return numbers, sensitive


def test_attacker_cannot_recover_a_hidden_team_row_of_the_demo(demo_crm):
    from analysis.sales import publishable_teams, win_rate_before_after, win_rate_by_team

    data, truth = demo_crm
    rng = np.random.default_rng(3)
    opp = data.opportunities
    # hostile staffing: four reps with deals form team F, the others teams A-C
    owners = sorted(opp["owner_id"].dropna().unique())
    team = {o: ("F" if i < 4 else "ABC"[i % 3]) for i, o in enumerate(owners)}
    users = data.users.assign(team=data.users["user_id"].map(team).fillna("A"))
    kwargs = {"unification_date": truth["unification_date"], "as_of": truth["as_of"]}
    # one team that almost never wins: its won counts fall below 5
    in_f = opp["owner_id"].map(users.set_index("user_id")["team"]).eq("F")
    keep = ~(in_f & opp["is_won"].fillna(False).astype(bool)) | (rng.random(len(opp)) < 0.015)
    opp = opp[keep.to_numpy()]
    teams = win_rate_by_team(opp, users, **kwargs)
    totals = win_rate_before_after(opp, **kwargs)
    totals = totals.set_index("period") if "period" in totals.columns else totals
    shown = publishable_teams(teams)

    numbers, sensitive = _attack_team_table(shown, totals, teams)

    assert shown.attrs["n_primary"] >= 1, "the hostile set-up should produce small rows"
    assert sensitive
    check = protection_check(numbers, sensitive)
    assert check["protected"].all(), check
    # without complementary suppression the attacker wins
    only_primary = teams.astype({c: object for c in ("n_closed", "n_won")})
    small = ((teams[["n_won", "n_lost"]] > 0) & (teams[["n_won", "n_lost"]] < 5)).any(axis=1)
    for col in ("n_closed", "n_won"):
        only_primary[col] = only_primary[col].where(~small, "x")
    assert (only_primary.groupby("period")["n_won"].apply(lambda s: (s == "x").sum()) == 1).any()
    exposed, sens = _attack_team_table(only_primary, totals, teams)
    assert not protection_check(exposed, sens)["protected"].all()


def test_suppression_pattern_keeps_the_whole_range_of_every_small_cell():
    from analysis.privacy import disclosure_intervals, suppression_pattern

    rng = np.random.default_rng(21)
    for trial in range(15):
        shape = (rng.integers(2, 5), rng.integers(2, 6))
        counts = pd.DataFrame(rng.integers(0, 30, shape) * (rng.random(shape) < 0.8))
        counts.iloc[0, 0] = rng.integers(1, 5)

        table, primary, complementary = suppression_pattern(counts)

        intervals = disclosure_intervals(counts, primary | complementary)
        flat_primary = primary.to_numpy().ravel()[(primary | complementary).to_numpy().ravel()]
        small = intervals[flat_primary & (intervals["value"] > 0)]
        assert (small["lower"] <= 1 + 1e-6).all(), (trial, small)
        assert (small["upper"] >= 4 - 1e-6).all(), (trial, small)
