"""Salesforce object specifications: the columns read from each Data Export file.

Data tables (one :class:`Field` per allow-listed column; the privacy allow-list in
:mod:`analysis.privacy` decides again while reading), the file names, the forecast
categories and Salesforce's default stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class Field:
    """One column of an export: API name, canonical name, value kind, required?"""

    api: str
    name: str
    kind: str  # id | bool | datetime | date | number | text | forecast
    required: bool = False


def _f(api: str, name: str, kind: str = "text", required: bool = False) -> Field:
    return Field(api, name, kind, required)


_COMMON_TAIL = (
    _f("CreatedDate", "created_date", "datetime", True),
    _f("LastModifiedDate", "last_modified_date", "datetime"),
    _f("SystemModstamp", "system_modstamp", "datetime"),
)

#: Columns read per object (a subset of privacy.ALLOWED_COLUMNS), in output order.
SPECS: dict[str, tuple[Field, ...]] = {
    "Opportunity": (
        _f("Id", "opportunity_id", "id", True),
        _f("IsDeleted", "is_deleted", "bool"),
        _f("AccountId", "account_id", "id"),
        _f("StageName", "stage_name", "text", True),
        _f("Amount", "amount", "number", True),
        _f("CurrencyIsoCode", "currency"),
        _f("CloseDate", "close_date", "date", True),
        _f("CreatedDate", "created_date", "datetime", True),
        _f("LeadSource", "lead_source"),
        _f("CampaignId", "campaign_id", "id"),
        _f("Type", "type"),
        _f("OwnerId", "owner_id", "id"),
        _f("ForecastCategory", "forecast_category", "forecast"),
        _f("Probability", "probability", "number"),
        _f("ContactId", "contact_id", "id"),
        _f("LastModifiedDate", "last_modified_date", "datetime"),
        _f("SystemModstamp", "system_modstamp", "datetime"),
    ),
    "OpportunityHistory": (
        _f("Id", "history_id", "id", True),
        _f("IsDeleted", "is_deleted", "bool"),
        _f("OpportunityId", "opportunity_id", "id", True),
        _f("CreatedDate", "created_date", "datetime", True),
        _f("StageName", "stage_name", "text", True),
        _f("Amount", "amount", "number"),
        _f("CloseDate", "close_date", "date"),
        _f("Probability", "probability", "number"),
        _f("ForecastCategory", "forecast_category", "forecast"),
        _f("PrevAmount", "prev_amount", "number"),
        _f("PrevCloseDate", "prev_close_date", "date"),
        _f("SystemModstamp", "system_modstamp", "datetime"),
    ),
    "Account": (
        _f("Id", "account_id", "id", True),
        _f("IsDeleted", "is_deleted", "bool"),
        _f("MasterRecordId", "master_record_id", "id"),
        _f("Name", "account_name"),
        _f("BillingPostalCode", "billing_postal_code"),
        _f("BillingCity", "billing_city"),
        _f("BillingState", "billing_state"),
        _f("BillingStateCode", "billing_state_code"),
        _f("BillingCountry", "billing_country"),
        _f("BillingCountryCode", "billing_country_code"),
        _f("Industry", "industry"),
        _f("NumberOfEmployees", "number_of_employees", "number"),
        _f("AnnualRevenue", "annual_revenue", "number"),
        _f("AccountSource", "account_source"),
        _f("Type", "type"),
        _f("ParentId", "parent_id", "id"),
        _f("OwnerId", "owner_id", "id"),
        *_COMMON_TAIL,
    ),
    "Lead": (
        _f("Id", "lead_id", "id", True),
        _f("IsDeleted", "is_deleted", "bool"),
        _f("MasterRecordId", "master_record_id", "id"),
        _f("Status", "status", "text", True),
        _f("LeadSource", "lead_source"),
        _f("IsConverted", "is_converted", "bool"),
        _f("ConvertedDate", "converted_date", "date"),
        _f("ConvertedAccountId", "converted_account_id", "id"),
        _f("ConvertedContactId", "converted_contact_id", "id"),
        _f("ConvertedOpportunityId", "converted_opportunity_id", "id"),
        _f("PostalCode", "postal_code"),
        _f("Country", "country"),
        _f("CountryCode", "country_code"),
        _f("Industry", "industry"),
        _f("NumberOfEmployees", "number_of_employees", "number"),
        _f("AnnualRevenue", "annual_revenue", "number"),
        _f("OwnerId", "owner_id", "id"),
        *_COMMON_TAIL,
    ),
    "Contact": (
        _f("Id", "contact_id", "id", True),
        _f("IsDeleted", "is_deleted", "bool"),
        _f("MasterRecordId", "master_record_id", "id"),
        _f("AccountId", "account_id", "id"),
        _f("LeadSource", "lead_source"),
        _f("OwnerId", "owner_id", "id"),
        *_COMMON_TAIL,
    ),
    "Campaign": (
        _f("Id", "campaign_id", "id", True),
        _f("IsDeleted", "is_deleted", "bool"),
        _f("Type", "campaign_type"),
        _f("Status", "status"),
        _f("StartDate", "start_date", "date"),
        _f("EndDate", "end_date", "date"),
        _f("BudgetedCost", "budgeted_cost", "number"),
        _f("ActualCost", "actual_cost", "number"),
        _f("IsActive", "is_active", "bool"),
        _f("ParentId", "parent_id", "id"),
        *_COMMON_TAIL,
    ),
    "CampaignMember": (
        _f("Id", "campaign_member_id", "id", True),
        _f("IsDeleted", "is_deleted", "bool"),
        _f("CampaignId", "campaign_id", "id", True),
        _f("LeadId", "lead_id", "id"),
        _f("ContactId", "contact_id", "id"),
        _f("Status", "status"),
        _f("HasResponded", "has_responded", "bool"),
        _f("CreatedDate", "created_date", "datetime", True),
        _f("FirstRespondedDate", "first_responded_date", "date"),
        _f("LastModifiedDate", "last_modified_date", "datetime"),
        _f("SystemModstamp", "system_modstamp", "datetime"),
    ),
    "OpportunityStage": (
        _f("Id", "stage_id", "id"),
        _f("ApiName", "api_name"),
        _f("MasterLabel", "master_label"),
        _f("IsActive", "is_active", "bool"),
        _f("SortOrder", "sort_order", "number"),
        _f("IsClosed", "is_closed", "bool", True),
        _f("IsWon", "is_won", "bool", True),
        _f("ForecastCategory", "forecast_category", "forecast"),
        _f("DefaultProbability", "default_probability", "number"),
    ),
    "CurrencyType": (
        _f("Id", "currency_type_id", "id"),
        _f("IsoCode", "iso_code", "text", True),
        _f("ConversionRate", "conversion_rate", "number", True),
        _f("IsCorporate", "is_corporate", "bool", True),
        _f("IsActive", "is_active", "bool"),
    ),
    "DatedConversionRate": (
        _f("Id", "dated_rate_id", "id"),
        _f("IsoCode", "iso_code", "text", True),
        _f("StartDate", "start_date", "date", True),
        _f("NextStartDate", "next_start_date", "date", True),
        _f("ConversionRate", "conversion_rate", "number", True),
    ),
    "User": (
        _f("Id", "user_id", "id", True),
        _f("IsActive", "is_active", "bool"),
        _f("UserRoleId", "user_role_id", "id"),
        _f("Department", "department"),
        _f("Division", "division"),
        _f("UserType", "user_type"),
    ),
    "UserRole": (
        _f("Id", "user_role_id", "id", True),
        _f("Name", "role_name", "text", True),
        _f("ParentRoleId", "parent_role_id", "id"),
    ),
}

#: File name of each object in a Data Export (matched case-insensitively).
FILES: dict[str, str] = {name: f"{name}.csv" for name in SPECS}

#: Objects whose Id is the record key (duplicates resolved on it).
KEYED = {
    "Opportunity",
    "OpportunityHistory",
    "Account",
    "Lead",
    "Contact",
    "Campaign",
    "CampaignMember",
    "User",
    "UserRole",
}

#: ``OpportunityHistory`` exports the forecast-category *labels*; Opportunity the API
#: values. Everything is mapped to the API vocabulary (German labels: [M], unverified).
FORECAST_CATEGORIES: dict[str, str] = {
    "pipeline": "Pipeline",
    "best case": "BestCase",
    "bestcase": "BestCase",
    "commit": "Forecast",
    "forecast": "Forecast",
    "most likely": "MostLikely",
    "mostlikely": "MostLikely",
    "omitted": "Omitted",
    "closed": "Closed",
    "bester fall": "BestCase",
    "zusage": "Forecast",
    "festgeschrieben": "Forecast",
    "ausgelassen": "Omitted",
    "abgeschlossen": "Closed",
}

#: Salesforce's default opportunity stages (used only without OpportunityStage.csv).
DEFAULT_STAGES = pd.DataFrame(
    [
        ("Prospecting", False, False, 1, 10.0, "Pipeline"),
        ("Qualification", False, False, 2, 10.0, "Pipeline"),
        ("Needs Analysis", False, False, 3, 20.0, "Pipeline"),
        ("Value Proposition", False, False, 4, 50.0, "Pipeline"),
        ("Id. Decision Makers", False, False, 5, 60.0, "Pipeline"),
        ("Perception Analysis", False, False, 6, 70.0, "Pipeline"),
        ("Proposal/Price Quote", False, False, 7, 75.0, "Pipeline"),
        ("Negotiation/Review", False, False, 8, 90.0, "Pipeline"),
        ("Closed Won", True, True, 9, 100.0, "Closed"),
        ("Closed Lost", True, False, 10, 0.0, "Omitted"),
    ],
    columns=[
        "stage_name",
        "is_closed",
        "is_won",
        "sort_order",
        "default_probability",
        "forecast_category",
    ],
).astype({"stage_name": "str", "forecast_category": "str", "sort_order": "float64"})
