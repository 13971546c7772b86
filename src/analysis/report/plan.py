"""Report plans: which notebooks to run with which parameter sets.

A plan (``config/reports.yml``) lists reports; each is one notebook plus a
parameter set or a grid of them::

    dataset: auto            # auto: official when fetched, else demo
    reports:
      - name: region_profile
        notebook: notebooks/01_region_profile.ipynb
        parameters: {peers: 5}                 # for every dataset
        official: {region: "03159", compare_to: "09162"}  # only on official data
        demo: {}                               # only on demo data
        grid: {peers: [5, 10]}                 # optional: one run per combination
        keep: 30                               # optional per-report overrides of the
        diff: {relative: 0.05}                 # plan-wide settings below
        timeout: 600
        requires: [crm]                        # skipped when data/raw/crm/ is empty
    keep: 20                 # runs kept per report and parameter set (the last good one always)
    diff: {relative: 0.01, absolute: 0}   # key-figure changes flagged in the run diff
    timeout: 1800            # cell timeout in seconds (none when absent)
    heartbeat: 30            # seconds between "still running cell N" lines in run.log
    language: de             # de (default) or en, plan-wide or per report: the
                             # notebook parameter `language` of every report

Grid values may also be ``{kreise_of_land: "03"}`` or ``"all_kreise"`` for a
Kreis parameter: one run per Kreis of that Land (or of Germany).

The whole plan is expanded and every parameter set validated before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.files import read_small_text
from analysis.paths import project_root
from analysis.report.diff import diff_settings
from analysis.report.params import read_parameters, validate
from analysis.report.plan_schema import check_plan

DEFAULT_KEEP = 20
DEFAULT_HEARTBEAT_S = 30.0
#: Settings allowed at the top of a plan and per report.
SETTINGS = ("keep", "diff", "timeout", "heartbeat")


def plan_language(declared: dict) -> str | None:
    """The ``language`` setting (``de``/``en``) of a plan or a report entry, if any.

    The plan's schema (:mod:`analysis.report.plan_schema`) has already checked its value.
    """
    return declared.get("language")


@dataclass(frozen=True)
class Job:
    """One notebook run with one validated parameter set."""

    report: str
    notebook: Path
    parameters: dict = field(hash=False)
    slug: str = ""
    #: Run settings: ``keep``, ``diff`` ({relative, absolute}), ``timeout``, ``heartbeat``.
    options: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        """``report/slug``: identifies a report and parameter set across runs."""
        return f"{self.report}/{self.slug}"


def parameter_slug(parameters: dict, defaults: dict) -> str:
    """A stable, readable folder name for a parameter set.

    Parameters that differ from the notebook's defaults come first in readable form;
    a hash of the full set keeps it unique.
    """
    canonical = json.dumps(parameters, sort_keys=True, ensure_ascii=True, default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
    changed = [
        f"{k}-{v}"
        for k, v in parameters.items()
        if k not in {"dataset", "seed"}
        and defaults.get(k) != v
        and isinstance(v, (str, int, float))
    ]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(changed))[:48].strip("_")
    dataset = parameters.get("dataset", "")
    parts = [p for p in (str(dataset), readable, digest) if p]
    return "_".join(parts)


def _expand_grid(
    grid: dict, kreis_codes: Callable[[str], set[str]], dataset: str, plan_path: Path
) -> list[dict]:
    axes: list[tuple[str, list]] = []
    for name, spec in grid.items():
        if spec == "all_kreise":
            values = sorted(kreis_codes(dataset))
        elif isinstance(spec, dict) and set(spec) == {"kreise_of_land"}:
            land = str(spec["kreise_of_land"]).zfill(2)
            values = sorted(c for c in kreis_codes(dataset) if c.startswith(land))
            if not values:
                raise InputError(plan_path, f"grid {name}: no Kreise of Land {land} in {dataset}")
        elif isinstance(spec, list) and spec:
            values = spec
        else:
            raise InputError(
                plan_path,
                f"grid {name}: expected a non-empty list, 'all_kreise' or {{kreise_of_land: LL}}",
            )
        if not values:
            raise InputError(plan_path, f"grid {name}: no Kreise known in the {dataset} dataset")
        axes.append((name, values))
    if not axes:
        return [{}]
    names = [a[0] for a in axes]
    return [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*[a[1] for a in axes])
    ]


def plan_settings(declared: dict, path: Path, where: str = "plan") -> dict:
    """Validate the run settings (``keep``, ``diff``, ``timeout``, ``heartbeat``) of a plan.

    Parameters
    ----------
    declared : dict
        The plan's top level or one report entry; other keys are ignored.
    path : Path
        The plan file, for error messages.
    where : str
        ``plan`` or ``report 'NAME'``, for error messages.

    Returns
    -------
    dict
        Only the settings present, converted (``diff`` completed with defaults).

    Raises
    ------
    InputError
        For a value of the wrong type or range.
    """
    found: dict = {}
    if "keep" in declared:
        keep = declared["keep"]
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise InputError(path, f"{where}: keep must be a whole number >= 1, got {keep!r}")
        found["keep"] = keep
    if "diff" in declared:
        try:
            found["diff"] = diff_settings(declared["diff"], where)
        except ValueError as exc:
            raise InputError(path, str(exc)) from None
    for key in ("timeout", "heartbeat"):
        if declared.get(key) is not None:
            found[key] = declared[key]
    return found


def load_plan(
    path: str | Path,
    *,
    dataset: str,
    kreis_codes: Callable[[str], set[str]] | None = None,
    only: list[str] | None = None,
    date_range: Callable[[str], tuple[str, str] | None] | None = None,
    currencies: Callable[[str], frozenset[str] | None] | None = None,
) -> list[Job]:
    """Read, expand and validate a plan.

    Parameters
    ----------
    path : str or Path
        The plan file (YAML).
    dataset : {"demo", "official"}
        The dataset every job runs on.
    kreis_codes : callable, optional
        ``dataset -> set of Kreis codes`` for validating Kreis parameters and grids.
    only : list of str, optional
        Keep only these report names.
    date_range : callable, optional
        ``dataset -> (first, last)`` ISO dates of its data (or None): date parameters
        outside it are refused (:func:`analysis.report.inputs.crm_date_range`).
    currencies : callable, optional
        ``dataset -> ISO codes`` of its CRM data (or None) for a ``currency`` parameter.

    Returns
    -------
    list of Job

    Raises
    ------
    InputError
        A malformed plan (the message names the file and the report).
    ParameterError
        A parameter set that does not validate (the message names the parameter).
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(read_small_text(path, "plan"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            path,
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            line=mark.line + 1 if mark else None,
        ) from None
    check_plan(data, path)
    defaults_settings = plan_settings(data, path)
    plan_wide_language = plan_language(data)
    names = [r.get("name") for r in data["reports"] if isinstance(r, dict)]
    if only:
        missing = [n for n in only if n not in names]
        if missing:
            raise InputError(
                path, f"no report named {missing[0]!r}; the plan has: {', '.join(map(str, names))}"
            )
    jobs: list[Job] = []
    seen: set[str] = set()
    for entry in data["reports"]:
        name = str(entry["name"])
        if name in seen:
            raise InputError(path, f"report {name!r} is listed twice")
        seen.add(name)
        if not only or name in only:
            options = {**defaults_settings, **plan_settings(entry, path, f"report {name!r}")}
            language = plan_language(entry) or plan_wide_language
            jobs.extend(
                _entry_jobs(
                    entry, options, path, dataset, (kreis_codes, date_range, currencies), language
                )
            )
    return jobs


def _entry_jobs(
    entry: dict, options: dict, path: Path, dataset: str, checks: tuple, language: str | None
) -> list[Job]:
    """The jobs of one report entry: its grid expanded, every parameter set validated.

    A ``language`` of the plan or the entry becomes the notebook's ``language``
    parameter (unless the entry's parameters set it); a report entry that asks for a
    language of a notebook without that parameter is an error. ``checks`` holds the
    ``kreis_codes``, ``date_range`` and ``currencies`` callables of :func:`load_plan`.
    """
    kreis_codes, date_range, currencies = checks
    name = str(entry["name"])
    if entry.get("requires"):
        options["requires"] = list(entry["requires"])
    notebook = (project_root() / entry["notebook"]).resolve()
    if not notebook.is_file():
        raise InputError(path, f"report {name!r}: notebook {entry['notebook']} not found")
    declared = read_parameters(notebook)
    defaults = {p.name: p.default for p in declared}
    base = dict(entry.get("parameters") or {})
    base.update(entry.get(dataset) or {})
    if entry.get("language") is not None and "language" not in defaults:
        raise InputError(
            path,
            f"report {name!r}: language set, but {entry['notebook']} has no `language` parameter",
        )
    if language is not None and "language" in defaults:
        base.setdefault("language", language)
    codes = kreis_codes or (lambda _ds: set())
    jobs = []
    for combo in _expand_grid(entry.get("grid") or {}, codes, dataset, path):
        values = {**base, **combo}
        if "dataset" in defaults:
            values["dataset"] = dataset
        try:
            final = validate(
                declared,
                values,
                kreis_codes=kreis_codes,
                date_range=date_range,
                currencies=currencies,
            )
        except ParameterError as exc:
            raise ParameterError(exc.name, f"{exc.reason} (report {name!r} in {path})") from None
        jobs.append(Job(name, notebook, final, parameter_slug(final, defaults), dict(options)))
    return jobs
