"""Market potential and customer proximity (Kundennähe): where we have customers against where we could.

Rooms: :mod:`~analysis.market.potential` (accounts located, potential model, funnel limits),
:mod:`~analysis.market.white_space`, :mod:`~analysis.market.not_customers` (champions not yet
customers), :mod:`~analysis.market.matching` (firm-to-account name matching) and
:mod:`~analysis.market.proximity` (distances to our sales locations).
"""

from __future__ import annotations

from analysis.market.limits import (
    FUNNEL_LEVELS,
    count_quantile_limit,
    count_tail_probabilities,
    funnel_curve,
    funnel_limits,
    poisson_quantile_limit,
    poisson_tail_probabilities,
    ratio_interval,
)
from analysis.market.not_customers import (
    accounts_for_matching,
    champion_coverage_by_land,
    champion_sentence,
    champions_not_customers,
    count_text,
    firm_key,
    firms_for_matching,
)
from analysis.market.potential import (
    COVARIATES,
    STATUS_LABELS,
    LocatedAccounts,
    PotentialModel,
    account_outcomes,
    choose_exposure,
    fit_potential,
    kreis_frame,
    locate_accounts,
    observed_by_kreis,
)
from analysis.market.white_space import (
    count_table,
    location_sentence,
    location_table,
    model_sentence,
    plottable,
    publishable,
    white_space,
    white_space_sentence,
)

__all__ = [
    "COVARIATES",
    "FUNNEL_LEVELS",
    "LocatedAccounts",
    "PotentialModel",
    "STATUS_LABELS",
    "account_outcomes",
    "accounts_for_matching",
    "champion_coverage_by_land",
    "champion_sentence",
    "champions_not_customers",
    "choose_exposure",
    "count_table",
    "count_text",
    "firm_key",
    "firms_for_matching",
    "fit_potential",
    "count_quantile_limit",
    "count_tail_probabilities",
    "funnel_curve",
    "funnel_limits",
    "kreis_frame",
    "locate_accounts",
    "location_sentence",
    "location_table",
    "model_sentence",
    "observed_by_kreis",
    "poisson_quantile_limit",
    "poisson_tail_probabilities",
    "plottable",
    "publishable",
    "ratio_interval",
    "white_space",
    "white_space_sentence",
]
