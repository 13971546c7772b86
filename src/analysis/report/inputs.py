"""The datasets a report runs on: which one, its Kreis codes, and missing input folders."""

from __future__ import annotations

import functools

from analysis.errors import InputError, ParameterError
from analysis.paths import DATASETS, dataset_dir, project_root
from analysis.report.plan import Job


def kreis_codes(dataset: str) -> set[str]:
    """Valid Kreis codes of a dataset, for parameter validation.

    Raises
    ------
    ParameterError
        When the dataset has not been generated or fetched yet.
    """
    from analysis import regions

    try:
        codes = regions.known_kreis_codes(dataset)
    except (FileNotFoundError, InputError) as exc:
        hint = "run `workbook demo`" if dataset == "demo" else "run `workbook data fetch`"
        raise ParameterError(
            "dataset", f"the {dataset} dataset is not available ({exc}); {hint}"
        ) from None
    return set(codes)


def official_available() -> bool:
    """True when the official regional statistics have been fetched."""
    from analysis import regions

    try:
        return bool(regions.known_kreis_codes("official"))
    except (FileNotFoundError, InputError, ValueError):
        return False


def resolve_dataset(choice: str | None) -> str:
    """``auto`` (or None) → official when fetched, else demo."""
    if choice in (None, "auto"):
        return "official" if official_available() else "demo"
    if choice not in DATASETS:
        raise ParameterError("dataset", f"expected auto, demo or official, got {choice!r}")
    return choice


def missing_inputs(job: Job) -> list[str]:
    """Input folders a job ``requires`` that are absent or empty in its dataset."""
    dataset = str(job.parameters.get("dataset", "demo"))
    if dataset not in DATASETS:
        return []
    root = dataset_dir(dataset)
    missing = []
    for folder in job.options.get("requires", ()):
        path = root / folder
        if not path.is_dir() or not any(p.is_file() for p in path.rglob("*")):
            try:
                shown = str(path.relative_to(project_root())) + "/"
            except ValueError:
                shown = f"{path}/"
            missing.append(shown)
    return missing


def _crm_export(dataset: str, name: str):
    """The CRM export ``name`` of a dataset (any case of the file name), or None."""
    folder = dataset_dir(dataset) / "crm"
    if not folder.is_dir():
        return None
    found = [p for p in folder.glob("*") if p.name.lower() == name.lower() and p.is_file()]
    return found[0] if found else None


def _read_columns(path, columns: list[str]):
    """Only ``columns`` of a Data Export CSV as text (UTF-8 or cp1252), or None."""
    import pandas as pd

    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, usecols=columns, dtype=str, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (ValueError, OSError, pd.errors.ParserError):
            return None
    return None


@functools.lru_cache(maxsize=8)
def crm_currencies(dataset: str) -> frozenset[str] | None:
    """The currencies of a dataset's CRM org (``crm/CurrencyType.csv``, ``IsoCode``).

    Returns
    -------
    frozenset of str or None
        ISO codes; None when the dataset has no readable currency export.
    """
    path = _crm_export(dataset, "CurrencyType.csv")
    frame = None if path is None else _read_columns(path, ["IsoCode"])
    if frame is None:
        return None
    codes = frozenset(frame["IsoCode"].dropna().str.strip().str.upper())
    return codes or None


@functools.lru_cache(maxsize=8)
def crm_date_range(dataset: str) -> tuple[str, str] | None:
    """First creation date and last close date of a dataset's opportunities.

    Read from the CRM export ``crm/Opportunity.csv`` (any case; Salesforce Data Export
    with API-name headers: only ``CreatedDate`` and ``CloseDate`` are read) before any
    kernel starts, so that a date parameter outside the data is refused at once
    instead of failing inside the notebook.

    Returns
    -------
    tuple of str or None
        ISO dates ``(first, last)``; None when the dataset has no such export or its
        dates cannot be read (the notebook's own checks then apply).
    """
    import pandas as pd

    path = _crm_export(dataset, "Opportunity.csv")
    frame = None if path is None else _read_columns(path, ["CreatedDate", "CloseDate"])
    if frame is None:
        return None
    dates = pd.concat(
        [pd.to_datetime(frame[c].str.slice(0, 10), errors="coerce") for c in frame.columns]
    ).dropna()
    if dates.empty:
        return None
    return dates.min().date().isoformat(), dates.max().date().isoformat()
