"""Sales and marketing analytics on the canonical CRM frames (nothing here reads a file).

Rooms: :mod:`~analysis.sales.common` (proportions, segments, data quality),
:mod:`~analysis.sales.funnel`, :mod:`~analysis.sales.win_rate`,
:mod:`~analysis.sales.cycle` (censoring, competing risks), :mod:`~analysis.sales.attribution`
:mod:`~analysis.sales.its` (interrupted time series on the monthly win rate, with
:mod:`~analysis.sales.its_inference` and the threat checks of
:mod:`~analysis.sales.its_checks`).
"""

from __future__ import annotations

from analysis.sales.attribution import (
    marketing_attribution,
    marketing_pipeline,
)
from analysis.sales.common import (
    FUNNEL_STAGES,
    MARKETING_LEAD_SOURCES,
    MARKETING_RULES,
    NULL_ID,
    SEGMENTS,
    amount_column,
    fill_before_after,
    fill_rates,
    filter_segment,
    proportion_difference,
    quarantine_summary,
    wilson_interval,
)
from analysis.sales.cycle import (
    cumulative_incidence,
    cycle_data,
    cycle_summary,
    kaplan_meier,
    logrank,
)
from analysis.sales.funnel import (
    funnel_by_cohort,
    funnel_table,
    lead_conversion_before_after,
)
from analysis.sales.its_checks import late_losses, mix_shift, ramp_in_check
from analysis.sales.win_rate import (
    deal_size_before_after,
    its_series,
    monthly_win_rate,
    publishable,
    publishable_teams,
    win_rate_before_after,
    win_rate_by_team,
)

__all__ = [
    "FUNNEL_STAGES",
    "MARKETING_LEAD_SOURCES",
    "MARKETING_RULES",
    "NULL_ID",
    "SEGMENTS",
    "amount_column",
    "cumulative_incidence",
    "cycle_data",
    "cycle_summary",
    "deal_size_before_after",
    "fill_rates",
    "filter_segment",
    "funnel_by_cohort",
    "funnel_table",
    "its_series",
    "kaplan_meier",
    "late_losses",
    "lead_conversion_before_after",
    "logrank",
    "marketing_attribution",
    "marketing_pipeline",
    "mix_shift",
    "monthly_win_rate",
    "proportion_difference",
    "publishable",
    "fill_before_after",
    "publishable_teams",
    "quarantine_summary",
    "ramp_in_check",
    "wilson_interval",
    "win_rate_before_after",
    "win_rate_by_team",
]
