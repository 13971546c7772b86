"""Helpers that report notebooks call: setup, key figures, sources.

A report notebook calls :func:`report_setup` once after its parameters cell, loads
its inputs through ``analysis.*`` (the loaders note each file they read with
:func:`note_input`), records its key figures with :func:`record` and ends with
:func:`show_sources`.

Recorded figures and noted inputs travel inside the executed notebook as outputs
with private MIME types, so the report runner reads them back from the notebook it
ran; no side files, whatever the kernel's working directory.
"""

from __future__ import annotations

import json
import math
import os
import random
import warnings
from dataclasses import dataclass, field

from analysis.provenance import (
    BANNER_MIME,
    RECORD_MIME,
    SOURCES_MIME,
    capture_inputs,
    forget_inputs,
    note_input,
    noted_inputs,
)

__all__ = [
    "BANNER_MIME", "RECORD_MIME", "SOURCES_MIME", "capture_inputs", "in_notebook",
    "note_input", "noted_inputs", "record", "recorded", "report_setup", "show_sources",
]  # fmt: skip

#: Significant digits kept for recorded floats: enough for any decision, few enough
#: that the last-bit noise of a BLAS build does not break a regression check.
RECORD_SIGNIFICANT_DIGITS = 6


@dataclass
class _Session:
    dataset: str | None = None
    recorded: dict[str, object] = field(default_factory=dict)


_SESSION = _Session()


def report_setup(
    seed: int = 0,
    dataset: str | None = None,
    *,
    language: str = "de",
    dpi: int = 100,
) -> None:
    """Make a report notebook deterministic and readable, in the report language.

    Seeds ``random`` and NumPy's legacy global generator, sets the report language
    (texts from the message catalogue, numbers and dates by Babel), sets the one
    seaborn theme and colour-blind-safe palette of every figure, fixes figure size,
    dpi and SVG hash salt, sets pandas display options and silences known noisy
    warnings. On the demo dataset it shows the banner "synthetic demo data".

    Parameters
    ----------
    seed : int
        Seed for any randomness in the notebook. Use
        ``numpy.random.default_rng(seed)`` for new code.
    dataset : str, optional
        The dataset parameter of the notebook (``"demo"`` shows a banner).
    language : str
        ``"de"`` (default) or ``"en"``: the notebook parameter ``language``.
    dpi : int
        Figure resolution.

    Raises
    ------
    ValueError
        For a language other than those in ``analysis.present.i18n.LANGUAGES``.
    """
    import matplotlib
    import numpy as np
    import pandas as pd

    from analysis.present import i18n
    from analysis.present.plots import set_theme

    i18n.set_language(language)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - libraries that still use the global state
    set_theme()
    matplotlib.rcParams.update(
        {
            "figure.figsize": (8.0, 4.5),
            "figure.dpi": dpi,
            "savefig.dpi": dpi,
            "svg.hashsalt": "workbook",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )
    pd.set_option("display.precision", 3)
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_rows", 60)
    for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", message=".*Kernel is running over TCP.*")
    try:  # statsmodels convergence chatter is reported by the analyses themselves
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, ValueWarning

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", category=ValueWarning)
    except ImportError:  # pragma: no cover - statsmodels is a dependency
        pass
    _SESSION.dataset = dataset
    forget_inputs()
    _SESSION.recorded.clear()
    if dataset == "demo":
        # For analysts in JupyterLab; the HTML report carries the same banner in its
        # header and drops this output (marked with BANNER_MIME).
        text = i18n.gettext(
            "Synthetic demo data: every figure below comes from the workbook's generated "
            "demo dataset, not from real statistics or customers."
        )
        _display(
            {
                BANNER_MIME: {"dataset": "demo", "language": language},
                "text/html": '<div class="wb-banner" style="padding:.4em .8em;'
                f'background:#fff4ce;border-left:4px solid #c90;">{_escape(text)}</div>',
                "text/plain": i18n.gettext("Synthetic demo data"),
            }
        )


def _round(value: object) -> object:
    """Round floats to a fixed number of significant digits (recursively)."""
    if isinstance(value, bool) or value is None:
        return value
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict, str)):
        value = value.item()  # numpy scalar
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value == 0:
            return 0.0
        digits = RECORD_SIGNIFICANT_DIGITS - int(math.floor(math.log10(abs(value)))) - 1
        return round(value, digits)
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _round(v) for k, v in value.items()}
    return value


def record(name: str, value: object, label: str | None = None) -> None:
    """Record a key figure for the manifest, the run diff and the regression checks.

    Parameters
    ----------
    name : str
        snake_case name, stable across versions (``hc_total``).
    value : int, float, str, bool or list of them
        The figure. Floats keep six significant digits; NaN becomes ``None``.
    label : str, optional
        Human-readable label shown in the report.

    Notes
    -----
    Returns nothing, so that a record call at the end of a cell shows only the
    key figure; :func:`recorded` gives the recorded values back.
    """
    if not name.isidentifier():
        raise ValueError(f"record name must be an identifier, got {name!r}")
    rounded = _round(value)
    _SESSION.recorded[name] = rounded
    shown = label or name.replace("_", " ")
    text = f"{name} = {json.dumps(rounded, ensure_ascii=False)}"
    html = (
        f'<div class="wb-record"><span class="wb-record-label">{_escape(shown)}</span>: '
        f'<b class="wb-record-value">{_escape(_pretty(rounded))}</b></div>'
    )
    _display({RECORD_MIME: {name: rounded}, "text/plain": text, "text/html": html})


def _pretty(value: object) -> str:
    from analysis.present.i18n import fmt_value

    if isinstance(value, float) and value.is_integer():
        return fmt_value(int(value))
    if isinstance(value, float) and value != 0 and abs(value) < 1:
        return fmt_value(value, max(0, 2 - int(math.floor(math.log10(abs(value))))))
    if isinstance(value, float):
        return fmt_value(value, 3 if abs(value) < 100 else 1)
    if isinstance(value, list):
        return ", ".join(_pretty(v) for v in value)
    return fmt_value(value)


def _escape(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)


def recorded() -> dict[str, object]:
    """The key figures recorded so far in this kernel."""
    return dict(_SESSION.recorded)


def _inputs_of(provenance: tuple) -> list[dict]:
    """Inputs of provenance values (objects with ``.inputs`` or lists of dicts), deduplicated."""
    seen: dict[str, dict] = {}
    for item in provenance:
        if item is None:
            continue
        entries = getattr(item, "inputs", item)
        for entry in entries:
            entry = dict(entry)
            seen.setdefault(entry.get("path", "") + entry.get("sha256", ""), entry)
    return list(seen.values())


def show_sources(*provenance: object) -> None:
    """Show the sources, credit lines and reference dates of the inputs, in the report language.

    Parameters
    ----------
    *provenance : Provenance or list of dict
        Provenance values returned by ``analysis.datasets`` (their ``inputs``). Without
        arguments: every input noted in this kernel by the loaders.
    """
    from analysis.present.i18n import gettext as _

    inputs = _inputs_of(provenance) if provenance else noted_inputs()
    rows = [
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            _escape(item.get("source") or item.get("path", "")),
            _escape(item.get("reference_date", "")),
            _escape(item.get("credit", "")),
        )
        for item in inputs
    ]
    html = (
        f'<div class="wb-sources"><h3>{_escape(_("Sources"))}</h3><table><thead><tr>'
        f"<th>{_escape(_('Source'))}</th><th>{_escape(_('Reference date'))}</th>"
        f"<th>{_escape(_('Credit'))}</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    lines = [
        f"{i.get('source') or i.get('path', '')} | {i.get('reference_date', '')} | "
        f"{i.get('credit', '')}"
        for i in inputs
    ]
    _display(
        {
            SOURCES_MIME: {"inputs": inputs},
            "text/plain": "\n".join(lines) or _("(no inputs noted)"),
            "text/html": html,
        }
    )


def _display(bundle: dict) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return
    if get_ipython() is None:
        return
    display(bundle, raw=True)


def in_notebook() -> bool:
    """True inside a Jupyter kernel."""
    return "JPY_PARENT_PID" in os.environ or "PAPERMILL_INPUT_PATH" in os.environ
