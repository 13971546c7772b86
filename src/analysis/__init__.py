"""Champions Workbook: shared logic for the report notebooks.

Notebooks use ``analysis.report_setup``, ``analysis.record`` and
``analysis.show_sources``; everything else lives in submodules
(``analysis.sources``, ``analysis.territory``, ``analysis.regions``, ...).
Importing the package has no side effects and stays fast (the CLI imports it).
"""

from __future__ import annotations

__version__ = "0.1.0"

_NOTEBOOK_API = {"report_setup", "record", "note_input", "show_sources", "recorded"}


def __getattr__(name: str):
    if name in _NOTEBOOK_API:
        from analysis import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


__all__ = sorted(_NOTEBOOK_API)
