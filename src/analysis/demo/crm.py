"""Synthetic Salesforce Data Export and Pardot prospect exports for the demo dataset.

The demo company sells software to German firms. It went live on Salesforce on
:data:`GO_LIVE`, united Sales and Marketing in one team and one system on
:data:`UNIFICATION_DATE` and exported everything on :data:`AS_OF` (the snapshot).
:func:`write_part` writes ``out/crm/*.csv`` in the exact Data Export format
(every field double-quoted, API-name headers, booleans ``"0"``/``"1"``, datetimes
``YYYY-MM-DD HH:MM:SS`` in UTC, date fields with `` 00:00:00``, 18-character Ids
with valid checksums, the null-Id sentinel ``000000000000000AAA``, LF, no BOM)
and two Pardot prospect exports in ``out/crm/pardot/``, and returns the injected
truths for ``TRUTH.json["crm"]``.

The generating process, in the order the code follows it:

* **Leads** arrive every month (seasonal Poisson volume). Half become MQLs (their
  Pardot score is at least :data:`MQL_SCORE`); an MQL converts into an
  opportunity with probability ``mql_to_opportunity_pre`` before and
  ``mql_to_opportunity_post`` after the unification date (by the lead's creation
  date) after a Gamma-distributed delay; a conversion that would happen after the
  snapshot has not happened yet (right-censoring: young cohorts look worse).
* **Opportunities** come from converted leads (New Business) and from existing
  accounts (Existing Business). Each one's time from creation to close is
  Gamma-distributed with a scale that shrinks for opportunities created on or
  after the unification date; a deal that would close after the snapshot is
  open at the snapshot.
* **Outcome**: a deal closed in calendar month *m* is won with probability
  ``p_m = base + trend * t_m + uplift * post_m + season[moy(m)] + dip * transition_m + u_m``
  where ``t_m`` counts months from the unification month, ``post_m`` is 1 from the
  unification month on, ``transition_m`` is 1 in the first ``transition_months``
  months after it (migration disruption), and ``u_m`` is AR(1) noise. The outcome
  does not depend on the deal's age, so the monthly win rate of deals closed in
  the month follows the segmented-regression model exactly and
  ``win_rate_uplift`` is its level change (a difference of proportions).

Quirks a real export has: OpportunityHistory rows that repeat the previous stage
(amount, close-date and probability edits, about half the rows), slipping close
dates, a few backward stage moves, blank LeadSource (much more often before the
unification, when the fields were not mandatory), a Primary Campaign Source that
is set far more often after the unification (a measurement break), amounts in EUR
and CHF with dated conversion rates (the corporate currency is EUR), deleted rows,
merged accounts and leads (``MasterRecordId``), a few duplicated Ids, accounts
migrated in the go-live week, billing postcodes that are blank, foreign, or broken
(lost leading zero, ``D-`` prefix), account names with markup such as
``<script>alert(1)</script> GmbH``, and person data (names, emails, phones, free
text) that must never reach a report. ``Account.csv`` is written in cp1252 (the
admin's choice in the real org seen); every other file is UTF-8 without BOM. The
Pardot export-API file has snake_case headers, no BOM, quoted values with bare
empty fields (nulls) and datetimes in the exporting user's time zone
(Europe/Berlin); the UI export has a UTF-8 BOM, label
headers and ``MM/DD/YYYY`` dates and holds the prospects that were never synced to
Salesforce (so the two files do not overlap).

Header shapes follow the reference notes (``crm_formats.md``); the ``User`` and
``UserRole`` headers follow a real export's shape; the ``OpportunityStage`` and
``Contact`` column orders are assembled from the field reference and are
believed, not verified, to match an export.
"""

from __future__ import annotations

import csv
import functools
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "AS_OF",
    "README_SECTION",
    "GO_LIVE",
    "MQL_SCORE",
    "NULL_ID",
    "UNIFICATION_DATE",
    "CrmParameters",
    "champion_spelling",
    "link_champions",
    "load_truth",
    "read_champions",
    "salesforce_id18",
    "simulate",
    "truths",
    "write_part",
]

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

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


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
_STAGE = {s[0]: s for s in STAGES}
_OPEN_PRE = [s[0] for s in STAGES[:5]]
_OPEN_POST = [s[0] for s in STAGES[:6]]

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
_LEAD_SOURCE_P = np.array([0.28, 0.14, 0.16, 0.1, 0.08, 0.12, 0.06, 0.06])
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

# ----------------------------------------------------------------------- headers
# Verbatim Data Export headers (crm_formats.md, org A); "..."-elided tails are
# completed with standard fields and a few custom fields.
H_OPPORTUNITY = (
    "Id,IsDeleted,AccountId,IsPrivate,Name,Description,StageName,StageSortOrder,Amount,Probability,"
    "ExpectedRevenue,TotalOpportunityQuantity,CloseDate,Type,NextStep,LeadSource,IsClosed,IsWon,"
    "ForecastCategory,ForecastCategoryName,CurrencyIsoCode,CampaignId,HasOpportunityLineItem,"
    "Pricebook2Id,OwnerId,Territory2Id,IsExcludedFromTerritory2Filter,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate,LastStageChangeDate,FiscalYear,"
    "FiscalQuarter,ContactId,PrimaryPartnerAccountId,SyncedQuoteId,ContractId,"
    "LastAmountChangedHistoryId,LastCloseDateChangedHistoryId,Budget_Confirmed__c,"
    "Discovery_Completed__c,ROI_Analysis_Completed__c,BudgetConfirmed__c,Loss_Reason__c,Channel__c,"
    "ClosingPlan__c,DiscoveryCompleted__c,ForecastComments__c,LossReason__c,Opportunity_rating__c,"
    "Partner__c,ROIAnalysisCompleted__c"
).split(",")
H_HISTORY = (
    "Id,OpportunityId,CreatedById,CreatedDate,CreatedDateForInsert,StageName,Amount,ExpectedRevenue,"
    "CloseDate,Probability,FromForecastCategory,ForecastCategory,PrevForecastUpdate,"
    "FromOpportunityStageName,PrevOpportunityStageUpdate,CurrencyIsoCode,ValidThroughDate,"
    "SystemModstamp,IsDeleted,PrevAmount,PrevCloseDate"
).split(",")
H_ACCOUNT = (
    "Id,IsDeleted,MasterRecordId,Name,Type,RecordTypeId,ParentId,BillingStreet,BillingCity,"
    "BillingState,BillingPostalCode,BillingCountry,BillingStateCode,BillingCountryCode,"
    "BillingLatitude,BillingLongitude,BillingGeocodeAccuracy,ShippingStreet,ShippingCity,"
    "ShippingState,ShippingPostalCode,ShippingCountry,ShippingStateCode,ShippingCountryCode,"
    "ShippingLatitude,ShippingLongitude,ShippingGeocodeAccuracy,Phone,Fax,AccountNumber,Website,Sic,"
    "Industry,AnnualRevenue,NumberOfEmployees,Ownership,TickerSymbol,Description,Rating,Site,"
    "CurrencyIsoCode,OwnerId,CreatedDate,CreatedById,LastModifiedDate,LastModifiedById,"
    "SystemModstamp,LastActivityDate,IsExcludedFromRealign,Jigsaw,JigsawCompanyId,AccountSource,"
    "SicDesc,OperatingHoursId,Kundennummer__c,Segment__c"
).split(",")
H_LEAD = (
    "Id,IsDeleted,MasterRecordId,Salutation,FirstName,LastName,MiddleName,Suffix,RecordTypeId,Title,"
    "Company,Street,City,State,PostalCode,Country,StateCode,CountryCode,Latitude,Longitude,"
    "GeocodeAccuracy,Phone,MobilePhone,Fax,Email,Website,Description,LeadSource,Status,Industry,"
    "Rating,CurrencyIsoCode,AnnualRevenue,NumberOfEmployees,OwnerId,HasOptedOutOfEmail,IsConverted,"
    "ConvertedDate,ConvertedAccountId,ConvertedContactId,ConvertedOpportunityId,IsUnreadByOwner,"
    "CreatedDate,CreatedById,LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate,"
    "DoNotCall,HasOptedOutOfFax,LastTransferDate,Jigsaw,JigsawContactId,EmailBouncedReason,"
    "EmailBouncedDate,Pronouns,GenderIdentity,Produktinteresse__c"
).split(",")
H_CONTACT = (
    "Id,IsDeleted,MasterRecordId,AccountId,Salutation,FirstName,LastName,MiddleName,Suffix,"
    "RecordTypeId,OtherStreet,OtherCity,OtherState,OtherPostalCode,OtherCountry,OtherStateCode,"
    "OtherCountryCode,OtherLatitude,OtherLongitude,OtherGeocodeAccuracy,MailingStreet,MailingCity,"
    "MailingState,MailingPostalCode,MailingCountry,MailingStateCode,MailingCountryCode,"
    "MailingLatitude,MailingLongitude,MailingGeocodeAccuracy,Phone,Fax,MobilePhone,HomePhone,"
    "OtherPhone,AssistantPhone,ReportsToId,Email,Title,Department,AssistantName,LeadSource,"
    "Birthdate,Description,CurrencyIsoCode,OwnerId,HasOptedOutOfEmail,HasOptedOutOfFax,DoNotCall,"
    "CreatedDate,CreatedById,LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate"
).split(",")
H_CAMPAIGN = (
    "Id,IsDeleted,Name,ParentId,Type,Status,StartDate,EndDate,CurrencyIsoCode,ExpectedRevenue,"
    "BudgetedCost,ActualCost,ExpectedResponse,NumberSent,IsActive,Description,NumberOfLeads,"
    "NumberOfConvertedLeads,NumberOfContacts,NumberOfResponses,NumberOfOpportunities,"
    "NumberOfWonOpportunities,AmountAllOpportunities,AmountWonOpportunities,HierarchyNumberOfLeads,"
    "HierarchyNumberOfConvertedLeads,HierarchyNumberOfContacts,HierarchyNumberOfResponses,"
    "HierarchyNumberOfOpportunities,HierarchyNumberOfWonOpportunities,"
    "HierarchyAmountAllOpportunities,HierarchyAmountWonOpportunities,HierarchyNumberSent,"
    "HierarchyExpectedRevenue,HierarchyBudgetedCost,HierarchyActualCost,OwnerId,CreatedDate,"
    "CreatedById,LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate,"
    "CampaignMemberRecordTypeId"
).split(",")
H_CAMPAIGN_MEMBER = (
    "Id,IsDeleted,CampaignId,LeadId,ContactId,Status,HasResponded,IsPrimary,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,FirstRespondedDate,CurrencyIsoCode"
).split(",")
H_STAGE = (
    "Id,MasterLabel,ApiName,IsActive,SortOrder,IsClosed,IsWon,ForecastCategory,ForecastCategoryName,"
    "DefaultProbability,Description,CreatedById,CreatedDate,LastModifiedById,LastModifiedDate,"
    "SystemModstamp"
).split(",")
H_CURRENCY = (
    "Id,IsoCode,ConversionRate,DecimalPlaces,IsActive,IsCorporate,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp"
).split(",")
H_DATED_RATE = (
    "Id,IsoCode,StartDate,NextStartDate,ConversionRate,CreatedDate,CreatedById,LastModifiedDate,"
    "LastModifiedById,SystemModstamp"
).split(",")
H_USER = (
    "Id,Username,FirstName,LastName,MiddleName,Suffix,CompanyName,Division,Department,Title,Street,"
    "City,State,PostalCode,Country,StateCode,CountryCode,Latitude,Longitude,GeocodeAccuracy,Email,"
    "SenderEmail,SenderName,Signature,StayInTouchSubject,StayInTouchSignature,StayInTouchNote,Phone,"
    "Fax,MobilePhone,Alias,CommunityNickname,IsActive,IsSystemControlled,TimeZoneSidKey,UserRoleId,"
    "LocaleSidKey,ReceivesInfoEmails,ReceivesAdminInfoEmails,EmailEncodingKey,DefaultCurrencyIsoCode,"
    "CurrencyIsoCode,ProfileId,UserType,UserSubtype,StartDay,EndDay,LanguageLocaleKey,EmployeeNumber,"
    "DelegatedApproverId,ManagerId,LastLoginDate,LastPasswordChangeDate,CreatedDate,CreatedById,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,NumberOfFailedLogins,SuAccessExpirationDate,"
    "SuOrgAdminExpirationDate,OfflineTrialExpirationDate,WirelessTrialExpirationDate,"
    "OfflinePdaTrialExpirationDate,ForecastEnabled,ContactId,AccountId,CallCenterId,Extension,"
    "FederationIdentifier,AboutMe,LoginLimit,ProfilePhotoId,DigestFrequency,"
    "DefaultGroupNotificationFrequency,WorkspaceId,SharingType,ChatterAdoptionStage,"
    "ChatterAdoptionStageModifiedDate,BannerPhotoId,IsProfilePhotoActive,GlobalIdentity"
).split(",")
H_USER_ROLE = (
    "Id,Name,ParentRoleId,RollupDescription,OpportunityAccessForAccountOwner,"
    "CaseAccessForAccountOwner,ContactAccessForAccountOwner,ForecastUserId,MayForecastManagerShare,"
    "LastModifiedDate,LastModifiedById,SystemModstamp,PortalAccountId,PortalType,PortalRole,"
    "PortalAccountOwnerId"
).split(",")
# Pardot export API (v3/v4 prospect fields; the export leaves out grade and notes).
H_PARDOT_API = (
    "id,campaign_id,salutation,first_name,last_name,email,company,prospect_account_id,website,"
    "job_title,department,country,address_one,address_two,city,state,territory,zip,phone,fax,source,"
    "annual_revenue,employees,industry,years_in_business,comments,score,last_activity_at,"
    "recent_interaction,crm_lead_fid,crm_contact_fid,crm_owner_fid,crm_account_fid,crm_last_sync,"
    "crm_url,is_do_not_email,is_do_not_call,opted_out,is_reviewed,is_starred,created_at,updated_at"
).split(",")
# Pardot UI prospect export (verbatim label header).
H_PARDOT_UI = (
    "Prospect Id,First Name,Last Name,Email,Company,Last Activity Date,Campaign,Score,Grade,"
    "Job Title,Department,Country,City,Source,Industry,Do Not Email,Created Date,Owner,"
    "Lifecycle Stage,Created by Marketing"
).split(",")

# ------------------------------------------------------------------ fake people
_FIRST = (
    "Anna Lena Sophie Marie Laura Julia Katharina Sabine Petra Claudia Monika Andrea Birgit Jana "
    "Franziska Nicole Stefanie Melanie Christina Sandra Lukas Jonas Maximilian Felix Paul Thomas "
    "Michael Andreas Stefan Markus Christian Frank Jürgen Uwe Ralf Matthias Tobias Florian Sebastian "
    "Jörg Björn Sören Timo Dirk Holger"
).split()
_LAST = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
    "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange "
    "Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter "
    "Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich "
    "Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon "
    "Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel"
).split()
_COMPANY_STEMS = (
    "Nordwerk Südtec Rheinmetallbau Elbtal Weserland Alpina Harzer Spreetec Mainfränkische "
    "Bodensee Schwarzwald Allgäuer Lausitzer Emsland Ostfriesische Saalewerk Moselland Eifeler "
    "Taunus Odenwälder Vogtland Erzgebirgische Altmark Uckermark Hunsrück Sauerland Bergische "
    "Westfälische Fränkische Oberpfälzer Kraichgau Hohenloher Ammersee Chiemgauer Donau Isar Lech "
    "Neckar Fulda Werra Havel Oder Mulde Ilm Lahn Sieg Ruhr Lippe Aller Leine Innovatec Präzitec "
    "Feinwerk Hydrotec Thermotec Optotec Mechatron Sensortec Polytec Flexwerk Stahlbau Kunststoff"
).split()
_COMPANY_KINDS = (
    "Maschinenbau",
    "Präzisionstechnik",
    "Antriebstechnik",
    "Messtechnik",
    "Sensorik",
    "Automation",
    "Werkzeugbau",
    "Kunststofftechnik",
    "Medizintechnik",
    "Verpackungstechnik",
    "Oberflächentechnik",
    "Elektronik",
    "Fördertechnik",
    "Laborgeräte",
    "Filtertechnik",
    "Pumpenwerke",
    "Spezialchemie",
    "Industrieservice",
)
_LEGAL = (
    "GmbH",
    "GmbH",
    "GmbH",
    "GmbH & Co. KG",
    "GmbH & Co. KG",
    "AG",
    "SE",
    "KG",
    "e.K.",
    "mbH",
)
_MARKUP_NAMES = (
    "<script>alert(1)</script> GmbH",
    "<b>Fett</b> & Söhne GmbH",
    '"><img src=x onerror=alert(2)> AG',
)
_PRODUCTS = ("Suite", "Analytics", "Cloud-Lizenz", "Wartungsvertrag", "Schulung", "Rollout")
_SWISS = (("8001", "Zürich"), ("3011", "Bern"), ("4051", "Basel"), ("6003", "Luzern"))
_AUSTRIAN = (("1010", "Wien"), ("4020", "Linz"), ("5020", "Salzburg"))


# ------------------------------------------------------------------------- Ids


def _checksum(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for i, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def salesforce_id18(id15: str) -> str:
    """Extend a 15-character Salesforce Id with its 3-character case checksum.

    Parameters
    ----------
    id15 : str
        A case-sensitive 15-character Id.

    Returns
    -------
    str
        The 18-character, case-insensitive Id.

    Examples
    --------
    >>> salesforce_id18("0064600000J5S5T")
    '0064600000J5S5TAAV'
    """
    if len(id15) != 15:
        raise ValueError(f"expected a 15-character Id, got {id15!r}")
    return id15 + _checksum(id15)


def _ids(prefix: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct, increasing 18-character Ids with a key prefix."""
    start = int(rng.integers(62**5, 62**6))
    # Ids of one object increase with creation; a random stride keeps them irregular.
    numbers = start + np.cumsum(rng.integers(1, 40, size=count, dtype=np.int64))
    alphabet = np.frombuffer(_BASE62.encode(), dtype=np.uint8)
    digits = np.empty((count, 7), dtype=np.uint8)
    rest = numbers.copy()
    for pos in range(6, -1, -1):
        digits[:, pos] = alphabet[rest % 62]
        rest //= 62
    head = np.frombuffer(f"{prefix}8a000".encode(), dtype=np.uint8)
    chars = np.concatenate([np.broadcast_to(head, (count, head.size)), digits], axis=1)
    upper = (chars >= ord("A")) & (chars <= ord("Z"))
    bits = (upper.reshape(count, 3, 5) * (1 << np.arange(5))).sum(axis=2)
    check = np.frombuffer(_CHECKSUM_ALPHABET.encode(), dtype=np.uint8)[bits]
    full = np.ascontiguousarray(np.concatenate([chars, check], axis=1))
    return full.view("S18").ravel().astype(str).astype(object)


# ---------------------------------------------------------------- formatting


def _dt(values) -> np.ndarray:
    """Datetimes as ``YYYY-MM-DD HH:MM:SS`` (NaT becomes an empty string)."""
    arr = np.asarray(values, dtype="datetime64[s]")
    text = np.strings.replace(np.datetime_as_string(arr, unit="s"), "T", " ")
    return np.where(np.isnat(arr), "", text).astype(object)


def _date(values) -> np.ndarray:
    """Date fields as Data Export writes them: ``YYYY-MM-DD 00:00:00``."""
    arr = np.asarray(values, dtype="datetime64[D]")
    text = np.strings.add(np.datetime_as_string(arr, unit="D"), " 00:00:00")
    return np.where(np.isnat(arr), "", text).astype(object)


def _bool(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "1", "0").astype(object)


def _num(values, decimals: int = 2) -> np.ndarray:
    """Numbers without trailing zeros (``15000``, ``1234.5``); NaN becomes empty."""
    v = np.round(np.asarray(values, dtype=float), decimals)
    missing = np.isnan(v)
    v = np.where(missing, 0.0, v) + 0.0  # + 0.0 turns -0.0 into 0.0
    whole = v == np.floor(v)
    text = v.astype(np.int64).astype(str).astype(object)
    text[~whole] = v[~whole].astype(str)  # shortest round-trip repr, e.g. 1234.5
    text[missing] = ""
    return text


def _write_csv(
    path: Path,
    header: list[str],
    columns: dict[str, object],
    n: int,
    *,
    encoding: str = "utf-8",
    quoting: str = "all",
    bom: bool = False,
) -> int:
    """Write one export file; columns not given are written empty. Returns row count.

    Data Export files (every field quoted) go through pyarrow's CSV writer, which
    is several times faster than :mod:`csv`; the Pardot files use :mod:`csv`.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    unknown = set(columns) - set(header)
    if unknown:  # a typo here would silently drop a column
        raise KeyError(f"{path.name}: columns not in header: {sorted(unknown)}")
    empty = np.full(n, "", dtype=object)
    cols = []
    for name in header:
        value = columns.get(name, empty)
        if isinstance(value, str):
            value = np.full(n, value, dtype=object)
        if len(value) != n:
            raise ValueError(f"{path.name}: column {name} has {len(value)} rows, expected {n}")
        cols.append(value)
    if quoting in ("all", "values"):
        if quoting == "values":  # quote values, write empty ones bare: ,,
            cols = [np.where(np.asarray(c, dtype=object) == "", None, c) for c in cols]
        table = pa.table([pa.array(c, type=pa.string()) for c in cols], names=header)
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(quoting_style="all_valid", quoting_header="all_valid")
        pacsv.write_csv(table, sink, options)
        data = sink.getvalue().to_pybytes()
        if encoding.lower().replace("-", "") != "utf8":
            data = data.decode("utf-8").encode(encoding)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return n
    with open(path, "w", encoding=encoding, newline="") as handle:
        if bom:
            handle.write("\ufeff")
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*cols, strict=True))
    return n


# ---------------------------------------------------------------- simulation


@dataclass
class _Tables:
    """Raw export tables: object name -> (header, columns, row count, options)."""

    files: dict[str, tuple[list[str], dict[str, object], int, dict]]
    truth: dict


def _months(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS")


def _month_index(dates: np.ndarray, origin: pd.Timestamp) -> np.ndarray:
    """Whole months from ``origin``'s month to each date's month."""
    d = np.asarray(dates, dtype="datetime64[M]").astype(int)
    return d - np.datetime64(origin.to_period("M").to_timestamp(), "M").astype(int)


def _win_probabilities(params: CrmParameters, months: pd.DatetimeIndex, rng) -> np.ndarray:
    t = _month_index(months.values, UNIFICATION_DATE)
    post = (t >= 0).astype(float)
    transition = ((t >= 0) & (t < params.transition_months)).astype(float)
    noise = np.empty(len(months))
    sd_stationary = params.noise_sd / np.sqrt(1 - params.noise_ar**2)
    noise[0] = rng.normal(0, sd_stationary)
    innovations = rng.normal(0, params.noise_sd, len(months))
    for i in range(1, len(months)):
        noise[i] = params.noise_ar * noise[i - 1] + innovations[i]
    p = (
        params.win_rate_base
        + params.win_rate_trend_per_month * t
        + params.win_rate_uplift * post
        + params.win_rate_slope_change * t * post
        + WIN_RATE_SEASON[months.month.values - 1]
        + params.transition_dip * transition
        + noise
    )
    return np.clip(p, 0.01, 0.99)


def _random_times(rng, month_starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Random business-hour datetimes (UTC) inside the given months."""
    starts = np.repeat(month_starts.astype("datetime64[s]"), counts)
    days_in_month = (
        (np.repeat(month_starts.astype("datetime64[M]"), counts) + 1).astype("datetime64[D]")
        - np.repeat(month_starts.astype("datetime64[D]"), counts)
    ).astype(int)
    day = np.floor(rng.random(starts.size) * days_in_month).astype(int)
    second = rng.integers(6 * 3600, 17 * 3600, size=starts.size)
    return starts + (day * 86400 + second).astype("timedelta64[s]")


def _plz_sampler(geo):
    """Postcodes with weights (Kreis employees spread over the Kreis' postcodes)."""
    plz = geo.plz[["plz", "kreis_ags", "ort", "share"]].copy()
    weight = plz["share"].astype(float)
    kreise = getattr(geo, "kreise", None)
    if kreise is not None and "employees" in kreise.columns:
        employees = kreise.set_index("ags")["employees"].astype(float)
        per_plz = plz.groupby("kreis_ags")["plz"].transform("size").astype(float)
        weight = weight * plz["kreis_ags"].map(employees).fillna(0).to_numpy() / per_plz
    weight = weight.to_numpy(dtype=float)
    if weight.sum() <= 0:
        weight = np.ones(len(plz))
    return plz.reset_index(drop=True), weight / weight.sum()


def _company_names(rng, n: int) -> np.ndarray:
    pattern = rng.integers(0, 3, size=n)
    stem = rng.choice(_COMPANY_STEMS, size=n)
    last = rng.choice(_LAST, size=n)
    kind = rng.choice(_COMPANY_KINDS, size=n)
    legal = rng.choice(_LEGAL, size=n)
    names = np.where(
        pattern == 0,
        np.char.add(np.char.add(np.char.add(last.astype(str), " "), kind.astype(str)), " "),
        np.where(
            pattern == 1,
            np.char.add(np.char.add(np.char.add(stem.astype(str), " "), kind.astype(str)), " "),
            np.char.add(
                np.char.add(np.char.add(last.astype(str), " & "), rng.choice(_LAST, n)), " "
            ),
        ),
    )
    return np.char.add(names, legal.astype(str)).astype(object)


@functools.lru_cache(maxsize=4096)
def _slug(text: str) -> str:
    table = str.maketrans(
        {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
    )
    base = text.translate(table).lower()
    return "".join(c for c in base if c.isalnum())[:20] or "firma"


def _people(rng, n: int, companies: np.ndarray) -> dict[str, np.ndarray]:
    first = rng.choice(_FIRST, size=n)
    last = rng.choice(_LAST, size=n)
    female = np.isin(first, _FIRST[:20])
    domains = np.array([_slug(c.split(" ")[0]) for c in companies], dtype=object)
    email = np.array(
        [
            f"{_slug(f)}.{_slug(s)}@{d}.example"
            for f, s, d in zip(first, last, domains, strict=True)
        ],
        dtype=object,
    )
    phone = np.array(
        [
            f"+49 {a} {b}"
            for a, b in zip(rng.integers(30, 999, n), rng.integers(100000, 9999999, n), strict=True)
        ],
        dtype=object,
    )
    mobile = np.array(
        [
            f"+49 15{a} {b}"
            for a, b in zip(rng.integers(1, 9, n), rng.integers(1000000, 9999999, n), strict=True)
        ],
        dtype=object,
    )
    return {
        "first": first.astype(object),
        "last": last.astype(object),
        "salutation": np.where(female, "Frau", "Herr").astype(object),
        "email": email,
        "phone": phone,
        "mobile": mobile,
    }


def simulate(
    geo, seed: int, params: CrmParameters | None = None, champions: pd.DataFrame | None = None
) -> _Tables:
    """Simulate the CRM of the demo company (see the module docstring).

    Parameters
    ----------
    geo : Geography
        The demo geography (``geo.plz`` with ``plz, kreis_ags, ort, share``; if
        ``geo.kreise`` has ``ags`` and ``employees``, accounts follow employment).
    seed : int
        Demo seed; the part's generator is seeded with ``(seed, crc32("crm"))``.
    params : CrmParameters, optional
        The generating process's parameters (defaults are the documented truths).
    champions : DataFrame, optional
        The demo firm list (``firm_id, name, plz, city``; :func:`read_champions`):
        some become customers under other spellings (see :func:`link_champions`).

    Returns
    -------
    _Tables
        Export tables ready to write, and the truth dictionary.
    """
    params = params or CrmParameters()
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(b"crm")]))
    as_of_end = np.datetime64(AS_OF + pd.Timedelta(hours=23, minutes=59), "s")
    unif = np.datetime64(UNIFICATION_DATE, "s")
    months = _months(GO_LIVE, AS_OF)
    moy = months.month.values - 1
    files: dict[str, tuple[list[str], dict[str, object], int, dict]] = {}

    # ---- users and roles: reps by team, marketing, an admin and an integration user
    role_names = (*TEAMS, MARKETING_TEAM, "Geschäftsführung")
    role_ids = _ids("00E", len(role_names), rng)
    team_sizes = {
        "Vertrieb Nord": 5,
        "Vertrieb Süd": 5,
        "Vertrieb West": 5,
        "Vertrieb Ost": 5,
        "Key Account": 5,
        "Marketing": 5,
    }
    user_team = [team for team, k in team_sizes.items() for _ in range(k)] + [
        "Geschäftsführung",
        "",
    ]
    n_users = len(user_team)
    user_ids = _ids("005", n_users, rng)
    admin_id = user_ids[-1]
    user_people = _people(rng, n_users, np.full(n_users, "demo-software", dtype=object))
    role_of = dict(zip(role_names, role_ids, strict=True))
    files["UserRole"] = (
        H_USER_ROLE,
        {
            "Id": role_ids,
            "Name": np.array(role_names, dtype=object),
            "ParentRoleId": np.array(
                [role_ids[-1]] * (len(role_names) - 1) + [NULL_ID], dtype=object
            ),
            "RollupDescription": np.array(role_names, dtype=object),
            "OpportunityAccessForAccountOwner": "Edit",
            "CaseAccessForAccountOwner": "Edit",
            "ContactAccessForAccountOwner": "Edit",
            "ForecastUserId": NULL_ID,
            "MayForecastManagerShare": "0",
            "LastModifiedDate": _dt([GO_LIVE] * len(role_names)),
            "LastModifiedById": admin_id,
            "SystemModstamp": _dt([GO_LIVE] * len(role_names)),
            "PortalType": "None",
        },
        len(role_names),
        {},
    )
    sales_users = np.array(
        [u for u, t in zip(user_ids, user_team, strict=True) if t in TEAMS], dtype=object
    )
    marketing_users = np.array(
        [u for u, t in zip(user_ids, user_team, strict=True) if t == MARKETING_TEAM], dtype=object
    )
    usernames = np.array(
        [
            f"{_slug(f)}.{_slug(s)}@demo-software.example"
            for f, s in zip(user_people["first"], user_people["last"], strict=True)
        ],
        dtype=object,
    )
    usernames[-1] = "integration@demo-software.example"
    files["User"] = (
        H_USER,
        {
            "Id": user_ids,
            "Username": usernames,
            "FirstName": user_people["first"],
            "LastName": user_people["last"],
            "CompanyName": "Demo Software GmbH",
            "Department": np.array(user_team, dtype=object),
            "Title": np.array(
                ["Account Executive" if t in TEAMS else t for t in user_team], dtype=object
            ),
            "City": "Göttingen",
            "Country": "DE",
            "Email": usernames,
            "Phone": user_people["phone"],
            "MobilePhone": user_people["mobile"],
            "Alias": np.array(
                [
                    f"{f[:1]}{s[:4]}".lower()
                    for f, s in zip(user_people["first"], user_people["last"], strict=True)
                ],
                dtype=object,
            ),
            "CommunityNickname": usernames,
            "IsActive": "1",
            "IsSystemControlled": "0",
            "TimeZoneSidKey": "Europe/Berlin",
            "UserRoleId": np.array([role_of.get(t, NULL_ID) for t in user_team], dtype=object),
            "LocaleSidKey": "de_DE",
            "ReceivesInfoEmails": "0",
            "ReceivesAdminInfoEmails": "0",
            "EmailEncodingKey": "UTF-8",
            "DefaultCurrencyIsoCode": "EUR",
            "CurrencyIsoCode": "EUR",
            "UserType": "Standard",
            "LanguageLocaleKey": "de",
            "DelegatedApproverId": NULL_ID,
            "ManagerId": NULL_ID,
            "CreatedDate": _dt([GO_LIVE] * n_users),
            "CreatedById": admin_id,
            "LastModifiedDate": _dt([GO_LIVE] * n_users),
            "LastModifiedById": admin_id,
            "SystemModstamp": _dt([GO_LIVE] * n_users),
            "ForecastEnabled": "0",
            "ContactId": NULL_ID,
            "AccountId": NULL_ID,
            "IsProfilePhotoActive": "0",
        },
        n_users,
        {},
    )

    # ---- currencies: EUR corporate; CHF per 1 EUR drifting down, quarterly dated rates
    quarters = pd.date_range(GO_LIVE, AS_OF, freq="QS")
    chf_rates = np.round(
        1.08 - 0.03 * np.arange(len(quarters)) / 4 + rng.normal(0, 0.01, len(quarters)), 6
    )
    usd_rates = np.round(
        1.15 - 0.01 * np.arange(len(quarters)) / 4 + rng.normal(0, 0.02, len(quarters)), 6
    )
    dated = []  # (iso, start, next_start, rate)
    for iso, rates in (("EUR", None), ("CHF", chf_rates), ("USD", usd_rates)):
        if rates is None:
            dated.append((iso, "0001-01-01", "9999-12-31", 1.0))
            continue
        # Salesforce keeps an open-ended first and last period.
        dated.append((iso, "0001-01-01", str(quarters[0].date()), float(rates[0])))
        for i, start in enumerate(quarters):
            nxt = str(quarters[i + 1].date()) if i + 1 < len(quarters) else "9999-12-31"
            dated.append((iso, str(start.date()), nxt, float(rates[i])))
    n_dated = len(dated)
    files["DatedConversionRate"] = (
        H_DATED_RATE,
        {
            "Id": _ids("04w", n_dated, rng),
            "IsoCode": np.array([d[0] for d in dated], dtype=object),
            "StartDate": np.array([d[1] + " 00:00:00" for d in dated], dtype=object),
            "NextStartDate": np.array([d[2] + " 00:00:00" for d in dated], dtype=object),
            "ConversionRate": _num([d[3] for d in dated], 6),
            "CreatedDate": _dt([GO_LIVE] * n_dated),
            "CreatedById": admin_id,
            "LastModifiedDate": _dt([GO_LIVE] * n_dated),
            "LastModifiedById": admin_id,
            "SystemModstamp": _dt([GO_LIVE] * n_dated),
        },
        n_dated,
        {},
    )
    files["CurrencyType"] = (
        H_CURRENCY,
        {
            "Id": _ids("02A", 3, rng),
            "IsoCode": np.array(["EUR", "CHF", "USD"], dtype=object),
            "ConversionRate": _num([1.0, chf_rates[-1], usd_rates[-1]], 6),
            "DecimalPlaces": "2",
            "IsActive": "1",
            "IsCorporate": np.array(["1", "0", "0"], dtype=object),
            "CreatedDate": _dt([GO_LIVE] * 3),
            "CreatedById": admin_id,
            "LastModifiedDate": _dt([AS_OF - pd.Timedelta(days=80)] * 3),
            "LastModifiedById": admin_id,
            "SystemModstamp": _dt([AS_OF - pd.Timedelta(days=80)] * 3),
        },
        3,
        {},
    )
    quarter_starts = quarters.values.astype("datetime64[D]")

    def chf_rate_at(dates: np.ndarray) -> np.ndarray:
        idx = (
            np.searchsorted(quarter_starts, np.asarray(dates, dtype="datetime64[D]"), side="right")
            - 1
        )
        return chf_rates[np.clip(idx, 0, len(chf_rates) - 1)]

    # ---- stages
    n_stages = len(STAGES)
    stage_created = [GO_LIVE] * 5 + [UNIFICATION_DATE] + [GO_LIVE] * 2
    files["OpportunityStage"] = (
        H_STAGE,
        {
            "Id": _ids("01J", n_stages, rng),
            "MasterLabel": np.array([s[0] for s in STAGES], dtype=object),
            "ApiName": np.array([s[0] for s in STAGES], dtype=object),
            "IsActive": "1",
            "SortOrder": np.array([str(s[1]) for s in STAGES], dtype=object),
            "IsClosed": _bool([s[2] for s in STAGES]),
            "IsWon": _bool([s[3] for s in STAGES]),
            "ForecastCategory": np.array([s[5] for s in STAGES], dtype=object),
            "ForecastCategoryName": np.array([s[6] for s in STAGES], dtype=object),
            "DefaultProbability": np.array([str(s[4]) for s in STAGES], dtype=object),
            "CreatedById": admin_id,
            "CreatedDate": _dt(stage_created),
            "LastModifiedById": admin_id,
            "LastModifiedDate": _dt(stage_created),
            "SystemModstamp": _dt(stage_created),
        },
        n_stages,
        {},
    )

    # ---- campaigns: three to five per quarter, lasting one to three months
    camp_starts, camp_types = [], []
    for q in quarters:
        k = int(rng.integers(3, 6))
        for _ in range(k):
            camp_starts.append(np.datetime64(q, "D") + int(rng.integers(0, 80)))
            camp_types.append(CAMPAIGN_TYPES[int(rng.integers(0, len(CAMPAIGN_TYPES)))])
    camp_starts = np.array(camp_starts, dtype="datetime64[D]")
    order = np.argsort(camp_starts, kind="stable")
    camp_starts = camp_starts[order]
    camp_types = np.array(camp_types, dtype=object)[order]
    n_camp = len(camp_starts)
    camp_ends = camp_starts + rng.integers(30, 95, size=n_camp).astype("timedelta64[D]")
    camp_ids = _ids("701", n_camp, rng)
    camp_cost = np.round(rng.gamma(2.0, 6000.0, size=n_camp), -1)

    # ---- leads
    lead_lambda = (
        params.leads_per_month
        * VOLUME_SEASON[moy]
        * np.where(months >= UNIFICATION_DATE, params.leads_post_volume_factor, 1.0)
    )
    lead_counts = rng.poisson(lead_lambda)
    lead_created = _random_times(rng, months.values, lead_counts)
    lead_created = np.minimum(lead_created, as_of_end - np.timedelta64(3600, "s"))
    n_leads = lead_created.size
    lead_post = lead_created >= unif
    is_mql = rng.random(n_leads) < params.mql_rate
    p_convert = np.where(lead_post, params.mql_to_opportunity_post, params.mql_to_opportunity_pre)
    u = rng.random(n_leads)
    would_convert = is_mql & (u < p_convert)
    # Converted to an account and contact but without an opportunity (not a funnel step).
    would_convert_no_opp = (
        is_mql & ~would_convert & (u < p_convert + params.convert_without_opportunity)
    )
    delay_s = (rng.gamma(2.0, 10.0, size=n_leads) * 86400).astype("int64").astype("timedelta64[s]")
    converted_at = lead_created + delay_s + np.timedelta64(3600, "s")
    converted = (would_convert | would_convert_no_opp) & (converted_at <= as_of_end)
    converted_with_opp = converted & would_convert
    dq_at = lead_created + (rng.gamma(2.0, 15.0, size=n_leads) * 86400).astype("int64").astype(
        "timedelta64[s]"
    )
    disqualified = ~(would_convert | would_convert_no_opp) & (dq_at <= as_of_end)
    touched = rng.random(n_leads) < 0.6
    status = np.where(
        converted,
        "Closed - Converted",
        np.where(
            disqualified,
            "Closed - Not Converted",
            np.where(touched, "Working - Contacted", "Open - Not Contacted"),
        ),
    ).astype(object)
    source = rng.choice(LEAD_SOURCES, size=n_leads, p=_LEAD_SOURCE_P).astype(object)
    # LeadSource was optional before the unification; mandatory afterwards (mostly).
    blank_source = rng.random(n_leads) < np.where(lead_post, 0.05, 0.3)
    source = np.where(blank_source, "", source).astype(object)
    lead_ids = _ids("00Q", n_leads, rng)
    lead_owner_sales = rng.choice(sales_users, size=n_leads)
    lead_owner = np.where(
        (~lead_post) & (rng.random(n_leads) < 0.5),
        rng.choice(marketing_users, size=n_leads),
        lead_owner_sales,
    ).astype(object)

    # ---- accounts: migrated at go-live, then one per converted lead (most of the time)
    plz_table, plz_weight = _plz_sampler(geo)
    conv_idx = np.flatnonzero(converted)
    new_account_for = conv_idx[rng.random(conv_idx.size) < 0.8]
    n_mig = params.migrated_accounts
    n_acc = n_mig + new_account_for.size
    acc_created = np.empty(n_acc, dtype="datetime64[s]")
    acc_created[:n_mig] = np.datetime64(GO_LIVE, "s") + rng.integers(0, 5 * 86400, n_mig).astype(
        "timedelta64[s]"
    )
    acc_created[n_mig:] = converted_at[new_account_for]
    acc_order = np.argsort(acc_created, kind="stable")
    # Ids follow creation order; remember where each converted lead's account went.
    acc_created = acc_created[acc_order]
    rank = np.empty(n_acc, dtype=int)
    rank[acc_order] = np.arange(n_acc)
    acc_ids = _ids("001", n_acc, rng)
    acc_names = _company_names(rng, n_acc)
    markup_at = rng.choice(n_acc, size=len(_MARKUP_NAMES), replace=False)
    acc_names[markup_at] = np.array(_MARKUP_NAMES, dtype=object)
    acc_industry = rng.choice(INDUSTRIES, size=n_acc).astype(object)
    acc_employees = np.round(np.exp(rng.normal(5.0, 1.1, n_acc))).astype(int) + 5
    acc_owner_idx = rng.integers(0, sales_users.size, n_acc)
    acc_owner = sales_users[acc_owner_idx]
    pick = rng.choice(len(plz_table), size=n_acc, p=plz_weight)
    acc_plz = plz_table["plz"].to_numpy(dtype=object)[pick].copy()
    acc_city = plz_table["ort"].to_numpy(dtype=object)[pick].copy()
    acc_kreis = plz_table["kreis_ags"].to_numpy(dtype=object)[pick].copy()
    acc_country = rng.choice(
        np.array(["Deutschland", "Germany", "DE", "Deutschland"], dtype=object), size=n_acc
    )
    acc_country_code = np.full(n_acc, "DE", dtype=object)
    acc_currency = np.full(n_acc, "EUR", dtype=object)
    kind = rng.random(n_acc)
    swiss = kind < 0.05
    austrian = (kind >= 0.05) & (kind < 0.07)
    blank_plz = (kind >= 0.07) & (kind < 0.10)
    broken_plz = (kind >= 0.10) & (kind < 0.13)
    for mask, places, country, code, curr in (
        (swiss, _SWISS, "Schweiz", "CH", "CHF"),
        (austrian, _AUSTRIAN, "Österreich", "AT", "EUR"),
    ):
        which = rng.integers(0, len(places), size=mask.sum())
        acc_plz[mask] = np.array([places[i][0] for i in which], dtype=object)
        acc_city[mask] = np.array([places[i][1] for i in which], dtype=object)
        acc_country[mask] = country
        acc_country_code[mask] = code
        acc_currency[mask] = curr
        acc_kreis[mask] = ""
    acc_plz[blank_plz] = ""
    acc_kreis[blank_plz] = ""
    # Broken postcodes: a leading zero lost in Excel, a "D-" prefix, the city in the field.
    broken = np.flatnonzero(broken_plz)
    for j, i in enumerate(broken):
        code = acc_plz[i]
        style = j % 3
        if style == 0:
            acc_plz[i] = code.lstrip("0") or code[1:]
        elif style == 1:
            acc_plz[i] = f"D-{code}"
        else:
            acc_plz[i] = f"{code} {acc_city[i]}"
    acc_type = np.full(n_acc, "Prospect", dtype=object)
    acc_source = np.where(np.arange(n_acc) < n_mig, "Altsystem", "").astype(object)

    # Lead -> account mapping (existing accounts are picked among older ones).
    lead_account = np.full(n_leads, -1, dtype=int)
    is_new = np.zeros(n_leads, dtype=bool)
    is_new[new_account_for] = True
    lead_account[new_account_for] = rank[n_mig + np.arange(new_account_for.size)]
    old_for = conv_idx[~is_new[conv_idx]]
    n_before = np.searchsorted(acc_created, converted_at[old_for], side="left")
    lead_account[old_for] = np.floor(rng.random(old_for.size) * np.maximum(n_before, 1)).astype(int)
    # Account source and country of accounts created from leads.
    for i in new_account_for:
        acc_source[lead_account[i]] = source[i]

    # ---- opportunities: from converted leads and from existing accounts
    opp_lead = np.flatnonzero(converted_with_opp)
    direct_counts = rng.poisson(params.direct_opportunities_per_month * VOLUME_SEASON[moy])
    direct_created = _random_times(rng, months.values, direct_counts)
    direct_created = direct_created[direct_created <= as_of_end]
    n_direct = direct_created.size
    direct_account = np.floor(
        rng.random(n_direct)
        * np.maximum(np.searchsorted(acc_created, direct_created, side="left"), 1)
    ).astype(int)
    created = np.concatenate([converted_at[opp_lead] + np.timedelta64(60, "s"), direct_created])
    account = np.concatenate([lead_account[opp_lead], direct_account])
    from_lead = np.concatenate([opp_lead, np.full(n_direct, -1)])
    order = np.argsort(created, kind="stable")
    created, account, from_lead = created[order], account[order], from_lead[order]
    n_opp = created.size
    opp_ids = _ids("006", n_opp, rng)
    new_business = from_lead >= 0
    opp_type = np.where(new_business, "New Business", "Existing Business").astype(object)
    opp_type = np.where(rng.random(n_opp) < 0.15, "", opp_type).astype(object)
    opp_post = created >= unif
    scale = np.where(opp_post, params.cycle_scale_post, params.cycle_scale_pre)
    cycle_days = rng.gamma(params.cycle_shape, scale)
    close_dt = created + (cycle_days * 86400).astype("int64").astype("timedelta64[s]")
    close_date = close_dt.astype("datetime64[D]")
    is_closed = close_date <= np.datetime64(AS_OF, "D")
    p_month = _win_probabilities(params, months, rng)
    close_m = np.clip(_month_index(close_date, GO_LIVE), 0, len(months) - 1)
    is_won = is_closed & (rng.random(n_opp) < p_month[close_m])
    amount_eur = np.round(
        np.exp(rng.normal(np.where(new_business, np.log(22000), np.log(12000)), 0.8)), -1
    )
    opp_currency = acc_currency[account]
    rate_date = np.where(is_closed, close_date, np.datetime64(AS_OF, "D"))
    rate = np.where(opp_currency == "CHF", chf_rate_at(rate_date), 1.0)
    amount = np.round(amount_eur * rate, 0)
    opp_owner = acc_owner[account].copy()
    # The account moves to "Customer" once it wins a deal.
    acc_type[np.unique(account[is_won])] = "Customer"
    lead_of_opp = from_lead
    opp_source = np.where(new_business, source[np.maximum(lead_of_opp, 0)], "").astype(object)
    direct_source = rng.choice(
        np.array(["", "", "", "Existing Customer", "Partner Referral"], dtype=object), size=n_opp
    )
    opp_source = np.where(new_business, opp_source, direct_source).astype(object)
    opp_deleted = rng.random(n_opp) < params.share_deleted

    # ---- campaign members: leads join campaigns that run around their creation
    lead_day = lead_created.astype("datetime64[D]")
    first_active = np.searchsorted(camp_ends, lead_day, side="left")
    n_memberships = rng.poisson(np.where(is_mql, 1.6, 0.9))
    # Campaigns running when the lead came in (or the last few before it).
    hi = np.searchsorted(camp_starts, lead_day, side="right")
    lo = np.minimum(first_active, np.maximum(hi - 3, 0))
    width = hi - lo
    m_lead = np.repeat(np.arange(n_leads), np.where(width > 0, n_memberships, 0))
    m_camp = lo[m_lead] + np.floor(rng.random(m_lead.size) * width[m_lead]).astype(int)
    # A lead is a member of a campaign once.
    pairs = np.unique(np.stack([m_lead, m_camp], axis=1), axis=0)
    m_lead, m_camp = pairs[:, 0], pairs[:, 1]
    n_mem = m_lead.size
    mem_created = lead_created[m_lead] - rng.integers(0, 10 * 86400, n_mem).astype("timedelta64[s]")
    responded = rng.random(n_mem) < np.where(is_mql[m_lead], 0.7, 0.35)
    first_resp = (mem_created + rng.integers(0, 12 * 86400, n_mem).astype("timedelta64[s]")).astype(
        "datetime64[D]"
    )
    responded &= first_resp <= np.datetime64(AS_OF, "D")
    mem_order = np.argsort(mem_created, kind="stable")
    m_lead, m_camp, mem_created, responded, first_resp = (
        m_lead[mem_order],
        m_camp[mem_order],
        mem_created[mem_order],
        responded[mem_order],
        first_resp[mem_order],
    )
    # Primary Campaign Source: the lead's last responded campaign; set far more often
    # after the unification (Connected Campaigns were switched on then).
    opp_campaign = np.full(n_opp, NULL_ID, dtype=object)
    last_resp: dict[int, int] = {}
    for lead_i, camp_i, resp, day in zip(m_lead, m_camp, responded, first_resp, strict=True):
        if resp and (converted[lead_i] and day <= converted_at[lead_i].astype("datetime64[D]")):
            last_resp[int(lead_i)] = int(camp_i)
    fill_p = np.where(opp_post, 0.85, 0.3)
    fill = rng.random(n_opp) < fill_p
    for j in np.flatnonzero(new_business & fill):
        camp = last_resp.get(int(lead_of_opp[j]))
        if camp is not None:
            opp_campaign[j] = camp_ids[camp]

    # ---- Hidden Champions among the customers (link_champions; own random stream,
    # so every other table and truth stays as without a firm list)
    won_live = np.zeros(n_acc, dtype=bool)
    won_live[account[is_won & ~opp_deleted]] = True
    acc_names, acc_plz, acc_city, champion_truth = link_champions(
        champions,
        geo,
        seed,
        names=acc_names,
        plz=acc_plz,
        city=acc_city,
        kreis=acc_kreis,
        country_code=acc_country_code,
        is_customer=won_live,
        ids=acc_ids,
    )

    # ---- contacts for converted leads
    conv_sorted = conv_idx[np.argsort(converted_at[conv_idx], kind="stable")]
    n_con = conv_sorted.size
    contact_ids = _ids("003", n_con, rng)
    contact_of_lead = np.full(n_leads, NULL_ID, dtype=object)
    contact_of_lead[conv_sorted] = contact_ids
    lead_company = np.where(
        lead_account >= 0, acc_names[np.maximum(lead_account, 0)], _company_names(rng, n_leads)
    ).astype(object)
    people = _people(rng, n_leads, lead_company)
    lead_pick = rng.choice(len(plz_table), size=n_leads, p=plz_weight)
    lead_plz = np.where(
        lead_account >= 0,
        acc_plz[np.maximum(lead_account, 0)],
        plz_table["plz"].to_numpy(dtype=object)[lead_pick],
    ).astype(object)
    lead_city = np.where(
        lead_account >= 0,
        acc_city[np.maximum(lead_account, 0)],
        plz_table["ort"].to_numpy(dtype=object)[lead_pick],
    ).astype(object)
    lead_country = np.where(
        lead_account >= 0, acc_country[np.maximum(lead_account, 0)], "Deutschland"
    ).astype(object)

    # ---- write-ready tables -------------------------------------------------
    acc_modified = acc_created + rng.integers(0, 400 * 86400, n_acc).astype("timedelta64[s]")
    acc_modified = np.minimum(acc_modified, as_of_end)
    # Merged-away duplicates: a second spelling of an existing account, deleted, with
    # MasterRecordId pointing at the survivor.
    n_merged = 40
    masters = rng.choice(n_acc, size=n_merged, replace=False)
    dup_names = np.array(
        [
            n.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
            if any(c in n for c in "üöäß")
            else n.replace(" GmbH", " Gmbh").replace(" AG", " Aktiengesellschaft")
            for n in acc_names[masters]
        ],
        dtype=object,
    )
    dup_created = acc_created[masters] + rng.integers(1, 200 * 86400, n_merged).astype(
        "timedelta64[s]"
    )
    dup_created = np.minimum(dup_created, as_of_end)
    dup_ids = _ids("001", n_merged, rng)
    acc_all = {
        "Id": np.concatenate([acc_ids, dup_ids]),
        "IsDeleted": np.concatenate(
            [np.full(n_acc, "0", dtype=object), np.full(n_merged, "1", dtype=object)]
        ),
        "MasterRecordId": np.concatenate([np.full(n_acc, NULL_ID, dtype=object), acc_ids[masters]]),
        "Name": np.concatenate([acc_names, dup_names]),
        "Type": np.concatenate([acc_type, acc_type[masters]]),
        "ParentId": NULL_ID,
        "BillingStreet": np.concatenate(
            [
                np.array(
                    [
                        f"{s}straße {n}"
                        for s, n in zip(
                            rng.choice(_LAST, n_acc), rng.integers(1, 120, n_acc), strict=True
                        )
                    ],
                    dtype=object,
                ),
                np.full(n_merged, "", dtype=object),
            ]
        ),
        "BillingCity": np.concatenate([acc_city, acc_city[masters]]),
        "BillingPostalCode": np.concatenate([acc_plz, acc_plz[masters]]),
        "BillingCountry": np.concatenate([acc_country, acc_country[masters]]),
        "BillingCountryCode": np.concatenate(
            [
                np.where(blank_plz & (rng.random(n_acc) < 0.5), "", acc_country_code).astype(
                    object
                ),
                acc_country_code[masters],
            ]
        ),
        "Phone": np.concatenate(
            [
                np.array(
                    [
                        f"+49 {a} {b}0"
                        for a, b in zip(
                            rng.integers(30, 999, n_acc),
                            rng.integers(10000, 99999, n_acc),
                            strict=True,
                        )
                    ],
                    dtype=object,
                ),
                np.full(n_merged, "", dtype=object),
            ]
        ),
        "Website": np.concatenate(
            [
                np.array(
                    [f"https://www.{_slug(n.split(' ')[0])}.example" for n in acc_names],
                    dtype=object,
                ),
                np.full(n_merged, "", dtype=object),
            ]
        ),
        "Industry": np.concatenate(
            [
                np.where(rng.random(n_acc) < 0.12, "", acc_industry).astype(object),
                acc_industry[masters],
            ]
        ),
        "AnnualRevenue": np.concatenate(
            [
                _num(np.where(rng.random(n_acc) < 0.4, np.nan, acc_employees * 180000.0)),
                np.full(n_merged, "", dtype=object),
            ]
        ),
        "NumberOfEmployees": np.concatenate(
            [
                np.where(rng.random(n_acc) < 0.2, "", acc_employees.astype(str)).astype(object),
                np.full(n_merged, "", dtype=object),
            ]
        ),
        "Description": np.concatenate(
            [
                np.where(
                    rng.random(n_acc) < 0.15,
                    np.array(
                        [
                            f"Ansprechpartner {f} {s}, Tel. {p}"
                            for f, s, p in zip(
                                rng.choice(_FIRST, n_acc),
                                rng.choice(_LAST, n_acc),
                                _people(rng, n_acc, acc_names)["phone"],
                                strict=True,
                            )
                        ],
                        dtype=object,
                    ),
                    "",
                ).astype(object),
                np.full(n_merged, "", dtype=object),
            ]
        ),
        "CurrencyIsoCode": np.concatenate([acc_currency, acc_currency[masters]]),
        "OwnerId": np.concatenate([acc_owner, acc_owner[masters]]),
        "CreatedDate": _dt(np.concatenate([acc_created, dup_created])),
        "CreatedById": np.concatenate(
            [
                np.where(np.arange(n_acc) < n_mig, admin_id, acc_owner).astype(object),
                acc_owner[masters],
            ]
        ),
        "LastModifiedDate": _dt(np.concatenate([acc_modified, dup_created])),
        "LastModifiedById": admin_id,
        "SystemModstamp": _dt(np.concatenate([acc_modified, dup_created])),
        "IsExcludedFromRealign": "0",
        "AccountSource": np.concatenate([acc_source, acc_source[masters]]),
        "OperatingHoursId": NULL_ID,
        "Kundennummer__c": np.concatenate(
            [
                np.array([f"K-{100000 + i}" for i in range(n_acc)], dtype=object),
                np.full(n_merged, "", dtype=object),
            ]
        ),
    }
    n_acc_rows = n_acc + n_merged
    files["Account"] = (H_ACCOUNT, acc_all, n_acc_rows, {"encoding": "cp1252"})

    # Opportunity history and final state
    hist = _history(
        rng,
        created=created,
        close_date=close_date,
        is_closed=is_closed,
        is_won=is_won,
        amount=amount,
        cycle_days=cycle_days,
        as_of_end=as_of_end,
        unif=unif,
    )
    final_stage = hist["final_stage"]
    final_close = hist["final_close"]
    amount = hist["final_amount"]
    stage_prob = np.array([_STAGE[s][4] for s in final_stage], dtype=float)
    fc_api = np.array([_STAGE[s][5] for s in final_stage], dtype=object)
    fc_label = np.array([_STAGE[s][6] for s in final_stage], dtype=object)
    fiscal_year = np.asarray(final_close, dtype="datetime64[Y]").astype(int) + 1970
    fiscal_q = (np.asarray(final_close, dtype="datetime64[M]").astype(int) % 12) // 3 + 1
    opp_modified = np.minimum(
        hist["last_change"] + rng.integers(0, 3 * 86400, n_opp).astype("timedelta64[s]"), as_of_end
    )
    opp_names = np.array(
        [
            f"{acc_names[a]} - {p}"
            for a, p in zip(account, rng.choice(_PRODUCTS, n_opp), strict=True)
        ],
        dtype=object,
    )
    opp_desc = np.where(
        rng.random(n_opp) < 0.25,
        np.array(
            [
                f"Angebot an {s} {n} geschickt, Rückruf unter {p}"
                for s, n, p in zip(
                    rng.choice(["Herrn", "Frau"], n_opp),
                    rng.choice(_LAST, n_opp),
                    _people(rng, n_opp, opp_names)["mobile"],
                    strict=True,
                )
            ],
            dtype=object,
        ),
        "",
    ).astype(object)
    loss_reason = np.where(
        is_closed & ~is_won,
        rng.choice(
            np.array(
                ["Preis", "Wettbewerb", "Kein Budget", "Keine Entscheidung", ""], dtype=object
            ),
            n_opp,
        ),
        "",
    ).astype(object)
    opp_cols = {
        "Id": opp_ids,
        "IsDeleted": _bool(opp_deleted),
        "AccountId": acc_ids[account],
        "IsPrivate": "0",
        "Name": opp_names,
        "Description": opp_desc,
        "StageName": final_stage,
        "StageSortOrder": np.array([str(_STAGE[s][1]) for s in final_stage], dtype=object),
        "Amount": _num(amount),
        "Probability": _num(stage_prob),
        "ExpectedRevenue": _num(np.round(amount * stage_prob / 100, 2)),
        "CloseDate": _date(final_close),
        "Type": opp_type,
        "NextStep": np.where(
            ~is_closed & (rng.random(n_opp) < 0.5), "Termin mit Einkauf vereinbaren", ""
        ).astype(object),
        "LeadSource": opp_source,
        "IsClosed": _bool(is_closed),
        "IsWon": _bool(is_won),
        "ForecastCategory": fc_api,
        "ForecastCategoryName": fc_label,
        "CurrencyIsoCode": opp_currency,
        "CampaignId": opp_campaign,
        "HasOpportunityLineItem": "0",
        "Pricebook2Id": NULL_ID,
        "OwnerId": opp_owner,
        "Territory2Id": NULL_ID,
        "IsExcludedFromTerritory2Filter": "0",
        "CreatedDate": _dt(created),
        "CreatedById": opp_owner,
        "LastModifiedDate": _dt(opp_modified),
        "LastModifiedById": opp_owner,
        "SystemModstamp": _dt(opp_modified),
        "LastActivityDate": _date(np.minimum(hist["last_change"], as_of_end)),
        "LastStageChangeDate": _dt(hist["last_stage_change"]),
        "FiscalYear": fiscal_year.astype(str).astype(object),
        "FiscalQuarter": fiscal_q.astype(str).astype(object),
        "ContactId": np.where(
            new_business, contact_of_lead[np.maximum(lead_of_opp, 0)], NULL_ID
        ).astype(object),
        "PrimaryPartnerAccountId": NULL_ID,
        "SyncedQuoteId": NULL_ID,
        "ContractId": NULL_ID,
        "LastAmountChangedHistoryId": NULL_ID,
        "LastCloseDateChangedHistoryId": NULL_ID,
        "Loss_Reason__c": loss_reason,
        "ForecastComments__c": np.where(
            ~is_closed & (rng.random(n_opp) < 0.1), "Chef will bis Quartalsende unterschreiben", ""
        ).astype(object),
    }
    # A few Ids appear twice (an export stitched from two runs): the older copy is stale.
    dup_opp = rng.choice(np.flatnonzero(~opp_deleted), size=3, replace=False)
    opp_cols = _append_stale_duplicates(
        opp_cols,
        dup_opp,
        {
            "StageName": "Prospecting",
            "StageSortOrder": "1",
            "Probability": "10",
            "IsClosed": "0",
            "IsWon": "0",
            "ForecastCategory": "Pipeline",
            "ForecastCategoryName": "Pipeline",
        },
        created,
    )
    files["Opportunity"] = (H_OPPORTUNITY, opp_cols, n_opp + dup_opp.size, {})

    n_hist = hist["opp"].size
    h_opp = hist["opp"]
    stage_names, stage_code = np.unique(hist["stage"].astype(str), return_inverse=True)
    h_prob = np.array([_STAGE[x][4] for x in stage_names], dtype=float)[stage_code]
    h_label = np.array([_STAGE[x][6] for x in stage_names], dtype=object)[stage_code]
    h_time = _dt(hist["time"])
    h_amount = _num(hist["amount"])
    h_close = _date(hist["close"])
    first_row = np.r_[True, h_opp[1:] != h_opp[:-1]]
    last_row = np.r_[h_opp[1:] != h_opp[:-1], True]

    def previous(values: np.ndarray) -> np.ndarray:
        shifted = np.r_[np.array([""], dtype=object), values[:-1]]
        return np.where(first_row, "", shifted).astype(object)

    valid_through = np.where(last_row, "", np.r_[h_time[1:], np.array([""], dtype=object)])
    files["OpportunityHistory"] = (
        H_HISTORY,
        {
            "Id": _ids("008", n_hist, rng),
            "OpportunityId": opp_ids[h_opp],
            "CreatedById": opp_owner[h_opp],
            "CreatedDate": h_time,
            "CreatedDateForInsert": h_time,
            "StageName": hist["stage"],
            "Amount": h_amount,
            "ExpectedRevenue": _num(np.round(hist["amount"] * h_prob / 100, 2)),
            "CloseDate": h_close,
            "Probability": _num(h_prob),
            "FromForecastCategory": previous(h_label),
            "ForecastCategory": h_label,
            "FromOpportunityStageName": previous(hist["stage"]),
            "CurrencyIsoCode": opp_currency[h_opp],
            "ValidThroughDate": valid_through.astype(object),
            "SystemModstamp": h_time,
            "IsDeleted": _bool(opp_deleted[h_opp]),
            "PrevAmount": previous(h_amount),
            "PrevCloseDate": previous(h_close),
        },
        n_hist,
        {},
    )

    # Leads
    lead_modified = np.where(converted, converted_at, np.where(disqualified, dq_at, lead_created))
    lead_modified = np.minimum(lead_modified + np.timedelta64(120, "s"), as_of_end)
    opp_of_lead = np.full(n_leads, NULL_ID, dtype=object)
    opp_pos = np.flatnonzero(from_lead >= 0)
    opp_of_lead[from_lead[opp_pos]] = opp_ids[opp_pos]
    lead_deleted = (rng.random(n_leads) < 0.015) & ~converted
    lead_master = np.full(n_leads, NULL_ID, dtype=object)
    merged_leads = np.flatnonzero(lead_deleted)[::3]
    lead_master[merged_leads] = lead_ids[rng.integers(0, n_leads, merged_leads.size)]
    lead_desc = np.where(
        rng.random(n_leads) < 0.2,
        np.array(
            [
                f"Rückruf erbeten: {f} {s}, {p}"
                for f, s, p in zip(people["first"], people["last"], people["phone"], strict=True)
            ],
            dtype=object,
        ),
        "",
    ).astype(object)
    lead_cols = {
        "Id": lead_ids,
        "IsDeleted": _bool(lead_deleted),
        "MasterRecordId": lead_master,
        "Salutation": people["salutation"],
        "FirstName": people["first"],
        "LastName": people["last"],
        "RecordTypeId": NULL_ID,
        "Title": rng.choice(
            np.array(
                ["Leitung Einkauf", "Geschäftsführer", "IT-Leitung", "Produktionsleitung", ""],
                dtype=object,
            ),
            n_leads,
        ),
        "Company": lead_company,
        "Street": np.array(
            [
                f"{s}weg {n}"
                for s, n in zip(
                    rng.choice(_LAST, n_leads), rng.integers(1, 90, n_leads), strict=True
                )
            ],
            dtype=object,
        ),
        "City": lead_city,
        "PostalCode": np.where(rng.random(n_leads) < 0.1, "", lead_plz).astype(object),
        "Country": lead_country,
        "Phone": people["phone"],
        "MobilePhone": np.where(rng.random(n_leads) < 0.4, people["mobile"], "").astype(object),
        "Email": people["email"],
        "Description": lead_desc,
        "LeadSource": source,
        "Status": status,
        "Industry": np.where(rng.random(n_leads) < 0.3, "", rng.choice(INDUSTRIES, n_leads)).astype(
            object
        ),
        "CurrencyIsoCode": "EUR",
        "NumberOfEmployees": np.where(
            rng.random(n_leads) < 0.5,
            "",
            np.round(np.exp(rng.normal(5, 1.1, n_leads))).astype(int).astype(str),
        ).astype(object),
        "OwnerId": lead_owner,
        "HasOptedOutOfEmail": _bool(rng.random(n_leads) < 0.05),
        "IsConverted": _bool(converted),
        "ConvertedDate": np.where(converted, _date(converted_at), "").astype(object),
        "ConvertedAccountId": np.where(
            converted, acc_ids[np.maximum(lead_account, 0)], NULL_ID
        ).astype(object),
        "ConvertedContactId": contact_of_lead,
        "ConvertedOpportunityId": opp_of_lead,
        "IsUnreadByOwner": _bool(status == "Open - Not Contacted"),
        "CreatedDate": _dt(lead_created),
        "CreatedById": np.where(lead_post, lead_owner, admin_id).astype(object),
        "LastModifiedDate": _dt(lead_modified),
        "LastModifiedById": lead_owner,
        "SystemModstamp": _dt(lead_modified),
        "DoNotCall": "0",
        "HasOptedOutOfFax": "0",
        "Produktinteresse__c": rng.choice(np.array(list(_PRODUCTS) + [""], dtype=object), n_leads),
    }
    dup_lead = rng.choice(np.flatnonzero(~lead_deleted), size=5, replace=False)
    lead_cols = _append_stale_duplicates(
        lead_cols, dup_lead, {"Status": "Open - Not Contacted"}, lead_created
    )
    files["Lead"] = (H_LEAD, lead_cols, n_leads + dup_lead.size, {})

    # Contacts
    con_leads = conv_sorted
    files["Contact"] = (
        H_CONTACT,
        {
            "Id": contact_ids,
            "IsDeleted": "0",
            "MasterRecordId": NULL_ID,
            "AccountId": acc_ids[lead_account[con_leads]],
            "Salutation": people["salutation"][con_leads],
            "FirstName": people["first"][con_leads],
            "LastName": people["last"][con_leads],
            "RecordTypeId": NULL_ID,
            "MailingCity": lead_city[con_leads],
            "MailingPostalCode": lead_plz[con_leads],
            "MailingCountry": lead_country[con_leads],
            "Phone": people["phone"][con_leads],
            "MobilePhone": people["mobile"][con_leads],
            "ReportsToId": NULL_ID,
            "Email": people["email"][con_leads],
            "LeadSource": source[con_leads],
            "Birthdate": np.where(
                rng.random(n_con) < 0.05,
                _date(
                    np.datetime64("1970-01-01")
                    + rng.integers(0, 12000, n_con).astype("timedelta64[D]")
                ),
                "",
            ).astype(object),
            "CurrencyIsoCode": "EUR",
            "OwnerId": lead_owner[con_leads],
            "HasOptedOutOfEmail": "0",
            "HasOptedOutOfFax": "0",
            "DoNotCall": "0",
            "CreatedDate": _dt(converted_at[con_leads]),
            "CreatedById": lead_owner[con_leads],
            "LastModifiedDate": _dt(converted_at[con_leads]),
            "LastModifiedById": lead_owner[con_leads],
            "SystemModstamp": _dt(converted_at[con_leads]),
        },
        n_con,
        {},
    )

    # Campaign members and campaigns (roll-up counts computed from the members)
    mem_ids = _ids("00v", n_mem, rng)
    mem_status = np.where(
        responded,
        np.where(np.isin(camp_types[m_camp], ["Webinar", "Trade Show"]), "Attended", "Responded"),
        "Sent",
    ).astype(object)
    files["CampaignMember"] = (
        H_CAMPAIGN_MEMBER,
        {
            "Id": mem_ids,
            "IsDeleted": "0",
            "CampaignId": camp_ids[m_camp],
            "LeadId": lead_ids[m_lead],
            "ContactId": contact_of_lead[m_lead],
            "Status": mem_status,
            "HasResponded": _bool(responded),
            "IsPrimary": "0",
            "CreatedDate": _dt(mem_created),
            "CreatedById": marketing_users[m_lead % marketing_users.size],
            "LastModifiedDate": _dt(mem_created),
            "LastModifiedById": marketing_users[m_lead % marketing_users.size],
            "SystemModstamp": _dt(mem_created),
            "FirstRespondedDate": np.where(responded, _date(first_resp), "").astype(object),
            "CurrencyIsoCode": "EUR",
        },
        n_mem,
        {},
    )
    n_leads_c = np.bincount(m_camp, minlength=n_camp)
    n_resp_c = np.bincount(m_camp, weights=responded, minlength=n_camp).astype(int)
    n_conv_c = np.bincount(m_camp, weights=converted[m_lead], minlength=n_camp).astype(int)
    camp_opp = np.array([c for c in opp_campaign if c != NULL_ID], dtype=object)
    camp_index = {c: i for i, c in enumerate(camp_ids)}
    n_opp_c = (
        np.bincount([camp_index[c] for c in camp_opp], minlength=n_camp)
        if camp_opp.size
        else np.zeros(n_camp, int)
    )
    status_c = np.where(
        camp_ends < np.datetime64(AS_OF, "D"),
        "Completed",
        np.where(camp_starts > np.datetime64(AS_OF, "D"), "Planned", "In Progress"),
    ).astype(object)
    camp_names = np.array(
        [
            f"{t} {s.astype('datetime64[M]')} {r}"
            for t, s, r in zip(
                camp_types,
                camp_starts,
                rng.choice(
                    [
                        "Industrie 4.0",
                        "Digitale Fertigung",
                        "MINT-Talente",
                        "Hannover Messe",
                        "Servicewelt",
                    ],
                    n_camp,
                ),
                strict=True,
            )
        ],
        dtype=object,
    )
    camp_created = (camp_starts - np.timedelta64(20, "D")).astype("datetime64[s]") + np.timedelta64(
        9 * 3600, "s"
    )
    files["Campaign"] = (
        H_CAMPAIGN,
        {
            "Id": camp_ids,
            "IsDeleted": "0",
            "Name": camp_names,
            "ParentId": NULL_ID,
            "Type": camp_types,
            "Status": status_c,
            "StartDate": _date(camp_starts),
            "EndDate": _date(camp_ends),
            "CurrencyIsoCode": "EUR",
            "BudgetedCost": _num(np.round(camp_cost * 1.1, -2)),
            "ActualCost": _num(np.where(status_c == "Completed", camp_cost, np.nan)),
            "ExpectedResponse": "10",
            "NumberSent": _num(n_leads_c * 12.0, 0),
            "IsActive": _bool(status_c != "Completed"),
            "Description": np.where(
                rng.random(n_camp) < 0.3, "Abgestimmt mit Frau Weber (Messeteam)", ""
            ).astype(object),
            "NumberOfLeads": n_leads_c.astype(str).astype(object),
            "NumberOfConvertedLeads": n_conv_c.astype(str).astype(object),
            "NumberOfContacts": "0",
            "NumberOfResponses": n_resp_c.astype(str).astype(object),
            "NumberOfOpportunities": np.asarray(n_opp_c).astype(str).astype(object),
            "OwnerId": marketing_users[np.arange(n_camp) % marketing_users.size],
            "CreatedDate": _dt(camp_created),
            "CreatedById": marketing_users[np.arange(n_camp) % marketing_users.size],
            "LastModifiedDate": _dt(np.minimum(camp_ends.astype("datetime64[s]"), as_of_end)),
            "LastModifiedById": marketing_users[np.arange(n_camp) % marketing_users.size],
            "SystemModstamp": _dt(np.minimum(camp_ends.astype("datetime64[s]"), as_of_end)),
            "CampaignMemberRecordTypeId": NULL_ID,
        },
        n_camp,
        {},
    )

    # ---- Pardot prospects: synced ones (export API), never-synced ones (UI export)
    has_prospect = is_mql | (rng.random(n_leads) < 0.7)
    pr_leads = np.flatnonzero(has_prospect)
    n_pr = pr_leads.size
    score = np.where(
        is_mql[pr_leads],
        MQL_SCORE + np.round(rng.gamma(2.0, 60.0, n_pr)),
        rng.integers(0, MQL_SCORE, n_pr),
    ).astype(int)
    pr_created_utc = lead_created[pr_leads] - rng.integers(60, 3 * 3600, n_pr).astype(
        "timedelta64[s]"
    )
    pr_ids = np.sort(rng.choice(np.arange(4_000_000, 9_000_000), size=n_pr + 2000, replace=False))
    api_ids = pr_ids[:n_pr][np.argsort(np.argsort(pr_created_utc, kind="stable"), kind="stable")]
    berlin = _berlin(pr_created_utc)
    files["pardot/prospects_export_api"] = (
        H_PARDOT_API,
        {
            "id": api_ids.astype(str).astype(object),
            "campaign_id": rng.integers(1000, 1040, n_pr).astype(str).astype(object),
            "salutation": people["salutation"][pr_leads],
            "first_name": people["first"][pr_leads],
            "last_name": people["last"][pr_leads],
            "email": people["email"][pr_leads],
            "company": lead_company[pr_leads],
            "job_title": lead_cols["Title"][pr_leads],
            "country": lead_country[pr_leads],
            "city": lead_city[pr_leads],
            "zip": lead_plz[pr_leads],
            "phone": people["phone"][pr_leads],
            "source": np.where(source[pr_leads] == "", "", source[pr_leads]).astype(object),
            "industry": lead_cols["Industry"][pr_leads],
            "comments": np.where(
                rng.random(n_pr) < 0.1, "Bitte nur per E-Mail kontaktieren", ""
            ).astype(object),
            "score": score.astype(str).astype(object),
            "last_activity_at": _dt(
                np.minimum(
                    berlin + rng.integers(0, 90 * 86400, n_pr).astype("timedelta64[s]"), as_of_end
                )
            ),
            "crm_lead_fid": lead_ids[pr_leads],
            "crm_contact_fid": np.where(
                contact_of_lead[pr_leads] == NULL_ID, "", contact_of_lead[pr_leads]
            ).astype(object),
            "crm_owner_fid": lead_owner[pr_leads],
            "crm_account_fid": np.where(
                lead_account[pr_leads] >= 0, acc_ids[np.maximum(lead_account[pr_leads], 0)], ""
            ).astype(object),
            "crm_last_sync": _dt(np.minimum(berlin + np.timedelta64(600, "s"), as_of_end)),
            "crm_url": np.array(
                [f"https://demo-software.my.salesforce.com/{i}" for i in lead_ids[pr_leads]],
                dtype=object,
            ),
            "is_do_not_email": "0",
            "is_do_not_call": "0",
            "opted_out": _bool(rng.random(n_pr) < 0.04),
            "is_reviewed": _bool(rng.random(n_pr) < 0.5),
            "is_starred": "0",
            "created_at": _dt(berlin),
            "updated_at": _dt(
                np.minimum(
                    berlin + rng.integers(0, 200 * 86400, n_pr).astype("timedelta64[s]"), as_of_end
                )
            ),
        },
        n_pr,
        {"quoting": "values"},
    )
    n_ui = 2000
    ui_created = _random_times(
        rng, months.values, rng.multinomial(n_ui, VOLUME_SEASON[moy] / VOLUME_SEASON[moy].sum())
    )
    ui_created = np.sort(np.minimum(ui_created, as_of_end))
    ui_companies = _company_names(rng, n_ui)
    ui_people = _people(rng, n_ui, ui_companies)
    ui_days = ui_created.astype("datetime64[D]").astype(object)
    files["pardot/prospects_export_ui"] = (
        H_PARDOT_UI,
        {
            "Prospect Id": pr_ids[n_pr:].astype(str).astype(object),
            "First Name": ui_people["first"],
            "Last Name": ui_people["last"],
            "Email": ui_people["email"],
            "Company": ui_companies,
            "Last Activity Date": np.array(
                [f"{d.month:02d}/{d.day:02d}/{d.year}" for d in ui_days], dtype=object
            ),
            "Campaign": rng.choice(
                np.array(
                    ["Website", "Hannover Messe", "Newsletter", "Partner Collabs"], dtype=object
                ),
                n_ui,
            ),
            "Score": rng.integers(0, 60, n_ui).astype(str).astype(object),
            "Grade": rng.choice(np.array(["", "D", "D-", "C", "C+", "B-"], dtype=object), n_ui),
            "Job Title": "",
            "Country": "Germany",
            "City": "",
            "Source": rng.choice(
                np.array(["", "Website", "Marketing Event", "Google AdWords"], dtype=object), n_ui
            ),
            "Industry": "",
            "Do Not Email": np.where(rng.random(n_ui) < 0.05, "TRUE", "FALSE").astype(object),
            "Created Date": np.array(
                [f"{d.month:02d}/{d.day:02d}/{d.year}" for d in ui_days], dtype=object
            ),
            "Owner": "",
            "Lifecycle Stage": "1.) Lead",
            "Created by Marketing": "TRUE",
        },
        n_ui,
        {"quoting": "minimal", "bom": True},
    )

    truth = truths(params)
    truth.update(
        {
            "counts": {
                "accounts": int(n_acc_rows),
                "opportunities": int(n_opp),
                "opportunities_deleted": int(opp_deleted.sum()),
                "opportunities_open": int((~is_closed).sum()),
                "opportunity_history": int(n_hist),
                "history_rows_repeating_stage": int(hist["n_repeat"]),
                "leads": int(n_leads),
                "campaigns": int(n_camp),
                "campaign_members": int(n_mem),
                "prospects_api": int(n_pr),
                "prospects_ui": int(n_ui),
                "duplicate_id_rows": {
                    "Opportunity.csv": int(dup_opp.size),
                    "Lead.csv": int(dup_lead.size),
                },
                "merged_accounts": int(n_merged),
            },
            "customer_account_kreise": sorted(
                {k for k in acc_kreis[np.unique(account[is_won & ~opp_deleted])] if k}
            ),
            **champion_truth,
        }
    )
    return _Tables(files=files, truth=truth)


def _berlin(utc: np.ndarray) -> np.ndarray:
    """UTC datetimes shown in Europe/Berlin wall time (what Pardot's export API writes)."""
    index = pd.DatetimeIndex(np.asarray(utc, dtype="datetime64[s]")).tz_localize("UTC")
    return index.tz_convert("Europe/Berlin").tz_localize(None).values.astype("datetime64[s]")


def _append_stale_duplicates(
    cols: dict, rows: np.ndarray, stale: dict, created: np.ndarray
) -> dict:
    """Append copies of ``rows`` with older LastModifiedDate and stale field values."""
    out = {}
    older = _dt(created[rows] + np.timedelta64(3600, "s"))
    n = None
    for name, value in cols.items():
        if isinstance(value, str):
            out[name] = value
            continue
        n = len(value)
        extra = value[rows].copy()
        if name in stale:
            extra = np.full(rows.size, stale[name], dtype=object)
        if name in ("LastModifiedDate", "SystemModstamp"):
            extra = older
        out[name] = np.concatenate(
            [np.asarray(value, dtype=object), np.asarray(extra, dtype=object)]
        )
    assert n is not None
    return out


def _history(
    rng, *, created, close_date, is_closed, is_won, amount, cycle_days, as_of_end, unif
) -> dict:
    """OpportunityHistory rows: stage changes plus amount/close-date/probability edits.

    Each opportunity gets a stage path (won deals pass the open stages, skipping
    some; lost deals stop at a random stage; open deals reach a stage in proportion
    to their age; now and then a deal falls back one stage), one row per stage
    change, and about as many edit rows that repeat the current stage (a slipped
    close date, a changed amount, a probability override). Only the paths are
    built in a Python loop; times, values and close dates are vectorised.
    """
    n = created.size
    created_s = np.asarray(created, dtype="datetime64[s]").astype(np.int64)
    close_d = np.asarray(close_date, dtype="datetime64[D]").astype(np.int64)
    end_s = int(np.datetime64(as_of_end, "s").astype(np.int64))
    post = created_s >= int(np.datetime64(unif, "s").astype(np.int64))
    code = {name: k for k, name in enumerate(s[0] for s in STAGES)}
    won_code, lost_code = code["Closed Won"], code["Closed Lost"]
    n_open = np.where(post, len(_OPEN_POST), len(_OPEN_PRE))

    # --- stage paths (codes), one small list per opportunity
    skip = rng.random((n, len(_OPEN_POST))) < 0.25
    reach_closed = np.floor(rng.random(n) * n_open).astype(int) + 1
    elapsed_days = (end_s - created_s) / 86400
    reach_open = np.minimum(
        n_open, 1 + (n_open * elapsed_days / np.maximum(cycle_days, 1.0)).astype(int)
    )
    back = rng.random(n) < 0.08
    back_at = rng.random(n)
    paths = []
    for i in range(n):
        k_open = int(n_open[i])
        if is_closed[i] and is_won[i]:
            path = [0] + [k for k in range(1, k_open) if not skip[i, k]] + [won_code]
        elif is_closed[i]:
            path = list(range(int(reach_closed[i]))) + [lost_code]
        else:
            path = list(range(int(reach_open[i])))
        if back[i] and len(path) >= 4:
            k = 2 + int(back_at[i] * (len(path) - 3))
            path = path[:k] + [path[k - 2]] + path[k - 1 :]
        paths.append(path)
    n_stage_rows = np.array([len(p) for p in paths])
    stage_code = np.fromiter(
        (c for p in paths for c in p), dtype=np.int64, count=n_stage_rows.sum()
    )
    stage_opp = np.repeat(np.arange(n), n_stage_rows)

    # --- times: first row at creation, closing row at the close, the rest in between
    close_time = close_d * 86400 + rng.integers(8 * 3600, 18 * 3600, size=n)
    end = np.where(is_closed, np.maximum(close_time, created_s + 60), end_s)
    span = np.maximum(end - created_s, n_stage_rows * 60 + 60)
    first_of = np.r_[0, np.cumsum(n_stage_rows)[:-1]]
    offset = 60 + np.floor(rng.random(stage_opp.size) * (span[stage_opp] - 60)).astype(np.int64)
    # sort the middle offsets within each opportunity, then pin the first and the closing row
    order = np.lexsort((offset, stage_opp))
    offset = offset[order]
    stage_time = created_s[stage_opp] + offset
    stage_time[first_of] = created_s
    last_of = first_of + n_stage_rows - 1
    closed_last = last_of[is_closed]
    stage_time[closed_last] = end[is_closed]

    n_edit = rng.poisson(n_stage_rows)
    edit_opp = np.repeat(np.arange(n), n_edit)
    edit_time = (
        created_s[edit_opp]
        + 30
        + np.floor(rng.random(edit_opp.size) * (span[edit_opp] - 90)).astype(np.int64)
    )
    edit_time = np.where(is_closed[edit_opp], np.minimum(edit_time, end[edit_opp] - 1), edit_time)
    edit_kind = rng.random(edit_opp.size)  # < 0.5 slip, < 0.85 amount, else probability

    # --- merge stage rows and edit rows, ordered by time within opportunity
    opp = np.r_[stage_opp, edit_opp]
    time = np.r_[stage_time, edit_time]
    is_stage = np.r_[np.ones(stage_opp.size, bool), np.zeros(edit_opp.size, bool)]
    row_stage_code = np.r_[stage_code, np.full(edit_opp.size, -1)]
    kind = np.r_[np.full(stage_opp.size, 9.0), edit_kind]
    # stage rows first on ties, so an edit at creation time follows the first row
    order = np.lexsort((~is_stage, time, opp))
    opp, time, is_stage, row_stage_code, kind = (
        opp[order],
        time[order],
        is_stage[order],
        row_stage_code[order],
        kind[order],
    )
    pos = np.arange(opp.size)
    # each row carries the stage of the latest stage row (the first row is one)
    latest_stage_row = np.maximum.accumulate(np.where(is_stage, pos, 0))
    codes = row_stage_code[latest_stage_row]
    closing = is_stage & ((row_stage_code == won_code) | (row_stage_code == lost_code))

    # close date: optimistic at first, slipping by 2-8 weeks with slip edits
    group_first = np.r_[True, opp[1:] != opp[:-1]]
    slip = np.where(~is_stage & (kind < 0.5), rng.integers(14, 61, size=opp.size), 0)
    cum = np.cumsum(slip)
    cum_before_group = np.maximum.accumulate(np.where(group_first, cum - slip, 0))
    planned0 = created_s // 86400 + np.maximum(
        14, cycle_days * 0.6 * np.exp(rng.normal(0, 0.3, size=n))
    ).astype(np.int64)
    close_row = planned0[opp] + (cum - cum_before_group)
    close_row = np.where(closing, close_d[opp], close_row)

    # amount: set at creation (a first estimate), by amount edits and at closing
    amount = np.asarray(amount, dtype=float)
    first_estimate = np.round(amount * np.exp(rng.normal(0, 0.15, size=n)), -1)
    edited = np.where(
        rng.random(opp.size) < 0.5,
        amount[opp],
        np.round(amount[opp] * np.exp(rng.normal(0, 0.1, opp.size)), -1),
    )
    setter = group_first | closing | (~is_stage & (kind >= 0.5) & (kind < 0.85))
    value_set = np.where(group_first, first_estimate[opp], np.where(closing, amount[opp], edited))
    value = value_set[np.maximum.accumulate(np.where(setter, pos, 0))]

    group_last = np.r_[opp[1:] != opp[:-1], True]
    last_rows = np.flatnonzero(group_last)
    stage_names = np.array([s[0] for s in STAGES], dtype=object)
    return {
        "opp": opp,
        "time": time.astype("datetime64[s]"),
        "stage": stage_names[codes],
        "amount": value,
        "close": close_row.astype("datetime64[D]"),
        "final_stage": stage_names[codes[last_rows]],
        "final_close": close_row[last_rows].astype("datetime64[D]"),
        "final_amount": value[last_rows],
        "last_change": time[last_rows].astype("datetime64[s]"),
        "last_stage_change": time[latest_stage_row[last_rows]].astype("datetime64[s]"),
        "n_repeat": int((~is_stage).sum()),
    }


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


# ----------------------------------------------------------- Hidden Champions as customers
# Added for notebook 05 (market potential): which demo champions are customers, under
# which spellings, so that firm-to-account matching can be measured. Kept apart from
# the rest of the generator: its own random stream, and it only renames accounts.

#: Share of the listed firms that are customers.
CHAMPION_CUSTOMER_SHARE = 0.15
#: Decoys per champion customer (look-alike names that are other firms).
CHAMPION_DECOY_RATIO = 0.2
_FIRM_LIST = Path("firms") / "hidden_champions.csv"
_LEGAL_VARIANTS = {
    "GmbH & Co. KG": ("GmbH & Co KG", "GmbH u. Co. KG", "GmbH&Co.KG", "GmbH", ""),
    "GmbH": ("Gmbh", "G.m.b.H.", "Gesellschaft mit beschränkter Haftung", "GmbH & Co. KG", ""),
    "AG": ("Aktiengesellschaft", "A.G.", "AG & Co. KG", ""),
    "SE": ("SE & Co. KG", "S.E.", "AG", ""),
    "KG": ("GmbH & Co. KG", "K.G.", "KG.", ""),
}


def read_champions(out: Path) -> pd.DataFrame | None:
    """The firm list the firms part wrote into ``out`` (``None`` when there is none).

    Returns
    -------
    DataFrame or None
        ``firm_id, name, plz, city, ags``: the first row of each firm (a list's
        duplicate rows repeat the firm id); 4-digit postcodes zero-padded.
    """
    path = Path(out) / _FIRM_LIST
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    frame = pd.DataFrame(
        {
            "firm_id": [r.get("Firmen-ID", "") for r in rows],
            "name": [r.get("Firma", "") for r in rows],
            # a postcode that lost its leading zero in a spreadsheet
            "plz": [
                (r.get("PLZ") or "").strip().zfill(5) if (r.get("PLZ") or "").strip() else ""
                for r in rows
            ],
            "city": [r.get("Ort", "") for r in rows],
            "ags": [(r.get("AGS") or "").strip() for r in rows],
        },
        dtype="str",
    )
    return frame.drop_duplicates("firm_id").reset_index(drop=True)


def _split_legal(name: str) -> tuple[str, str]:
    for legal in sorted(_LEGAL_VARIANTS, key=len, reverse=True):
        if name.endswith(" " + legal):
            return name[: -len(legal) - 1], legal
    return name, ""


def champion_spelling(name: str, rng: np.random.Generator) -> str:
    """Another spelling of a firm name, as a CRM user might type it.

    One or two of: another or no legal form, umlauts and ß written out, ``…technik``
    abbreviated to ``…techn.``, a hyphen or comma, the words swapped, upper case.
    Always differs from ``name``.
    """
    base, legal = _split_legal(name)
    chosen = set(rng.permutation(6)[: int(rng.integers(1, 3))].tolist())
    for _ in range(2):
        words, form = base.split(), legal
        if 0 in chosen and form:
            options = _LEGAL_VARIANTS[form]
            form = options[int(rng.integers(len(options)))]
        if 1 in chosen:
            words = [
                w.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
                for w in words
            ]
        if 2 in chosen:
            words = [w[:-2] + "." if w.endswith("technik") else w for w in words]
        if 3 in chosen and len(words) > 1:
            words = ["-".join(words)] if rng.random() < 0.5 else [*words[:-1], words[-1] + ","]
        if 4 in chosen and len(words) > 1:
            words = [*words[1:], words[0]]
        if 5 in chosen:
            words, form = [w.upper() for w in words], form.upper()
        spelt = " ".join([*words, form] if form else words).rstrip(",")
        if spelt != name:
            return spelt
        chosen = {0, 5}  # nothing applied (e.g. no umlaut to write out)
    return name + " GmbH"


def _fold(word: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
    return word.lower().translate(table)


def link_champions(
    champions: pd.DataFrame | None,
    geo,
    seed: int,
    *,
    names: np.ndarray,
    plz: np.ndarray,
    city: np.ndarray,
    kreis: np.ndarray,
    country_code: np.ndarray,
    is_customer: np.ndarray,
    ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Make about :data:`CHAMPION_CUSTOMER_SHARE` of the listed firms customers.

    For each chosen firm a customer account *in the firm's Kreis* (German, valid
    postcode, not one of the markup names) takes another spelling of the firm's name
    (:func:`champion_spelling`) and the firm's postcode — in about a third of the
    cases another postcode of the same Kreis. Accounts keep their Kreis, so every
    other truth is unchanged. Decoys (:data:`CHAMPION_DECOY_RATIO` per customer):
    half carry a respelling of a champion's name in *another* Kreis, half the
    champion's owner name with another trade in the champion's Kreis. Other
    accounts that happen to look like a champion of their Kreis (same trade word,
    a similar owner name) get another trade word, so the truth is unambiguous.

    Returns
    -------
    names, plz, city : ndarray
        New arrays (inputs are not changed).
    truth : dict
        ``champion_customers`` ([{firm_id, account_id}], sorted), ``champion_decoys``
        (account ids), ``champion_link`` (counts and the rule).
    """
    from difflib import SequenceMatcher

    names, plz, city = names.copy(), plz.copy(), city.copy()
    empty = {"champion_customers": [], "champion_decoys": [], "champion_link": {"n_firms": 0}}
    if champions is None or champions.empty:
        return names, plz, city, empty
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(b"crm:champions")]))
    table = geo.plz[["plz", "kreis_ags", "ort"]].drop_duplicates(["plz", "kreis_ags", "ort"])
    n_kreise = table.groupby("plz")["kreis_ags"].transform("nunique")
    kreis_of = {
        (p, o): k for p, o, k in zip(table["plz"], table["ort"], table["kreis_ags"], strict=True)
    }
    single = table[n_kreise == 1].sort_values("plz")
    plz_of_kreis = single.groupby("kreis_ags")[["plz", "ort"]].agg(list)
    ags = champions["ags"] if "ags" in champions.columns else pd.Series("", index=champions.index)
    firms = champions.assign(
        kreis_ags=[
            kreis_of.get((p, c), "") or str(a)[:5]
            for p, c, a in zip(champions["plz"], champions["city"], ags.fillna(""), strict=True)
        ]
    )
    firms = firms[firms["kreis_ags"] != ""].reset_index(drop=True)
    usable = np.isin(plz, table["plz"].to_numpy()) & (country_code == "DE") & (kreis != "")
    usable &= ~np.isin(names, np.array(_MARKUP_NAMES, dtype=object))
    free = {
        k: list(rng.permutation(np.flatnonzero(usable & is_customer & (kreis == k))))
        for k in pd.unique(firms["kreis_ags"])
    }
    kreise_of_plz = table.groupby("plz")["kreis_ags"].agg(frozenset).to_dict()
    target = round(CHAMPION_CUSTOMER_SHARE * len(firms))
    taken: set[int] = set()
    pairs = []
    for i in rng.permutation(len(firms)):
        if len(pairs) >= target:
            break
        firm = firms.iloc[i]
        slots = free.get(firm["kreis_ags"], [])
        if not slots or firm["plz"] not in kreise_of_plz:  # e.g. a firm listed by AGS only
            continue
        j = int(slots.pop())
        taken.add(j)
        names[j] = champion_spelling(firm["name"], rng)
        plz[j], city[j] = firm["plz"], firm["city"]
        codes, places = (
            plz_of_kreis.loc[firm["kreis_ags"]]
            if firm["kreis_ags"] in plz_of_kreis.index
            else ([], [])
        )
        others = [(c, o) for c, o in zip(codes, places, strict=True) if c != firm["plz"]]
        if others and rng.random() < 0.35:
            # the neighbour: the postcode closest in number
            c, o = min(others, key=lambda co: abs(int(co[0]) - int(firm["plz"])))
            plz[j], city[j] = c, o
        pairs.append({"firm_id": str(firm["firm_id"]), "account_id": str(ids[j])})

    # The matcher compares records that share a Kreis; a postcode spanning two Kreise
    # puts a record in both, so "another Kreis" and "the same Kreis" use these sets.
    def kreise_of(code: str, fallback: str) -> frozenset:
        return kreise_of_plz.get(code, frozenset([fallback]) if fallback else frozenset())

    firm_kreise = [kreise_of(p, k) for p, k in zip(firms["plz"], firms["kreis_ags"], strict=True)]
    owners: dict[tuple[str, str], list[str]] = {}  # (Kreis, trade word) -> owner names
    for name, ks in zip(firms["name"], firm_kreise, strict=True):
        words = name.split()
        for k in ks if len(words) > 2 else ():
            owners.setdefault((k, words[1]), []).append(_fold(words[0]))

    def looks_like_a_champion(ks: frozenset, owner: str, trade: str) -> bool:
        return any(
            SequenceMatcher(None, _fold(owner), o).ratio() >= 0.8
            for k in ks
            for o in owners.get((k, trade), ())
        )

    # decoys: look-alike names that are other firms
    decoys = []
    pool = rng.permutation(np.flatnonzero(usable))
    pool = [int(j) for j in pool if j not in taken]
    stems = sorted({n.split()[1] for n in firms["name"] if len(n.split()) > 2})
    n_decoys = round(CHAMPION_DECOY_RATIO * len(pairs))
    for d in range(n_decoys):
        f = int(rng.integers(len(firms)))
        firm, home = firms.iloc[f], firm_kreise[f]
        words = _split_legal(firm["name"])[0].split()
        if d % 2 == 0:  # same name, another Kreis
            j = next((j for j in pool if not kreise_of(plz[j], kreis[j]) & home), None)
            if j is None:
                continue
            names[j] = champion_spelling(firm["name"], rng)
        else:  # same owner name, another trade, same Kreis
            j = next((j for j in pool if kreis[j] == firm["kreis_ags"]), None)
            if j is None or len(words) < 2:
                continue
            ks = kreise_of(plz[j], kreis[j])
            trades = [t for t in stems if not looks_like_a_champion(ks, words[0], t)]
            trade = trades[int(rng.integers(len(trades)))]
            names[j] = f"{words[0]} {trade} {_split_legal(firm['name'])[1] or 'GmbH'}".strip()
        pool.remove(j)
        taken.add(j)
        decoys.append(str(ids[j]))

    # accidental look-alikes of a champion in its Kreis get another trade word
    renamed = 0
    for j in np.flatnonzero(kreis != ""):
        words = str(names[j]).split()
        if j in taken or len(words) < 3:
            continue
        ks = kreise_of(plz[j], kreis[j])
        if looks_like_a_champion(ks, words[0], words[1]):
            trade = next(t for t in _COMPANY_KINDS if not looks_like_a_champion(ks, words[0], t))
            names[j] = " ".join([words[0], trade, *words[2:]])
            renamed += 1
    truth = {
        "champion_customers": sorted(pairs, key=lambda p: p["firm_id"]),
        "champion_decoys": sorted(decoys),
        "champion_link": {
            "n_firms": int(len(firms)),
            "share": CHAMPION_CUSTOMER_SHARE,
            "n_champion_customers": len(pairs),
            "n_decoys": len(decoys),
            "n_lookalikes_renamed": renamed,
            "rule": (
                "a champion customer is an account with a won, not deleted opportunity in the "
                "firm's Kreis, renamed to another spelling of the firm's name, with the firm's "
                "postcode or (about a third) another postcode of that Kreis"
            ),
        },
    }
    return names, plz, city, truth


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


def write_part(out: Path, geo, seed: int) -> dict:
    """Write the CRM part of the demo dataset into ``out/crm``.

    Parameters
    ----------
    out : Path
        Root of the demo dataset (``out/crm/`` is created).
    geo : Geography
        The demo geography (postcodes of the accounts).
    seed : int
        Demo seed.

    Returns
    -------
    dict
        Truths for ``TRUTH.json["crm"]`` (see :func:`truths`), plus realised counts.
    """
    tables = simulate(geo, seed, champions=read_champions(Path(out)))
    folder = Path(out) / "crm"
    (folder / "pardot").mkdir(parents=True, exist_ok=True)
    for name, (header, columns, n, options) in tables.files.items():
        _write_csv(folder / f"{name}.csv", header, columns, n, **options)
    return tables.truth
