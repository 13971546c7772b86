"""Tests for analysis.sources.crm (Data Export, report exports, load_crm)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analysis.errors import InputError, ParameterError
from analysis.privacy import pseudonymize
from analysis.sources.crm import parsers, textfile
from analysis.sources.crm.salesforce import fill_rates, load_crm, read_export, read_report

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
EXPORT = FIXTURES / "export"
BAD = FIXTURES / "bad"
REPORTS = FIXTURES / "reports"
KEY = b"test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def crm():
    return load_crm(EXPORT, key=KEY)


def _ids(frame: pd.DataFrame, column: str = "opportunity_id") -> list[str]:
    return frame[column].tolist()


def _write_csv(path: Path, header: list[str], rows: list[list[str]], **kwargs) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator=kwargs.get("eol", "\n"))
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- Ids


def test_id15_to_18_matches_known_pairs():
    # Pairs from Salesforce's demo data export (crm_formats.md §1.1).
    short = ["0064600000J5S5T", "0014600001TvgfZ", "00546000001l1cJ", "0084600000iqknn"]
    expected = [
        "0064600000J5S5TAAV",
        "0014600001TvgfZAAR",
        "00546000001l1cJAAQ",
        "0084600000iqknnAAA",
    ]

    result = parsers.id15_to_18(np.array(short))

    assert result.tolist() == expected


def test_id15_to_18_keeps_case_sensitive_ids_apart():
    upper, lower = parsers.id15_to_18(np.array(["0064600000J5S5T", "0064600000j5s5t"]))

    assert upper.lower() != lower.lower()


def test_parse_ids_turns_sentinel_into_blank_and_flags_bad_ids():
    values = pa.array(["0064600000J5S5TAAV", "000000000000000AAA", "", "0064600000J5S5T", "123"])

    ids, bad = parsers.parse_ids(values)

    assert ids.to_pylist() == ["0064600000J5S5TAAV", "", "", "0064600000J5S5TAAV", ""]
    assert bad.tolist() == [False, False, False, False, True]


def test_duplicated_ids_agrees_with_pandas():
    rng = np.random.default_rng(3)
    pool = parsers.id15_to_18(np.array([f"006{n:012d}" for n in range(300)]))
    sample = rng.choice(pool, size=500).tolist() + [""] * 20

    result = parsers.duplicated_ids(pa.array(sample))

    expected = pd.Series(sample).duplicated(keep=False).to_numpy() & (np.array(sample) != "")
    np.testing.assert_array_equal(result, expected)


# --------------------------------------------------------------------------- values


def test_parse_datetimes_accepts_export_shapes_and_rejects_impossible_dates():
    values = pa.array(
        [
            "2023-05-11 00:00:00",
            "2023-06-15",
            "2023-02-07T20:47:49.000Z",
            "2023-02-07T21:47:49+01:00",
            "2024-02-31 00:00:00",
            "31.02.2024",
            "",
        ]
    )

    out, bad = parsers.parse_datetimes(values)

    assert out[:4].astype(str).tolist() == [
        "2023-05-11T00:00:00.000000",
        "2023-06-15T00:00:00.000000",
        "2023-02-07T20:47:49.000000",
        "2023-02-07T20:47:49.000000",
    ]
    assert bad.tolist() == [False, False, False, False, True, True, False]
    assert np.isnat(out[6])


def test_parse_locale_datetimes_handles_us_and_german_shapes():
    us, bad_us = parsers.parse_locale_datetimes(
        pa.array(["12/31/2024 3:15 PM", "2/29/2023"]), "mdy/"
    )
    de, bad_de = parsers.parse_locale_datetimes(
        pa.array(["31.12.2024 15:15", "31.02.2024"]), "dmy."
    )

    assert str(us[0]) == "2024-12-31T15:15:00.000000" and bad_us.tolist() == [False, True]
    assert str(de[0]) == "2024-12-31T15:15:00.000000" and bad_de.tolist() == [False, True]


def test_sniffers_decide_from_unambiguous_cells():
    assert parsers.sniff_decimal(["1.234", "15.000,00"]) == ","
    assert parsers.sniff_decimal(["1,234.50", "7"]) == "."
    assert parsers.sniff_decimal(["1.234"], default=",") == ","
    assert parsers.sniff_date_order(["05/11/2023", "13/01/2023"]) == "dmy/"
    assert parsers.sniff_date_order(["05/11/2023", "01/13/2023"]) == "mdy/"
    assert parsers.sniff_date_order(["11.05.2023"]) == "dmy."


def test_parse_locale_numbers_reads_grouping_and_currency():
    numbers, currency, bad = parsers.parse_locale_numbers(
        pa.array(["12.500,00 €", "EUR 1.234,5", "-3", "", "1,2,3"]), ","
    )

    np.testing.assert_allclose(numbers[:3], [12500.0, 1234.5, -3.0])
    assert currency.tolist()[:2] == ["EUR", "EUR"]
    assert bad.tolist() == [False, False, False, False, True]


# --------------------------------------------------------------------------- Data Export


def test_load_crm_reads_the_data_export(crm):
    opps = crm.opportunities

    assert len(opps) == 5  # six rows, one IsDeleted="1"
    assert set(crm.quarantine["action"]) == {"not used"}  # the UI export beside the API one
    assert (
        crm.quality.loc[crm.quality["n_not_used"] > 0, "file"].str.endswith("ui_export.csv").all()
    )
    assert opps.dtypes["close_date"] == "datetime64[us]"
    assert opps.dtypes["is_won"] == np.dtype(bool)
    by_id = opps.set_index("opportunity_id")
    o2 = by_id.loc["0065gAb0x000002ABA"]
    assert o2["created_date"] == pd.Timestamp("2023-02-07 20:47:49")  # ISO T…Z in the file
    assert o2["close_date"] == pd.Timestamp("2023-06-15")  # no time part in the file
    assert o2["campaign_id"] == ""  # the 000000000000000AAA sentinel
    assert o2["lead_source"] == ""


def test_stage_semantics_come_from_opportunity_stage(crm):
    flags = crm.opportunities.set_index("stage_name")[["is_closed", "is_won"]]

    assert flags.loc["Closed Won"].iloc[0].tolist() == [True, True]
    assert flags.loc["Closed Lost"].tolist() == [True, False]
    # A custom stage: classified by the table, not by its name.
    assert flags.loc["Verhandlung"].tolist() == [False, False]
    assert crm.attrs["stage_source"].endswith("OpportunityStage.csv")


def test_amount_eur_uses_dated_rate_for_the_close_date(crm):
    eur = crm.opportunities.set_index("opportunity_id")["amount_eur"]

    assert eur["0065gAb0x000001ABA"] == pytest.approx(15000.0)  # EUR
    assert eur["0065gAb0x000002ABA"] == pytest.approx(20000 / 1.08)  # 2023 dated USD rate
    assert eur["0065gAb0x000003ABA"] == pytest.approx(5000.5 / 1.10)  # 2024 dated USD rate
    assert eur["0065gAb0x000006ABA"] == pytest.approx(1200 / 1.2)  # before any dated period
    assert np.isnan(eur["0065gAb0x000005ABA"])  # blank amount
    assert crm.attrs["n_dated_rate"] == 2


def test_amount_eur_converts_through_a_non_eur_corporate_currency(tmp_path):
    header = ["Id", "StageName", "Amount", "CurrencyIsoCode", "CloseDate", "CreatedDate"]
    _write_csv(
        tmp_path / "Opportunity.csv",
        header,
        [
            [
                "0064600000J5S5TAAV",
                "Closed Won",
                "800",
                "GBP",
                "2024-01-31 00:00:00",
                "2024-01-01 00:00:00",
            ],
            [
                "0064600000J5S5UAAV",
                "Closed Won",
                "100",
                "USD",
                "2024-01-31 00:00:00",
                "2024-01-01 00:00:00",
            ],
        ],
    )
    _write_csv(
        tmp_path / "CurrencyType.csv",
        ["IsoCode", "ConversionRate", "IsCorporate"],
        [
            ["USD", "1", "1"],
            ["GBP", "0.8", "0"],
            ["EUR", "0.9", "0"],
        ],
    )

    crm = load_crm(tmp_path, key=KEY)

    eur = crm.opportunities.set_index("currency")["amount_eur"]
    assert eur["GBP"] == pytest.approx(800 / 0.8 * 0.9)
    assert eur["USD"] == pytest.approx(100 * 0.9)
    assert crm.attrs["corporate_currency"] == "USD"


def test_single_currency_org_without_currency_columns(tmp_path):
    shutil.copy(BAD / "no_stage_table_default" / "Opportunity.csv", tmp_path / "Opportunity.csv")

    crm = load_crm(tmp_path, key=KEY)

    assert (crm.opportunities["amount_eur"] == crm.opportunities["amount"]).all()
    assert crm.attrs["stage_source"].startswith("Salesforce default stages")
    assert "Account.csv" in crm.attrs["missing_files"]
    assert crm.accounts.empty and "account_id" in crm.accounts.columns


def test_deleted_and_merged_records_are_counted_not_used(crm):
    quality = crm.quality.set_index("object")

    assert quality.loc["Opportunity", "n_deleted"] == 1
    assert quality.loc["OpportunityHistory", "n_deleted"] == 1
    assert quality.loc["Account", "n_merged"] == 1
    assert quality.loc["Lead", "n_merged"] == 1
    assert "0015gAb0x000002ABA" not in set(crm.accounts["account_id"])  # merged away
    # MasterRecordId holding the null sentinel is not a merge.
    assert "0015gAb0x000004ABA" in set(crm.accounts["account_id"])


def test_encodings_are_sniffed_and_postal_codes_stay_text(crm):
    accounts = crm.accounts.set_index("account_id")

    assert crm.attrs["encodings"]["Account"] == "cp1252"
    assert crm.attrs["encodings"]["Lead"] == "utf-8-sig"
    assert accounts.loc["0015gAb0x000003ABA", "billing_city"] == "Köln"
    assert accounts.loc["0015gAb0x000004ABA", "billing_city"] == "København"
    assert accounts.loc["0015gAb0x000001ABA", "billing_postal_code"] == "01067"


def test_unknown_custom_fields_are_ignored_unless_allowed(tmp_path):
    default = read_export(EXPORT / "Opportunity.csv", "Opportunity", key=KEY)
    allowed = read_export(
        EXPORT / "Opportunity.csv", "Opportunity", allow_custom=["Loss_Reason__c"], key=KEY
    )

    assert "loss_reason" not in default.frame.columns
    assert "Loss_Reason__c" in default.info["ignored_columns"]
    assert (
        allowed.frame.set_index("opportunity_id").loc["0065gAb0x000002ABA", "loss_reason"]
        == "Price"
    )
    with pytest.raises(ParameterError, match="ForecastComments__c"):
        read_export(EXPORT / "Opportunity.csv", "Opportunity", allow_custom=["ForecastComments__c"])


def test_missing_optional_columns_are_tolerated(tmp_path):
    path = _write_csv(
        tmp_path / "Opportunity.csv",
        ["Id", "StageName", "Amount", "CloseDate", "CreatedDate"],
        [["0064600000J5S5TAAV", "Prospecting", "10", "2024-01-01", "2024-01-01"]],
    )

    obj = read_export(path, "Opportunity", key=KEY)

    assert obj.frame.loc[0, "lead_source"] == ""
    assert np.isnan(obj.frame.loc[0, "probability"])
    assert "LeadSource" in obj.info["missing_optional_columns"]


def test_history_forecast_labels_become_api_values(crm):
    values = set(crm.opportunity_history["forecast_category"])

    assert values <= {"Pipeline", "BestCase", "Forecast", "Omitted", "Closed"}
    assert {"BestCase", "Forecast"} <= values


def test_users_carry_team_not_names(crm):
    users = crm.users.set_index("user_id")

    assert list(crm.users.columns) == ["user_id", "team", "is_active"]
    assert users.loc["0055gAb0x000001ABA", "team"] == "Sales DACH North"  # from UserRole
    assert users.loc["0055gAb0x000003ABA", "team"] == "Marketing"  # Department, no role


def test_fill_rates_by_month_by_hand():
    frame = pd.DataFrame(
        {
            "created_date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-01"]),
            "lead_source": pd.Series(["Web", "", "Partner"], dtype="str"),
            "amount": [1.0, np.nan, np.nan],
        }
    )

    rates = fill_rates(frame, "Opportunity").set_index(["field", "month"])["fill_rate"]

    assert rates[("lead_source", pd.Timestamp("2024-01-01"))] == pytest.approx(0.5)
    assert rates[("amount", pd.Timestamp("2024-02-01"))] == pytest.approx(0.0)


def test_crm_fill_rates_cover_every_object(crm):
    rates = crm.fill_rates

    assert {"Opportunity", "Account", "PardotProspect"} <= set(rates["object"])
    assert rates["fill_rate"].between(0, 1).all()


# --------------------------------------------------------------------------- reports


def test_english_report_export():
    obj = read_report(REPORTS / "opportunities_en.csv", key=KEY)
    frame = obj.frame

    assert _ids(frame) == ["0064600000J5S5TAAV", "0064600000J5S5UAAV", "0064600000j5s5tAAA"]
    np.testing.assert_allclose(frame["amount"], [15000.0, 1234.56, 500.0])
    assert frame["close_date"].tolist()[2] == pd.Timestamp("2024-12-24")
    assert [kind for _, kind in obj.info["footer"]] == ["totals", "text", "text"]
    assert obj.info["footer_records"] == 3 and "footer_mismatch" not in obj.info
    assert "Opportunity Owner" in obj.info["ignored_columns"]


def test_german_semicolon_report_export():
    obj = read_report(REPORTS / "opportunities_de_semicolon.csv", key=KEY)
    frame = obj.frame

    assert obj.info["encoding"] == "cp1252" and obj.info["decimal"] == ","
    np.testing.assert_allclose(frame["amount"], [15000.0, 1234.56, 500.5])
    assert frame["created_date"].tolist()[0] == pd.Timestamp("2023-01-10 09:15")
    assert frame["close_date"].tolist()[0] == pd.Timestamp("2023-05-11")
    assert [line for line, _ in obj.info["footer"]] == [6, 7, 8]


def test_german_xlsx_report_export_skips_title_rows():
    obj = read_report(REPORTS / "opportunities_de.xlsx", key=KEY)
    frame = obj.frame

    assert _ids(frame) == ["0064600000J5S5TAAV", "0064600000J5S5UAAV"]
    np.testing.assert_allclose(frame["amount"], [15000.0, 1234.56])
    assert frame["currency"].tolist() == ["EUR", "USD"]
    assert obj.info["footer_records"] == 2


def test_load_crm_falls_back_to_a_report_export(tmp_path):
    shutil.copy(REPORTS / "opportunities_en.csv", tmp_path / "opportunities_en.csv")
    _write_csv(
        tmp_path / "CurrencyType.csv",
        ["IsoCode", "ConversionRate", "IsCorporate"],
        [["EUR", "1", "1"], ["USD", "1.25", "0"]],
    )

    crm = load_crm(tmp_path, key=KEY)

    assert crm.attrs["files"]["Opportunity"]["format"] == "report_csv"
    eur = crm.opportunities.set_index("opportunity_id")["amount_eur"]
    assert eur["0064600000J5S5UAAV"] == pytest.approx(1234.56 / 1.25)


# --------------------------------------------------------------------------- bad input


def test_truncated_file_with_unterminated_quote():
    with pytest.raises(InputError, match="unterminated quoted field") as info:
        read_export(BAD / "opportunity_truncated_quote.csv", "Opportunity", key=KEY)

    assert info.value.line == 5


def test_truncated_file_with_short_last_line():
    with pytest.raises(InputError, match="looks truncated") as info:
        read_export(BAD / "opportunity_short_last_line.csv", "Opportunity", key=KEY)

    assert (info.value.line, info.value.column) == (5, "Amount")


def test_mixed_encoding_is_refused_with_line_and_column():
    with pytest.raises(InputError, match="mixes encodings") as info:
        read_export(BAD / "opportunity_mixed_encoding.csv", "Opportunity", key=KEY)

    assert (info.value.line, info.value.column) == (4, "Name")


def test_utf16_is_refused():
    with pytest.raises(InputError, match="UTF-16"):
        read_export(BAD / "opportunity_utf16.csv", "Opportunity", key=KEY)


def test_cp1252_is_sniffed_but_a_wrong_declared_encoding_is_reported():
    sniffed = read_export(BAD / "opportunity_cp1252.csv", "Opportunity", key=KEY)

    with pytest.raises(InputError, match="declared UTF-8") as info:
        read_export(BAD / "opportunity_cp1252.csv", "Opportunity", encoding="utf-8", key=KEY)

    assert sniffed.info["encoding"] == "cp1252"
    assert (info.value.line, info.value.column) == (3, "Name")


def test_semicolon_file_declared_as_comma():
    with pytest.raises(InputError, match="looks ';'-separated") as info:
        read_export(BAD / "opportunity_semicolon.csv", "Opportunity", key=KEY)

    assert info.value.line == 1


def test_missing_required_column_is_named_and_expected_listed():
    with pytest.raises(InputError, match="missing required column 'StageName'") as info:
        read_export(BAD / "opportunity_missing_stage.csv", "Opportunity", key=KEY)

    assert info.value.column == "StageName"
    assert "Id, StageName, Amount, CloseDate, CreatedDate" in str(info.value)


def test_unknown_stage_is_quarantined_with_line(tmp_path):
    shutil.copy(BAD / "opportunity_unknown_stage.csv", tmp_path / "Opportunity.csv")
    shutil.copy(EXPORT / "OpportunityStage.csv", tmp_path / "OpportunityStage.csv")

    crm = load_crm(tmp_path, key=KEY)

    row = crm.quarantine.iloc[0]
    assert len(crm.quarantine) == 1 and len(crm.opportunities) == 2
    assert (row["line"], row["column"]) == (3, "StageName")
    assert "expected a stage of OpportunityStage.csv" in row["reason"]
    assert "Angebot" not in row["reason"]
    assert crm.quality.set_index("object").loc["Opportunity", "n_quarantined"] == 1


def test_nonstandard_stages_without_stage_table_raise():
    with pytest.raises(
        InputError, match="1 stage name.s. in the opportunities are not Salesforce default stages"
    ):
        load_crm(BAD / "no_stage_table_custom", key=KEY)


def test_formatted_amount_in_a_data_export_is_quarantined():
    obj = read_export(BAD / "opportunity_formatted_amount.csv", "Opportunity", key=KEY)

    row = obj.quarantine.iloc[0]
    assert len(obj.quarantine) == 1 and len(obj.frame) == 2
    assert (row["line"], row["column"]) == (3, "Amount")
    assert "12.500" not in row["reason"] and "formatted number" in row["reason"]


def test_invalid_dates_are_quarantined_with_line_and_column():
    obj = read_export(BAD / "opportunity_invalid_date.csv", "Opportunity", key=KEY)

    assert obj.quarantine[["line", "column"]].values.tolist() == [
        [2, "CloseDate"],
        [3, "CloseDate"],
    ]
    assert (
        "31.02" not in obj.quarantine.loc[0, "reason"]
        and "no calendar date" in obj.quarantine.loc[0, "reason"]
    )
    assert obj.counts["n_quarantined"] == 2 and len(obj.frame) == 1


def test_invalid_date_in_a_german_report_is_quarantined():
    obj = read_report(BAD / "report_invalid_date_de.csv", key=KEY)

    row = obj.quarantine.iloc[0]
    assert (row["line"], row["column"]) == (3, "Schlusstermin")
    assert "31.02" not in row["reason"] and "no calendar date" in row["reason"]


def test_duplicate_ids_keep_the_most_recently_modified():
    obj = read_export(BAD / "opportunity_duplicate_ids.csv", "Opportunity", key=KEY)

    kept = obj.frame.set_index("opportunity_id").loc["0065gAb0x000001ABA", "amount"]
    assert kept == 2000.0  # LastModifiedDate 2024-03-01 (line 4)
    assert obj.quarantine["line"].tolist() == [2, 5]
    assert obj.quarantine["reason"].str.contains("line 4 was kept").all()
    assert obj.counts["n_duplicates"] == 2


def test_quarantined_record_ids_are_pseudonymised():
    obj = read_export(BAD / "opportunity_formatted_amount.csv", "Opportunity", key=KEY)

    expected = pseudonymize(pd.Series(["0065gAb0x000002ABA"]), KEY).iloc[0]
    assert obj.quarantine.loc[0, "record_id"] == expected
    assert "0065gAb0x000002ABA" not in obj.quarantine.to_string()


def test_line_numbers_count_physical_lines_of_multiline_records(tmp_path):
    header = ["Id", "Description", "StageName", "Amount", "CloseDate", "CreatedDate"]
    rows = [
        ["0064600000J5S5TAAV", "two\nlines", "Prospecting", "1", "2024-01-01", "2024-01-01"],
        [
            "0064600000J5S5UAAV",
            "three\r\nphysical\nlines",
            "Prospecting",
            "1",
            "2024-01-01",
            "2024-01-01",
        ],
        ["0064600000J5S5VAAV", "", "Prospecting", "1", "2024-13-01", "2024-01-01"],
    ]
    path = _write_csv(tmp_path / "Opportunity.csv", header, rows, eol="\r\n")
    data = path.read_bytes().replace(b'"CreatedDate"\r\n', b'"CreatedDate"\r\n\r\n')
    path.write_bytes(data)

    obj = read_export(path, "Opportunity", key=KEY)

    # header 1, blank 2, row 1 on 3-4, row 2 on 5-7, row 3 on 8
    assert obj.quarantine[["line", "column"]].values.tolist() == [[8, "CloseDate"]]


def test_record_start_lines_agree_with_the_csv_module(tmp_path):
    rng = np.random.default_rng(7)
    pieces = ["a", "b,c", 'q""uote', "x\ny", "x\r\ny", "", "ü"]
    rows = [[pieces[i] for i in rng.integers(0, len(pieces), 3)] for _ in range(200)]
    path = _write_csv(tmp_path / "t.csv", ["A", "B", "C"], rows, eol="\r\n")
    tf = textfile.open_text(path)

    starts = textfile._record_start_lines(tf)

    expected = [1] + [line for line, _ in textfile.iter_records(tf)]
    assert starts.tolist() == expected


# --------------------------------------------------------------------------- fast paths


def test_fixed_width_datetimes_agree_with_the_exact_parser():
    cells = [
        "2024-02-29 23:59:59",
        "2023-02-29 00:00:00",
        "2000-02-29 12:00:00",
        "1900-02-29 12:00:00",
        "2024-13-01 00:00:00",
        "2024-01-01 24:00:00",
        "2024-01-01T10:00:00",
        "2024-04-31 00:00:00",
        "2024-1a-01 00:00:00",
        "",
        "9999-12-31 00:00:00",
        "2024/01/01 00:00:00",
    ]
    arr = pa.array(cells)

    fast = parsers._fixed_datetimes(arr)
    exact = parsers._parse_datetimes_exact(arr)

    assert fast is not None
    np.testing.assert_array_equal(fast[1], exact[1])
    np.testing.assert_array_equal(fast[0], exact[0])
    assert fast[1].tolist() == [
        False,
        True,
        False,
        True,
        True,
        True,
        False,
        True,
        True,
        False,
        False,
        True,
    ]


def test_fixed_width_ids_and_numbers_agree_with_the_exact_parsers():
    ids = pa.array(["0064600000J5S5TAAV", "000000000000000AAA", "", "0064600000J5S5T-AV"])
    numbers = pa.array(["15000", "-3.5", "", "1E+3", "0.25"])

    fast_ids, exact_ids = parsers._fixed_ids(ids), parsers._parse_ids_exact(ids)
    fast_numbers, exact_numbers = (
        parsers._fast_numbers(numbers),
        parsers._parse_numbers_exact(numbers),
    )

    assert fast_ids[0].to_pylist() == exact_ids[0].to_pylist() == ["0064600000J5S5TAAV", "", "", ""]
    np.testing.assert_array_equal(fast_ids[1], exact_ids[1])
    np.testing.assert_array_equal(fast_numbers[0], exact_numbers[0])
    assert (
        parsers._fast_numbers(pa.array(["1", "12.500,00 €"])) is None
    )  # falls back to the exact path


def test_parsers_handle_multi_chunk_columns():
    chunked = pa.chunked_array([pa.array(["2024-01-01 00:00:00", ""]), pa.array(["2024-02-30"])])

    values, bad = parsers.parse_datetimes(chunked)

    assert bad.tolist() == [False, False, True]
    assert str(values[0]) == "2024-01-01T00:00:00.000000"


def test_corporate_currency_without_eur_rate_raises(tmp_path):
    header = ["Id", "StageName", "Amount", "CurrencyIsoCode", "CloseDate", "CreatedDate"]
    _write_csv(
        tmp_path / "Opportunity.csv",
        header,
        [
            ["0064600000J5S5TAAV", "Closed Won", "800", "USD", "2024-01-31", "2024-01-01"],
        ],
    )
    _write_csv(
        tmp_path / "CurrencyType.csv",
        ["IsoCode", "ConversionRate", "IsCorporate"],
        [["USD", "1", "1"]],
    )

    with pytest.raises(InputError, match="no EUR rate"):
        load_crm(tmp_path, key=KEY)


def test_currency_without_rate_is_quarantined(tmp_path):
    header = ["Id", "StageName", "Amount", "CurrencyIsoCode", "CloseDate", "CreatedDate"]
    _write_csv(
        tmp_path / "Opportunity.csv",
        header,
        [
            ["0064600000J5S5TAAV", "Closed Won", "800", "EUR", "2024-01-31", "2024-01-01"],
            ["0064600000J5S5UAAV", "Closed Won", "800", "CHF", "2024-01-31", "2024-01-01"],
        ],
    )
    _write_csv(
        tmp_path / "CurrencyType.csv",
        ["IsoCode", "ConversionRate", "IsCorporate"],
        [["EUR", "1", "1"]],
    )

    crm = load_crm(tmp_path, key=KEY)

    assert len(crm.opportunities) == 1
    assert crm.quarantine[["line", "column"]].values.tolist() == [[3, "CurrencyIsoCode"]]
    assert "expected a currency with a rate in CurrencyType.csv" in crm.quarantine.loc[0, "reason"]
    assert "CHF" not in crm.quarantine.loc[0, "reason"]


def test_bytes_that_are_neither_utf8_nor_cp1252_are_refused(tmp_path):
    path = tmp_path / "Opportunity.csv"
    path.write_bytes(b'"Id","StageName"\n"0064600000J5S5TAAV","Stage \x81"\n')

    with pytest.raises(InputError, match="neither UTF-8 nor Windows-1252") as info:
        read_export(path, "Opportunity", key=KEY)

    assert (info.value.line, info.value.column) == (2, "StageName")


def test_reader_frames_hold_no_internal_columns():
    obj = read_export(EXPORT / "Account.csv", "Account", key=KEY)

    assert not {"is_deleted", "master_record_id", "system_modstamp", "_row"} & set(obj.frame)
    assert obj.rows.tolist() == [0, 2, 3]  # row 1 was merged away


def test_structure_error_keeps_row_text_out_of_the_message(tmp_path):
    path = _write_csv(tmp_path / "ok.csv", ["A", "B", "C"], [["1", "2", "3"]])
    detail = 'CSV parse error: Expected 3 columns, got 2: "hans.schmidt@example.de","x'

    error = textfile.structure_error(textfile.open_text(path), detail)

    assert "Expected 3 columns, got 2" in str(error)
    assert "example.de" not in str(error)


# --------------------------------------------------------------------------- hostile inputs

_OPP_HEADER = [
    "Id",
    "IsDeleted",
    "AccountId",
    "StageName",
    "Amount",
    "CloseDate",
    "CurrencyIsoCode",
    "CreatedDate",
    "LastModifiedDate",
]
_PERSONAL = ("Hans Schmidt", "hans.schmidt@example.de", "+49 551 1234567")


def _opp(n: int, **cells) -> list[str]:
    row = {
        "Id": f"0065gAb0x{n:06d}ABA",
        "IsDeleted": "0",
        "AccountId": "0015gAb0x000001ABA",
        "StageName": "Closed Won",
        "Amount": "1000",
        "CloseDate": "2024-03-01 00:00:00",
        "CurrencyIsoCode": "EUR",
        "CreatedDate": "2024-01-01 09:00:00",
        "LastModifiedDate": "2024-03-01 09:00:00",
    }
    row.update(cells)
    return [row[h] for h in _OPP_HEADER]


def _crm_folder(tmp_path: Path, rows: list[list[str]]) -> Path:
    folder = tmp_path / "crm"
    folder.mkdir()
    _write_csv(folder / "Opportunity.csv", _OPP_HEADER, rows)
    for name in ("OpportunityStage.csv", "CurrencyType.csv", "Account.csv"):
        shutil.copy(EXPORT / name, folder / name)
    return folder


def test_personal_data_typed_into_checked_fields_never_reaches_a_reason(tmp_path):
    rows = [_opp(1)]
    for n, text in enumerate(_PERSONAL, start=2):
        rows.append(_opp(n, StageName=text))
        rows.append(_opp(n + 10, CurrencyIsoCode=text))
        rows.append(_opp(n + 20, CloseDate=text))
        rows.append(_opp(n + 30, Amount=text))
    folder = _crm_folder(tmp_path, rows)

    crm = load_crm(folder, key=KEY)

    quarantined = crm.quarantine[crm.quarantine["action"] == "quarantined"]
    assert len(quarantined) == 12 and len(crm.opportunities) == 1
    assert set(quarantined["column"]) == {"StageName", "CurrencyIsoCode", "CloseDate", "Amount"}
    published = crm.quarantine.to_csv() + crm.quality.to_csv()
    from analysis import sales

    published += sales.quarantine_summary(crm.quarantine).to_csv()
    for text in _PERSONAL:
        for part in (text, text.split()[-1], text.split("@")[0]):
            assert part not in published


def test_a_15_character_id_with_a_non_ascii_letter_is_quarantined(tmp_path):
    path = tmp_path / "report.csv"
    text = (REPORTS / "opportunities_en.csv").read_text(encoding="utf-8")
    path.write_text(text.replace("0064600000J5S5U", "0064600000J5S5É"), encoding="utf-8")

    obj = read_report(path, key=KEY)

    assert len(obj.frame) == 2 and obj.counts["n_quarantined"] == 1
    row = obj.quarantine.iloc[0]
    assert (row["line"], row["column"]) == (3, "Opportunity ID")
    assert "Salesforce Id" in row["reason"] and "É" not in row["reason"]
    with pytest.raises(ValueError, match="ASCII"):
        parsers.id15_to_18(np.array(["0064600000J5S5É"]))


def test_two_different_date_problems_get_different_reasons(tmp_path):
    rows = [
        _opp(1, CloseDate="2024-02-31 00:00:00"),  # no calendar date
        _opp(2, CloseDate="next Friday"),  # not a date at all
        _opp(3, CloseDate="2023-12-01 00:00:00"),  # before the creation date
        _opp(4),
    ]
    crm = load_crm(_crm_folder(tmp_path, rows), key=KEY)

    reasons = crm.quarantine.set_index("line")["reason"]
    assert len({reasons[2], reasons[3], reasons[4]}) == 3
    assert "no calendar date" in reasons[2]
    assert "impossible date order" in reasons[4]
    assert crm.quarantine.set_index("line").loc[4, "column"] == "CloseDate"


def test_orphans_and_won_deals_without_amount_are_kept_and_named(tmp_path):
    rows = [
        _opp(1),
        _opp(2, AccountId="0015gAb0x999999ABA"),  # orphan
        _opp(3, Amount="0"),  # won, not positive
        _opp(4, Amount="-5", AccountId="0015gAb0x999999ABA"),  # both
        _opp(5, StageName="Closed Lost", Amount="0"),  # lost with zero amount: fine
    ]
    crm = load_crm(_crm_folder(tmp_path, rows), key=KEY)

    assert len(crm.opportunities) == 5
    kept = crm.quarantine[crm.quarantine["action"] == "kept"]
    assert sorted(kept.loc[kept["column"] == "AccountId", "line"]) == [3, 5]
    assert sorted(kept.loc[kept["column"] == "Amount", "line"]) == [4, 5]
    opportunity = crm.quality.set_index("object").loc["Opportunity"]
    assert opportunity["n_flagged"] == 3 and opportunity["n_rows_used"] == 5


def test_quality_counts_add_up_to_the_rows_of_each_file(tmp_path):
    rows = [
        _opp(1),
        _opp(1, LastModifiedDate="2024-03-02 09:00:00"),  # a newer duplicate
        _opp(2, IsDeleted="1"),
        _opp(3, StageName="nonsense"),
        _opp(4, StageName="nonsense", CloseDate="bad"),  # two problems, one row
    ]
    folder = _crm_folder(tmp_path, rows)
    shutil.copytree(EXPORT / "pardot", folder / "pardot")

    crm = load_crm(folder, key=KEY)

    q = crm.quality.set_index("file")
    parts = ["n_deleted", "n_merged", "n_duplicates", "n_quarantined", "n_not_used", "n_rows_used"]
    assert (q[parts].sum(axis=1) == q["n_rows_read"]).all()
    opportunity = crm.quality.set_index("object").loc["Opportunity"]
    assert opportunity[parts].tolist() == [1, 0, 1, 2, 0, 1]
    for file, row in q.iterrows():
        data_lines = sum(1 for _ in csv.reader(open(file, encoding="utf-8-sig", errors="replace")))
        assert row["n_rows_read"] <= data_lines - 1


def test_a_pardot_export_read_but_not_used_is_reported(tmp_path):
    folder = _crm_folder(tmp_path, [_opp(1)])
    shutil.copytree(EXPORT / "pardot", folder / "pardot")

    crm = load_crm(folder, key=KEY)

    ui = crm.quality[crm.quality["file"].str.endswith("prospects_ui_export.csv")].iloc[0]
    assert ui["object"] == "PardotProspect (not used)"
    assert ui["n_not_used"] > 0 and ui["n_rows_used"] == 0
    not_used = crm.quarantine[crm.quarantine["action"] == "not used"]
    assert len(not_used) == ui["n_not_used"] and (not_used["record_id"] == "").all()


@pytest.mark.parametrize(
    "footer",
    [
        ['"Gesamtsummen (3 Datensätze)","","","","","","16.734,56"', "", '"Stand: 03.12.2026"'],
        ['"Vertraulich – nur für den internen Gebrauch"', '"© 2026 Beispiel AG"'],
        ['"Erstellt von: Anna Vogel"', '"Bericht: Alle Opportunities"', ""],
        ['"Total","","","","","","16.734,56","","","","","","",""', '"Some text, with a comma"'],
    ],
)
def test_report_footer_is_recognised_by_its_shape_not_its_words(tmp_path, footer):
    lines = (REPORTS / "opportunities_en.csv").read_text(encoding="utf-8").splitlines()[:4]
    path = tmp_path / "report.csv"
    path.write_text("\n".join([*lines, "", *footer]) + "\n", encoding="utf-8")

    obj = read_report(path, key=KEY)

    assert len(obj.frame) == 3 and obj.counts["n_quarantined"] == 0
    assert len(obj.info["footer"]) == sum(1 for f in footer if f)
    assert "Anna" not in str(obj.info)


def test_xlsx_report_footer_rows_are_not_quarantined_records(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Opportunities nach Phase"])
    sheet.append([])
    sheet.append(["Opportunity-ID", "Phase", "Betrag", "Schlusstermin", "Erstellt von"])
    sheet.append(["0064600000J5S5T", "Closed Won", 15000.0, "11.05.2023", "Anna Vogel"])
    sheet.append(["0064600000J5S5U", "Closed Lost", 1234.56, "15.06.2023", "Bernd Krause"])
    sheet.append([])
    sheet.append(["Gesamtsummen (2 Datensätze)", None, 16234.56])
    sheet.append(["Vertrauliche Informationen – nicht weitergeben"])
    sheet.append(["Erstellt am 03.12.2026 von Anna Vogel"])
    path = tmp_path / "bericht.xlsx"
    book.save(path)

    obj = read_report(path, key=KEY)

    assert len(obj.frame) == 2 and obj.quarantine.empty
    assert [kind for _, kind in obj.info["footer"]] == ["totals", "text", "date"]
    assert obj.info["footer_records"] == 2


def test_a_short_line_inside_a_report_is_still_a_structural_error(tmp_path):
    lines = (REPORTS / "opportunities_en.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "report.csv"
    path.write_text("\n".join([lines[0], lines[1], '"broken"', lines[2]]) + "\n", encoding="utf-8")

    with pytest.raises(InputError, match="expected 14 fields") as info:
        read_report(path, key=KEY)
    assert info.value.line == 3


def test_header_only_opportunity_export_gives_well_formed_sales_frames(tmp_path):
    from analysis import sales

    crm = load_crm(_crm_folder(tmp_path, []), key=KEY)
    opportunities = sales.filter_segment(crm.opportunities, "all")

    assert opportunities.empty
    assert crm.quality.set_index("object").loc["Opportunity", "n_rows_read"] == 0
    fill = sales.fill_rates(opportunities, date_col="created_date", fields=["lead_source"])
    share = sales.fill_before_after(fill, "2023-04-01", fields=["lead_source"])
    assert share.loc["lead_source", ["n_before", "n_after"]].tolist() == [0, 0]
    cycle = sales.cycle_data(opportunities, as_of="2025-12-31", unification_date="2023-04-01")
    table = sales.cycle_summary(cycle, horizons=(90, 180, 365)).set_index("group")
    assert table.loc[["pre", "post"], "n"].tolist() == [0, 0]
    assert np.isnan(table.loc["pre", "median_days_to_close"])
    assert sales.kaplan_meier(cycle, event="closed").columns[0] == "group"
    assert np.isnan(sales.logrank(cycle, event="closed")["p_value"])
    assert sales.quarantine_summary(crm.quarantine).empty


def test_a_date_outside_the_export_gives_both_sides(tmp_path):
    from analysis import sales

    rows = [_opp(n, CreatedDate=f"2024-0{1 + n % 2}-01 09:00:00") for n in range(1, 9)]
    crm = load_crm(_crm_folder(tmp_path, rows), key=KEY)

    fill = sales.fill_rates(crm.opportunities, date_col="created_date", fields=["lead_source"])
    share = sales.fill_before_after(fill, "2031-01-01")
    assert share.loc["lead_source", "n_before"] == 8 and np.isnan(share.loc["lead_source", "after"])
    cycle = sales.cycle_data(crm.opportunities, as_of="2025-12-31", unification_date="2031-01-01")
    table = sales.cycle_summary(cycle).set_index("group")
    assert table.loc["post", "n"] == 0 and table.loc["pre", "n"] == 8


def test_a_file_without_header_row_does_not_show_its_first_record(tmp_path):
    from analysis.sources.crm.pardot import read_prospects

    record = ["0065gAb0x000001ABA", "Hans Schmidt", "hans.schmidt@example.de", "Closed Won"]
    export = _write_csv(tmp_path / "Opportunity.csv", record, [record])
    report = _write_csv(tmp_path / "report.csv", record, [record])
    pardot = _write_csv(tmp_path / "prospects.csv", record, [record])

    for read in (
        lambda: read_export(export, "Opportunity"),
        lambda: read_report(report),
        lambda: read_prospects(pardot),
    ):
        with pytest.raises(InputError) as info:
            read()
        message = str(info.value)
        assert "4 field(s)" in message
        assert "Schmidt" not in message and "example.de" not in message


@pytest.mark.slow
def test_personal_data_in_checked_fields_reaches_no_report_notebook_or_log(
    tmp_path, monkeypatch, reports_tmp
):
    from analysis.cli import main
    from analysis.paths import demo_dir, project_root

    # Arrange: the demo data, with a name, an e-mail address and a phone number typed
    # into the stage, currency, amount and close date of four opportunities
    demo = tmp_path / "demo"
    demo.mkdir()
    for item in demo_dir().iterdir():
        if item.name != "crm":
            (demo / item.name).symlink_to(item)
    (demo / "crm").mkdir()
    for item in (demo_dir() / "crm").iterdir():
        if item.name != "Opportunity.csv":
            (demo / "crm" / item.name).symlink_to(item)
    with open(demo_dir() / "crm" / "Opportunity.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    typed = [
        ("StageName", "Hans Schmidt"),
        ("CurrencyIsoCode", "hans.schmidt@example.de"),
        ("Amount", "+49 551 1234567"),
        ("CloseDate", "Hans Schmidt"),
    ]
    for offset, (column, text) in enumerate(typed, start=1):
        rows[offset][header.index(column)] = text
    _write_csv(demo / "crm" / "Opportunity.csv", header, rows[1:], eol="\r\n")
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(demo))

    # Act
    notebook = project_root() / "notebooks" / "04_sales_marketing_alignment.ipynb"
    code = main(["run", str(notebook), "--name", "privacy_check", "--force"])

    # Assert: the run succeeded and no output file holds any of the typed texts
    assert code == 0
    written = [p for p in reports_tmp.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in written) and any(p.suffix == ".ipynb" for p in written)
    for path in written:
        text = path.read_bytes().decode("utf-8", "replace")
        for needle in ("Schmidt", "hans.schmidt", "551 1234567"):
            assert needle not in text, f"{needle!r} in {path.relative_to(reports_tmp)}"
