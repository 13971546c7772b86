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
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import InputError, ParameterError
from analysis.paths import DATASETS

_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "list": list}


@dataclass(frozen=True)
class Parameter:
    """One declared notebook parameter."""

    name: str
    type_name: str
    default: object
    help: str

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
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "notebook not found") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"not a notebook (invalid JSON: {exc.msg})", line=exc.lineno, column=exc.colno
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read notebook: {exc}") from None
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
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            raise InputError(
                path,
                "parameters cell: expected only annotated literals like "
                '`region: str = "03159"  # help`',
                line=node.lineno,
            )
        type_name = ast.unparse(node.annotation)
        base = type_name.split("[", 1)[0]
        if base not in _TYPES:
            raise InputError(
                path,
                f"parameters cell: type {type_name!r} of {node.target.id!r} is not one of "
                f"{', '.join(_TYPES)}",
                line=node.lineno,
            )
        try:
            default = ast.literal_eval(node.value) if node.value is not None else None
        except ValueError:
            raise InputError(
                path,
                f"parameters cell: the default of {node.target.id!r} must be a literal",
                line=node.lineno,
            ) from None
        line_text = lines[node.lineno - 1]
        help_text = line_text.split("#", 1)[1].strip() if "#" in line_text else ""
        found.append(Parameter(node.target.id, base, default, help_text))
    return found


def format_parameters(parameters: Iterable[Parameter]) -> str:
    """A table of parameters for the terminal."""
    rows = [("name", "type", "default", "help")]
    rows += [(p.name, p.type_name, json.dumps(p.default), p.help) for p in parameters]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip()
        for r in rows
    )


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
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot read parameter file: {exc.strerror}") from None
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
