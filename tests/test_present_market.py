"""The market report's summary sentences keep the product's disclosure rule."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis.present import i18n
from analysis.present.market import champions_finding


def _list(n: int, served: int, undecided: int) -> pd.DataFrame:
    frame = pd.DataFrame()
    frame.attrs = {
        "n_champions": n,
        "n_customers": served,
        "n_ambiguous": undecided,
        "n_not_customers": n - served - undecided,
    }
    return frame


@pytest.fixture(autouse=True)
def _english():
    i18n.set_language("en")
    yield
    i18n.set_language("de")


@pytest.mark.parametrize(
    ("served", "undecided", "numbers"),
    [
        (12, 4, {"40", "12", "24", "4"}),  # enough customers: every count shown
        (3, 4, {"40", "33", "7", "5"}),  # 3 customers: only customers + undecided shown
        (1, 2, {"40", "5"}),  # even the merged count is small: neither shown
    ],
)
def test_a_small_customer_count_is_neither_printed_nor_derivable(served, undecided, numbers):
    text = champions_finding(_list(40, served, undecided), None).text

    printed = set(re.findall(r"\d+", text))
    assert printed == numbers
    if served < 5:
        # total - not yet - undecided would give the hidden count: never all three
        assert not {str(40 - served - undecided), str(undecided)} <= printed - {"5"}
