"""Report production at scale: plans, cache, diff, retention, notifications and faults.

Fast tests replace the kernel by ``_FakeWorker`` (it writes what a worker writes);
tests marked slow run real kernels on tiny notebooks: a kernel killed mid-run, a cell
error, a cell timeout, a dying pool worker, SIGINT of the whole run and the Dask
executor against the local pool.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from analysis import cli
from analysis.errors import InputError, ParameterError
from analysis.report import cache, runner
from analysis.report import store as store_module
from analysis.report.cache import Fingerprints
from analysis.report.plan import Job, load_plan, parameter_slug
from analysis.report.runner import ReportStore, run_jobs

KREISE = {"03101", "03102", "03103", "09162", "09184"}


def _notebook(path: Path, cells: list[str], params: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {path.stem}\n\nA tiny report."),
        cell,
        *[nbformat.v4.new_code_cell(source) for source in cells],
    ]
    nbformat.write(nb, path)
    return path


PROFILE_PARAMS = (
    'region: str = "03101"  # Kreis to profile\n'
    "peers: int = 3  # number of peers\n"
    'dataset: str = "demo"  # demo or official\n'
)


def _job(notebook: Path, report: str = "tiny", **parameters) -> Job:
    defaults = {"x": 1, "dataset": "demo"}
    final = {**defaults, **parameters}
    return Job(report, notebook, final, parameter_slug(final, defaults))


# --------------------------------------------------------------------------- plans


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A throwaway project root with a region-profile notebook and a demo dataset dir."""
    monkeypatch.setenv("WORKBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_REPORTS_DIR", str(tmp_path / "reports"))
    demo = tmp_path / "demo"
    (demo / "official").mkdir(parents=True)
    (demo / "official" / "kreise.csv").write_text("ags\n03101\n")
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(demo))
    (tmp_path / "requirements.lock").write_text("pandas==3.1.0\n")
    _notebook(tmp_path / "profile.ipynb", ["analysis_result = region"], PROFILE_PARAMS)
    monkeypatch.setattr(runner, "kreis_codes", lambda dataset: set(KREISE))
    return tmp_path


def _plan(root: Path, text: str) -> Path:
    path = root / "plan.yml"
    path.write_text(text)
    return path


def test_grid_expands_kreise_of_a_land_and_all_kreise(project):
    plan = _plan(
        project,
        "reports:\n"
        "  - name: land\n"
        "    notebook: profile.ipynb\n"
        "    grid: {region: {kreise_of_land: '03'}, peers: [3, 5]}\n"
        "  - name: germany\n"
        "    notebook: profile.ipynb\n"
        "    grid: {region: all_kreise}\n",
    )
    jobs = load_plan(plan, dataset="demo", kreis_codes=lambda ds: set(KREISE))
    land = [(j.parameters["region"], j.parameters["peers"]) for j in jobs if j.report == "land"]
    assert land == [(r, p) for r in ("03101", "03102", "03103") for p in (3, 5)]
    germany = [j.parameters["region"] for j in jobs if j.report == "germany"]
    assert germany == sorted(KREISE)
    assert len({j.key for j in jobs}) == len(jobs) == 11, "every parameter set has its own folder"
    assert all(j.parameters["dataset"] == "demo" for j in jobs)


def test_bad_kreis_code_in_grid_fails_before_anything_runs(project, capsys):
    plan = _plan(
        project,
        "reports:\n"
        "  - name: ok\n"
        "    notebook: profile.ipynb\n"
        "  - name: profiles\n"
        "    notebook: profile.ipynb\n"
        "    grid: {region: ['03101', '99999']}\n",
    )
    with pytest.raises(ParameterError, match=r"'region'.*99999.*report 'profiles'"):
        load_plan(plan, dataset="demo", kreis_codes=lambda ds: set(KREISE))

    code = cli.main(["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"])

    assert code == 2
    err = capsys.readouterr().err
    assert "region" in err and "99999" in err and "Traceback" not in err
    assert not (project / "reports").exists(), "nothing under reports/ may change"


def test_grid_of_a_land_without_kreise_and_bad_settings_are_plan_errors(project):
    cases = {
        "    grid: {region: {kreise_of_land: '07'}}\n": "no Kreise of Land 07",
        "    keep: 0\n": "keep must be a whole number >= 1",
        "    diff: {relative: -0.1}\n": "diff.relative must be a number >= 0",
        "    timeout: soon\n": "timeout must be a number of seconds",
        "    colour: blue\n": "unknown key",
    }
    for line, message in cases.items():
        plan = _plan(project, f"reports:\n  - name: p\n    notebook: profile.ipynb\n{line}")
        with pytest.raises(InputError, match=message):
            load_plan(plan, dataset="demo", kreis_codes=lambda ds: set(KREISE))
    plan = _plan(project, "kep: 3\nreports:\n  - name: p\n    notebook: profile.ipynb\n")
    with pytest.raises(InputError, match="unknown top-level key"):
        load_plan(plan, dataset="demo")


def test_plan_settings_apply_to_every_report_and_can_be_overridden(project):
    plan = _plan(
        project,
        "keep: 5\ndiff: {relative: 0.02}\ntimeout: 600\nheartbeat: 10\n"
        "reports:\n"
        "  - name: a\n    notebook: profile.ipynb\n"
        "  - name: b\n    notebook: profile.ipynb\n    keep: 2\n    diff: {absolute: 1}\n",
    )
    a, b = load_plan(plan, dataset="demo", kreis_codes=lambda ds: set(KREISE))
    assert a.options == {
        "keep": 5,
        "diff": {"relative": 0.02, "absolute": 0.0},
        "timeout": 600,
        "heartbeat": 10,
    }
    assert b.options["keep"] == 2 and b.options["diff"] == {"relative": 0.01, "absolute": 1.0}


# --------------------------------------------------------------------------- fake worker


class _FakeWorker:
    """Stands in for ``execute_job``: writes a worker's files without a kernel.

    ``figures`` and ``fail`` decide what the next runs produce.
    """

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.figures: dict = {"n": 100}
        self.fail = False

    def __call__(self, spec: dict) -> dict:
        self.calls.append(spec)
        staging = Path(spec["staging"])
        staging.mkdir(parents=True)
        status = "failed" if self.fail else "ok"
        html = "report.html" if status == "ok" else "partial.html"
        (staging / html).write_text(f"<html><body>{spec['run_id']}</body></html>")
        (staging / "executed.ipynb").write_text("{}")
        (staging / "run.log").write_text("log\n")
        manifest = {
            "report": spec["report"],
            "notebook": spec["notebook_rel"],
            "parameters": spec["parameters"],
            "status": status,
            "error": "cell 3: ValueError: boom" if self.fail else "",
            "run_id": spec["run_id"],
            "started_at": cache.utc_now(),
            "duration_s": 0.1,
            "attempts": 1,
            "cache_key": spec["cache_key"],
            "figures": dict(self.figures),
            "html": html,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest))
        return manifest


@pytest.fixture
def worker(monkeypatch):
    fake = _FakeWorker()
    monkeypatch.setattr(runner, "execute_job", fake)
    return fake


def test_changed_data_file_or_lock_file_invalidates_the_cache(project, worker):
    store = ReportStore(project / "reports")
    job = _job(project / "profile.ipynb")

    def status():
        counts = run_jobs([job], n_jobs=1, store=store, stream=open(os.devnull, "w"))
        return next(s for s, n in counts.items() if n)

    assert status() == "ok"
    assert status() == "cached"
    (project / "demo" / "official" / "kreise.csv").write_text("ags\n03101\n03102\n")
    assert status() == "ok", "a changed input file must re-run the report"
    assert status() == "cached"
    (project / "demo" / "firms").mkdir()
    (project / "demo" / "firms" / "list.csv").write_text("id\n1\n")
    assert status() == "ok", "a new input file must re-run the report"
    (project / "requirements.lock").write_text("pandas==3.1.1\n")
    assert status() == "ok", "a changed lock file must re-run the report"
    assert status() == "cached"
    assert (
        run_jobs([job], n_jobs=1, store=store, force=True, stream=open(os.devnull, "w"))["ok"] == 1
    )
    assert len(worker.calls) == 5


def test_cache_key_parts_are_each_significant(project):
    job = _job(project / "profile.ipynb")
    base = Fingerprints(project).cache_key(job)
    assert Fingerprints(project).cache_key(job) == base, "the key is deterministic"
    assert Fingerprints(project).cache_key(_job(project / "profile.ipynb", x=2)) != base
    (project / "src" / "analysis").mkdir(parents=True)
    (project / "src" / "analysis" / "regions.py").write_text("X = 1\n")
    assert Fingerprints(project).cache_key(job) != base, "the analysis package source counts"


def test_second_run_of_many_cached_reports_writes_the_index_once(project, worker, monkeypatch):
    store = ReportStore(project / "reports")
    jobs = [_job(project / "profile.ipynb", x=i) for i in range(30)]
    run_jobs(jobs, n_jobs=1, store=store, stream=open(os.devnull, "w"))
    saves = []
    original = ReportStore._save_state
    monkeypatch.setattr(
        ReportStore, "_save_state", lambda self, state: saves.append(1) or original(self, state)
    )
    counts = run_jobs(jobs, n_jobs=1, store=store, stream=open(os.devnull, "w"))
    assert counts["cached"] == 30 and len(saves) == 1
    state = json.loads((project / "reports" / "index.json").read_text())
    assert {e["status"] for e in state["entries"].values()} == {"cached"}


def test_report_whose_inputs_are_missing_is_skipped_not_failed(project, worker, capsys):
    plan = _plan(
        project,
        "reports:\n"
        "  - name: sales\n    notebook: profile.ipynb\n    requires: [crm]\n"
        "  - name: regions\n    notebook: profile.ipynb\n    requires: [official]\n",
    )
    args = ["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"]

    assert cli.main(args) == 0, "a skipped report is no failure"

    out = capsys.readouterr().out
    assert "skipped" in out and "needs demo/crm/ (not present)" in out
    assert [c["report"] for c in worker.calls] == ["regions"]
    state = json.loads((project / "reports" / "index.json").read_text())
    sales = next(e for k, e in state["entries"].items() if k.startswith("sales/"))
    assert sales["status"] == "skipped" and sales["runs"] == []
    assert "needs demo/crm/ (not present)" in (project / "reports" / "index.html").read_text()
    (project / "demo" / "crm").mkdir()
    (project / "demo" / "crm" / "Account.csv").write_text('"Id"\n')
    assert cli.main(args) == 0
    # The new file changed the dataset's fingerprint, so "regions" re-runs as well.
    assert sorted(c["report"] for c in worker.calls[1:]) == ["regions", "sales"]
    with pytest.raises(InputError, match="requires must be a list of official, firms, crm"):
        load_plan(
            _plan(
                project, "reports:\n  - name: s\n    notebook: profile.ipynb\n    requires: cr\n"
            ),
            dataset="demo",
        )


# --------------------------------------------------------------------------- diff and retention


def _entry(root: Path, job: Job) -> dict:
    return json.loads((root / "index.json").read_text())["entries"][job.key]


def test_run_diff_flags_changed_figures_in_manifest_and_index(project, worker):
    reports = project / "reports"
    store = ReportStore(reports)
    job = _job(project / "profile.ipynb")
    quiet = open(os.devnull, "w")
    worker.figures = {"population_total": 1000, "rank": 4, "top_peer": "03102"}
    run_jobs([job], n_jobs=1, store=store, stream=quiet)
    first = _entry(reports, job)["last_good"]
    worker.figures = {"population_total": 1005, "rank": 5, "top_peer": "03102"}  # +0.5 %, +25 %

    run_jobs([job], n_jobs=1, store=store, stream=quiet, force=True)

    entry = _entry(reports, job)
    run = entry["runs"][-1]
    manifest = json.loads(
        (reports / job.report / job.slug / "runs" / run["run_id"] / "manifest.json").read_text()
    )
    assert manifest["diff"]["against"] == first
    assert manifest["diff"]["flagged"] == ["rank"]
    assert {c["name"] for c in manifest["diff"]["changes"]} == {"population_total", "rank"}
    assert [c["name"] for c in run["diff_flagged"]] == ["rank"]
    index = (reports / "index.html").read_text()
    assert "rank: 4 → 5 (+25,0\xa0%)" in index


def test_diff_threshold_comes_from_the_plan(project, worker):
    reports = project / "reports"
    store = ReportStore(reports)
    job = _job(project / "profile.ipynb")
    job.options["diff"] = {"relative": 0.5, "absolute": 0.0}
    quiet = open(os.devnull, "w")
    worker.figures = {"rank": 4}
    run_jobs([job], n_jobs=1, store=store, stream=quiet)
    worker.figures = {"rank": 5}
    run_jobs([job], n_jobs=1, store=store, stream=quiet, force=True)
    assert _entry(reports, job)["runs"][-1]["diff_flagged"] == []


def test_retention_keeps_last_n_runs_and_always_the_last_good_one(project, worker):
    reports = project / "reports"
    store = ReportStore(reports)
    job = _job(project / "profile.ipynb")
    runs_dir = reports / job.report / job.slug / "runs"
    quiet = open(os.devnull, "w")
    run_jobs([job], n_jobs=1, store=store, stream=quiet, keep=2)
    good = _entry(reports, job)["last_good"]
    worker.fail = True
    for _ in range(3):
        run_jobs([job], n_jobs=1, store=store, stream=quiet, keep=2, force=True)

    entry = _entry(reports, job)
    failed = [r["run_id"] for r in entry["runs"] if r["status"] == "failed"]
    assert len(failed) == 2, "only the newest two runs (plus the last good) stay"
    assert sorted(p.name for p in runs_dir.iterdir()) == sorted([good, *failed])
    assert entry["last_good"] == good
    assert (reports / job.report / job.slug / "report.html").read_text().count(good) == 1

    worker.fail = False
    run_jobs([job], n_jobs=1, store=store, stream=quiet, keep=2, force=True)
    entry = _entry(reports, job)
    assert good not in {p.name for p in runs_dir.iterdir()}, "a newer good run replaces it"
    assert len(list(runs_dir.iterdir())) == 2 and entry["last_good"] != good
    assert [r["run_id"] for r in entry["runs"]] == sorted(p.name for p in runs_dir.iterdir())


def test_keep_from_the_plan_applies_when_the_cli_gives_none(project, worker):
    reports = project / "reports"
    job = _job(project / "profile.ipynb")
    job.options["keep"] = 1
    for _ in range(3):
        run_jobs(
            [job], n_jobs=1, store=ReportStore(reports), force=True, stream=open(os.devnull, "w")
        )
    assert len(list((reports / job.report / job.slug / "runs").iterdir())) == 1


# --------------------------------------------------------------------------- notifications via CLI


def _hook_command(tmp_path: Path) -> tuple[str, Path]:
    out = tmp_path / "notified.json"
    script = tmp_path / "hook.py"
    script.write_text(
        f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read().replace('\\n', ' ') + '\\n')\n"
    )
    return f"{sys.executable} {script}", out


def test_cli_notifies_on_failure_with_a_json_summary(project, worker, capsys):
    plan = _plan(project, "reports:\n  - name: p\n    notebook: profile.ipynb\n")
    command, out = _hook_command(project)
    worker.fail = True

    code = cli.main(["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1",
                     "--notify", command])  # fmt: skip

    assert code == 1
    (line,) = out.read_text().splitlines()
    summary = json.loads(line)
    assert summary["status"] == "failed" and summary["counts"]["failed"] == 1
    assert summary["failed"][0]["key"].startswith("p/") and "boom" in summary["failed"][0]["error"]
    assert summary["plan"] == str(plan) and summary["dataset"] == "demo"
    assert summary["index"].endswith("index.html")


def test_cli_notify_on_and_environment(project, worker, monkeypatch):
    plan = _plan(project, "reports:\n  - name: p\n    notebook: profile.ipynb\n")
    command, out = _hook_command(project)
    args = ["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"]
    monkeypatch.setenv("WORKBOOK_NOTIFY", command)

    assert cli.main(args) == 0
    assert not out.exists(), "by default only failures are notified"
    assert cli.main([*args, "--force", "--notify-on", "always"]) == 0
    assert json.loads(out.read_text().splitlines()[-1])["status"] == "ok"
    worker.fail = True
    assert cli.main([*args, "--force", "--notify-on", "success"]) == 1
    assert len(out.read_text().splitlines()) == 1, "a failure is not a success"


def test_cli_notifies_when_the_run_cannot_start(project, monkeypatch, capsys):
    plan = _plan(project, "reports:\n  - name: p\n    notebook: missing.ipynb\n")
    command, out = _hook_command(project)
    code = cli.main(["report", "--plan", str(plan), "--dataset", "demo", "--notify", command])
    assert code == 2
    summary = json.loads(out.read_text())
    assert summary["status"] == "error" and "missing.ipynb" in summary["error"]


# --------------------------------------------------------------------------- storage faults


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", str(args[0]) if args else None)


def test_full_disk_at_start_is_a_clear_error_and_exit_2(project, worker, monkeypatch, capsys):
    plan = _plan(project, "reports:\n  - name: p\n    notebook: profile.ipynb\n")
    monkeypatch.setattr(store_module, "atomic_write_text", _enospc)

    code = cli.main(["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"])

    err = capsys.readouterr().err
    assert code == 2
    assert str(project / "reports") in err and "No space left on device" in err
    assert "Traceback" not in err
    assert worker.calls == [], "no report starts on a full disk"


def test_full_disk_while_publishing_stops_the_run_with_exit_2(project, worker, monkeypatch, capsys):
    plan = _plan(project, "reports:\n  - name: p\n    notebook: profile.ipynb\n")
    args = ["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"]
    assert cli.main(args) == 0
    good_page = next((project / "reports" / "p").iterdir()) / "report.html"
    before = good_page.read_bytes()
    index_before = (project / "reports" / "index.json").read_text()
    real_copy = store_module.shutil.copyfile
    monkeypatch.setattr(store_module.shutil, "copyfile", _enospc)

    code = cli.main([*args, "--force"])

    err = capsys.readouterr().err
    monkeypatch.setattr(store_module.shutil, "copyfile", real_copy)
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    assert str(project / "reports") in err
    assert good_page.read_bytes() == before, "the last good page survives"
    assert (project / "reports" / "index.json").read_text() == index_before


def test_read_only_reports_folder_is_a_clear_error(project, worker, monkeypatch, capsys):
    plan = _plan(project, "reports:\n  - name: p\n    notebook: profile.ipynb\n")
    reports = project / "reports"
    reports.mkdir()

    def denied(path, text):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(store_module, "atomic_write_text", denied)
    code = cli.main(["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and str(reports) in err and "Read-only file system" in err
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions (chmod)")
def test_chmod_read_only_reports_folder(project, worker, capsys):
    plan = _plan(project, "reports:\n  - name: p\n    notebook: profile.ipynb\n")
    reports = project / "reports"
    reports.mkdir()
    reports.chmod(0o555)
    try:
        code = cli.main(["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"])
    finally:
        reports.chmod(0o755)
    err = capsys.readouterr().err
    assert code == 2 and str(reports) in err and "Permission denied" in err


def test_overlapping_runs_are_refused(project, worker, capsys):
    import fcntl

    plan = _plan(project, "reports:\n  - name: p\n    notebook: profile.ipynb\n")
    reports = project / "reports"
    reports.mkdir()
    with open(reports / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code = cli.main(["report", "--plan", str(plan), "--dataset", "demo", "--jobs", "1"])
    assert code == 2 and "another `workbook report`" in capsys.readouterr().err
    assert worker.calls == []


# --------------------------------------------------------------------------- real kernels

FAULT_PARAMS = (
    "x: int = 1  # a number\n"
    'dataset: str = "demo"  # demo or official\n'
    'marker: str = ""  # a file that marks the first attempt\n'
)
DIES_ONCE = (
    "import os, pathlib\n"
    "if marker and not pathlib.Path(marker).exists():\n"
    "    pathlib.Path(marker).touch()\n"
    "    os.kill(os.getpid(), 9)"
)


@pytest.mark.slow
def test_faults_fail_only_their_report_and_dead_kernels_are_retried_once(tmp_path):
    """One plan run (2 workers): a kernel that dies once, one that always dies, a cell
    error, a cell over its timeout and a long cell that gets heartbeats in run.log.

    (One test, not five: under pytest-xdist a shared fixture would run once per worker.)
    """
    record = "import analysis\nanalysis.record('x_doubled', 2 * x)"
    cells = {
        "dies_once": [DIES_ONCE, record],
        "dies_always": ["import os\nos.kill(os.getpid(), 9)", record],
        "cell_error": [
            "open(marker, 'a').write('attempt\\n')\nraise ValueError('broken on purpose')",
            record,
        ],
        "too_slow": ["import time\ntime.sleep(60)", record],
        "long_cell": ["import time\ntime.sleep(2.5)", record],
    }
    jobs = [
        Job(
            name,
            _notebook(tmp_path / f"{name}.ipynb", source, FAULT_PARAMS),
            {"x": 1, "dataset": "demo", "marker": str(tmp_path / f"{name}.marker")},
            "s",
            {"timeout": 3} if name == "too_slow" else {},
        )
        for name, source in cells.items()
    ]
    reports = tmp_path / "reports"
    started = time.monotonic()

    counts = run_jobs(jobs, n_jobs=2, store=ReportStore(reports), heartbeat=0.5,
                      stream=open(os.devnull, "w"))  # fmt: skip

    elapsed = time.monotonic() - started
    state = json.loads((reports / "index.json").read_text())
    run_dirs = {
        key.split("/")[0]: reports / key / "runs" / entry["runs"][-1]["run_id"]
        for key, entry in state["entries"].items()
    }
    manifests = {k: json.loads((d / "manifest.json").read_text()) for k, d in run_dirs.items()}
    assert counts == {"ok": 2, "failed": 3, "skipped": 0, "cached": 0}

    # A kernel killed once is retried in a fresh kernel and the report succeeds.
    once = manifests["dies_once"]
    assert (once["status"], once["attempts"], once["figures"]) == ("ok", 2, {"x_doubled": 2})
    assert "kernel died; retrying once" in (run_dirs["dies_once"] / "run.log").read_text()
    # A kernel that always dies fails that report only, after one retry.
    always = manifests["dies_always"]
    assert (always["status"], always["attempts"]) == ("failed", 2)
    assert "kernel died" in always["error"]
    assert (run_dirs["dies_always"] / "executed.ipynb").is_file(), "partial notebook kept"
    # A cell error is never retried.
    error = manifests["cell_error"]
    assert (error["status"], error["attempts"]) == ("failed", 1)
    assert "ValueError: broken on purpose" in error["error"]
    assert (tmp_path / "cell_error.marker").read_text().splitlines() == ["attempt"]
    # A cell over its timeout fails that report only, quickly, and is not retried.
    slow = manifests["too_slow"]
    assert (slow["status"], slow["attempts"]) == ("failed", 1)
    assert "cell 4 exceeded the timeout of 3 s" in slow["error"]
    assert slow["duration_s"] < 30 and elapsed < 60
    # The run log has UTC timestamps and heartbeats while a long cell runs.
    lines = (run_dirs["long_cell"] / "run.log").read_text().splitlines()
    beats = [line for line in lines if "still running cell 4 after" in line]
    assert manifests["long_cell"]["status"] == "ok"
    assert 2 <= len(beats) <= 8, lines
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO ", b) for b in beats)


@pytest.mark.slow
def test_dead_pool_worker_is_replaced_and_its_report_retried(tmp_path):
    kill_worker = (
        "import os, pathlib\n"
        "if not pathlib.Path(marker).exists():\n"
        "    pathlib.Path(marker).touch()\n"
        "    os.kill(os.getppid(), 9)"
    )
    record = "import analysis\nanalysis.record('x', x)"
    killer = _notebook(tmp_path / "killer.ipynb", [kill_worker, record], FAULT_PARAMS)
    calm = _notebook(tmp_path / "calm.ipynb", ["import time\ntime.sleep(1)", record], FAULT_PARAMS)
    jobs = [
        Job("killer", killer, {"x": 1, "dataset": "demo", "marker": str(tmp_path / "m")}, "s"),
        Job("calm", calm, {"x": 2, "dataset": "demo", "marker": ""}, "s"),
    ]
    counts = run_jobs(jobs, n_jobs=2, store=ReportStore(tmp_path / "reports"),
                      stream=open(os.devnull, "w"))  # fmt: skip
    assert counts["ok"] == 2
    state = json.loads((tmp_path / "reports" / "index.json").read_text())
    assert [len(e["runs"]) for e in state["entries"].values()] == [1, 1]
    staging = tmp_path / "reports" / ".staging"
    assert not staging.exists() or not any(p.is_dir() for p in staging.iterdir())


def _kernels_under(folder: Path) -> list:
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if (
                "ipykernel_launcher" in " ".join(process.info["cmdline"] or [])
                and str(folder) in process.cwd()
            ):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


_STOP_IDLE_WORKERS = """
import multiprocessing, signal, sys
from analysis.report import executors, runner

def handlers():
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

def idle(ready):
    executors.worker_signals()  # the pool's initializer
    ready.set()
    signal.pause()

with runner.sigterm_as_interrupt():
    # The pool's workers get the handlers ...
    pool = executors.new_worker_pool(2)
    print(pool.submit(handlers).result() == (signal.SIG_IGN, signal.SIG_DFL))
    pool.shutdown(wait=True)
    # ... and a forked worker with them dies quietly when the parent stops it.
    ready = multiprocessing.get_context("fork").Event()
    worker = multiprocessing.get_context("fork").Process(target=idle, args=(ready,))
    worker.start()
    ready.wait(30)
    worker.terminate()
    worker.join(30)
    print(worker.exitcode)
"""


def test_stopped_pool_workers_die_quietly_whatever_handlers_the_parent_had():
    """Workers are forked while the parent turns SIGTERM into KeyboardInterrupt; the
    parent stops them with SIGTERM. They must neither inherit that handler (a
    ``Process ForkProcess-N`` traceback on the user's terminal) nor react to Ctrl-C."""
    done = subprocess.run(
        [sys.executable, "-c", _STOP_IDLE_WORKERS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True", str(-signal.SIGTERM)], done.stdout
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigint_of_the_whole_run_publishes_nothing_half_written(tmp_path, jobs):
    # Arrange: a good run of a report, then a slow re-run of it in a subprocess.
    _notebook(
        tmp_path / "slow.ipynb",
        [
            "import os, time\ntime.sleep(float(os.environ.get('WB_TEST_SLEEP', '0')))",
            "import analysis\nanalysis.record('x', x)",
        ],
        'x: int = 1  # a number\ndataset: str = "demo"  # demo or official\n',
    )
    _notebook(tmp_path / "other.ipynb", ["y = 1"], 'dataset: str = "demo"  # dataset\n')
    plan = _plan(
        tmp_path,
        "reports:\n  - name: slow\n    notebook: slow.ipynb\n"
        "  - name: other\n    notebook: other.ipynb\n",
    )
    reports = tmp_path / "reports"
    env = {**os.environ, "WORKBOOK_ROOT": str(tmp_path), "WORKBOOK_REPORTS_DIR": str(reports)}
    command = [sys.executable, "-m", "analysis.cli", "report", "--plan", str(plan),
               "--dataset", "demo", "--jobs", jobs]  # fmt: skip
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    slow_dir = next((reports / "slow").iterdir())
    page_before = (slow_dir / "report.html").read_bytes()
    runs_before = sorted(p.name for p in (slow_dir / "runs").iterdir())

    # Act: interrupt (Ctrl-C = SIGINT to the process group) while the slow cell runs.
    process = subprocess.Popen(
        [*command, "--force"],
        env={**env, "WB_TEST_SLEEP": "60"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs = list((reports / ".staging").glob("*/run.log"))
        if any("Executing Cell 4" in p.read_text(errors="replace") for p in logs):
            break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the slow report never started")
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=30)

    # Assert
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in (slow_dir / "runs").iterdir()) == runs_before
    assert (slow_dir / "report.html").read_bytes() == page_before
    state = json.loads((reports / "index.json").read_text())
    entry = next(e for k, e in state["entries"].items() if k.startswith("slow/"))
    assert entry["status"] == "ok" and len(entry["runs"]) == 1
    # The run has exited; its kernels were killed before that (wait for the kill to land).
    deadline = time.monotonic() + 15
    while _kernels_under(reports) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _kernels_under(reports) == [], "no kernel may outlive the interrupted run"


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_reports_as_the_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    notebook = _notebook(
        tmp_path / "tiny.ipynb",
        ["import analysis\nanalysis.record('x_squared', x * x)",
         "assert x != 3, 'three fails'"],
        "x: int = 1  # a number\n" 'dataset: str = "demo"  # demo or official\n',
    )  # fmt: skip
    defaults = {"x": 1, "dataset": "demo"}
    jobs = [
        Job("tiny", notebook, {**defaults, "x": x}, parameter_slug({**defaults, "x": x}, defaults))
        for x in (2, 3)
    ]
    quiet = open(os.devnull, "w")
    pool_root, dask_root = tmp_path / "pool", tmp_path / "dask"
    pool_counts = run_jobs(jobs, n_jobs=2, store=ReportStore(pool_root), stream=quiet)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask_counts = run_jobs(
            jobs,
            executor="dask",
            scheduler=cluster.scheduler_address,
            store=ReportStore(dask_root),
            stream=quiet,
        )
    assert pool_counts == dask_counts == {"ok": 1, "failed": 1, "skipped": 0, "cached": 0}

    def tree(root: Path) -> list[str]:
        state = json.loads((root / "index.json").read_text())
        run_ids = {r["run_id"]: "RUN" for e in state["entries"].values() for r in e["runs"]}
        paths = []
        for path in root.rglob("*"):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(".staging") or rel == ".lock":
                continue
            paths.append("/".join(run_ids.get(part, part) for part in rel.split("/")))
        return sorted(paths)

    def index(root: Path) -> dict:
        state = json.loads((root / "index.json").read_text())
        for entry in state["entries"].values():
            entry["last_good"] = bool(entry["last_good"])
            for run in entry["runs"]:
                for key in ("run_id", "started_at", "duration_s"):
                    run.pop(key)
        return state

    assert tree(pool_root) == tree(dask_root)
    assert index(pool_root) == index(dask_root)
    figures = {k: e["runs"][-1]["figures"] for k, e in index(dask_root)["entries"].items()}
    assert sorted(figures.values(), key=str) == [{"x_squared": 4}, {"x_squared": 9}]
