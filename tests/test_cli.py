"""The `workbook` command line: exit codes and messages a user sees."""

from __future__ import annotations

import time

import pytest

from analysis.cli import main

ROOT_NOTEBOOK = "notebooks/01_region_profile.ipynb"


@pytest.fixture
def demo_env(demo_root, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(demo_root))
    reports = tmp_path / "reports"
    monkeypatch.setenv("WORKBOOK_REPORTS_DIR", str(reports))
    return reports


def _snapshot(folder):
    return (
        sorted((p.relative_to(folder).as_posix(), p.stat().st_mtime_ns) for p in folder.rglob("*"))
        if folder.exists()
        else []
    )


def test_params_lists_names_types_defaults_and_help(capsys):
    from analysis.paths import project_root

    assert main(["params", str(project_root() / ROOT_NOTEBOOK)]) == 0
    out = capsys.readouterr().out
    assert "region" in out and "str" in out and '"03917"' in out and "Kreis AGS to profile" in out


def test_unknown_kreis_fails_fast_with_exit_2_and_touches_no_report(demo_env, capsys):
    from analysis.paths import project_root

    (demo_env / "keep.txt").parent.mkdir(parents=True)
    (demo_env / "keep.txt").write_text("previous reports")
    before = _snapshot(demo_env)
    started = time.monotonic()
    code = main(["run", str(project_root() / ROOT_NOTEBOOK), "-p", "region", "99999"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2
    assert "parameter 'region'" in err and "'99999'" in err and "400 Kreise" in err
    assert _snapshot(demo_env) == before
    assert elapsed < 5  # generous: in practice well under a second


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "regoin", "03917"], "parameter 'regoin': unknown parameter"),
        (["-p", "peers", "many"], "parameter 'peers': expected a whole number"),
        (["-p", "dataset", "real"], "parameter 'dataset': expected one of demo, official"),
        (["-p", "region", "3917"], "parameter 'region': Kreis code '3917'"),
    ],
)
def test_bad_parameters_name_the_parameter(demo_env, capsys, args, message):
    from analysis.paths import project_root

    assert main(["run", str(project_root() / ROOT_NOTEBOOK), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_notebook_and_bad_plan_exit_2(demo_env, tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.ipynb")]) == 2
    assert "notebook not found" in capsys.readouterr().err
    plan = tmp_path / "plan.yml"
    plan.write_text("reports:\n  - name: x\n")
    assert main(["report", "--plan", str(plan), "--dataset", "demo"]) == 2
    assert "needs 'name' and 'notebook'" in capsys.readouterr().err


# --------------------------------------------------------------------------- hostile input


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("name", ["../../x", "/tmp/workbook-escape", "..", ".hidden", "a/b", ""])
def test_report_names_that_leave_reports_are_refused_before_anything_is_written(
    demo_env, tmp_path, capsys, name
):
    from analysis.paths import project_root

    code = main(["run", str(project_root() / ROOT_NOTEBOOK), "--name", name])

    assert code == 2
    assert "report name must be a folder name" in _one_line_error(capsys)
    assert not demo_env.exists(), "nothing may be written"
    assert not (tmp_path.parent / "x").exists()


def test_plan_report_names_are_checked_too(demo_env, tmp_path, capsys):
    plan = tmp_path / "plan.yml"
    plan.write_text(f"reports:\n  - name: ../escape\n    notebook: {ROOT_NOTEBOOK}\n")

    assert main(["report", "--plan", str(plan), "--dataset", "demo"]) == 2
    err = _one_line_error(capsys)
    assert "report '../escape': name must be a folder name" in err
    assert not demo_env.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "top_n", "-5"], "parameter 'top_n': expected a number >= 1, got -5"),
        (["-p", "top_n", "0"], "parameter 'top_n': expected a number >= 1, got 0"),
        (["-p", "n_peer_groups", "-1"], "parameter 'n_peer_groups': expected a number >= 1"),
        (["-p", "seed", "-3"], "parameter 'seed': expected a number >= 0"),
    ],
)
def test_numbers_out_of_range_are_refused(demo_env, capsys, args, message):
    from analysis.paths import project_root

    assert main(["run", str(project_root() / "notebooks/02_mint_clusters.ipynb"), *args]) == 2
    assert message in _one_line_error(capsys)
    assert not demo_env.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "segment", "everything"],
         "parameter 'segment': expected one of all, new_business, existing_business"),
        (["-p", "currency", "euro"], "parameter 'currency': expected an ISO 4217 currency code"),
        (["-p", "unification_date", "2026-01-01"],
         "parameter 'unification_date': expected a date before as_of (2025-12-31)"),
        (["-p", "as_of", "2020-01-01"], "parameter 'unification_date': expected a date before"),
        (["-p", "min_closed", "-1"], "parameter 'min_closed': expected a number >= 0"),
        (["-p", "unification_date", "2019-01-01"],
         "parameter 'unification_date': expected a date within the data (2020-"),
        (["-p", "unification_date", "2019-01-01", "-p", "as_of", "2019-06-01"],
         "parameter 'unification_date': expected a date within the data"),
        (["-p", "currency", "JPY"],
         "parameter 'currency': expected one of the currencies of the CRM data (CHF, "),
    ],
)  # fmt: skip
def test_sales_parameters_are_checked_before_a_kernel_starts(demo_env, capsys, args, message):
    from analysis.paths import project_root

    notebook = project_root() / "notebooks/04_sales_marketing_alignment.ipynb"
    assert main(["run", str(notebook), *args]) == 2
    assert message in _one_line_error(capsys)
    assert not demo_env.exists()


def test_definition_choices_come_from_the_notebook(demo_env, capsys):
    from analysis.paths import project_root

    notebook = project_root() / "notebooks/05_market_potential.ipynb"
    assert main(["run", str(notebook), "-p", "definition", "best"]) == 2
    assert "parameter 'definition': expected one of simon, wmi, all" in _one_line_error(capsys)


def test_special_and_huge_files_get_a_clear_error_at_once(demo_env, tmp_path, capsys):
    from analysis.paths import project_root

    assert main(["run", "/dev/zero"]) == 2
    assert "/dev/zero: not a regular file; expected a notebook" in _one_line_error(capsys)
    assert main(["params", "/dev/zero"]) == 2
    assert "not a regular file" in _one_line_error(capsys)
    assert main(["run", str(tmp_path)]) == 2
    assert "not a regular file" in _one_line_error(capsys)
    huge = tmp_path / "huge.yml"
    with open(huge, "wb") as handle:  # sparse: 2 GB without using the disk
        handle.truncate(2 * 1024**3)
    notebook = str(project_root() / ROOT_NOTEBOOK)
    assert main(["run", notebook, "-f", str(huge)]) == 2
    assert "far too large for a parameter file" in _one_line_error(capsys)
    assert main(["run", notebook, "-f", "/dev/zero"]) == 2
    assert "not a regular file; expected a parameter file" in _one_line_error(capsys)
    assert main(["report", "--plan", "/dev/zero", "--dataset", "demo"]) == 2
    assert "not a regular file; expected a plan" in _one_line_error(capsys)
    assert main(["report", "--plan", str(huge), "--dataset", "demo"]) == 2
    assert "far too large for a plan" in _one_line_error(capsys)
    assert not demo_env.exists()
