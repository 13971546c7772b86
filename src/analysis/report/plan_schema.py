"""The JSON schema of a report plan, and messages that name the key and what is allowed.

The plan's *shape* (known keys, types, ranges, allowed values, safe report names) is
checked here with ``jsonschema`` before anything else; :mod:`analysis.report.plan`
then checks its *meaning* (notebooks exist, parameters validate, grids expand).
"""

from __future__ import annotations

from pathlib import Path

from analysis.errors import InputError

#: Input folders of a dataset (see :func:`analysis.paths.dataset_dir`) a report may need.
INPUT_FOLDERS = ("official", "firms", "crm")
#: A report name is one folder under ``reports/``: no separators, no leading dot.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"
NAME_RULE = (
    "a folder name of at most 80 letters, digits, '_', '.' or '-' that starts with a "
    "letter or digit (no '/', no '..', not absolute)"
)

_SECONDS = {"type": "number", "exclusiveMinimum": 0, "message": "a number of seconds > 0"}
_DIFF = {
    "type": ["object", "null"],
    "properties": {
        key: {"type": "number", "minimum": 0, "message": "a number >= 0"}
        for key in ("relative", "absolute")
    },
    "additionalProperties": False,
    "message": "a mapping like {relative: 0.01, absolute: 0}",
}
_SETTINGS = {
    "keep": {"type": "integer", "minimum": 1, "message": "a whole number >= 1"},
    "diff": _DIFF,
    "timeout": {**_SECONDS, "type": ["number", "null"]},
    "heartbeat": {**_SECONDS, "type": ["number", "null"]},
}
_GRID_AXIS = {
    "anyOf": [
        {"type": "array", "minItems": 1},
        {"const": "all_kreise"},
        {
            "type": "object",
            "properties": {"kreise_of_land": {"type": ["string", "integer"]}},
            "required": ["kreise_of_land"],
            "additionalProperties": False,
        },
    ],
    "message": "a non-empty list, 'all_kreise' or {kreise_of_land: LL}",
}
#: The report languages of the message catalogue (analysis.present.i18n.LANGUAGES).
_LANGUAGE = {"enum": ["de", "en"], "message": "de or en"}
_REPORT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN, "message": NAME_RULE},
        "notebook": {"type": "string", "minLength": 1, "message": "a notebook path"},
        "description": {"type": "string"},
        "parameters": {"type": ["object", "null"], "message": "a mapping of parameter values"},
        "demo": {"type": ["object", "null"], "message": "a mapping of parameter values"},
        "official": {"type": ["object", "null"], "message": "a mapping of parameter values"},
        "grid": {
            "type": ["object", "null"],
            "additionalProperties": _GRID_AXIS,
            "message": "a mapping of parameter names to values",
        },
        "language": _LANGUAGE,
        "requires": {
            "type": ["array", "null"],
            "items": {"enum": list(INPUT_FOLDERS)},
            "message": f"a list of {', '.join(INPUT_FOLDERS)}",
        },
        **_SETTINGS,
    },
    "required": ["name", "notebook"],
    "additionalProperties": False,
}
PLAN_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "dataset": {"enum": ["auto", "demo", "official"], "message": "auto, demo or official"},
        "description": {"type": "string"},
        "language": _LANGUAGE,
        "reports": {"type": "array", "items": _REPORT, "message": "a list of reports"},
        **_SETTINGS,
    },
    "required": ["reports"],
    "additionalProperties": False,
}


def check_plan(data: object, path: Path) -> None:
    """Check a parsed plan against :data:`PLAN_SCHEMA`.

    Parameters
    ----------
    data : object
        The parsed YAML.
    path : Path
        The plan file, for messages.

    Raises
    ------
    InputError
        Naming the report, the key and what is allowed, e.g.
        ``report 'p': keep must be a whole number >= 1, got 0``.
    """
    from analysis.report.kernel import skip_slow_optional_imports

    skip_slow_optional_imports()
    from jsonschema import Draft202012Validator

    if not isinstance(data, dict) or not isinstance(data.get("reports"), list):
        raise InputError(path, "expected a mapping with a list under 'reports'")
    errors = sorted(
        Draft202012Validator(PLAN_SCHEMA).iter_errors(data),
        key=lambda e: (list(map(str, e.absolute_path)), len(e.absolute_path)),
    )
    if errors:
        raise InputError(path, describe(errors[0], data))


def describe(error, data: dict) -> str:
    """One line for a schema error: where (plan or report), which key, what is allowed."""
    where = "plan"
    parts = list(error.absolute_path)
    if len(parts) >= 2 and parts[0] == "reports":
        entry = data["reports"][parts[1]]
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"report {name!r}" if name else f"report #{parts[1] + 1}"
        parts = parts[2:]
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        level = "top-level key(s)" if where == "plan" and not parts else "key(s)"
        inside = f" in {'.'.join(map(str, parts))}" if parts else ""
        return (
            f"{where}: unknown {level} {', '.join(map(str, unknown))}{inside}; "
            f"expected {', '.join(allowed)}"
        )
    if error.validator == "required":
        return f"{where}: needs 'name' and 'notebook' ({error.message})"
    key = ".".join(map(str, parts)) or "plan"
    rule = _rule(error)
    return f"{where}: {key} must be {rule}, got {error.instance!r}"


def _rule(error) -> str:
    """The schema's own ``message`` where it has one, else a plain rule."""
    if "message" in error.schema:
        return error.schema["message"]
    if error.validator == "enum":
        return "one of " + ", ".join(map(str, error.validator_value))
    return error.message
