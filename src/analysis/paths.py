"""Where things are.

All paths resolve from the project root, so that notebooks work whether a kernel was
started in ``notebooks/`` (nbval, JupyterLab) or wherever papermill was told.
The root is found by walking up from this file (editable install) and can be
overridden with ``WORKBOOK_ROOT``.
"""

from __future__ import annotations

import os
from pathlib import Path

DATASETS = ("demo", "official")


def project_root() -> Path:
    """Return the project root (the folder holding ``pyproject.toml``).

    Returns
    -------
    Path
        ``$WORKBOOK_ROOT`` if set, else the nearest parent of this package that
        holds ``pyproject.toml``, else the current working directory.
    """
    env = os.environ.get("WORKBOOK_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "analysis").is_dir():
            return parent
    return Path.cwd().resolve()


def data_dir() -> Path:
    """``data/`` under the project root."""
    return project_root() / "data"


def raw_dir() -> Path:
    """``data/raw/``: immutable inputs as received."""
    return data_dir() / "raw"


def official_dir() -> Path:
    """``data/raw/official/``: official open data fetched by ``workbook data fetch``."""
    return raw_dir() / "official"


def demo_dir() -> Path:
    """``data/demo/``: the synthetic demo dataset (generated, disposable).

    ``WORKBOOK_DEMO_DIR`` overrides it (tests point it at a temporary folder).
    """
    env = os.environ.get("WORKBOOK_DEMO_DIR")
    return Path(env).resolve() if env else data_dir() / "demo"


def cache_dir() -> Path:
    """``data/cache/``: derived, disposable caches."""
    return data_dir() / "cache"


def reports_dir() -> Path:
    """``reports/`` (``WORKBOOK_REPORTS_DIR`` overrides it)."""
    env = os.environ.get("WORKBOOK_REPORTS_DIR")
    return Path(env).resolve() if env else project_root() / "reports"


def notebooks_dir() -> Path:
    """``notebooks/``: the report notebooks."""
    return project_root() / "notebooks"


def config_dir() -> Path:
    """``config/``: report plans."""
    return project_root() / "config"


def dataset_dir(dataset: str) -> Path:
    """Root of a dataset's input tree.

    Both datasets share one layout: ``official/`` (regional statistics, Kreis list,
    PLZ mapping, geometry), ``firms/`` (the Hidden Champions list) and ``crm/``
    (Salesforce and Pardot exports).

    Parameters
    ----------
    dataset : {"demo", "official"}
        ``demo`` is the synthetic dataset (``data/demo/``), ``official`` the real
        inputs under ``data/raw/``.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        For an unknown dataset name.
    """
    if dataset == "demo":
        return demo_dir()
    if dataset == "official":
        return raw_dir()
    raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
