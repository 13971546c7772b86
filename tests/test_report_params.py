"""Parameter reading and validation happen before any kernel starts."""

from __future__ import annotations

import json

import nbformat
import pytest

from analysis.errors import InputError, ParameterError
from analysis.report.params import Parameter, coerce, load_params_file, read_parameters, validate


def _notebook(tmp_path, source: str, tag: str = "parameters"):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [tag]
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


PARAMS = (
    'region: str = "03159"  # Kreis AGS to profile\n'
    'compare_to: str = "09162"  # Kreis to compare with\n'
    "peers: int = 5  # how many peers\n"
    'dataset: str = "demo"  # demo or official\n'
    'as_of: str = "2026-01-31"  # snapshot date\n'
    "share: float = 0.5  # a share\n"
    "strict: bool = False  # be strict\n"
)


def test_read_parameters_gives_names_types_defaults_and_help(tmp_path):
    params = read_parameters(_notebook(tmp_path, PARAMS))
    assert [p.name for p in params] == [
        "region", "compare_to", "peers", "dataset", "as_of", "share", "strict",
    ]  # fmt: skip
    assert params[0] == Parameter("region", "str", "03159", "Kreis AGS to profile")
    assert params[2].type_name == "int" and params[2].default == 5
    assert [p.kind for p in params] == [
        "kreis",
        "kreis",
        "plain",
        "dataset",
        "date",
        "plain",
        "plain",
    ]


def test_parameters_cell_must_hold_annotated_literals(tmp_path):
    with pytest.raises(InputError, match="line 2.*annotated literals"):
        read_parameters(_notebook(tmp_path, "a: int = 1  # ok\nb = 2\n"))
    with pytest.raises(InputError, match="must be a literal"):
        read_parameters(_notebook(tmp_path, "a: int = len([1])  # no\n"))
    with pytest.raises(InputError, match="no code cell tagged 'parameters'"):
        read_parameters(_notebook(tmp_path, "a: int = 1\n", tag="other"))


def test_a_broken_notebook_file_names_line_and_column(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [\n  {"cell_type": }\n]}')
    with pytest.raises(InputError, match=r"broken.ipynb, line 2, column \d+: not a notebook"):
        read_parameters(path)


def test_string_codes_keep_leading_zeros_and_types_are_never_guessed():
    region = Parameter("region", "str", "03159", "")
    assert coerce(region, "02139") == "02139"
    assert coerce(Parameter("peers", "int", 5, ""), "07") == 7
    assert coerce(Parameter("strict", "bool", False, ""), "true") is True
    assert coerce(Parameter("strict", "bool", False, ""), "No") is False
    with pytest.raises(ParameterError, match="'peers'.*whole number"):
        coerce(Parameter("peers", "int", 5, ""), "five")
    with pytest.raises(ParameterError, match="true or false"):
        coerce(Parameter("strict", "bool", False, ""), "maybe")


def test_validate_fills_defaults_and_checks_meaning(tmp_path):
    params = read_parameters(_notebook(tmp_path, PARAMS))
    codes = {"03159", "09162", "09184"}
    final = validate(params, {"region": "09184", "peers": "3"}, kreis_codes=lambda ds: codes)
    assert final["region"] == "09184" and final["peers"] == 3 and final["compare_to"] == "09162"
    with pytest.raises(ParameterError, match="'region'.*'99999' is not one of the 3 Kreise"):
        validate(params, {"region": "99999"}, kreis_codes=lambda ds: codes)
    with pytest.raises(ParameterError, match="'regoin': unknown parameter"):
        validate(params, {"regoin": "03159"}, kreis_codes=lambda ds: codes)
    with pytest.raises(ParameterError, match="'as_of'.*YYYY-MM-DD"):
        validate(params, {"as_of": "31.02.2024"})
    with pytest.raises(ParameterError, match="'as_of'"):
        validate(params, {"as_of": "2024-02-31"})
    with pytest.raises(ParameterError, match="'dataset'.*demo, official"):
        validate(params, {"dataset": "real"})


def test_params_file_keeps_dates_as_strings_and_reports_yaml_errors(tmp_path):
    good = tmp_path / "p.yml"
    good.write_text('as_of: 2024-03-01\nregion: "03159"\npeers: 4\n')
    assert load_params_file(good) == {"as_of": "2024-03-01", "region": "03159", "peers": 4}
    bad = tmp_path / "bad.yml"
    bad.write_text("region: [unclosed\npeers: 4\n")
    with pytest.raises(InputError, match=r"bad.yml, line 2, column 6: not valid YAML"):
        load_params_file(bad)
    listy = tmp_path / "list.yml"
    listy.write_text(json.dumps([1, 2]))
    with pytest.raises(InputError, match="mapping"):
        load_params_file(listy)
