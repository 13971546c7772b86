"""The Makefile's demo dependencies cover every module the generator really loads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import analysis
from analysis.demo.dependencies import dependencies, imported_names, main

SRC = Path(analysis.__file__).resolve().parent.parent
SCRIPT = SRC / "analysis" / "demo" / "dependencies.py"


def _static() -> set[Path]:
    return set(dependencies(SRC, sorted((SRC / "analysis" / "demo").rglob("*.py"))))


def test_every_module_loaded_by_workbook_demo_is_a_dependency(tmp_path):
    # run the generator in a fresh interpreter, then list the analysis modules it loaded
    code = textwrap.dedent(
        f"""
        import json, sys
        from analysis.cli import main
        assert main(["demo", "--seed", "3", "--out", {str(tmp_path / "demo")!r}]) == 0
        files = [m.__file__ for n, m in list(sys.modules.items())
                 if (n == "analysis" or n.startswith("analysis.")) and getattr(m, "__file__", None)]
        print(json.dumps(files))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    loaded = {Path(f).resolve() for f in json.loads(run.stdout.strip().splitlines()[-1])}
    assert SRC / "analysis" / "demo" / "crm" / "simulation.py" in loaded  # the run was real
    missing = loaded - _static() - {SRC / "analysis" / "cli.py"}
    assert not missing, f"demo loads modules the Makefile does not list: {sorted(missing)}"


def test_the_closure_follows_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "analysis"
    (pkg / "demo").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "demo" / "__init__.py").write_text("from . import part\n")
    (pkg / "demo" / "part.py").write_text(
        "def f():\n    from analysis.deep.inner import thing\n    return thing\n"
    )
    (pkg / "deep").mkdir()
    (pkg / "deep" / "__init__.py").write_text("")
    (pkg / "deep" / "inner.py").write_text("import numpy\nfrom ..other import x\n")
    (pkg / "other.py").write_text("x = 1\n")
    (pkg / "unused.py").write_text("")

    found = dependencies(tmp_path, [pkg / "demo" / "__init__.py"])

    assert {p.relative_to(tmp_path).as_posix() for p in found} == {
        "analysis/__init__.py",
        "analysis/demo/__init__.py",
        "analysis/demo/part.py",
        "analysis/deep/__init__.py",
        "analysis/deep/inner.py",
        "analysis/other.py",
    }
    assert "analysis.other" in set(imported_names(tmp_path, pkg / "deep" / "inner.py"))


def test_script_prints_paths_relative_to_the_given_src(capsys):
    assert main([str(SRC)]) == 0
    printed = capsys.readouterr().out.split()
    assert {Path(p) for p in printed} == _static()
    run = subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), "src"],
        cwd=SRC.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "src/analysis/demo/crm/simulation.py" in run.stdout.split()
    assert "src/analysis/paths.py" in run.stdout.split()
