"""Tests for analysis.sources.crm.pardot (UI and export-API prospect exports)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.sources.crm.pardot import load_prospects, read_prospects

PARDOT = Path(__file__).parent / "fixtures" / "crm" / "export" / "pardot"
UI = PARDOT / "prospects_ui_export.csv"
API = PARDOT / "prospects_export_api.csv"
KEY = b"test-key-0123456789abcdef"


def test_ui_export_with_bom_labels_and_us_dates():
    obj = read_prospects(UI, key=KEY)
    frame = obj.frame.set_index("prospect_id")

    assert obj.info["format"] == "pardot_ui" and obj.info["encoding"] == "utf-8-sig"
    assert obj.info["date_order"]["created_at"] == "mdy/"
    assert frame.loc["4033039", "created_at"] == pd.Timestamp("2022-11-30")
    assert frame.loc["4033039", "last_activity_at"] == pd.Timestamp("2023-01-09")
    assert frame["created_by_marketing"].tolist() == [True, False, False]
    assert frame.loc["4033039", "lifecycle_stage"] == "5.) Closed Won"
    assert frame.loc["4033039", "score"] == 882.0
    assert {"Owner", "Email", "First Name", "Last Name", "Company"} <= set(
        obj.info["ignored_columns"]
    )


def test_export_api_with_snake_case_and_iso_times():
    obj = read_prospects(API, key=KEY)
    frame = obj.frame.set_index("prospect_id")

    assert obj.info["format"] == "pardot_api"
    assert frame.loc["4033039", "created_at"] == pd.Timestamp("2022-11-30 17:05:00")
    assert frame.loc["4033039", "crm_lead_fid"] == "00Q5gAb0x000001EBA"
    assert frame.loc["4033039", "campaign"] == "101"
    assert frame["created_by_marketing"].isna().all()  # not in the API export
    assert "email" in obj.info["ignored_columns"] and "comments" in obj.info["ignored_columns"]


def test_export_api_local_times_convert_to_utc():
    obj = read_prospects(API, timezone="Europe/Berlin", key=KEY)

    created = obj.frame.set_index("prospect_id").loc["4033039", "created_at"]
    assert created == pd.Timestamp("2022-11-30 16:05:00")  # CET = UTC+1 in November


def test_camel_case_v5_names_are_matched(tmp_path):
    path = tmp_path / "v5.csv"
    path.write_text(
        "id,firstName,crmLeadFid,createdAt,updatedAt,score\n"
        "7,Ann,0064600000J5S5T,2024-03-01 10:00:00,2024-03-02 10:00:00,12\n",
        encoding="utf-8",
    )

    frame = read_prospects(path, key=KEY).frame

    assert frame.loc[0, "crm_lead_fid"] == "0064600000J5S5TAAV"  # 15 → 18
    assert frame.loc[0, "created_at"] == pd.Timestamp("2024-03-01 10:00")
    assert "first_name" not in frame.columns and "Ann" not in frame.to_string()


def test_german_ui_dates_are_sniffed(tmp_path):
    path = tmp_path / "ui_de.csv"
    path.write_bytes(
        "\ufeffProspect Id,Created Date,Score\n1,24.12.2023,5\n2,01.02.2024,6\n".encode()
    )

    obj = read_prospects(path, key=KEY)

    assert obj.info["date_order"]["created_at"] == "dmy."
    assert obj.frame["created_at"].tolist() == [
        pd.Timestamp("2023-12-24"),
        pd.Timestamp("2024-02-01"),
    ]


def test_bad_values_are_quarantined_with_lines(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,created_at,score\n1,2024-01-01 00:00:00,5\nabc,2024-01-01 00:00:00,5\n"
        "3,2024-02-30 00:00:00,7\n",
        encoding="utf-8",
    )

    obj = read_prospects(path, key=KEY)

    assert obj.quarantine[["line", "column"]].values.tolist() == [[3, "id"], [4, "created_at"]]
    assert obj.frame["prospect_id"].tolist() == ["1"]


def test_missing_required_column(tmp_path):
    path = tmp_path / "no_id.csv"
    path.write_text("email,created_at\na@example.com,2024-01-01 00:00:00\n", encoding="utf-8")

    with pytest.raises(InputError, match="Prospect Id") as info:
        read_prospects(path, key=KEY)

    assert "a@example.com" not in str(info.value)


def test_folder_prefers_export_api_over_ui():
    obj = load_prospects(PARDOT, key=KEY)

    assert obj.info["format"] == "pardot_api"
    assert obj.info["ignored_files"] == [str(UI)]


def test_prospects_in_several_api_files_keep_the_latest(tmp_path):
    shutil.copy(API, tmp_path / "2023.csv")
    (tmp_path / "2024.csv").write_text(
        "id,created_at,updated_at,score\n4033039,2022-11-30 17:05:00,2024-05-01 00:00:00,990\n",
        encoding="utf-8",
    )

    obj = load_prospects(tmp_path, key=KEY)

    frame = obj.frame.set_index("prospect_id")
    assert frame.loc["4033039", "score"] == 990.0
    assert len(frame) == 3
    assert obj.counts["n_duplicates"] == 1
    assert obj.quarantine.loc[0, "file"].endswith("2023.csv") and obj.quarantine.loc[0, "line"] == 2


def test_missing_location_is_none_unless_required(tmp_path):
    assert load_prospects(tmp_path / "nowhere", key=KEY) is None
    with pytest.raises(InputError, match="no Pardot export"):
        load_prospects(tmp_path / "nowhere", key=KEY, required=True)
