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
