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


def test_choices_and_ranges_come_from_the_declaration(tmp_path):
    source = (
        "from typing import Literal\n"
        'mode: Literal["fast", "exact"] = "fast"  # how to compute\n'
        'colour: str = "red"  # one of: red, green, blue\n'
        'lang: str = "de"  # "de" (German) or "en" (English)\n'
        'label: str = "x"  # free text, e.g. "Göttingen"\n'
        "share: float = 0.5  # a share, range: 0..1\n"
        "top_n: int = 10  # rows to show\n"
        "offset: int = 0  # an offset, range: -5..\n"
    )
    params = {p.name: p for p in read_parameters(_notebook(tmp_path, source))}
    assert params["mode"].choices == ("fast", "exact") and params["mode"].type_name == "str"
    assert params["colour"].choices == ("red", "green", "blue")
    assert params["lang"].choices == ("de", "en")
    assert params["label"].choices == ()
    assert params["share"].bounds == (0.0, 1.0)
    assert params["top_n"].bounds == (1.0, None)
    declared = list(params.values())
    assert validate(declared, {"mode": "exact", "share": "1", "offset": "-5"})["offset"] == -5
    for values, message in [
        ({"mode": "slow"}, "'mode': expected one of fast, exact, got 'slow'"),
        ({"colour": "pink"}, "'colour': expected one of red, green, blue"),
        ({"lang": "fr"}, "'lang': expected one of de, en"),
        ({"share": "1.5"}, "'share': expected a number from 0 to 1, got 1.5"),
        ({"share": "nan"}, "'share': expected a finite number"),
        ({"top_n": "-5"}, "'top_n': expected a number >= 1, got -5"),
        ({"offset": "-6"}, "'offset': expected a number >= -5"),
    ]:
        with pytest.raises(ParameterError, match=message):
            validate(declared, values)


def test_dates_named_date_lie_before_as_of(tmp_path):
    source = (
        'start_date: str = "2023-04-01"  # when it began\nas_of: str = "2025-12-31"  # snapshot\n'
    )
    declared = read_parameters(_notebook(tmp_path, source))
    assert validate(declared, {"start_date": "2025-12-30"})["start_date"] == "2025-12-30"
    with pytest.raises(ParameterError, match="'start_date': expected a date before as_of"):
        validate(declared, {"as_of": "2023-01-01"})


def test_crm_date_range_reads_the_opportunity_export_whatever_its_case_and_encoding(
    tmp_path, monkeypatch
):
    from analysis.report import inputs

    crm = tmp_path / "demo" / "crm"
    crm.mkdir(parents=True)
    (crm / "opportunity.csv").write_bytes(
        '"Id","Name","CreatedDate","CloseDate"\n'
        '"006A","Müller – Straße","2021-03-05 10:00:00","2021-06-30 00:00:00"\n'
        '"006B","x","2020-11-02T08:00:00.000Z","2024-01-31"\n'
        '"006C","y","not a date",""\n'.encode("cp1252")
    )
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(tmp_path / "demo"))
    inputs.crm_date_range.cache_clear()
    try:
        assert inputs.crm_date_range("demo") == ("2020-11-02", "2024-01-31")
        (crm / "opportunity.csv").unlink()
        inputs.crm_date_range.cache_clear()
        assert inputs.crm_date_range("demo") is None  # no export: nothing to check against
    finally:
        inputs.crm_date_range.cache_clear()


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"unification_date": "2022-01-01", "as_of": "2025-01-01"}, None),
        ({"unification_date": "2020-11-02", "as_of": "2025-01-01"}, "unification_date"),
        ({"unification_date": "2024-02-01", "as_of": "2025-01-01"}, "unification_date"),
        ({"unification_date": "2024-01-31", "as_of": "2020-01-01"}, "as_of"),
    ],
)
def test_dates_must_lie_inside_the_data(values, error):
    from analysis.errors import ParameterError
    from analysis.report.param_rules import check_dates_within

    span = ("2020-11-02", "2024-01-31")
    names = ["unification_date", "as_of"]
    if error is None:
        check_dates_within(values, names, span)
        check_dates_within(values, names, None)
    else:
        with pytest.raises(ParameterError) as caught:
            check_dates_within(values, names, span)
        assert caught.value.name == error


def test_currency_must_be_one_of_the_crm_orgs_currencies(tmp_path, monkeypatch):
    from analysis.errors import ParameterError
    from analysis.report import inputs
    from analysis.report.param_rules import check_currency_in_data

    crm = tmp_path / "demo" / "crm"
    crm.mkdir(parents=True)
    (crm / "CURRENCYTYPE.CSV").write_text('"Id","IsoCode"\n"1","EUR"\n"2","chf"\n')
    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(tmp_path / "demo"))
    inputs.crm_currencies.cache_clear()
    try:
        codes = inputs.crm_currencies("demo")
    finally:
        inputs.crm_currencies.cache_clear()
    assert codes == {"EUR", "CHF"}
    check_currency_in_data({"currency": "chf"}, codes)
    check_currency_in_data({"currency": "JPY"}, None)  # no currency export: nothing to check
    with pytest.raises(ParameterError, match="CHF, EUR"):
        check_currency_in_data({"currency": "JPY"}, codes)
