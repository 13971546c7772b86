"""Marketing-sourced and -influenced pipeline under several definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.sales.common import (
    MARKETING_LEAD_SOURCES,
    MARKETING_RULES,
    as_bool,
    as_timestamp,
    present_ids,
)


def marketing_attribution(
    opportunities: pd.DataFrame,
    leads: pd.DataFrame,
    campaign_members: pd.DataFrame | None = None,
    *,
    marketing_sources: frozenset[str] = MARKETING_LEAD_SOURCES,
) -> pd.DataFrame:
    """Flag each opportunity under every rule of :data:`MARKETING_RULES`.

    Parameters
    ----------
    opportunities, leads : DataFrame
        Canonical frames; the link is ``leads.converted_opportunity_id``.
    campaign_members : DataFrame, optional
        For ``influenced``: a membership of the converted lead with
        ``has_responded`` and a ``first_responded_date`` (or, failing that,
        ``created_date``) on or before the opportunity's creation day.
    marketing_sources : frozenset of str
        Lower-case LeadSource values that count as marketing.

    Returns
    -------
    DataFrame
        ``opportunity_id, created_date`` and one boolean column per definition.
    """
    opp = opportunities[["opportunity_id", "created_date", "lead_source", "campaign_id"]].copy()
    opp["created_date"] = pd.to_datetime(opp["created_date"])
    source = opp["lead_source"].astype("string").fillna("").str.strip().str.lower()
    converted = leads.loc[present_ids(leads["converted_opportunity_id"])]
    lead_of_opp = converted.drop_duplicates("converted_opportunity_id").set_index(
        "converted_opportunity_id"
    )
    lead_id = opp["opportunity_id"].map(lead_of_opp["lead_id"])
    lead_source = (
        opp["opportunity_id"]
        .map(lead_of_opp["lead_source"])
        .astype("string")
        .fillna("")
        .str.strip()
        .str.lower()
    )
    flags = pd.DataFrame(
        {
            "opportunity_id": opp["opportunity_id"].to_numpy(),
            "created_date": opp["created_date"].to_numpy(),
            "campaign_source": present_ids(opp["campaign_id"]).to_numpy(),
            "lead_source": source.isin(marketing_sources).to_numpy(),
            "converted_lead": (lead_id.notna() & lead_source.isin(marketing_sources)).to_numpy(),
        }
    )
    flags["any_sourced"] = flags[["campaign_source", "lead_source", "converted_lead"]].any(axis=1)
    influenced = np.zeros(len(flags), dtype=bool)
    if campaign_members is not None and len(campaign_members):
        members = campaign_members.loc[as_bool(campaign_members["has_responded"]).to_numpy()]
        when = pd.to_datetime(members.get("first_responded_date"), errors="coerce")
        if "created_date" in members:
            when = when.fillna(pd.to_datetime(members["created_date"], errors="coerce"))
        first_touch = (
            pd.DataFrame({"lead_id": members["lead_id"].to_numpy(), "when": when.to_numpy()})
            .dropna()
            .groupby("lead_id")["when"]
            .min()
        )
        touch = lead_id.map(first_touch)
        influenced = (
            touch.notna() & (touch.dt.normalize() <= opp["created_date"].dt.normalize())
        ).to_numpy()
    flags["influenced"] = influenced
    return flags


def marketing_pipeline(
    opportunities: pd.DataFrame,
    attribution: pd.DataFrame,
    *,
    unification_date,
    as_of=None,
    amount_col: str = "amount_eur",
) -> pd.DataFrame:
    """Marketing's share of pipeline created before vs after, under every definition.

    Parameters
    ----------
    opportunities : DataFrame
        For the amounts.
    attribution : DataFrame
        From :func:`marketing_attribution`.
    unification_date, as_of : date-like
    amount_col : str

    Returns
    -------
    DataFrame
        ``definition, kind, period, n_opportunities, n_marketing, share_count,
        pipeline, marketing_pipeline, share_value`` (periods by creation date).
    """
    date = as_timestamp(unification_date, "unification_date")
    amounts = opportunities.set_index("opportunity_id")[amount_col]
    frame = attribution.assign(
        amount=pd.to_numeric(attribution["opportunity_id"].map(amounts), errors="coerce")
        .fillna(0.0)
        .to_numpy(),
        period=np.where(pd.to_datetime(attribution["created_date"]) < date, "pre", "post"),
    )
    if as_of is not None:
        frame = frame.loc[pd.to_datetime(frame["created_date"]) <= as_timestamp(as_of, "as_of")]
    rows = []
    for _, rule in MARKETING_RULES.iterrows():
        for period in ("pre", "post"):
            part = frame.loc[frame["period"] == period]
            flag = part[rule["definition"]].astype(bool)
            total = float(part["amount"].sum())
            marketing = float(part.loc[flag, "amount"].sum())
            rows.append(
                {
                    "definition": rule["definition"],
                    "kind": rule["kind"],
                    "period": period,
                    "n_opportunities": int(len(part)),
                    "n_marketing": int(flag.sum()),
                    "share_count": float(flag.mean()) if len(part) else np.nan,
                    "pipeline": total,
                    "marketing_pipeline": marketing,
                    "share_value": marketing / total if total else np.nan,
                }
            )
    return pd.DataFrame(rows)
