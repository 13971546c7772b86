"""Report production end to end on tiny notebooks: run, cache, fail, publish, index."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from analysis.report.plan import Job, load_plan, parameter_slug
from analysis.report.runner import ReportStore, run_jobs

pytestmark = pytest.mark.slow


def _write_notebook(path, *, value: int = 3):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell(
        f"x: int = {value}  # a number\n"
        'dataset: str = "demo"  # dataset\n'
        "fail: bool = False  # fail on purpose\n"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny report\n\nA sentence."),
        params,
        nbformat.v4.new_code_cell(
            "import analysis\nanalysis.report_setup(seed=0, dataset=dataset)"
        ),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nSECRET_CODE_MARKER = 1\nplt.plot([1, 2, x]);"
        ),
        nbformat.v4.new_code_cell(
            "assert not fail, 'failed on purpose'\nanalysis.record('x_squared', x * x)"
        ),
    ]
    nbformat.write(nb, path)
    return path


def _job(notebook, **params):
    final = {"x": 3, "dataset": "demo", "fail": False, **params}
    return Job(
        "tiny", notebook, final, parameter_slug(final, {"x": 3, "dataset": "demo", "fail": False})
    )


def test_run_publishes_offline_html_manifest_and_index(tmp_path, reports_tmp):
    notebook = _write_notebook(tmp_path / "tiny.ipynb")
    store = ReportStore(reports_tmp)
    counts = run_jobs([_job(notebook, x=4)], n_jobs=1, store=store)
    assert counts["ok"] == 1
    entry_dir = next((reports_tmp / "tiny").iterdir())
    page = (entry_dir / "report.html").read_text()
    # German by default (the notebook has no `language` parameter): page and banner.
    assert '<html lang="de">' in page
    assert "Tiny report" in page and "Synthetische Demodaten" in page
    assert "SECRET_CODE_MARKER" not in page, "code must be hidden"
    assert "data:image/png;base64," in page, "figures are embedded"
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"?https?:|url\(https?:", page)
    run_dir = next((entry_dir / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for key in ("report", "notebook", "parameters", "status", "started_at", "duration_s",
                "git_commit", "inputs", "figures", "cache_key"):  # fmt: skip
        assert key in manifest
    assert manifest["status"] == "ok" and manifest["figures"] == {"x_squared": 16}
    assert manifest["parameters"]["x"] == 4
    index = (reports_tmp / "index.html").read_text()
    assert f"tiny/{entry_dir.name}/report.html" in index
    assert not (reports_tmp / ".staging").exists() or not any((reports_tmp / ".staging").iterdir())


def test_unchanged_run_is_cached_and_force_reruns(tmp_path, reports_tmp):
    notebook = _write_notebook(tmp_path / "tiny.ipynb")
    store = ReportStore(reports_tmp)
    assert run_jobs([_job(notebook)], n_jobs=1, store=store)["ok"] == 1
    assert run_jobs([_job(notebook)], n_jobs=1, store=store)["cached"] == 1
    assert run_jobs([_job(notebook)], n_jobs=1, store=store, force=True)["ok"] == 1
    _write_notebook(notebook, value=5)  # the code changed: no longer cached
    assert run_jobs([_job(notebook)], n_jobs=1, store=store)["ok"] == 1


def test_failure_keeps_last_good_html_and_links_partial_notebook(tmp_path, reports_tmp):
    good = _write_notebook(tmp_path / "tiny.ipynb")
    store = ReportStore(reports_tmp)
    other = _write_notebook(tmp_path / "other.ipynb")
    run_jobs([_job(good)], n_jobs=1, store=store)
    stable = next((reports_tmp / "tiny").iterdir()) / "report.html"
    before = stable.read_bytes()
    # Break the same report (same parameters) on purpose; a second report must still build.
    broken = tmp_path / "tiny.ipynb"
    nb = nbformat.read(broken, 4)
    nb.cells[4].source = "raise RuntimeError('broken on purpose')"
    nbformat.write(nb, broken)
    jobs = [_job(broken), Job("other", other, {"x": 3, "dataset": "demo", "fail": False}, "s1")]
    counts = run_jobs(jobs, n_jobs=2, store=store)
    assert counts == {"ok": 1, "failed": 1, "skipped": 0, "cached": 0}
    assert stable.read_bytes() == before, "the last good report must survive"
    state = json.loads((reports_tmp / "index.json").read_text())
    entry = state["entries"][jobs[0].key]
    assert entry["status"] == "failed" and "broken on purpose" in entry["runs"][-1]["error"]
    failed_dir = reports_tmp / "tiny" / jobs[0].slug / "runs" / entry["runs"][-1]["run_id"]
    partial = nbformat.read(failed_dir / "executed.ipynb", 4)
    assert any(
        o.get("ename") == "RuntimeError" for c in partial.cells for o in c.get("outputs", [])
    )
    index = (reports_tmp / "index.html").read_text()
    assert f"{entry['runs'][-1]['run_id']}/executed.ipynb" in index
    assert "unvollständiges Notebook" in index  # the index speaks German by default


def test_plan_expands_grids_and_validates_before_running(tmp_path, monkeypatch):
    _write_notebook(tmp_path / "tiny.ipynb")
    monkeypatch.setenv("WORKBOOK_ROOT", str(tmp_path))
    plan = tmp_path / "plan.yml"
    plan.write_text(
        "reports:\n"
        "  - name: tiny\n"
        "    notebook: tiny.ipynb\n"
        "    parameters: {x: 2}\n"
        "    official: {x: 9}\n"
        "    grid: {fail: [false, true]}\n"
    )
    jobs = load_plan(plan, dataset="demo")
    assert [(j.parameters["x"], j.parameters["fail"]) for j in jobs] == [(2, False), (2, True)]
    assert len({j.slug for j in jobs}) == 2
    assert [j.parameters["x"] for j in load_plan(plan, dataset="official")] == [9, 9]
    plan.write_text("reports:\n  - name: tiny\n    notebook: tiny.ipynb\n    parameters: {y: 1}\n")
    from analysis.errors import ParameterError

    with pytest.raises(ParameterError, match="'y'.*report 'tiny'"):
        load_plan(plan, dataset="demo")


def test_a_kernel_that_dies_while_starting_is_retried_once(tmp_path, reports_tmp, monkeypatch):
    from analysis.report import warm

    notebook = _write_notebook(tmp_path / "tiny.ipynb")
    real = warm.WarmKernels.take
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(warm.WarmKernels, "take", flaky)
    counts = run_jobs([_job(notebook)], n_jobs=1, store=ReportStore(reports_tmp))
    assert counts["ok"] == 1 and len(calls) == 2


def test_kernels_keep_no_ipython_history_anywhere(tmp_path, reports_tmp, monkeypatch):
    """Cell sources (injected parameters included) must not land in ~/.ipython."""
    from analysis.report.kernel import kernel_home

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("IPYTHONDIR", raising=False)
    notebook = _write_notebook(tmp_path / "tiny.ipynb")
    nb = nbformat.read(notebook, 4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import IPython\n"
            "analysis.record('history_enabled', IPython.get_ipython().history_manager.enabled)"
        )
    )
    nbformat.write(nb, notebook)

    counts = run_jobs([_job(notebook)], n_jobs=1, store=ReportStore(reports_tmp))

    assert counts["ok"] == 1
    state = json.loads((reports_tmp / "index.json").read_text())
    (entry,) = state["entries"].values()
    assert entry["runs"][-1]["figures"]["history_enabled"] is False
    for folder in (home, reports_tmp, kernel_home()):
        assert not list(folder.rglob("history.sqlite*")), folder
    assert not [p for p in (home / ".ipython").rglob("*") if p.is_file()]
