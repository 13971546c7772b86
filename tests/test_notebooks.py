"""Every committed report notebook follows the house rules (DESIGN.md, 'Notebooks')."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from analysis.report.params import read_parameters

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_report_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_structure(path):
    cells = _cells(path)
    first, second = cells[0], cells[1]
    assert first["cell_type"] == "markdown" and _source(first).lstrip().startswith("# ")
    assert "parameters" in second["metadata"].get("tags", [])
    params = {p.name: p for p in read_parameters(path)}
    assert {"dataset", "seed"} <= set(params)
    assert all(p.help for p in params.values()), "every parameter has a help comment"
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    assert "report_setup(" in code and "analysis.record(" in code
    assert "show_sources()" in _source(cells[-1])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_logic_and_no_file_parsing_in_notebooks(path):
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse(_source(cell))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)), path.name
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in {"read_csv", "read_excel", "read_text", "open"}
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_are_lean(path):
    for cell in _cells(path):
        outputs = cell.get("outputs", [])
        tags = cell.get("metadata", {}).get("tags", [])
        if outputs:
            assert "nbval-check-output" in tags, "only key-figure cells keep outputs"
        for output in outputs:
            assert "image/png" not in output.get("data", {})
    checked = [
        c for c in _cells(path) if "nbval-check-output" in c.get("metadata", {}).get("tags", [])
    ]
    assert checked and all(c.get("outputs") for c in checked), "key figures are stored"


def test_every_notebook_is_in_the_plan():
    plan = yaml.safe_load((ROOT / "config" / "reports.yml").read_text())
    planned = {Path(r["notebook"]).name for r in plan["reports"]}
    assert {p.name for p in NOTEBOOKS} <= planned
