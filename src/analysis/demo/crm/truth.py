"""The injected truths of the CRM part (``TRUTH.json["crm"]``) and reading them back.

:func:`truths` derives the effects and their exact definitions from the parameters
alone; :func:`load_truth` reads the CRM section of the demo's ``TRUTH.json``.
"""

from __future__ import annotations

from dataclasses import asdict

from analysis.demo.crm.params import AS_OF, GO_LIVE, MQL_SCORE, UNIFICATION_DATE, CrmParameters


def truths(params: CrmParameters | None = None) -> dict:
    """The injected truths for ``TRUTH.json["crm"]`` (no data needed).

    Parameters
    ----------
    params : CrmParameters, optional

    Returns
    -------
    dict
        ``win_rate_uplift`` (level change of the monthly win rate of deals closed
        in the month, at the unification month, as a difference of proportions),
        ``lead_conversion_uplift`` (change in the probability that a lead created
        in a month eventually converts into an opportunity, created on/after vs
        before the unification date), ``cycle_days_change`` (change in the median
        days from creation to close, won or lost, for opportunities created on/after
        vs before the unification date), the dates and the definitions.
    """
    from scipy.special import gammaincinv

    params = params or CrmParameters()
    median_unit = float(gammaincinv(params.cycle_shape, 0.5))  # median of Gamma(shape, 1)
    median_pre = median_unit * params.cycle_scale_pre
    median_post = median_unit * params.cycle_scale_post
    conv_pre = params.mql_rate * params.mql_to_opportunity_pre
    conv_post = params.mql_rate * params.mql_to_opportunity_post
    return {
        "unification_date": str(UNIFICATION_DATE.date()),
        "as_of": str(AS_OF.date()),
        "go_live": str(GO_LIVE.date()),
        "currency": "EUR",
        "win_rate_uplift": params.win_rate_uplift,
        "win_rate_slope_change": params.win_rate_slope_change,
        "win_rate_base": params.win_rate_base,
        "win_rate_trend_per_month": params.win_rate_trend_per_month,
        "transition_months": params.transition_months,
        "transition_dip": params.transition_dip,
        "lead_conversion_pre": round(conv_pre, 10),
        "lead_conversion_post": round(conv_post, 10),
        "lead_conversion_uplift": round(conv_post - conv_pre, 10),
        "mql_rate": params.mql_rate,
        "mql_score_threshold": MQL_SCORE,
        "cycle_median_days_pre": round(median_pre, 4),
        "cycle_median_days_post": round(median_post, 4),
        "cycle_days_change": round(median_post - median_pre, 4),
        "cycle_mean_days_change": round(
            params.cycle_shape * (params.cycle_scale_post - params.cycle_scale_pre), 4
        ),
        "deal_size_ratio": 1.0,
        "parameters": asdict(params),
        "definitions": {
            "win_rate_uplift": (
                "level change, at the unification month, of the monthly win rate of opportunities "
                "CLOSED in the month (won / (won + lost), by CloseDate), as a difference of "
                "proportions, in the segmented regression with trend, slope change, month-of-year "
                "effects and the first transition_months months after the date excluded"
            ),
            "lead_conversion_uplift": (
                "change in the probability that a lead converts into an opportunity "
                "(ConvertedOpportunityId set), for leads created on/after vs before the date"
            ),
            "cycle_days_change": (
                "change in the median days from CreatedDate to CloseDate (won or lost; open deals "
                "censored at as_of) for opportunities created on/after vs before the date"
            ),
            "mql": f"a lead whose Pardot prospect (crm_lead_fid) has score >= {MQL_SCORE}",
        },
        "encodings": {
            "Account.csv": "cp1252",
            "*": "utf-8 (no BOM)",
            "pardot/prospects_export_ui.csv": "utf-8 with BOM",
        },
        "pardot_timezone": "Europe/Berlin",
    }


def load_truth(dataset: str = "demo") -> dict | None:
    """The CRM part of the demo's ``TRUTH.json``, or ``None`` for other datasets.

    Lets notebook 04 show whether its intervals cover the injected effects.

    Parameters
    ----------
    dataset : str
        ``"demo"``; anything else gives ``None``.

    Returns
    -------
    dict or None
    """
    import json

    from analysis.paths import dataset_dir

    if dataset != "demo":
        return None
    path = dataset_dir("demo") / "TRUTH.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("crm")
