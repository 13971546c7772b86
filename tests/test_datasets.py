"""The loading catalogue returns data and provenance as values."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from analysis import datasets
from analysis.paths import project_root


@pytest.fixture
def demo(demo_root, monkeypatch):
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(demo_root))
    return demo_root


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_kreis_indicators_carry_their_inputs_with_hashes(demo):
    kreise = datasets.kreis_indicators("demo")
    assert len(kreise.data) == kreise.data["ags"].nunique() > 0
    paths = {i["path"]: i for i in kreise.provenance.inputs}
    assert paths, "every file read is in the provenance"
    for entry in kreise.provenance.inputs:
        path = Path(entry["path"])
        assert entry["sha256"] == _sha(path if path.is_absolute() else project_root() / path)
    assert kreise.provenance.credits == ["synthetic demo data"]


def test_provenance_is_a_value_not_the_session(demo):
    first = datasets.kreis_indicators("demo")
    second = datasets.kreis_indicators("demo")  # already noted in this kernel: still captured
    assert first.provenance.inputs == second.provenance.inputs
    plz = datasets.plz("demo")
    assert [i["path"] for i in plz.provenance.inputs] == [
        i["path"] for i in plz.provenance.inputs if "plz" in i["path"]
    ]
    assert not set(i["path"] for i in plz.provenance.inputs) & set(
        i["path"] for i in first.provenance.inputs
    )
    combined = first.provenance + plz.provenance
    assert len(combined.inputs) == len(first.provenance.inputs) + len(plz.provenance.inputs)


def test_firms_and_geometry(demo):
    kreise = datasets.kreis_indicators("demo").data
    firms = datasets.firms("demo", kreise["ags"])
    assert firms.data.n_firms > 0
    assert any(i["path"].endswith("hidden_champions.csv") for i in firms.provenance.inputs)
    geometry = datasets.kreis_geometry("demo")
    assert set(geometry.data["ags"]) <= set(kreise["ags"])
    assert datasets.gemeinde_coordinates("demo").data is None


def test_demo_truth_on_demo_only(demo):
    truth = datasets.demo_truth("demo", "firms")
    assert truth.data["hc_mint_elasticity"] > 0
    assert truth.provenance.inputs[0]["sha256"] == _sha(demo / "TRUTH.json")
    official = datasets.demo_truth("official", "firms")
    assert official.data is None and official.provenance.inputs == ()


def test_unknown_dataset_and_part_are_refused():
    with pytest.raises(ValueError, match="'demo', 'official'"):
        datasets.kreis_indicators("demo2")
    with pytest.raises(ValueError, match="regions, firms, crm"):
        datasets.demo_truth("demo", "sales")
