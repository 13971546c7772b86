"""Shared fixtures: the mirror of real official files, isolated report and demo folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mirror() -> Path:
    env = os.environ.get("WORKBOOK_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "official"


def mirror_or_skip() -> Path:
    """The mirror of real official files beside the checkout; skips the test when absent."""
    path = _mirror()
    if not path.is_dir():
        pytest.skip(f"mirror of official files not found at {path}")
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The mirror of real official files beside the checkout (skip when absent)."""
    return mirror_or_skip()


@pytest.fixture
def reports_tmp(tmp_path, monkeypatch) -> Path:
    """An empty reports folder for runner tests."""
    folder = tmp_path / "reports"
    monkeypatch.setenv("WORKBOOK_REPORTS_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """A freshly generated demo dataset (seed 1) in a temporary folder."""
    from analysis.demo import write_demo

    return write_demo(tmp_path_factory.mktemp("demo") / "demo", seed=1)


class _TinyGeography(NamedTuple):
    kreise: pd.DataFrame
    gemeinden: pd.DataFrame
    plz: pd.DataFrame


@pytest.fixture(scope="session")
def demo_crm(tmp_path_factory):
    """The demo CRM part (seed 11) on three postcodes, loaded: ``(CrmData, truth)``."""
    from analysis.demo import crm
    from analysis.sources.crm.salesforce import load_crm

    plz = pd.DataFrame(
        {
            "plz": ["37073", "80331", "01067"],
            "ags8": ["03917000", "09801000", "14801000"],
            "kreis_ags": ["03917", "09801", "14801"],
            "ort": ["A", "B", "C"],
            "share": 1.0,
        }
    )
    geo = _TinyGeography(kreise=pd.DataFrame(), gemeinden=pd.DataFrame(), plz=plz)
    out = tmp_path_factory.mktemp("demo_crm")
    truth = crm.write_part(out, geo, seed=11)
    return load_crm(Path(out) / "crm", key=b"0" * 32), truth
