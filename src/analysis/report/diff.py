"""The run diff: a run's recorded key figures against the previous good run.

Every report run records its key figures (``analysis.record``). A scheduled report
is only worth reading when something moved, so each run is compared with the last
good run of the same report and parameter set, and every figure that changed by
more than a threshold is *flagged*: in the run's ``manifest.json`` (key ``diff``),
in ``index.json`` and on ``reports/index.html``.

A numeric figure is flagged when its change exceeds the relative threshold
(``|new - old| / |old|``; any change from 0 counts as infinitely large) **and** the
absolute one (a noise floor for figures near zero). A non-numeric figure (text,
flag, list) is flagged when it differs at all, and so is a figure that appeared or
disappeared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

DEFAULT_RELATIVE = 0.01
DEFAULT_ABSOLUTE = 0.0


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def diff_figures(
    previous: Mapping[str, object] | None,
    current: Mapping[str, object],
    *,
    relative: float = DEFAULT_RELATIVE,
    absolute: float = DEFAULT_ABSOLUTE,
    against: str | None = None,
) -> dict:
    """Compare two runs' recorded figures.

    Parameters
    ----------
    previous : mapping or None
        Figures of the previous good run (``None``: there was none).
    current : mapping
        Figures of this run.
    relative : float
        Relative change above which a numeric figure is flagged (0.01 = 1 %).
    absolute : float
        Absolute change a numeric figure must also exceed to be flagged.
    against : str, optional
        Run id of the previous run, stored with the result.

    Returns
    -------
    dict
        ``against``, ``thresholds``, ``changes`` (one dict per figure that changed:
        ``name``, ``old``, ``new``, ``abs_change``, ``rel_change``, ``flagged``) and
        ``flagged`` (the names of flagged figures, sorted). Unchanged figures are not
        listed. With no previous run, ``against`` is None and nothing is flagged.

    Examples
    --------
    >>> d = diff_figures({"n": 100, "name": "a"}, {"n": 102, "name": "a"})
    >>> d["flagged"], d["changes"][0]["rel_change"]
    (['n'], 0.02)
    """
    if relative < 0 or absolute < 0:
        raise ValueError("diff thresholds must be >= 0")
    result: dict = {
        "against": against,
        "thresholds": {"relative": relative, "absolute": absolute},
        "changes": [],
        "flagged": [],
    }
    if previous is None:
        return result
    for name in sorted(set(previous) | set(current)):
        old = previous.get(name)
        new = current.get(name)
        in_old, in_new = name in previous, name in current
        if in_old and in_new and old == new:
            continue
        change: dict = {"name": name, "old": old, "new": new}
        old_n, new_n = _number(old), _number(new)
        if in_old and in_new and old_n is not None and new_n is not None:
            delta = new_n - old_n
            rel = abs(delta) / abs(old_n) if old_n != 0 else math.inf
            change["abs_change"] = delta
            change["rel_change"] = None if math.isinf(rel) else round(rel, 6)
            flagged = rel > relative and abs(delta) > absolute
        else:
            change["abs_change"] = None
            change["rel_change"] = None
            change["status"] = "added" if not in_old else "removed" if not in_new else "changed"
            flagged = True
        change["flagged"] = bool(flagged)
        result["changes"].append(change)
    result["flagged"] = [c["name"] for c in result["changes"] if c["flagged"]]
    return result


def diff_settings(declared: Mapping[str, object] | None, where: str) -> dict[str, float]:
    """Validate a plan's ``diff`` setting (``{relative: 0.01, absolute: 0}``).

    Parameters
    ----------
    declared : mapping or None
        The value under ``diff`` in the plan (``None``: defaults).
    where : str
        Where it was found, for the error message.

    Returns
    -------
    dict
        ``relative`` and ``absolute`` thresholds as floats.

    Raises
    ------
    ValueError
        For unknown keys or values that are not non-negative numbers.
    """
    settings = {"relative": DEFAULT_RELATIVE, "absolute": DEFAULT_ABSOLUTE}
    if declared is None:
        return settings
    if not isinstance(declared, Mapping):
        raise ValueError(f"{where}: diff must be a mapping like {{relative: 0.01, absolute: 0}}")
    unknown = set(declared) - set(settings)
    if unknown:
        raise ValueError(
            f"{where}: diff has unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
            "expected relative and/or absolute"
        )
    for key, value in declared.items():
        number = _number(value)
        if number is None or number < 0 or not math.isfinite(number):
            raise ValueError(f"{where}: diff.{key} must be a number >= 0, got {value!r}")
        settings[str(key)] = number
    return settings
