"""Tests for analysis.privacy: allow-list, pseudonyms, small cells, teams, escaping."""

from __future__ import annotations

import csv
import hashlib
import hmac
import itertools
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.privacy import (
    ALLOWED_COLUMNS,
    allowed_columns,
    disclosure_intervals,
    html_safe,
    is_denied,
    load_key,
    pseudonymize,
    safe_table,
    suppress_small_cells,
    suppression_pattern,
    team_only,
)
from analysis.sources.crm.objects import SPECS
from analysis.sources.crm.pardot import read_prospects
from analysis.sources.crm.salesforce import load_crm

FIXTURES = Path(__file__).parent / "fixtures" / "crm" / "export"
KEY = b"test-key-0123456789abcdef"

#: Column families that must never reach a frame (the brief's list).
PERSONAL = re.compile(
    r"^(FirstName|LastName|MiddleName|Name|Salutation|Email|Phone|MobilePhone|HomePhone|"
    r"OtherPhone|AssistantPhone|Fax|Street|BillingStreet|ShippingStreet|Mailing\w*|Other\w*|"
    r"Birthdate|Title|Description|NextStep|\w*Comments\w*|Notes__c|Username|Alias|"
    r"CommunityNickname|AssistantName|Company|ip_address|Owner|first_name|last_name|email|"
    r"phone|fax|address_one|address_two|job_title|comments|notes|company|First Name|"
    r"Last Name|Job Title|Pronouns|GenderIdentity)$"
)


def _personal_values() -> set[str]:
    """Every value of a personal column in the fixture files (Account.Name excepted)."""
    found: set[str] = set()
    for path in sorted(FIXTURES.rglob("*.csv")):
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig") if raw[:3] == b"\xef\xbb\xbf" else None
        if text is None:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252")
        rows = list(csv.DictReader(text.splitlines(keepends=True)))
        for row in rows:
            for column, value in row.items():
                if path.name in ("Account.csv", "UserRole.csv") and column == "Name":
                    continue  # a company name (allowed for matching) and role names
                if PERSONAL.match(column) and value and len(value) >= 4:
                    found.add(value)
    return found


def _all_text(crm) -> list[str]:
    cells: list[str] = []
    frames = [
        getattr(crm, name)
        for name in (
            "opportunities",
            "opportunity_history",
            "accounts",
            "leads",
            "contacts",
            "campaigns",
            "campaign_members",
            "users",
            "prospects",
            "stages",
            "quarantine",
            "quality",
        )
    ]
    frames.append(read_prospects(FIXTURES / "pardot" / "prospects_ui_export.csv", key=KEY).frame)
    for frame in frames:
        cells.extend(map(str, frame.columns))
        for column in frame.columns:
            cells.extend(str(value) for value in frame[column].tolist())
    cells.append(repr(crm.attrs))
    return cells


def test_no_personal_value_reaches_any_frame():
    personal = _personal_values()
    crm = load_crm(FIXTURES, key=KEY)

    text = "\n".join(_all_text(crm))

    assert len(personal) > 40  # the fixture really is full of personal data
    leaked = sorted(v for v in personal if v in text)
    assert leaked == []
    # The check can fail: an allowed company name does appear.
    assert "Müller <script>alert(1)</script> GmbH" in text


def test_every_read_column_is_on_the_allow_list():
    for object_name, spec in SPECS.items():
        assert {f.api for f in spec} <= ALLOWED_COLUMNS[object_name], object_name


def test_allow_list_holds_no_personal_column():
    # Names that are company names, role names or picklist values, not people.
    exceptions = {
        ("Account", "Name"),
        ("UserRole", "Name"),
        ("OpportunityStage", "ApiName"),
        ("OpportunityStage", "ForecastCategoryName"),
        ("Opportunity", "StageName"),
        ("OpportunityHistory", "StageName"),
    }
    offending = [
        (obj, col)
        for obj, cols in ALLOWED_COLUMNS.items()
        for col in cols
        if is_denied(col) and (obj, col) not in exceptions
    ]

    assert offending == []


def test_is_denied_and_allowed_columns():
    header = ["Id", "FirstName", "Email", "ip_address", "Loss_Reason__c", "ForecastComments__c"]

    read, ignored = allowed_columns("Lead", header, extra=["Loss_Reason__c"])

    assert read == ["Id", "Loss_Reason__c"]
    assert set(ignored) == {"FirstName", "Email", "ip_address", "ForecastComments__c"}
    assert is_denied("ip_address") and is_denied("MailingStreet") and is_denied("Owner")
    assert not is_denied("OwnerId") and not is_denied("BillingPostalCode")
    with pytest.raises(ParameterError, match="personal"):
        allowed_columns("Lead", header, extra=["ForecastComments__c"])


def test_pardot_names_are_normalised_before_matching():
    read, ignored = allowed_columns("PardotProspect", ["Prospect Id", "Owner", "crmLeadFid"])

    assert read == ["Prospect Id", "crmLeadFid"] and ignored == ["Owner"]


# --------------------------------------------------------------------------- pseudonyms


def test_pseudonymize_is_keyed_hmac_sha256():
    ids = pd.Series(["0064600000J5S5TAAV", "", "0064600000J5S5TAAV"], index=[10, 11, 12])

    result = pseudonymize(ids, KEY)

    expected = hmac.new(KEY, b"0064600000J5S5TAAV", hashlib.sha256).hexdigest()[:16]
    assert result.tolist() == [expected, "", expected]
    assert list(result.index) == [10, 11, 12]
    assert pseudonymize(ids, b"another-key-0123456789").iloc[0] != expected
    assert hashlib.sha256(b"0064600000J5S5TAAV").hexdigest()[:16] != expected


def test_pseudonymize_refuses_a_short_key():
    with pytest.raises(ParameterError, match="16 bytes"):
        pseudonymize(pd.Series(["a"]), b"short")


def test_load_key_from_environment(monkeypatch):
    monkeypatch.setenv("WORKBOOK_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff")

    assert load_key() == bytes.fromhex("00112233445566778899aabbccddeeff")


def test_load_key_generates_a_private_key_file_once(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBOOK_PSEUDONYM_KEY", raising=False)
    key_file = tmp_path / "cfg" / "key"
    monkeypatch.setenv("WORKBOOK_PSEUDONYM_KEY_FILE", str(key_file))

    first, second = load_key(), load_key()

    assert first == second and len(first) == 32
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"


def test_load_key_refuses_a_key_file_inside_the_project(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBOOK_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("WORKBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_PSEUDONYM_KEY_FILE", str(tmp_path / "key"))

    with pytest.raises(ParameterError, match="inside the project"):
        load_key()


def test_load_key_refuses_a_short_environment_key(monkeypatch):
    monkeypatch.setenv("WORKBOOK_PSEUDONYM_KEY", "short")

    with pytest.raises(ParameterError, match="16 bytes"):
        load_key()


# --------------------------------------------------------------------------- small cells

TABLE = pd.DataFrame(
    {"a": [20, 12, 25], "b": [3, 30, 14], "c": [15, 9, 40]}, index=["r1", "r2", "r3"]
)


def test_one_small_cell_gets_the_cheapest_complementary_rectangle():
    table, primary, complementary = suppression_pattern(TABLE)

    hidden = sorted(zip(*np.nonzero((primary | complementary).to_numpy()), strict=True))
    # By hand: rectangles through (r1, b) cost r1c+r2b+r2c = 15+30+9 = 54 (cheapest of
    # 62, 59, 54, 69), so (r1,c), (r2,b), (r2,c) are hidden with it.
    assert hidden == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert primary.loc["r1", "b"] and primary.to_numpy().sum() == 1
    assert table.loc["Total", "Total"] == TABLE.to_numpy().sum()


def test_hidden_cells_cannot_be_recovered_from_totals():
    _, primary, complementary = suppression_pattern(TABLE)

    intervals = disclosure_intervals(TABLE, primary | complementary).set_index(["row", "column"])

    # By hand: (r1,b) = 3 + t, (r1,c) = 15 - t, (r2,b) = 30 - t, (r2,c) = 9 + t with all
    # cells >= 0, so t in [-3, 15] and the published table allows (r1,b) = 0 … 18.
    assert intervals.loc[("r1", "b"), ["lower", "upper"]].tolist() == pytest.approx([0, 18])
    assert (intervals["upper"] - intervals["lower"] > 0).all()


def test_primary_suppression_alone_would_be_recoverable():
    _, primary, _ = suppression_pattern(TABLE)

    intervals = disclosure_intervals(TABLE, primary)

    assert intervals.loc[0, "lower"] == pytest.approx(3) and intervals.loc[
        0, "upper"
    ] == pytest.approx(3)


def test_random_tables_are_protected_and_publish_no_small_cell():
    rng = np.random.default_rng(11)
    for trial in range(12):
        shape = (rng.integers(2, 5), rng.integers(2, 6))
        counts = pd.DataFrame(rng.integers(0, 30, shape) * (rng.random(shape) < 0.85))
        counts.iloc[0, 0] = rng.integers(1, 5)

        table, primary, complementary = suppression_pattern(counts)

        hidden = primary | complementary
        shown = table.to_numpy()[~hidden.to_numpy()]
        assert not ((shown > 0) & (shown < 5)).any(), trial
        intervals = disclosure_intervals(counts, hidden)
        assert (intervals["upper"] - intervals["lower"] > 1e-6).all(), trial


def test_suppress_small_cells_shows_one_label_for_all_hidden_cells():
    shown = suppress_small_cells(TABLE)

    assert shown.loc["r1", "b"] == "x" and shown.loc["r2", "c"] == "x"
    assert shown.loc["r3", "a"] == 25 and shown.loc["Total", "Total"] == 168
    assert shown.attrs["n_primary"] == 1 and shown.attrs["n_complementary"] == 3
    assert "fewer than 5" in shown.attrs["note"]


def test_sums_follow_the_suppression_of_their_counts():
    sums = TABLE * 1000.0

    shown = suppress_small_cells(sums, counts=TABLE)

    assert shown.loc["r1", "b"] == "x" and shown.loc["r3", "c"] == 40000.0
    assert shown.loc["Total", "a"] == 57000.0


def test_long_tables_hide_rows_with_few_records():
    long = pd.DataFrame({"team": ["A", "B", "C"], "n": [12, 3, 0], "won": [4, 1, 0]})

    shown = suppress_small_cells(long, counts="n")

    assert shown["n"].tolist() == [12, "x", 0] and shown["won"].tolist() == [4, "x", 0]
    assert shown["team"].tolist() == ["A", "B", "C"]


def test_row_totals_only_need_one_complement_per_row():
    counts = pd.DataFrame({"a": [2, 10], "b": [8, 11], "c": [30, 6]})

    table, primary, complementary = suppression_pattern(counts, totals="rows")

    assert complementary.to_numpy().sum() == 1 and complementary.loc[0, "b"]
    assert "Total" in table.columns and "Total" not in table.index


# --------------------------------------------------------------------------- teams


def test_team_only_replaces_reps_and_pools_small_teams():
    users = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4", "u5"],
            "team": ["North", "North", "North", "South", "South"],
        }
    )
    deals = pd.DataFrame(
        {"owner_id": ["u1", "u2", "u3", "u4", "u5", "u9"], "won": [1, 0, 1, 1, 0, 1]}
    )

    result = team_only(deals, "owner_id", users)

    assert "owner_id" not in result.columns
    assert result["team"].tolist() == ["North"] * 3 + ["other teams"] * 3
    assert result.attrs["pooled_teams"] == ["(unknown team)", "South"]
    assert list(deals.columns) == ["owner_id", "won"]  # argument not mutated


# --------------------------------------------------------------------------- display


def test_html_safe_and_safe_table_escape_text():
    frame = pd.DataFrame(
        {
            "account_name": pd.Series(["<script>alert(1)</script> & Co"], dtype="str"),
            "amount": [1.5],
        }
    )

    safe = safe_table(frame)

    assert html_safe("<b>") == "&lt;b&gt;"
    assert safe.loc[0, "account_name"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"
    assert safe.loc[0, "amount"] == 1.5
    assert frame.loc[0, "account_name"].startswith("<script>")  # not mutated
    assert "<script>" not in frame.to_html()  # pandas escapes too


def test_brute_force_finds_many_tables_behind_the_published_one():
    # Enumerate every non-negative table consistent with the published cells and totals:
    # the small cell can take 19 values, as the linear programme says.
    _, primary, complementary = suppression_pattern(TABLE)
    hidden = (primary | complementary).iloc[:3, :3].to_numpy()
    published = TABLE.to_numpy()
    rows, cols = published.sum(axis=1), published.sum(axis=0)
    cells = list(zip(*np.nonzero(hidden), strict=True))
    values = set()
    for guess in itertools.product(range(0, 41), repeat=2):
        trial = published.copy()
        # (r1,b) and (r1,c) free; the rest follows from the row and column totals.
        trial[0, 1], trial[0, 2] = guess
        trial[1, 1] = cols[1] - trial[0, 1] - trial[2, 1]
        trial[1, 2] = cols[2] - trial[0, 2] - trial[2, 2]
        ok = (
            (trial >= 0).all()
            and (trial.sum(axis=1) == rows).all()
            and (trial.sum(axis=0) == cols).all()
        )
        if ok:
            values.add(int(trial[0, 1]))
    assert len(cells) == 4
    assert values == set(range(0, 19))
