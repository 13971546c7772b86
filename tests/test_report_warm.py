"""Warm kernels: started ahead with the heavy imports done, one report each, replaced when dead."""

from __future__ import annotations

import json
import os
import re
import signal

import nbformat
import pytest

from analysis.report import warm
from analysis.report.plan import Job, parameter_slug
from analysis.report.runner import ReportStore, run_jobs

ENV = {"WORKBOOK_ROOT": "/project"}


class _FakeKernels:
    """Stands in for real kernels: ``start_kernel`` fails as told, ``is_alive`` as told."""

    def __init__(self, monkeypatch, fail_first: int = 0) -> None:
        self.started: list[warm.Kernel] = []
        self.released: list[warm.Kernel] = []
        self.dead: set[int] = set()
        self.fail_first = fail_first
        monkeypatch.setattr(warm, "start_kernel", self.start)
        monkeypatch.setattr(warm, "is_alive", lambda k: id(k) not in self.dead)
        monkeypatch.setattr(warm, "release", self.released.append)

    def start(self, env, cwd=None, *, warm, imports=()):
        if self.fail_first:
            self.fail_first -= 1
            raise warm_error()
        kernel = warm_module_kernel(env, warm)
        self.started.append(kernel)
        return kernel


def warm_error():
    return warm.KernelStartError("Kernel died before it was ready: killed")


def warm_module_kernel(env, is_warm):
    return warm.Kernel(object(), warm.env_key(env), 0.0, is_warm)


def test_the_next_kernel_warms_while_one_is_in_use(monkeypatch):
    fake = _FakeKernels(monkeypatch)
    pool = warm.WarmKernels()

    first = pool.take(ENV)
    second = pool.take(ENV, warm_next=False)
    third = pool.take(ENV, warm_next=False)

    assert first.warm and second.warm and third.warm
    assert len({id(first), id(second), id(third)}) == 3, "a kernel serves one report only"
    assert fake.started[:2] == [first, second], "the second was started ahead of its report"
    pool.close()


def test_a_kernel_that_dies_while_warming_is_replaced(monkeypatch):
    fake = _FakeKernels(monkeypatch, fail_first=1)
    pool = warm.WarmKernels()

    kernel = pool.take(ENV, warm_next=False)

    assert kernel in fake.started and pool.replaced == 1


def test_a_warm_kernel_killed_while_waiting_is_replaced(monkeypatch):
    fake = _FakeKernels(monkeypatch)
    pool = warm.WarmKernels()
    pool.take(ENV)  # starts the next one warming
    waiting = pool._queue[0].result()
    fake.dead.add(id(waiting))

    kernel = pool.take(ENV, warm_next=False)

    assert kernel is not waiting and pool.replaced == 1 and waiting in fake.released


def test_kernels_warmed_for_another_environment_are_not_used(monkeypatch):
    fake = _FakeKernels(monkeypatch)
    pool = warm.WarmKernels()
    pool.take(ENV)
    other = {"WORKBOOK_ROOT": "/elsewhere"}

    kernel = pool.take(other, warm_next=False)

    assert kernel.env_key == warm.env_key(other)
    assert fake.released and fake.released[0].env_key == warm.env_key(ENV)


def test_a_warm_kernel_imports_what_the_notebook_imports(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import pandas as pd\nfrom analysis import plots, regions"),
        nbformat.v4.new_code_cell("%matplotlib inline"),
        nbformat.v4.new_code_cell("if True:\n    import json\nx = 1"),
    ]
    nbformat.write(nb, tmp_path / "n.ipynb")

    modules = warm.notebook_imports(tmp_path / "n.ipynb")

    assert modules == ("pandas", "analysis", "analysis.plots", "analysis.regions")
    namespace: dict = {}
    exec(warm.warm_up_code(("json", "json.nothing_such")), namespace)  # noqa: S102
    assert set(namespace) == {"__builtins__"}, "warming leaves no names behind"


def test_cold_pool_starts_a_plain_kernel_per_report(monkeypatch):
    fake = _FakeKernels(monkeypatch)
    pool = warm.WarmKernels(warm=False)

    kernel = pool.take(ENV)

    assert not kernel.warm and fake.started == [kernel] and not pool._queue


@pytest.mark.slow
def test_a_real_kernel_killed_while_warm_is_replaced_by_a_live_one():
    import psutil

    pool = warm.WarmKernels()
    first = pool.take(ENV)
    waiting = pool._queue[0].result()
    psutil.Process(waiting.manager.provisioner.pid).send_signal(signal.SIGKILL)
    psutil.Process(waiting.manager.provisioner.pid).wait(30)
    try:
        second = pool.take(ENV, warm_next=False)
        assert warm.is_alive(second) and pool.replaced == 1
        warm.release(second)
    finally:
        warm.release(first)
        pool.close()


@pytest.mark.slow
def test_reports_built_warm_and_cold_are_identical_in_content(tmp_path, monkeypatch):
    """The region profile on the demo data: same key figures, same tables and text."""
    from analysis.paths import project_root
    from analysis.report.params import read_parameters, validate

    notebook = project_root() / "notebooks" / "01_region_profile.ipynb"
    declared = read_parameters(notebook)
    defaults = {p.name: p.default for p in declared}
    params = validate(declared, {})
    job = Job("profile", notebook, params, parameter_slug(params, defaults))

    def build(mode: str) -> tuple[dict, list]:
        monkeypatch.setenv("WORKBOOK_WARM_KERNELS", mode)
        reports = tmp_path / f"warm{mode}"
        counts = run_jobs([job], n_jobs=1, store=ReportStore(reports), stream=open(os.devnull, "w"))
        assert counts["ok"] == 1
        state = json.loads((reports / "index.json").read_text())
        run_id = state["entries"][job.key]["last_good"]
        run = reports / job.report / job.slug / "runs" / run_id
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["timings"]["kernel_warm"] is (mode == "1")
        nb = nbformat.read(run / "executed.ipynb", 4)
        texts = [
            re.sub(r" at 0x[0-9a-f]+", "", str(o.get("data", {}).get(kind) or o.get("text")))
            for c in nb.cells
            for o in c.get("outputs", [])
            for kind in ("text/plain", "text/html")
        ]  # object reprs carry memory addresses
        return manifest["figures"], texts

    warm_figures, warm_texts = build("1")
    cold_figures, cold_texts = build("0")

    assert warm_figures and warm_figures == cold_figures
    assert warm_texts == cold_texts
