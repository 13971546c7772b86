"""The three dependency declarations agree: pyproject.toml, requirements.lock, environment.yml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _pyproject_deps() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_norm(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in deps}


def test_every_dependency_is_pinned_in_the_lock():
    lock = _lock()
    missing = _pyproject_deps() - set(lock)
    assert not missing, f"not pinned in requirements.lock: {sorted(missing)}"


def test_lock_pins_exact_versions_only():
    text = (ROOT / "requirements.lock").read_text().splitlines()
    entries = [line for line in text if line.strip() and not line.startswith("#")]
    assert entries
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", e) for e in entries)


def test_environment_yml_matches_pyproject_and_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            conda[_norm(name)] = version
    conda.pop("python")
    assert set(conda) == _pyproject_deps()
    lock = _lock()
    assert {k: v for k, v in conda.items()} == {k: lock[k] for k in conda}
    assert env["dependencies"][0] == "python=3.11"
