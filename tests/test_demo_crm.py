"""Tests for analysis.demo.crm: the synthetic Salesforce Data Export and Pardot files."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.demo import crm

NULL = crm.NULL_ID
QUOTED_LINE = re.compile(r'"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*')
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
DATA_EXPORT = (
    "Account",
    "Campaign",
    "CampaignMember",
    "Contact",
    "CurrencyType",
    "DatedConversionRate",
    "Lead",
    "Opportunity",
    "OpportunityHistory",
    "OpportunityStage",
    "User",
    "UserRole",
)
# Verbatim from crm_formats.md §1.1 (org A).
OPPORTUNITY_HEADER = (
    '"Id","IsDeleted","AccountId","IsPrivate","Name","Description","StageName","StageSortOrder",'
    '"Amount","Probability","ExpectedRevenue","TotalOpportunityQuantity","CloseDate","Type",'
    '"NextStep","LeadSource","IsClosed","IsWon","ForecastCategory","ForecastCategoryName",'
    '"CurrencyIsoCode","CampaignId","HasOpportunityLineItem","Pricebook2Id","OwnerId",'
    '"Territory2Id","IsExcludedFromTerritory2Filter","CreatedDate","CreatedById",'
    '"LastModifiedDate","LastModifiedById","SystemModstamp","LastActivityDate",'
    '"LastStageChangeDate","FiscalYear","FiscalQuarter","ContactId","PrimaryPartnerAccountId",'
    '"SyncedQuoteId","ContractId","LastAmountChangedHistoryId","LastCloseDateChangedHistoryId",'
    '"Budget_Confirmed__c","Discovery_Completed__c","ROI_Analysis_Completed__c",'
    '"BudgetConfirmed__c","Loss_Reason__c","Channel__c","ClosingPlan__c","DiscoveryCompleted__c",'
    '"ForecastComments__c","LossReason__c","Opportunity_rating__c","Partner__c",'
    '"ROIAnalysisCompleted__c"'
)
HISTORY_HEADER = (
    '"Id","OpportunityId","CreatedById","CreatedDate","CreatedDateForInsert","StageName","Amount",'
    '"ExpectedRevenue","CloseDate","Probability","FromForecastCategory","ForecastCategory",'
    '"PrevForecastUpdate","FromOpportunityStageName","PrevOpportunityStageUpdate",'
    '"CurrencyIsoCode","ValidThroughDate","SystemModstamp","IsDeleted","PrevAmount","PrevCloseDate"'
)


@dataclass(frozen=True)
class TinyGeography:
    """Stand-in for analysis.demo.geography.Geography with the columns the CRM part uses."""

    kreise: pd.DataFrame
    gemeinden: pd.DataFrame
    plz: pd.DataFrame


def tiny_geography() -> TinyGeography:
    kreise = pd.DataFrame(
        {"ags": ["03917", "09801", "05915"], "employees": [80_000, 900_000, 60_000]}
    )
    rows = [
        {
            "plz": f"{prefix}{j:03d}",
            "ags8": ags + "000",
            "kreis_ags": ags,
            "ort": f"Ort {ags}-{j}",
            "share": 1.0,
        }
        for ags, prefix in (("03917", "37"), ("09801", "80"), ("05915", "01"))
        for j in range(4)
    ]
    plz = pd.DataFrame(rows)
    # one postcode spanning two Kreise
    plz = pd.concat(
        [
            plz,
            pd.DataFrame(
                [
                    {
                        "plz": "37000",
                        "ags8": "09801000",
                        "kreis_ags": "09801",
                        "ort": "Grenzort",
                        "share": 0.4,
                    }
                ]
            ),
        ]
    )
    plz.loc[(plz["plz"] == "37000") & (plz["kreis_ags"] == "03917"), "share"] = 0.6
    return TinyGeography(kreise=kreise, gemeinden=pd.DataFrame(), plz=plz.reset_index(drop=True))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    truth = crm.write_part(out, tiny_geography(), seed=3)
    return out / "crm", truth


def read(folder: Path, name: str, encoding: str = "utf-8") -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False, encoding=encoding)


def test_salesforce_id18_matches_the_documented_example():
    # Arrange / Act / Assert: sample row B of crm_formats.md
    assert crm.salesforce_id18("0064600000J5S5T") == "0064600000J5S5TAAV"
    assert crm.salesforce_id18("0014600001TvgfZ") == "0014600001TvgfZAAR"


def test_generated_ids_carry_valid_checksums_and_prefixes(demo):
    folder, _ = demo
    prefixes = {"Opportunity": "006", "Account": "001", "Lead": "00Q", "OpportunityHistory": "008"}
    for name, prefix in prefixes.items():
        ids = read(folder, name, "cp1252" if name == "Account" else "utf-8")["Id"]
        assert ids.str.len().eq(18).all()
        assert ids.str.startswith(prefix).all()
        assert all(crm.salesforce_id18(i[:15]) == i for i in ids)


def test_data_export_files_are_fully_quoted_lf_without_bom(demo):
    folder, _ = demo
    for name in DATA_EXPORT:
        raw = (folder / f"{name}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), name
        assert b"\r" not in raw, name
        text = raw.decode("cp1252" if name == "Account" else "utf-8")
        lines = text.split("\n")
        assert lines[-1] == ""  # final LF
        bad = [ln for ln in lines[:-1] if not QUOTED_LINE.fullmatch(ln)]
        assert bad == [], (name, bad[:2])


def test_headers_are_verbatim_api_names(demo):
    folder, _ = demo
    assert (folder / "Opportunity.csv").read_text().split("\n", 1)[0] == OPPORTUNITY_HEADER
    assert (folder / "OpportunityHistory.csv").read_text().split("\n", 1)[0] == HISTORY_HEADER
    lead = read(folder, "Lead")
    assert list(lead.columns[:8]) == [
        "Id", "IsDeleted", "MasterRecordId", "Salutation", "FirstName", "LastName", "MiddleName", "Suffix",
    ]  # fmt: skip


def test_account_file_is_cp1252_and_others_utf8(demo):
    folder, _ = demo
    raw = (folder / "Account.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "ü" in raw.decode("cp1252") or "ä" in raw.decode("cp1252")
    assert "ü".encode() in (folder / "Lead.csv").read_bytes()


def test_value_formats_booleans_datetimes_dates_sentinel(demo):
    folder, _ = demo
    opp = read(folder, "Opportunity")
    for col in ("IsDeleted", "IsClosed", "IsWon", "IsPrivate"):
        assert set(opp[col]) <= {"0", "1"}
    assert opp["CreatedDate"].str.fullmatch(DATETIME.pattern).all()
    assert opp["CloseDate"].str.endswith(" 00:00:00").all()
    assert (opp["CampaignId"] == NULL).mean() > 0.3
    lead = read(folder, "Lead")
    converted = lead["IsConverted"] == "1"
    assert (lead.loc[~converted, "ConvertedOpportunityId"] == NULL).all()
    assert (lead.loc[~converted, "ConvertedDate"] == "").all()
    assert lead.loc[converted, "ConvertedDate"].str.endswith(" 00:00:00").all()


def test_opportunity_history_repeats_stages_and_close_dates_slip(demo):
    folder, truth = demo
    hist = read(folder, "OpportunityHistory")
    same_opp = hist["OpportunityId"].eq(hist["OpportunityId"].shift())
    repeat = same_opp & hist["StageName"].eq(hist["StageName"].shift())
    assert 0.4 < repeat.mean() < 0.6  # the real org: 53 %
    assert repeat.sum() == truth["counts"]["history_rows_repeating_stage"]
    slipped = same_opp & (hist["CloseDate"] > hist["CloseDate"].shift()) & repeat
    assert slipped.sum() > 1000
    # FromOpportunityStageName is the previous row's stage within an opportunity
    assert (
        hist.loc[same_opp, "FromOpportunityStageName"] == hist["StageName"].shift()[same_opp]
    ).all()
    assert (hist.loc[~same_opp, "StageName"] == "Prospecting").all()
    # history labels, opportunity API values
    assert "Commit" in set(hist["ForecastCategory"])
    assert "Forecast" in set(read(folder, "Opportunity")["ForecastCategory"])


def test_final_history_row_agrees_with_the_opportunity(demo):
    folder, _ = demo
    opp = read(folder, "Opportunity").drop_duplicates("Id", keep="first")
    last = (
        read(folder, "OpportunityHistory")
        .groupby("OpportunityId")
        .tail(1)
        .set_index("OpportunityId")
    )
    joined = opp.merge(last, left_on="Id", right_index=True, suffixes=("", "_h"))
    assert len(joined) == len(opp)
    assert (joined["StageName"] == joined["StageName_h"]).all()
    assert (joined["Amount"] == joined["Amount_h"]).all()
    assert (joined["CloseDate"] == joined["CloseDate_h"]).all()


def test_stage_semantics_come_from_opportunity_stage(demo):
    folder, _ = demo
    stages = read(folder, "OpportunityStage").set_index("ApiName")
    assert stages.loc["Closed Won", ["IsClosed", "IsWon"]].tolist() == ["1", "1"]
    assert stages.loc["Vertragsprüfung", ["IsClosed", "IsWon"]].tolist() == ["0", "0"]
    opp = read(folder, "Opportunity").drop_duplicates("Id", keep="first")
    expected_won = opp["StageName"].map(stages["IsWon"])
    assert (opp["IsWon"] == expected_won).all()


def test_quirks_deleted_merged_duplicates_currencies_open_deals(demo):
    folder, truth = demo
    opp = read(folder, "Opportunity")
    acc = read(folder, "Account", "cp1252")
    assert (
        opp["Id"].duplicated().sum() == truth["counts"]["duplicate_id_rows"]["Opportunity.csv"] == 3
    )
    assert read(folder, "Lead")["Id"].duplicated().sum() == 5
    assert (opp["IsDeleted"] == "1").sum() == truth["counts"]["opportunities_deleted"] > 0
    merged = acc[acc["MasterRecordId"] != NULL]
    assert len(merged) == 40 and (merged["IsDeleted"] == "1").all()
    assert merged["MasterRecordId"].isin(acc["Id"]).all()
    assert set(opp["CurrencyIsoCode"]) == {"EUR", "CHF"}
    rates = read(folder, "DatedConversionRate")
    assert (rates["StartDate"] == "0001-01-01 00:00:00").sum() == 3
    assert (read(folder, "CurrencyType").set_index("IsoCode").loc["EUR", "IsCorporate"]) == "1"
    assert ((opp["IsClosed"] == "0") & (opp["IsDeleted"] == "0")).sum() > 50
    assert truth["counts"]["opportunities_open"] > 50


def test_accounts_use_geography_postcodes_with_broken_and_foreign_ones(demo):
    folder, _ = demo
    acc = read(folder, "Account", "cp1252")
    geo_plz = set(tiny_geography().plz["plz"])
    codes = acc["BillingPostalCode"]
    assert codes.isin(geo_plz).mean() > 0.8
    assert (codes == "").sum() > 0
    assert codes.str.startswith("D-").sum() > 0
    assert codes.str.fullmatch(r"\d{4}").sum() > 0  # Swiss, Austrian or a lost leading zero
    assert (acc["BillingCountryCode"] == "CH").sum() > 0
    assert "<script>alert(1)</script> GmbH" in set(acc["Name"])


def test_blank_lead_source_and_campaign_fill_change_at_the_unification(demo):
    folder, truth = demo
    opp = read(folder, "Opportunity")
    opp = opp[opp["IsDeleted"] == "0"]
    post = opp["CreatedDate"] >= truth["unification_date"]
    new = opp["Type"] == "New Business"
    blank_pre = (opp.loc[~post & new, "LeadSource"] == "").mean()
    blank_post = (opp.loc[post & new, "LeadSource"] == "").mean()
    assert blank_pre > blank_post + 0.15
    filled_pre = (opp.loc[~post & new, "CampaignId"] != NULL).mean()
    filled_post = (opp.loc[post & new, "CampaignId"] != NULL).mean()
    assert filled_post > filled_pre + 0.2


def test_person_data_is_present_in_the_raw_files(demo):
    # The privacy layer must have something to remove.
    folder, _ = demo
    lead = read(folder, "Lead")
    assert lead["Email"].str.contains("@").all()
    assert (lead["Description"] != "").mean() > 0.1
    assert (read(folder, "User")["Email"].str.contains("@")).all()


def test_pardot_exports_api_and_ui(demo):
    folder, truth = demo
    api_raw = (folder / "pardot" / "prospects_export_api.csv").read_bytes()
    ui_raw = (folder / "pardot" / "prospects_export_ui.csv").read_bytes()
    assert not api_raw.startswith(b"\xef\xbb\xbf")
    assert ui_raw.startswith(b"\xef\xbb\xbfProspect Id,First Name,Last Name,Email,Company,")
    api = pd.read_csv(io.BytesIO(api_raw), dtype=str, keep_default_na=False)
    ui = pd.read_csv(io.BytesIO(ui_raw), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "grade" not in api.columns and "score" in api.columns
    lead_ids = set(read(folder, "Lead")["Id"])
    assert api["crm_lead_fid"].isin(lead_ids).all()
    assert api["created_at"].str.fullmatch(DATETIME.pattern).all()
    assert ui["Created Date"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert not set(api["id"]) & set(ui["Prospect Id"])
    assert len(api) == truth["counts"]["prospects_api"]


def test_pardot_times_are_berlin_wall_time(demo):
    folder, _ = demo
    api = pd.read_csv(
        folder / "pardot" / "prospects_export_api.csv", dtype=str, keep_default_na=False
    )
    lead = read(folder, "Lead").drop_duplicates("Id").set_index("Id")
    created_utc = pd.to_datetime(lead.loc[api["crm_lead_fid"], "CreatedDate"]).to_numpy()
    local = pd.to_datetime(api["created_at"]).to_numpy()
    lag_hours = (created_utc - local) / np.timedelta64(1, "h")
    # a prospect precedes its lead by 1 min to 3 h (UTC); Berlin wall time is UTC+1 or +2
    assert (lag_hours >= -2.0).all() and (lag_hours <= 2.0).all()
    assert (lag_hours < 0).mean() > 0.2  # a naive UTC reading would never give this


def test_truths_have_definitions_and_consistent_values(demo):
    _, truth = demo
    assert truth["win_rate_uplift"] == pytest.approx(0.06)
    assert truth["unification_date"] == "2023-04-01"
    assert truth["as_of"] == "2025-12-31"
    assert truth["lead_conversion_uplift"] == pytest.approx(0.5 * (0.32 - 0.24))
    # Gamma(2) median = 1.67835 * scale
    assert truth["cycle_days_change"] == pytest.approx(1.678347 * (32 - 40), abs=1e-3)
    for key in ("win_rate_uplift", "lead_conversion_uplift", "cycle_days_change"):
        assert key in truth["definitions"]


def test_realised_win_rate_follows_the_injected_process(demo):
    folder, truth = demo
    opp = read(folder, "Opportunity")
    opp = opp[(opp["IsDeleted"] == "0") & (opp["IsClosed"] == "1")].drop_duplicates("Id")
    close = pd.to_datetime(opp["CloseDate"])
    won = opp["IsWon"] == "1"
    pre = close < "2023-04-01"
    post = close >= "2023-06-01"  # after the two transition months
    # expected means of p_m over each window (trend and season average out roughly)
    assert won[pre].mean() == pytest.approx(0.24 - 0.0005 * 14, abs=0.025)
    assert won[post].mean() == pytest.approx(0.24 + 0.06 + 0.0005 * 17, abs=0.025)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, demo):
    folder, _ = demo
    crm.write_part(tmp_path / "a", tiny_geography(), seed=3)
    crm.write_part(tmp_path / "b", tiny_geography(), seed=4)

    def digest(root: Path) -> str:
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.csv")):
            h.update(f.relative_to(root).as_posix().encode() + f.read_bytes())
        return h.hexdigest()

    assert digest(tmp_path / "a" / "crm") == digest(folder)
    assert digest(tmp_path / "b" / "crm") != digest(folder)


def test_readme_section_and_csv_parse_with_the_stdlib(demo):
    folder, _ = demo
    assert "synthetic" in crm.README_SECTION.lower() or "invented" in crm.README_SECTION
    with open(folder / "Campaign.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert all(len(r) == len(rows[0]) for r in rows)


def test_load_truth_reads_the_crm_part_of_the_demo_truth(tmp_path, monkeypatch):
    (tmp_path / "TRUTH.json").write_text(
        '{"seed": 1, "crm": {"win_rate_uplift": 0.06}}', encoding="utf-8"
    )
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(tmp_path))
    assert crm.load_truth("demo") == {"win_rate_uplift": 0.06}
    assert crm.load_truth("official") is None
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(tmp_path / "missing"))
    assert crm.load_truth("demo") is None
