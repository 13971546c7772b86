"""The source files the demo generator depends on, for the Makefile's demo rule.

``python3 src/analysis/demo/dependencies.py`` prints, one per line and relative to the
working directory, every file under ``src/analysis`` that ``workbook demo`` can
import: all of ``src/analysis/demo/`` (parts are imported by name, see
:data:`analysis.demo.PARTS`), then every ``analysis`` module those files import,
followed transitively, with the ``__init__.py`` of each package on the way (importing
``analysis.x.y`` runs ``analysis/__init__.py`` and ``analysis/x/__init__.py``). Imports
inside functions count too. The imports are read with :mod:`ast`, nothing is
imported, so the script needs only the standard library and runs before ``.venv``
exists.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

#: The package whose files are followed; imports of anything else are ignored.
ROOT_PACKAGE = "analysis"


def module_file(src: Path, name: str) -> Path | None:
    """The file of a dotted module name under ``src`` (a package's ``__init__.py``).

    Parameters
    ----------
    src : Path
        Folder holding the top-level package (``src``).
    name : str
        Dotted module name, e.g. ``"analysis.demo.crm"``.

    Returns
    -------
    Path or None
        ``None`` when ``name`` is not a module under ``src`` (e.g. an imported class).
    """
    base = src.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def module_name(src: Path, path: Path) -> str:
    """Dotted name of a file under ``src`` (``analysis/demo/__init__.py`` -> ``analysis.demo``)."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(src: Path, path: Path) -> Iterator[str]:
    """Every dotted name an ``import`` in ``path`` may load, relative imports resolved.

    ``from a.b import c`` yields ``a.b`` and ``a.b.c`` (``c`` may be a submodule).

    Parameters
    ----------
    src : Path
        Folder holding the top-level package.
    path : Path
        A Python file under ``src``.

    Yields
    ------
    str
        Dotted module names (some may name no module; :func:`module_file` sorts them out).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(src, path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def _with_packages(name: str) -> Iterator[str]:
    parts = name.split(".")
    for k in range(1, len(parts) + 1):
        yield ".".join(parts[:k])


def dependencies(src: Path, roots: Iterable[Path]) -> list[Path]:
    """``roots`` and every file under ``src`` they import, transitively, sorted.

    Parameters
    ----------
    src : Path
        Folder holding the top-level package.
    roots : iterable of Path
        Files to start from.

    Returns
    -------
    list of Path
        The closure, including the ``__init__.py`` of every package on the way.
    """
    todo = [Path(p) for p in roots]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        names = [module_name(src, path), *imported_names(src, path)]
        for name in names:
            if name != ROOT_PACKAGE and not name.startswith(ROOT_PACKAGE + "."):
                continue
            for prefix in _with_packages(name):
                found = module_file(src, prefix)
                if found is not None and found not in seen:
                    todo.append(found)
    return sorted(seen)


def main(argv: list[str] | None = None) -> int:
    """Print the demo's dependencies (paths as given, one per line).

    Parameters
    ----------
    argv : list of str, optional
        ``[SRC]``: folder holding the package (default: the ``src`` this file is in).

    Returns
    -------
    int
        0.
    """
    args = sys.argv[1:] if argv is None else argv
    here = Path(__file__)
    src = Path(args[0]) if args else here.parent.parent.parent
    demo = src / ROOT_PACKAGE / "demo"
    for path in dependencies(src, sorted(demo.rglob("*.py"))):
        print(path.as_posix())
    return 0


if __name__ == "__main__":
    sys.exit(main())
