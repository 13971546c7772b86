"""The frozen hard matching set: it is what its generator makes, and the harness measures."""

from __future__ import annotations

import importlib.util

import pandas as pd

from analysis.paths import project_root


def _module():
    path = project_root() / "validation" / "matching_hard_set.py"
    spec = importlib.util.spec_from_file_location("matching_hard_set", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frozen_hard_set_equals_its_generator():
    hard = _module()

    for frozen, fresh in zip(hard.read_frozen(), hard.generate(), strict=True):
        pd.testing.assert_frame_equal(frozen, fresh.astype(str), check_dtype=False)


def test_hard_set_finds_the_controls_and_no_distractor():
    hard = _module()

    table = hard.evaluate(*hard.read_frozen()).set_index("category")

    assert table.loc["control", "recall"] == 1.0
    assert table.loc["all", "false_positives"] == 0  # no near-namesake was taken
    # the hard categories are reported as measured (docs/validation.md)
    assert table.loc["all", "n_true"] == 48
