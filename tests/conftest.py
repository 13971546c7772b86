"""Shared fixtures: the mirror of real official files, isolated report and demo folders."""

from __future__ import annotations

import os
from pathlib import Path

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
