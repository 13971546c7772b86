"""Keep the committed report notebooks lean and their key-figure outputs current.

Committed notebooks carry no outputs except those of cells tagged
``nbval-check-output`` (the key figures recorded with ``analysis.record``); nbval
re-executes the notebooks in ``make test`` and compares exactly those outputs.

``python -m analysis.report.golden refresh NOTEBOOK...`` re-runs notebooks with their
default parameters (the demo dataset) and stores the new key-figure outputs — the
one command to run after an intended change of results (``make refresh-notebooks``).
``python -m analysis.report.golden strip NOTEBOOK...`` only strips.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

CHECK_TAG = "nbval-check-output"


def strip_outputs(nb) -> None:
    """Remove every output except those of key-figure cells; drop run metadata."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if CHECK_TAG not in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.execution_count = None


def refresh(path: Path) -> None:
    """Re-execute ``path`` with default parameters and store its key-figure outputs."""
    import os

    import nbformat
    import papermill as pm

    from analysis.report.kernel import KERNEL_ENV, KERNEL_NAME, private_kernelspec

    os.environ.update(KERNEL_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        private_kernelspec(Path(tmp) / "jupyter")
        out = Path(tmp) / "executed.ipynb"
        pm.execute_notebook(
            str(path), str(out), kernel_name=KERNEL_NAME, cwd=str(path.parent), progress_bar=False
        )
        executed = nbformat.read(out, as_version=4)
    source = nbformat.read(path, as_version=4)
    executed_cells = [
        c for c in executed.cells if "injected-parameters" not in c.metadata.get("tags", [])
    ]
    if len(executed_cells) != len(source.cells):
        raise RuntimeError(f"{path}: executed notebook has a different cell structure")
    for cell, done in zip(source.cells, executed_cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = done.outputs
            cell.execution_count = done.execution_count
    strip_outputs(source)
    nbformat.write(source, path)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``refresh`` or ``strip`` notebooks."""
    import nbformat

    parser = argparse.ArgumentParser(prog="python -m analysis.report.golden")
    parser.add_argument("action", choices=["refresh", "strip"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if args.action == "refresh":
            refresh(path)
        else:
            nb = nbformat.read(path, as_version=4)
            strip_outputs(nb)
            nbformat.write(nb, path)
        print(f"{args.action}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
