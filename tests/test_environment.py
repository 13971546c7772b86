"""The dependency declarations agree: pyproject.toml, requirements/py3XX.lock, environment.yml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _supported_minors() -> list[int]:
    """Minor versions of Python 3 that ``requires-python`` allows (">=3.A,<3.B")."""
    spec = _project()["requires-python"]
    low = re.search(r">=\s*3\.(\d+)", spec)
    high = re.search(r"<\s*3\.(\d+)", spec)
    assert low and high, f"requires-python needs a lower and an upper bound: {spec!r}"
    return list(range(int(low.group(1)), int(high.group(1))))


MINORS = _supported_minors()


def _entries(minor: int) -> list[str]:
    text = (LOCKS / f"py3{minor}.lock").read_text().splitlines()
    return [line.strip() for line in text if line.strip() and not line.strip().startswith("#")]


def _lock(minor: int) -> dict[str, str]:
    return dict((_norm(n), v) for n, v in (e.split("==") for e in _entries(minor)))


def _pyproject_deps() -> set[str]:
    project = _project()
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_norm(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in deps}


def test_one_lock_per_supported_python_and_no_other():
    assert MINORS == [11, 12, 13]
    assert sorted(p.name for p in LOCKS.glob("*.lock")) == [f"py3{m}.lock" for m in MINORS]
    assert not (ROOT / "requirements.lock").exists(), "the single lock was split per version"


@pytest.mark.parametrize("minor", MINORS)
def test_every_dependency_is_pinned_in_the_lock(minor):
    missing = _pyproject_deps() - set(_lock(minor))
    assert not missing, f"not pinned in requirements/py3{minor}.lock: {sorted(missing)}"


@pytest.mark.parametrize("minor", MINORS)
def test_lock_pins_exact_versions_for_its_own_python(minor):
    entries = _entries(minor)
    assert entries
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", e) for e in entries)
    # the header records the command that made it: this Python version, this file
    head = (LOCKS / f"py3{minor}.lock").read_text().splitlines()[:3]
    command = next(line for line in head if "uv pip compile" in line)
    assert f"--python-version 3.{minor} " in command + " "
    assert f"-o requirements/py3{minor}.lock" in command


def test_direct_dependencies_have_the_same_version_on_every_python():
    # same numpy, pandas, scipy, statsmodels ... everywhere: the key figures must not
    # depend on the interpreter an analyst happens to have
    direct = _pyproject_deps()
    versions = {m: {k: v for k, v in _lock(m).items() if k in direct} for m in MINORS}
    first = versions[MINORS[0]]
    for minor in MINORS[1:]:
        differ = {
            k: (first[k], versions[minor][k]) for k in first if first[k] != versions[minor][k]
        }
        assert not differ, f"py3{minor}.lock differs from py3{MINORS[0]}.lock: {differ}"


def test_environment_yml_matches_pyproject_and_the_oldest_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            conda[_norm(name)] = version
    python = conda.pop("python")
    assert python == f"3.{MINORS[0]}"
    assert env["dependencies"][0] == f"python=3.{MINORS[0]}"
    assert set(conda) == _pyproject_deps()
    lock = _lock(MINORS[0])
    assert conda == {k: lock[k] for k in conda}


def test_the_makefile_installs_the_lock_of_the_python_it_found():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements/py$(or $(PYTHON_VERSION),-none).lock" in makefile
    assert "-r $(LOCK)" in makefile
    for minor in MINORS:
        assert f"python3.{minor}" in makefile
