"""Tests for the sources dispatcher and `workbook data read` / `workbook data check`."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.errors import InputError
from analysis.sources import FORMATS, read_any, sniff_format

FIXTURES = Path(__file__).parent / "fixtures" / "official"


@pytest.fixture(scope="session")
def official(mirror) -> Path:
    """The mirror of real official files (conftest skips when it is absent)."""
    return mirror


def _geojson(path: Path) -> Path:
    square = [[9.0, 51.0], [10.0, 51.0], [10.0, 52.0], [9.0, 52.0], [9.0, 51.0]]
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"AGS": "99001", "GEN": "Musterkreis"},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            }
        ],
    }
    path.write_text(json.dumps(document))
    return path


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("ffcsv_current_features.csv", "ffcsv"),
        ("ffcsv_old_12411_latin1.csv", "ffcsv_old"),
        ("ffcsv_old_multi_value_q.csv", "ffcsv_old"),
        ("classic_time_first_column.csv", "classic"),
        ("classic_variable_pairs.csv", "classic"),
    ],
)
def test_sniff_format_of_fixtures(name, fmt):
    assert sniff_format(FIXTURES / name) == fmt


def test_sniff_format_of_small_files(tmp_path):
    # Arrange
    plz = tmp_path / "plz.csv"
    plz.write_text(
        "osm_id,ags,ort,plz,landkreis,bundesland\n1,3159016,Göttingen,37073,,Niedersachsen\n"
    )
    note = tmp_path / "note.csv"
    note.write_text("columns osm_id,ags,ort,plz and more\n")
    geo = _geojson(tmp_path / "regions.geojson")

    # Act / Assert
    assert sniff_format(plz) == "plz"
    assert sniff_format(geo) == "geojson"
    with pytest.raises(InputError, match="unknown format"):
        sniff_format(note)


def test_read_any_rejects_an_unknown_forced_format():
    with pytest.raises(InputError, match="unknown format 'xls'"):
        read_any(FIXTURES / "ffcsv_current_features.csv", fmt="xls")


# --------------------------------------------------------------------------- data read


def test_data_read_prints_tidy_csv(capsys):
    # Act
    code = main(["data", "read", str(FIXTURES / "ffcsv_old_12411_latin1.csv")])

    # Assert
    captured = capsys.readouterr()
    assert code == 0
    printed = pd.read_csv(io.StringIO(captured.out), dtype=str, keep_default_na=False)
    for column in ("level", "ags", "time", "measure", "unit", "value", "flag", "quality", "GES"):
        assert column in printed.columns
    row = printed[(printed["ags"] == "03152") & (printed["GES"] == "")]
    assert row["value"].item() == "250000"  # no trailing ".0"
    assert row["period_start"].item() == "2015-12-31"
    assert printed.loc[printed["ags"] == "03159", "flag"].eq("-").all()
    assert printed.loc[printed["ags"] == "03159", "value"].eq("").all()


def test_data_read_with_forced_format(capsys):
    code = main(
        ["data", "read", str(FIXTURES / "classic_variable_pairs.csv"), "--format", "classic"]
    )
    captured = capsys.readouterr()
    assert code == 0
    header = captured.out.splitlines()[0].split(",")
    assert header[-2:] == ["Nationalität", "Geschlecht"]


def test_data_read_boundaries_prints_a_summary_instead_of_coordinates(tmp_path, capsys):
    code = main(["data", "read", str(_geojson(tmp_path / "regions.geojson"))])
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"ags": str})
    assert code == 0
    assert printed.loc[0, "ags"] == "99001"
    assert (printed.loc[0, "n_rings"], printed.loc[0, "n_points"]) == (1, 5)
    assert (printed.loc[0, "lon_min"], printed.loc[0, "lat_max"]) == (9.0, 52.0)


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        # truncated last line
        (
            "statistics_code;statistics_label;time_code;time_label;time;value;value_unit;"
            "value_variable_code;value_variable_label\n61111;VPI;JAHR;Jahr;2023;117,1;x;P;V\n61111;VPI;JA",
            3,
        ),
        # a value that is not a number
        (
            "statistics_code;statistics_label;time_code;time_label;time;value;value_unit;"
            "value_variable_code;value_variable_label\n61111;VPI;JAHR;Jahr;2023;1l7;x;P;V\n",
            2,
        ),
    ],
)
def test_data_read_bad_input_exits_2_with_file_and_line(tmp_path, capsys, payload, line):
    # Arrange
    path = tmp_path / "bad_flat.csv"
    path.write_text(payload)

    # Act
    code = main(["data", "read", str(path)])

    # Assert
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    message = captured.err.strip()
    assert "\n" not in message
    assert str(path) in message and f"line {line}" in message


def test_data_read_unknown_file_exits_2(tmp_path, capsys):
    path = tmp_path / "notes.csv"
    path.write_text("hello world\n")
    assert main(["data", "read", str(path)]) == 2
    assert "unknown format" in capsys.readouterr().err


def test_data_read_mis_encoded_file_exits_2(tmp_path, capsys):
    # Arrange: a byte-order mark promising UTF-8, then Latin-1 bytes
    text = (FIXTURES / "ffcsv_old_12411_latin1.csv").read_bytes()
    path = tmp_path / "mixed_flat.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text)

    # Act
    code = main(["data", "read", str(path)])

    # Assert
    assert code == 2
    assert "not valid UTF-8" in capsys.readouterr().err


# --------------------------------------------------------------------------- data check


def test_data_check_reports_every_problem_and_lists_unknown_files(tmp_path, capsys):
    # Arrange: two good files, two bad ones, one unknown, documentation
    root = tmp_path / "raw"
    (root / "official" / "genesis_ffcsv").mkdir(parents=True)
    (root / "official" / "classic").mkdir()
    shutil.copy(FIXTURES / "ffcsv_current_features.csv", root / "official" / "genesis_ffcsv")
    shutil.copy(FIXTURES / "classic_variable_pairs.csv", root / "official" / "classic")
    good = (FIXTURES / "ffcsv_old_12411_latin1.csv").read_bytes()
    (root / "official" / "genesis_ffcsv" / "cut_flat.csv").write_bytes(good[:-30])
    classic = (FIXTURES / "classic_header_dates_units.csv").read_bytes()
    (root / "official" / "classic" / "no_footer.csv").write_bytes(classic[: classic.index(b"___")])
    (root / "official" / "mystery.dat").write_bytes(b"\x01\x02\x03")
    (root / "README.md").write_text("# data log\n")
    (root / "official" / "genesis_ffcsv" / "PROVENANCE.txt").write_text("where it came from\n")

    # Act
    code = main(["data", "check", str(root)])

    # Assert
    out = capsys.readouterr().out
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 3
    assert any("cut_flat.csv" in f and "line 13" in f for f in fails)
    assert any("no_footer.csv" in f and "truncated" in f for f in fails)
    # in official/, a file that no reader can use is a failure, not a shrug
    assert any("official/mystery.dat" in f and "no reader can use" in f for f in fails)
    assert sum(line.startswith("ok") for line in out.splitlines()) == 2
    assert "README" not in out and "PROVENANCE" not in out
    assert "4 file(s) checked, 3 with problems, 1 not recognised" in out


def test_data_check_passes_on_good_files(tmp_path, capsys):
    root = tmp_path / "raw"
    root.mkdir()
    shutil.copy(FIXTURES / "ffcsv_old_multi_value_q.csv", root)
    assert main(["data", "check", str(root)]) == 0
    assert "1 file(s) checked, 0 with problems" in capsys.readouterr().out


def test_data_check_of_an_empty_or_missing_folder(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["data", "check", str(empty)]) == 1
    assert "nothing to check" in capsys.readouterr().out
    assert main(["data", "check", str(tmp_path / "missing")]) == 2


# --------------------------------------------------------------------------- real files


@pytest.mark.mirror
def test_every_mirror_file_is_sniffed_and_read(official, capsys):
    # Act
    code = main(["data", "check", str(official)])

    # Assert
    out = capsys.readouterr().out
    assert code == 0
    formats = {
        line.split("[")[1].split("]")[0] for line in out.splitlines() if line.startswith("ok")
    }
    assert {"ffcsv", "classic", "gv_isys", "bbsr", "plz", "vg2500", "geojson"} <= formats
    assert formats <= set(FORMATS)


@pytest.mark.mirror
def test_data_read_of_the_real_population_table(official, capsys):
    code = main(["data", "read", str(official / "genesis_ffcsv" / "12411-01-01-4_de_flat.csv")])
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False)
    assert code == 0
    goe = printed[(printed["ags"] == "03159") & (printed["GES"] == "")]
    assert goe["value"].item() == "328028"


def test_geojson_with_sorted_keys_is_sniffed(tmp_path):
    # "type" after a long "features" list (json.dumps(sort_keys=True))
    path = tmp_path / "regions.json"
    document = json.loads(_geojson(tmp_path / "x.geojson").read_text())
    path.write_text(json.dumps(document, sort_keys=True))
    assert sniff_format(path) == "geojson"
    assert sniff_format(tmp_path / "x.geojson") == "geojson"


# --------------------------------------------------------------------------- hostile files

CRM = Path(__file__).parent / "fixtures" / "crm"


def test_data_check_recognises_every_file_load_crm_reads(tmp_path, capsys):
    root = tmp_path / "raw"
    (root / "crm" / "pardot").mkdir(parents=True)
    shutil.copy(CRM / "export" / "Opportunity.csv", root / "crm" / "opportunity.csv")
    shutil.copy(CRM / "export" / "Account.csv", root / "crm" / "ACCOUNT.CSV")
    shutil.copy(CRM / "reports" / "opportunities_en.csv", root / "crm" / "report_en.csv")
    shutil.copy(CRM / "reports" / "opportunities_de.xlsx", root / "crm" / "bericht.xlsx")
    shutil.copy(CRM / "export" / "pardot" / "prospects_ui_export.csv", root / "crm" / "pardot")

    code = main(["data", "check", str(root)])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok    crm/opportunity.csv  [salesforce]" in out
    assert "ok    crm/ACCOUNT.CSV  [salesforce]" in out
    assert "ok    crm/report_en.csv  [salesforce_report]" in out
    assert "ok    crm/bericht.xlsx  [salesforce_report]" in out
    assert "ok    crm/pardot/prospects_ui_export.csv  [pardot]" in out


@pytest.mark.parametrize(
    ("folder", "name", "payload", "expected"),
    [
        ("crm", "Opportunity.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL byte"),
        ("crm", "Opportunity.csv", '"Id","StageName"\n'.encode("utf-16"), "UTF-16"),
        ("crm", "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        ("firms", "list.csv", "Firma;Ort\n".encode("utf-16"), "UTF-16"),
        ("official", "table.bin", b"\x00\x01\x02", "binary"),
        ("crm", "notes.csv", b"just some words\n", "no known layout"),
    ],
)
def test_data_check_fails_on_a_file_no_reader_can_use(
    tmp_path, capsys, folder, name, payload, expected
):
    root = tmp_path / "raw"
    (root / folder).mkdir(parents=True)
    (root / folder / name).write_bytes(payload)

    code = main(["data", "check", str(root)])

    out = capsys.readouterr().out
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert code == 1
    assert len(fails) == 1 and f"{folder}/{name}" in fails[0] and expected in fails[0]


def test_data_read_of_a_device_is_a_clear_error(capsys):
    code = main(["data", "read", "/dev/zero"])

    err = capsys.readouterr().err
    assert code == 2
    assert "regular file" in err and "not found" not in err


def test_readers_refuse_pipes_and_files_too_large_to_hold(tmp_path):
    import os

    from analysis.sources.crm.dataexport import read_export
    from analysis.sources.text import MAX_IN_MEMORY_BYTES, read_bytes

    pipe = tmp_path / "Opportunity.csv"
    os.mkfifo(pipe)
    with pytest.raises(InputError, match="regular file"):
        read_export(pipe, "Opportunity")  # returns at once: a pipe is never opened
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:  # sparse: no disk space used
        handle.truncate(MAX_IN_MEMORY_BYTES + 1)
    with pytest.raises(InputError, match="at most"):
        read_bytes(huge)
    assert main(["data", "read", "--format", "classic", str(huge)]) == 2
