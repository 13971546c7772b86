"""Provenance of a report's inputs: the files each loader read, noted as it reads them.

Loaders call :func:`note_input` for every file they open (with its source, credit line
and reference date); :func:`capture_inputs` lets :mod:`analysis.datasets` return what a
loader noted as a value. Low in the house (readers use it), it imports nothing above
:mod:`analysis.files` and :mod:`analysis.paths`. The MIME types under which notebooks
publish key figures and sources live here too, so the report runner can read them
without importing the notebook helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from analysis.files import sha256_file

RECORD_MIME = "application/x.workbook-record+json"
BANNER_MIME = "application/x.workbook-banner+json"
SOURCES_MIME = "application/x.workbook-sources+json"


@dataclass
class _Session:
    inputs: dict[str, dict] = field(default_factory=dict)
    captures: list[list[dict]] = field(default_factory=list)


_SESSION = _Session()


def forget_inputs() -> None:
    """Start a new report: forget the inputs noted so far in this kernel."""
    _SESSION.inputs.clear()


def note_input(
    path: str | Path,
    *,
    source: str = "",
    credit: str = "",
    reference_date: str = "",
) -> None:
    """Note that the current report read ``path`` (called by loaders).

    Parameters
    ----------
    path : str or Path
        The input file.
    source : str
        Publisher and table, e.g. ``"Destatis 12411-01-01-4"``.
    credit : str
        Licence credit line the report must show.
    reference_date : str
        The data's reference date or period.
    """
    resolved = Path(path).resolve()
    key = str(resolved)
    if key in _SESSION.inputs:
        _to_captures(_SESSION.inputs[key])
        return
    try:
        from analysis.paths import project_root

        shown = str(resolved.relative_to(project_root()))
    except ValueError:
        shown = str(resolved)
    _SESSION.inputs[key] = {
        "path": shown,
        "sha256": sha256_file(resolved) if resolved.is_file() else "",
        "source": source,
        "credit": credit,
        "reference_date": reference_date,
    }
    _to_captures(_SESSION.inputs[key])


def _to_captures(entry: dict) -> None:
    for captured in _SESSION.captures:
        if all(c["path"] != entry["path"] for c in captured):
            captured.append(dict(entry))


@contextmanager
def capture_inputs() -> Iterator[list[dict]]:
    """Collect the inputs noted while the block runs (for ``analysis.datasets``).

    Yields a list that fills with one entry per file noted inside the block (also
    files noted earlier in the kernel and read again), so that a loader's provenance
    can be returned as a value.

    Examples
    --------
    >>> with capture_inputs() as inputs:  # doctest: +SKIP
    ...     frame = load_kreis_indicators("demo")
    """
    captured: list[dict] = []
    _SESSION.captures.append(captured)
    try:
        yield captured
    finally:
        _SESSION.captures.remove(captured)


def noted_inputs() -> list[dict]:
    """The inputs noted so far in this kernel, in reading order."""
    return list(_SESSION.inputs.values())
