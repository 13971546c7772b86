"""Privacy at ingest: the column allow-list of CRM and marketing files and keyed pseudonyms.

Names, e-mail addresses, phones, addresses, free text and IP addresses never enter the
analysis: readers load only the allowed columns; ids become HMAC pseudonyms keyed by a
secret outside the repository.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

# --------------------------------------------------------------------------- allow-list

#: Columns a reader may load, by object (Salesforce API names; Pardot names are
#: normalised to snake_case first, so ``Prospect Id``, ``prospect_id`` and
#: ``prospectId`` are one name). ``Account.Name`` is the single exception to "no
#: names": a company name, needed only to match firms to accounts, never shown.
ALLOWED_COLUMNS: dict[str, frozenset[str]] = {
    "Opportunity": frozenset(
        {
            "Id",
            "IsDeleted",
            "AccountId",
            "StageName",
            "Amount",
            "Probability",
            "CloseDate",
            "Type",
            "LeadSource",
            "ForecastCategory",
            "CurrencyIsoCode",
            "CampaignId",
            "OwnerId",
            "ContactId",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
        }
    ),
    "OpportunityHistory": frozenset(
        {
            "Id",
            "IsDeleted",
            "OpportunityId",
            "CreatedDate",
            "StageName",
            "Amount",
            "CloseDate",
            "Probability",
            "ForecastCategory",
            "PrevAmount",
            "PrevCloseDate",
            "SystemModstamp",
        }
    ),
    "Account": frozenset(
        {
            "Id",
            "IsDeleted",
            "MasterRecordId",
            "Name",
            "Type",
            "ParentId",
            "BillingPostalCode",
            "BillingCity",
            "BillingState",
            "BillingStateCode",
            "BillingCountry",
            "BillingCountryCode",
            "Industry",
            "AnnualRevenue",
            "NumberOfEmployees",
            "AccountSource",
            "OwnerId",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
        }
    ),
    "Lead": frozenset(
        {
            "Id",
            "IsDeleted",
            "MasterRecordId",
            "Status",
            "LeadSource",
            "Industry",
            "AnnualRevenue",
            "NumberOfEmployees",
            "PostalCode",
            "Country",
            "CountryCode",
            "OwnerId",
            "IsConverted",
            "ConvertedDate",
            "ConvertedAccountId",
            "ConvertedContactId",
            "ConvertedOpportunityId",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
        }
    ),
    "Contact": frozenset(
        {
            "Id",
            "IsDeleted",
            "MasterRecordId",
            "AccountId",
            "LeadSource",
            "OwnerId",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
        }
    ),
    "Campaign": frozenset(
        {
            "Id",
            "IsDeleted",
            "ParentId",
            "Type",
            "Status",
            "StartDate",
            "EndDate",
            "BudgetedCost",
            "ActualCost",
            "IsActive",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
        }
    ),
    "CampaignMember": frozenset(
        {
            "Id",
            "IsDeleted",
            "CampaignId",
            "LeadId",
            "ContactId",
            "Status",
            "HasResponded",
            "CreatedDate",
            "FirstRespondedDate",
            "LastModifiedDate",
            "SystemModstamp",
        }
    ),
    "OpportunityStage": frozenset(
        {
            "Id",
            "MasterLabel",
            "ApiName",
            "IsActive",
            "SortOrder",
            "IsClosed",
            "IsWon",
            "ForecastCategory",
            "ForecastCategoryName",
            "DefaultProbability",
        }
    ),
    "CurrencyType": frozenset(
        {"Id", "IsoCode", "ConversionRate", "DecimalPlaces", "IsActive", "IsCorporate"}
    ),
    "DatedConversionRate": frozenset(
        {"Id", "IsoCode", "StartDate", "NextStartDate", "ConversionRate"}
    ),
    "User": frozenset({"Id", "IsActive", "UserRoleId", "Department", "Division", "UserType"}),
    "UserRole": frozenset({"Id", "Name", "ParentRoleId"}),
    "PardotProspect": frozenset(
        {
            "id",
            "prospect_id",
            "campaign",
            "campaign_id",
            "source",
            "score",
            "grade",
            "crm_lead_fid",
            "crm_contact_fid",
            "crm_account_fid",
            "prospect_account_id",
            "country",
            "industry",
            "annual_revenue",
            "employees",
            "lifecycle_stage",
            "created_by_marketing",
            "created_at",
            "created_date",
            "updated_at",
            "updated_date",
            "last_activity_at",
            "last_activity_date",
            "is_deleted",
        }
    ),
}

#: Column-name patterns that are personal data or free text. A name matching one
#: of them is never loaded, whatever an allow-list extension asks for. Matched
#: against the name lower-cased without ``_``, spaces and a ``__c`` suffix.
DENIED_PATTERNS: tuple[str, ...] = (
    r"name$",
    r"^salutation$",
    r"^suffix$",
    r"email",
    r"phone",
    r"fax",
    r"mobile",
    r"street",
    r"^mailing",
    r"^other(street|city|state|postalcode|country|address)",
    r"address",
    r"birth",
    r"title$",
    r"description",
    r"nextstep",
    r"comment",
    r"note",
    r"^ip",
    r"ipaddress",
    r"^owner$",
    r"username",
    r"nickname",
    r"alias",
    r"password",
    r"company",
    r"website",
    r"latitude",
    r"longitude",
    r"signature",
    r"photo",
    r"gender",
    r"pronoun",
    r"body$",
    r"subject$",
)
_DENIED = re.compile("|".join(f"(?:{p})" for p in DENIED_PATTERNS))


def normalize_name(name: str) -> str:
    """Snake-case a column name: ``Prospect Id``, ``prospectId`` → ``prospect_id``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip().lstrip("\ufeff"))
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def is_denied(name: str) -> bool:
    """True when a column name looks like personal data or free text.

    Examples
    --------
    >>> is_denied("ForecastComments__c"), is_denied("Loss_Reason__c")
    (True, False)
    """
    key = re.sub(r"__c$", "", name.strip(), flags=re.IGNORECASE)
    key = re.sub(r"[\s_\-]+", "", key).lower()
    return bool(_DENIED.search(key))


def allowed_columns(
    object_name: str, header: Iterable[str], extra: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """Split a file's header into the columns to read and the columns ignored.

    Parameters
    ----------
    object_name : str
        A key of :data:`ALLOWED_COLUMNS`.
    header : iterable of str
        The file's column names.
    extra : iterable of str
        Further columns to read (custom ``__c`` fields the analysis needs).

    Returns
    -------
    read, ignored : list of str
        Header names in file order. For ``PardotProspect`` names are compared
        after :func:`normalize_name`.

    Raises
    ------
    ParameterError
        If ``object_name`` is unknown or an ``extra`` column looks personal.
    """
    if object_name not in ALLOWED_COLUMNS:
        raise ParameterError(
            "object_name", f"unknown object {object_name!r}; known: {sorted(ALLOWED_COLUMNS)}"
        )
    extra = list(extra)
    for name in extra:
        if is_denied(name):
            raise ParameterError(
                "allow_custom",
                f"{object_name}.{name} looks like personal data or free text and can "
                "never be loaded",
            )
    allowed = set(ALLOWED_COLUMNS[object_name]) | set(extra)
    pardot = object_name.startswith("Pardot")
    if pardot:
        allowed = {normalize_name(a) for a in allowed}
    read, ignored = [], []
    for name in header:
        key = normalize_name(name) if pardot else name
        (read if key in allowed else ignored).append(name)
    return read, ignored


# --------------------------------------------------------------------------- pseudonyms

KEY_ENV = "WORKBOOK_PSEUDONYM_KEY"
KEY_FILE_ENV = "WORKBOOK_PSEUDONYM_KEY_FILE"


def default_key_file() -> Path:
    """``~/.config/workbook/key`` (``$WORKBOOK_PSEUDONYM_KEY_FILE`` overrides it)."""
    env = os.environ.get(KEY_FILE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "workbook" / "key"


def _decode_key(text: str, where: str) -> bytes:
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{32,}", text) and len(text) % 2 == 0:
        key = bytes.fromhex(text)
    else:
        key = text.encode("utf-8")
    if len(key) < 16:
        raise ParameterError(where, "the pseudonym key must have at least 16 bytes (32 hex digits)")
    return key


def load_key() -> bytes:
    """The secret for :func:`pseudonymize`.

    Taken from ``$WORKBOOK_PSEUDONYM_KEY`` (hex or text, at least 16 bytes), else
    from the key file (:func:`default_key_file`). If there is no key file, a random
    256-bit key is generated once and stored there with mode 0600, so pseudonyms
    are stable per installation. The key file must lie outside the repository and
    the key never appears in an output.

    Returns
    -------
    bytes

    Raises
    ------
    ParameterError
        A key that is too short, or a key file inside the project folder.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return _decode_key(env, KEY_ENV)
    path = default_key_file().resolve()
    from analysis.paths import project_root

    root = project_root().resolve()
    if path == root or root in path.parents:
        raise ParameterError(
            KEY_FILE_ENV, f"the key file {path} is inside the project folder; keep it outside"
        )
    if path.is_file():
        return _decode_key(path.read_text(encoding="ascii"), str(path))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created meanwhile by another process
        return _decode_key(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _decode_key(path.read_text(encoding="ascii"), str(path))


def pseudonymize(ids: pd.Series | Iterable[str], key: bytes) -> pd.Series:
    """Keyed pseudonyms: the first 16 hex digits of HMAC-SHA256(key, id).

    Parameters
    ----------
    ids : Series or iterable of str
        Identifiers (Salesforce Ids, Pardot prospect ids, e-mail addresses ...).
    key : bytes
        The secret (:func:`load_key`).

    Returns
    -------
    Series of str
        Same index; ``""`` for blank or missing ids. Equal ids give equal
        pseudonyms under one key; without the key they cannot be reversed.
    """
    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ParameterError("key", "expected a secret of at least 16 bytes (see load_key)")
    series = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype="str")
    text = series.astype("str").fillna("")
    codes, uniques = pd.factorize(text)
    digests = np.array(
        [
            hmac.new(key, u.encode("utf-8"), hashlib.sha256).hexdigest()[:16] if u else ""
            for u in uniques
        ]
        + [""],
        dtype=object,
    )
    return pd.Series(digests[codes], index=series.index, dtype="str", name=series.name)
