"""Tests for analysis.market.matching: company-name normalization, scores, blocking, ambiguity."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.market.matching import (
    champion_truth,
    evaluate_matches,
    match_firms_to_accounts,
    matched_status,
    name_similarity,
    normalize_company_name,
    token_jaccard,
)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Müller Sensorik GmbH & Co. KG", "mueller sensorik"),
        ("MUELLER-SENSORIK GMBH", "mueller sensorik"),
        ("Mueller Sensorik GmbH&Co.KG", "mueller sensorik"),
        ("Müller Sensorik GmbH u. Co. KG", "mueller sensorik"),
        ("Weiß Präzisionstechnik UG (haftungsbeschränkt)", "weiss praezisionstechnik"),
        ("WEISS PRAEZISIONSTECHNIK", "weiss praezisionstechnik"),
        ("Größer Öl AG", "groesser oel"),
        ("Schäfer & Söhne e.K.", "schaefer soehne"),
        ("Schäfer und Söhne e. K.", "schaefer soehne"),
        ("Verein der Freunde e.V.", "verein der freunde"),
        ("Krämer Holding SE", "kraemer"),
        ("Koch Optik Aktiengesellschaft", "koch optik"),
        ("Lehmann Ventile OHG", "lehmann ventile"),
        ("Braun Pumpen Gesellschaft mit beschränkter Haftung", "braun pumpen"),
        ("Hahn Hydraulik mbH", "hahn hydraulik"),
        ("Hahn Hydraulik G.m.b.H.", "hahn hydraulik"),
        ("Hahn Hydraulik A.G.", "hahn hydraulik"),
        ("Hahn Hydraulik K.G.", "hahn hydraulik"),
        ("Gebr. Heller Maschinenfabrik", "gebrueder heller maschinenfabrik"),
        ("Société Générale S.A.", "societe generale"),
        ("  Vogel   Messtechnik,  KG  ", "vogel messtechnik"),
        ("GmbH & Co. KG", ""),
        (None, ""),
    ],
)
def test_normalization_removes_legal_forms_umlauts_punctuation_case(name, key) -> None:
    assert normalize_company_name(name) == key


def test_umlaut_and_double_s_spellings_give_one_key_both_ways() -> None:
    spellings = ["Jäger Ölhydraulik Groß", "Jaeger Oelhydraulik Gross", "JÄGER ÖLHYDRAULIK GROSS"]
    assert len({normalize_company_name(s) for s in spellings}) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Günther Fördertechnik KG", "Guenther Fördertechn. GmbH"),  # abbreviation
        ("Müller Sensorik GmbH", "Muller Sensorik"),  # umlaut dropped, not transliterated
        ("Sensorik Müller e.K.", "Müller Sensorik"),  # word order
        ("Hartmann Pumpen GmbH", "Hartman Pumpen GmbH"),  # a typo
        ("Bauer Hydraulik", "Bauer Hydraulik Holding GmbH"),  # holding
    ],
)
def test_respellings_of_one_firm_score_high(a, b) -> None:
    assert name_similarity(normalize_company_name(a), normalize_company_name(b)) >= 0.95


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Müller Sensorik GmbH", "Müller Messtechnik GmbH"),  # same owner name, other firm
        ("Lang Optik SE", "Lange Optik SE"),  # short names must be equal
        ("Wolf Optik", "Wolfram Optik"),  # a short word is no abbreviation
        ("Müller Sensorik", "Müller Sensorik Vertrieb"),  # a sales subsidiary
        ("Fischer Ventile", "Fischer Dichtungstechnik"),
    ],
)
def test_different_firms_score_low(a, b) -> None:
    assert name_similarity(normalize_company_name(a), normalize_company_name(b)) < 0.8


def test_token_jaccard_by_hand() -> None:
    # 2 agreeing tokens of 3 + 2 distinct: 2 / (3 + 2 - 2)
    assert token_jaccard("mueller sensorik gruppe", "mueller sensorik") == pytest.approx(2 / 3)
    assert token_jaccard("", "mueller") == 0.0


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    firms = pd.DataFrame(
        [
            ("F1", "Müller Sensorik GmbH & Co. KG", "11111", "K1"),
            ("F2", "Schmid Optik AG", "11111", "K1"),
            ("F3", "Weber Hydraulik KG", "11111", "K1"),
            ("F4", "Keller Lasertechnik GmbH", "11113", "K1"),
            ("F5", "Keller Lasertechnik AG", "11113", "K1"),
            ("F6", "Zimmermann Robotik GmbH", "", ""),  # not located
            ("F7", "Bauer Ventile GmbH", "11111", "K1"),
            ("F8", "Vogt Filtertechnik SE", "22222", "K2"),  # split postcode: two Kreise
            ("F8", "Vogt Filtertechnik SE", "22222", "K3"),
            ("F9", "Roth Antriebe GmbH", "99999", "K9"),  # no account in its Kreis
        ],
        columns=["firm_id", "name", "plz", "kreis_ags"],
    )
    accounts = pd.DataFrame(
        [
            ("A1", "MUELLER-SENSORIK GmbH", "11112", "K1"),  # F1, other postcode
            ("A2", "Müller Sensorik GmbH", "33333", "K4"),  # decoy: same name, other city
            ("A3", "Schmid Optik AG", "11111", "K1"),  # F2 ...
            ("A4", "Schmidt Optik AG", "11111", "K1"),  # ... or this one? ambiguous
            ("A5", "Weber Pumpen KG", "11111", "K1"),  # not F3
            ("A6", "Keller Lasertechnik", "11113", "K1"),  # wanted by F4 and F5
            ("A7", "Zimmermann Robotik", "44444", "K5"),  # F6 by name only
            ("A8", "Bauer Ventile e.K.", "", ""),  # F7 by name only (account unplaced)
            ("A9", "Vogt Filtertechnik", "22222", "K3"),  # F8 via its second Kreis
        ],
        columns=["account_id", "account_name", "plz5", "kreis_ags"],
    )
    return firms, accounts


def test_matching_blocks_by_kreis_flags_ambiguity_and_never_guesses(frames) -> None:
    # Arrange
    firms, accounts = frames

    # Act
    result = match_firms_to_accounts(firms, accounts)

    # Assert
    matched = dict(zip(result.matches["firm_id"], result.matches["account_id"], strict=True))
    assert matched == {"F1": "A1", "F8": "A9"}
    assert set(result.matches["blocked_by"]) == {"kreis"}
    assert result.matches.set_index("firm_id").loc["F1", "score"] == pytest.approx(0.9)
    ambiguous = result.ambiguous.groupby("firm_id")["account_id"].apply(sorted).to_dict()
    assert ambiguous == {
        "F2": ["A3", "A4"],  # two accounts alike
        "F4": ["A6"],  # two firms want one account
        "F5": ["A6"],
        "F6": ["A7"],  # the same name, but the firm has no place
        "F7": ["A8"],  # the same name, but the account has no place
    }
    why = result.ambiguous.set_index("firm_id")["reason"]
    assert why["F6"] == why["F7"] == "same name, but no place to compare"
    unmatched = result.unmatched.set_index("firm_id")["reason"]
    assert unmatched["F3"] == "no account in its Kreis comes close (too few common words)"
    assert unmatched["F9"] == "no account in its Kreis"
    # every firm exactly once
    outcomes = [*result.matches["firm_id"], *ambiguous, *result.unmatched["firm_id"]]
    assert sorted(outcomes) == sorted(firms["firm_id"].unique())
    assert result.summary()["firms"].tolist() == [2, 5, 2]


def test_pruned_pairs_could_not_have_reached_the_threshold(frames) -> None:
    # Arrange
    firms, accounts = frames

    # Act
    result = match_firms_to_accounts(firms, accounts, threshold=0.5)
    candidates = result.candidates[result.candidates["blocked_by"] == "kreis"]
    exact = [
        0.9 * name_similarity(normalize_company_name(x), normalize_company_name(y)) + 0.1 * p
        for x, y, p in zip(
            candidates["firm_id"].map(
                firms.drop_duplicates("firm_id").set_index("firm_id")["name"]
            ),
            candidates["account_id"].map(accounts.set_index("account_id")["account_name"]),
            candidates["same_plz"],
            strict=True,
        )
    ]

    # Assert
    scored = ~candidates["pruned"].to_numpy()
    assert candidates["score"].to_numpy()[scored] == pytest.approx(
        [e for e, k in zip(exact, scored, strict=True) if k]
    )
    assert all(e < 0.5 for e, k in zip(exact, scored, strict=True) if not k)
    assert candidates["pruned"].any() and scored.any()


def test_a_clearly_better_firm_keeps_the_contested_account() -> None:
    # Arrange: both firms reach the threshold for A1, F1 by more than the margin
    firms = pd.DataFrame(
        {
            "firm_id": ["F1", "F2"],
            "name": ["Keller Lasertechnik GmbH", "Keller Lasertechn. Gruppe"],
            "plz": ["11111", "11119"],
            "kreis_ags": ["K1", "K1"],
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["A1"],
            "account_name": ["Keller Lasertechnik"],
            "plz5": ["11111"],
            "kreis_ags": ["K1"],
        }
    )

    # Act
    result = match_firms_to_accounts(firms, accounts, threshold=0.6)

    # Assert
    assert result.matches["firm_id"].tolist() == ["F1"]
    assert result.unmatched.set_index("firm_id").loc["F2", "reason"] == (
        "its best account matched another firm better"
    )


def test_without_name_only_fallback_unlocated_records_stay_unmatched(frames) -> None:
    firms, accounts = frames
    result = match_firms_to_accounts(firms, accounts, name_only=False)
    assert "F6" not in set(result.matches["firm_id"])
    assert result.unmatched.set_index("firm_id").loc["F6", "reason"].startswith("not located")


def test_parameters_are_checked(frames) -> None:
    firms, accounts = frames
    with pytest.raises(ParameterError):
        match_firms_to_accounts(firms, accounts, threshold=1.5)
    with pytest.raises(ParameterError, match="account_name"):
        match_firms_to_accounts(firms, accounts.drop(columns="account_name"))


def test_precision_and_recall_by_hand() -> None:
    matches = pd.DataFrame({"firm_id": ["F1", "F2", "F3"], "account_id": ["A1", "A2", "AX"]})
    truth = pd.DataFrame(
        {"firm_id": ["F1", "F2", "F4", "F5"], "account_id": ["A1", "A2", "A4", "A5"]}
    )
    scores = evaluate_matches(matches, truth)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 4)
    assert (scores["false_positives"], scores["false_negatives"]) == (1, 2)


def test_matched_status_separates_customers_from_other_accounts(frames) -> None:
    firms, accounts = frames
    result = match_firms_to_accounts(firms, accounts)
    status = matched_status(firms["firm_id"].unique(), result, customer_ids=["A1"])
    assert status["F1"] == "customer"
    assert status["F8"] == "account, not a customer"
    assert status["F2"] == status["F6"] == "ambiguous"
    assert status["F3"] == "not in the CRM"


def test_champion_truth_reads_the_demo_truth(tmp_path, monkeypatch) -> None:
    # Arrange
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(tmp_path))
    pairs = [{"firm_id": "HC00001", "account_id": "001A"}]
    (tmp_path / "TRUTH.json").write_text(
        json.dumps({"crm": {"champion_customers": pairs, "champion_decoys": ["001B"]}}),
        encoding="utf-8",
    )

    # Act
    truth = champion_truth("demo")

    # Assert
    assert truth.to_dict("records") == pairs
    assert truth.attrs["decoys"] == ["001B"]
    assert champion_truth("official") is None


@pytest.mark.slow
def test_demo_champions_are_matched_with_precision_and_recall_of_095(tmp_path, monkeypatch) -> None:
    # Arrange: a fresh demo (another seed than the default) with its truth
    from analysis import champions, market
    from analysis.demo import write_demo
    from analysis.regions import load_kreis_indicators
    from analysis.sources.crm.salesforce import load_crm
    from analysis.sources.official.plz import read_plz

    demo = write_demo(tmp_path / "demo", seed=3)
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(demo))
    codes = load_kreis_indicators("demo")["ags"]
    firms = champions.load_firms("demo", codes)
    crm = load_crm(demo / "crm", key=b"0" * 32)
    accounts = market.locate_accounts(crm.accounts, read_plz(firms.plz_path), kreis_codes=codes)
    truth = champion_truth("demo")

    # Act
    result = match_firms_to_accounts(
        market.firms_for_matching(firms.located, firms.unplaced),
        market.accounts_for_matching(accounts),
        firm_id="firm_key",
    )
    scores = evaluate_matches(result.matches, truth)

    # Assert
    assert len(truth) > 150
    assert scores["precision"] >= 0.95
    assert scores["recall"] >= 0.95
    assert not set(result.matches["account_id"]) & set(truth.attrs["decoys"])
