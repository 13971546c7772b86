"""The demo company's calendar, parameters and fixed vocabularies (the CRM truths).

Dates (:data:`GO_LIVE`, :data:`UNIFICATION_DATE`, :data:`AS_OF`), the knobs of the
generating process (:class:`CrmParameters`), seasonal effects, the stage table, teams,
lead sources, campaign types and industries, and the README section of the CRM part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GO_LIVE = pd.Timestamp("2020-10-01")
UNIFICATION_DATE = pd.Timestamp("2023-04-01")
AS_OF = pd.Timestamp("2025-12-31")
#: Pardot score from which a prospect counts as a marketing-qualified lead.
MQL_SCORE = 100
NULL_ID = "000000000000000AAA"

README_SECTION = """\
## `crm/` — Salesforce Data Export and Pardot prospect exports

A fictional software vendor's CRM from go-live (2020-10-01) to the snapshot
(2025-12-31); Sales and Marketing were united on 2023-04-01. One CSV per Salesforce
object in the Data Export format (every field quoted, API-name headers, booleans
`"0"`/`"1"`, `YYYY-MM-DD HH:MM:SS` in UTC, dates with ` 00:00:00`, 18-character Ids,
the null Id `000000000000000AAA`, LF, no BOM). `Account.csv` is cp1252 (as some
orgs export), the others UTF-8. `pardot/prospects_export_api.csv` is an export-API
file (snake_case, times in Europe/Berlin); `pardot/prospects_export_ui.csv` a UI
export (BOM, label headers, MM/DD/YYYY) of prospects never synced to Salesforce.
All people, e-mail addresses, phone numbers and notes are invented, and they are
there on purpose: no report may show them. `TRUTH.json["crm"]` holds the injected
effects (`win_rate_uplift`, `lead_conversion_uplift`, `cycle_days_change`) and their
exact definitions. About 15 % of the firms in `firms/hidden_champions.csv` are customers
under other spellings of their names (legal forms, umlauts, punctuation, abbreviations;
sometimes a neighbouring postcode in the same Kreis): `TRUTH.json["crm"]
["champion_customers"]` lists the true firm–account pairs, `champion_decoys` accounts
with look-alike names that are not those firms (another city, or another firm of the
same owner name in the same Kreis).
"""


@dataclass(frozen=True)
class CrmParameters:
    """The knobs of the generating process (their values are the truths).

    Win rates are proportions (0.06 = six percentage points). ``win_rate_base`` is
    the pre-unification level at the unification month without seasonality.
    """

    win_rate_base: float = 0.24
    win_rate_trend_per_month: float = 0.0005
    win_rate_uplift: float = 0.06
    win_rate_slope_change: float = 0.0
    transition_months: int = 2
    transition_dip: float = -0.04
    noise_ar: float = 0.3
    noise_sd: float = 0.012
    leads_per_month: float = 300.0
    leads_post_volume_factor: float = 1.1
    mql_rate: float = 0.5
    mql_to_opportunity_pre: float = 0.24
    mql_to_opportunity_post: float = 0.32
    convert_without_opportunity: float = 0.03
    direct_opportunities_per_month: float = 50.0
    cycle_shape: float = 2.0
    cycle_scale_pre: float = 40.0
    cycle_scale_post: float = 32.0
    migrated_accounts: int = 900
    share_deleted: float = 0.02


#: Month-of-year effect on the win rate (January..December; mean zero).
WIN_RATE_SEASON = np.array(
    [-0.01, -0.005, 0.01, 0.0, 0.0, 0.005, -0.015, -0.02, 0.0, 0.005, 0.005, 0.025]
)
#: Month-of-year factor on lead and opportunity volume.
VOLUME_SEASON = np.array([0.9, 1.0, 1.1, 1.05, 1.0, 0.95, 0.8, 0.75, 1.1, 1.15, 1.1, 0.9])

# Stage table: name, sort order, closed, won, default probability, forecast API, label.
STAGES = (
    ("Prospecting", 1, False, False, 10, "Pipeline", "Pipeline"),
    ("Qualification", 2, False, False, 20, "Pipeline", "Pipeline"),
    ("Needs Analysis", 3, False, False, 30, "Pipeline", "Pipeline"),
    ("Proposal/Price Quote", 4, False, False, 60, "BestCase", "Best Case"),
    ("Negotiation/Review", 5, False, False, 80, "Forecast", "Commit"),
    # Added with the new sales process at the unification date.
    ("Vertragsprüfung", 6, False, False, 90, "Forecast", "Commit"),
    ("Closed Won", 7, True, True, 100, "Closed", "Closed"),
    ("Closed Lost", 8, True, False, 0, "Omitted", "Omitted"),
)
STAGE_BY_NAME = {s[0]: s for s in STAGES}
OPEN_STAGES_PRE = [s[0] for s in STAGES[:5]]
OPEN_STAGES_POST = [s[0] for s in STAGES[:6]]

TEAMS = ("Vertrieb Nord", "Vertrieb Süd", "Vertrieb West", "Vertrieb Ost", "Key Account")
MARKETING_TEAM = "Marketing"
LEAD_SOURCES = (
    "Web",
    "Webinar",
    "Trade Show",
    "Advertisement",
    "Purchased List",
    "Partner Referral",
    "Employee Referral",
    "Other",
)
LEAD_SOURCE_P = np.array([0.28, 0.14, 0.16, 0.1, 0.08, 0.12, 0.06, 0.06])
CAMPAIGN_TYPES = ("Webinar", "Trade Show", "Email", "Advertisement", "Content Syndication")
INDUSTRIES = (
    "Machinery",
    "Manufacturing",
    "Electronics",
    "Chemicals",
    "Engineering",
    "Automotive",
    "Technology",
    "Healthcare",
    "Energy",
    "Transportation",
)
#: Products an opportunity is named after (and a lead is interested in).
PRODUCTS = ("Suite", "Analytics", "Cloud-Lizenz", "Wartungsvertrag", "Schulung", "Rollout")
