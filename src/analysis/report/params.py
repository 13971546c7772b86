"""Notebook parameters: read them from the annotated ``parameters`` cell, validate values.

Papermill guesses types from the command line (``-p region 02139`` becomes the int
2139) and injects unknown names with a mere warning. The workbook never relies on
that: it reads the declared parameters from the notebook's cell tagged ``parameters``
(``name: type = literal  # help``), converts every value to the declared type and
checks its meaning *before* any kernel starts.

Meaning is inferred from the name, so notebooks need no extra markup:

- ``dataset``: one of :data:`analysis.paths.DATASETS`;
- ``region``, ``compare_to`` and names ending in ``_region`` or ``_kreis``: a Kreis
  code (five digits) that exists in the chosen dataset;
- ``as_of`` and names ending in ``_date``: an ISO date ``YYYY-MM-DD``.

Choices of categorical parameters, ranges of numbers, formats and the order of
dates follow the rules of :mod:`analysis.report.param_rules`.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.files import read_small_text
from analysis.paths import DATASETS
from analysis.report import param_rules

_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "list": list}


@dataclass(frozen=True)
class Parameter:
    """One declared notebook parameter."""

    name: str
    type_name: str
    default: object
    help: str
    #: Allowed values of a categorical parameter (empty: any value of its type).
    choices: tuple = ()
    #: ``(minimum, maximum)`` of a number (``None``: open end); empty for others.
    bounds: tuple = ()

    @property
    def kind(self) -> str:
        """Semantic kind inferred from the name: dataset, kreis, date or plain."""
        if self.name == "dataset":
            return "dataset"
        if self.name in {"region", "compare_to"} or self.name.endswith(("_region", "_kreis")):
            return "kreis"
        if self.name == "as_of" or self.name.endswith("_date"):
            return "date"
        return "plain"


def _parameters_cell(nb: dict, path: Path) -> tuple[int, str]:
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            source = cell.get("source", "")
            return index, "".join(source) if isinstance(source, list) else source
    raise InputError(path, "no code cell tagged 'parameters' (papermill needs one)")


def read_parameters(notebook: str | Path) -> list[Parameter]:
    """Read the declared parameters of a notebook.

    Parameters
    ----------
    notebook : str or Path
        Path of the ``.ipynb`` file.

    Returns
    -------
    list of Parameter
        In declaration order.

    Raises
    ------
    InputError
        If the notebook cannot be read, has no ``parameters`` cell, or the cell holds
        anything but annotated assignments of literals with a help comment.
    """
    path = Path(notebook)
    # Plain JSON, not nbformat: importing nbformat's validator costs ~2 s, and a bad
    # parameter must be reported within a second or two.
    try:
        nb = json.loads(read_small_text(path, "notebook"))
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"not a notebook (invalid JSON: {exc.msg})", line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(nb, dict):
        raise InputError(path, "not a notebook (expected a JSON object)")
    _, source = _parameters_cell(nb, path)
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise InputError(path, f"parameters cell: {exc.msg}", line=exc.lineno) from None
    found: list[Parameter] = []
    for node in tree.body:
        if _is_literal_import(node):
            continue
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            raise InputError(
                path,
                "parameters cell: expected only annotated literals like "
                '`region: str = "03159"  # help`',
                line=node.lineno,
            )
        found.append(_declared(node, lines[node.lineno - 1], path))
    return found


def _is_literal_import(node: ast.stmt) -> bool:
    """``from typing import Literal`` (needed by ``Literal[...]`` annotations)."""
    return (
        isinstance(node, ast.ImportFrom)
        and node.module == "typing"
        and [a.name for a in node.names] == ["Literal"]
    )


def _literal_values(annotation: ast.expr) -> tuple:
    """The values of a ``Literal[...]`` annotation (empty for any other annotation)."""
    if not (isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Literal"):
        return ()
    values = ast.literal_eval(annotation.slice)
    return tuple(values) if isinstance(values, tuple) else (values,)


def _declared(node: ast.AnnAssign, line_text: str, path: Path) -> Parameter:
    name = node.target.id
    try:
        literal = _literal_values(node.annotation)
    except ValueError:
        raise InputError(
            path, f"parameters cell: Literal[...] of {name!r} must list literals", line=node.lineno
        ) from None
    type_name = type(literal[0]).__name__ if literal else ast.unparse(node.annotation)
    base = type_name.split("[", 1)[0]
    if base not in _TYPES:
        raise InputError(
            path,
            f"parameters cell: type {type_name!r} of {name!r} is not one of "
            f"{', '.join(_TYPES)} or Literal[...]",
            line=node.lineno,
        )
    try:
        default = ast.literal_eval(node.value) if node.value is not None else None
    except ValueError:
        raise InputError(
            path, f"parameters cell: the default of {name!r} must be a literal", line=node.lineno
        ) from None
    help_text = line_text.split("#", 1)[1].strip() if "#" in line_text else ""
    return Parameter(
        name,
        base,
        default,
        help_text,
        param_rules.infer_choices(help_text, default, literal),
        param_rules.infer_bounds(name, base, help_text),
    )


def format_parameters(parameters: Iterable[Parameter]) -> str:
    """A table of parameters for the terminal."""
    rows = [("name", "type", "default", "allowed", "help")]
    rows += [
        (p.name, p.type_name, json.dumps(p.default, ensure_ascii=False), _allowed(p), p.help)
        for p in parameters
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        "  ".join(f"{r[i]:<{widths[i]}}" for i in range(4)) + f"  {r[4]}".rstrip() for r in rows
    ).replace("  \n", "\n")


def _allowed(parameter: Parameter) -> str:
    if parameter.choices:
        return "|".join(map(str, parameter.choices))
    if parameter.bounds:
        return param_rules.describe_bounds(parameter.bounds).replace("a number ", "")
    if parameter.name == "currency":
        return "ISO 4217 code"
    return {"kreis": "Kreis AGS", "date": "YYYY-MM-DD"}.get(parameter.kind, "")


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def coerce(parameter: Parameter, value: object) -> object:
    """Convert ``value`` to the declared type of ``parameter``.

    Strings from the command line are converted by the declared type, never guessed:
    ``02139`` stays ``"02139"`` for a ``str`` parameter.

    Raises
    ------
    ParameterError
        If the value cannot be of the declared type.
    """
    name, type_name = parameter.name, parameter.type_name
    if type_name == "str":
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
        raise ParameterError(name, f"expected a string, got {value!r}")
    if type_name == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ParameterError(name, f"expected true or false, got {value!r}")
    if type_name == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ParameterError(name, f"expected a whole number, got {value!r}")
    if type_name == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ParameterError(name, f"expected a number, got {value!r}")
    if type_name == "list":
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                parsed = [v.strip() for v in value.split(",") if v.strip()]
            if isinstance(parsed, list):
                return parsed
        raise ParameterError(name, f"expected a list, got {value!r}")
    raise ParameterError(name, f"unsupported type {type_name}")  # pragma: no cover


def _check_date(name: str, value: object) -> None:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(
            name, f"expected a date as YYYY-MM-DD (e.g. 2023-04-01), got {value!r}"
        ) from None


def validate(
    parameters: list[Parameter],
    values: Mapping[str, object],
    *,
    kreis_codes: Callable[[str], set[str]] | None = None,
    date_range: Callable[[str], tuple[str, str] | None] | None = None,
    currencies: Callable[[str], frozenset[str] | None] | None = None,
) -> dict[str, object]:
    """Validate and type parameter values against the declared parameters.

    Parameters
    ----------
    parameters : list of Parameter
        As read by :func:`read_parameters`.
    values : mapping
        Values to override (strings from the CLI or typed values from YAML).
    kreis_codes : callable, optional
        ``dataset -> set of valid Kreis codes``; Kreis parameters are checked when given.
    date_range : callable, optional
        ``dataset -> (first, last)`` ISO dates of its data, or None; date parameters
        are checked to lie inside it when given.
    currencies : callable, optional
        ``dataset -> set of ISO codes`` of its CRM data, or None; a ``currency``
        parameter is checked against it when given.

    Returns
    -------
    dict
        Every parameter with its final typed value (defaults filled in), in
        declaration order.

    Raises
    ------
    ParameterError
        For an unknown name, a wrong type, an unknown dataset, a Kreis code not in
        the data or an unparseable date. The message names the parameter and what
        is valid.
    """
    declared = {p.name: p for p in parameters}
    unknown = [name for name in values if name not in declared]
    if unknown:
        raise ParameterError(
            unknown[0], f"unknown parameter; the notebook declares: {', '.join(declared)}"
        )
    final: dict[str, object] = {}
    for p in parameters:
        value = coerce(p, values[p.name]) if p.name in values else p.default
        final[p.name] = value
    for p in parameters:
        value = final[p.name]
        if p.kind == "dataset" and value not in DATASETS:
            raise ParameterError(p.name, f"expected one of {', '.join(DATASETS)}, got {value!r}")
        if p.kind == "date":
            _check_date(p.name, value)
        param_rules.check_choice(p.name, value, p.choices)
        param_rules.check_bounds(p.name, value, p.bounds)
        param_rules.check_format(p.name, value)
    dated = [p.name for p in parameters if p.kind == "date"]
    param_rules.check_date_order(final, dated)
    if dated and date_range is not None:
        param_rules.check_dates_within(final, dated, date_range(str(final.get("dataset", "demo"))))
    if "currency" in final and currencies is not None:
        param_rules.check_currency_in_data(final, currencies(str(final.get("dataset", "demo"))))
    kreis_params = [p for p in parameters if p.kind == "kreis"]
    if kreis_params and kreis_codes is not None:
        dataset = str(final.get("dataset", "demo"))
        codes = kreis_codes(dataset)
        for p in kreis_params:
            value = str(final[p.name])
            if value not in codes:
                examples = ", ".join(sorted(codes)[:5])
                raise ParameterError(
                    p.name,
                    f"Kreis code {value!r} is not one of the {len(codes)} Kreise of the "
                    f"{dataset} dataset (5-digit AGS, e.g. {examples})",
                )
    return final


def load_params_file(path: str | Path) -> dict[str, object]:
    """Read a YAML file of parameter values (dates stay strings).

    Raises
    ------
    InputError
        If the file is missing, not YAML, or not a mapping of names to values.
    """
    import yaml

    path = Path(path)
    text = read_small_text(path, "parameter file")
    try:
        data = yaml.load(text, Loader=_NoDatesLoader)  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            path,
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(path, "expected a mapping of parameter names to values")
    return {str(k): v for k, v in data.items()}


def _make_no_dates_loader():
    import yaml

    class NoDatesLoader(yaml.SafeLoader):
        """SafeLoader that keeps dates as strings (as papermill does)."""

    NoDatesLoader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return NoDatesLoader


class _LazyLoader:
    _cls = None

    def __call__(self, stream):
        if _LazyLoader._cls is None:
            _LazyLoader._cls = _make_no_dates_loader()
        return _LazyLoader._cls(stream)


_NoDatesLoader = _LazyLoader()
