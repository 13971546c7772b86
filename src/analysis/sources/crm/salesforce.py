"""Salesforce Sales Cloud exports: Data Export CSVs and report exports (CSV / XLSX).

Entry point :func:`load_crm` reads a folder the way an analyst receives it
(``data/raw/crm/``: one Data Export CSV per object, optionally report exports and a
``pardot/`` folder) into a :class:`CrmData` of tidy, typed frames with canonical
snake_case columns. The privacy allow-list (:mod:`analysis.privacy`) is applied
*while reading*: names, e-mails, phones, streets, free text and IP addresses are
never parsed into a frame.

Formats (see ``crm_formats.md``):

* **Data Export** ("weekly export"): API-name headers, every field quoted, ``,``;
  booleans ``"0"/"1"`` (``true/false`` accepted); datetimes ``YYYY-MM-DD HH:MM:SS``
  (UTC), dates with or without ``00:00:00``, ISO-8601 ``T…Z`` accepted; 18-character
  Ids, the empty-lookup sentinel ``000000000000000AAA`` read as ``""``; UTF-8 with
  or without BOM, or Windows-1252 (sniffed). Columns are mapped by name; optional
  columns may be missing; unknown ``__c`` fields are ignored unless allowed.
* **Report export** ("Details Only", CSV or XLSX): label headers in English or
  German, 15-character Ids (converted to 18 with the checksum), locale numbers and
  dates (sniffed per column), footer lines stripped and reported.

Decisions on bad input (each tested in ``tests/test_sources_salesforce.py``):

* Structural problems - a truncated file (unterminated quote, short last line), a
  wrong or mixed encoding, a ``;`` file where ``,`` was expected, a missing required
  column - raise :class:`~analysis.errors.InputError` with file, line and column.
* A bad value in a row - an invalid date (``31.02.2024``), a formatted number in a
  Data Export (``12.500,00 €``: Salesforce never writes one, so the row was edited by
  hand and is not guessed at), an invalid Id, an unknown stage, a currency without a
  rate - puts the row in ``quarantine`` (file, physical line, column, reason,
  pseudonymised record id). It is counted in ``quality``, never silently dropped.
* Duplicate Ids: the record with the latest ``LastModifiedDate`` (then
  ``SystemModstamp``, then the later line) is kept; the others are quarantined.
* Stages: semantics (closed? won?) come from ``OpportunityStage.csv``. Without that
  file the Salesforce default stages are used if every stage name is a default
  one; otherwise :class:`InputError` asks for the file (a custom stage cannot be
  classified by its name).
* Amounts: ``amount_eur = amount / rate(currency, close_date)`` with the dated rate
  (``StartDate <= CloseDate < NextStartDate``) where ``DatedConversionRate.csv``
  has one, else the ``CurrencyType.csv`` rate (rates are per 1 unit of the corporate
  currency); if the corporate currency is not EUR the result is multiplied by the
  EUR rate for the same date.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputError
from analysis.privacy import allowed_columns, load_key, pseudonymize
from analysis.sources.crm import exports as _csv
from analysis.sources.crm.exports import Problems

SOURCE = "Salesforce Sales Cloud export"

#: Threads that validate columns in parallel (pyarrow and NumPy release the GIL).
WORKERS = min(4, os.cpu_count() or 1)

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
_KEYED = {
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

QUARANTINE_COLUMNS = ["file", "line", "column", "reason", "record_id"]

# --------------------------------------------------------------------------- results


@dataclass(eq=False)
class ObjectData:
    """What a reader returns for one object.

    Attributes
    ----------
    object_name : str
    frame : DataFrame
        Canonical columns of the usable rows.
    quarantine : DataFrame
        ``file, line, column, reason, record_id`` for rows not used.
    counts : dict
        ``n_rows_read, n_deleted, n_merged, n_duplicates, n_quarantined, n_rows_used``.
    info : dict
        ``path, format, encoding, ignored_columns, footer, ...``.
    rows : numpy.ndarray
        0-based data row in the file of each frame row (for later quarantining).
    """

    object_name: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    counts: dict
    info: dict
    rows: np.ndarray = field(repr=False, default=None)
    line_of: Callable[[np.ndarray], np.ndarray] = field(repr=False, default=None)
    key_source: Callable[[], bytes] = field(repr=False, default=None)

    def quarantine_rows(self, mask: np.ndarray, column: str, reasons) -> ObjectData:
        """Move the masked rows of ``frame`` to the quarantine (a new ObjectData)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return self
        bad = self.frame[mask]
        rows = self.rows[mask]
        reason = reasons[mask] if isinstance(reasons, np.ndarray) else reasons
        id_col = _id_name(self.object_name)
        ids = bad[id_col] if id_col in bad else pd.Series([""] * len(bad), dtype="str")
        entries = _quarantine_frame(
            self.info["path"], self.line_of(rows), column, reason, ids, self.key_source
        )
        counts = dict(self.counts)
        counts["n_quarantined"] += int(mask.sum())
        counts["n_rows_used"] -= int(mask.sum())
        return replace(
            self,
            frame=self.frame[~mask].reset_index(drop=True),
            quarantine=pd.concat([self.quarantine, entries], ignore_index=True),
            counts=counts,
            rows=self.rows[~mask],
        )


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": pd.Series(dtype="str"),
            "line": pd.Series(dtype="int64"),
            "column": pd.Series(dtype="str"),
            "reason": pd.Series(dtype="str"),
            "record_id": pd.Series(dtype="str"),
        }
    )


def _quarantine_frame(path, lines, column, reasons, ids: pd.Series, key_source) -> pd.DataFrame:
    if len(ids) == 0:
        return _empty_quarantine()
    ids = pd.Series(np.asarray(ids, dtype=object), dtype="str").fillna("")
    record_ids = pseudonymize(ids, key_source()) if (ids != "").any() else ids
    return pd.DataFrame(
        {
            "file": str(path),
            "line": np.asarray(lines, dtype=np.int64),
            "column": column if isinstance(column, str) else np.asarray(column, dtype=object),
            "reason": reasons if isinstance(reasons, str) else np.asarray(reasons, dtype=object),
            "record_id": record_ids.to_numpy(),
        }
    ).astype({"file": "str", "column": "str", "reason": "str", "record_id": "str"})


# --------------------------------------------------------------------------- parsing


def _parse_field(values, f: Field, problems: Problems, *, locale: dict | None = None):
    """Parse one column by kind; bad cells go to ``problems``. Returns an array."""
    kind = f.kind
    if kind == "id":
        ids, bad = _csv.parse_ids(values)
        if bad.any():
            problems.add(
                bad,
                f.api,
                _csv.bad_values(values, bad, "a 15- or 18-character Salesforce Id", show=False),
            )
        return ids
    if kind == "bool":
        out, bad = _csv.parse_bools(values)
        if bad.any():
            problems.add(
                bad, f.api, _csv.bad_values(values, bad, 'a boolean ("0"/"1", true/false)')
            )
        return out
    if kind in ("datetime", "date"):
        if locale is not None and locale.get(f.name):
            out, bad = _csv.parse_locale_datetimes(values, locale[f.name])
            if kind == "date":
                out = out.astype("datetime64[D]").astype("datetime64[us]")
            what = {
                "dmy.": "a date DD.MM.YYYY",
                "mdy/": "a date M/D/YYYY",
                "dmy/": "a date D/M/YYYY",
                "ymd-": "a date YYYY-MM-DD",
            }[locale[f.name]]
        else:
            parse = _csv.parse_dates if kind == "date" else _csv.parse_datetimes
            out, bad = parse(values)
            what = "a valid date YYYY-MM-DD[ HH:MM:SS] (Data Export format)"
        if bad.any():
            problems.add(bad, f.api, _csv.bad_values(values, bad, what))
        return out
    if kind == "number":
        if locale is not None and "decimal" in locale:
            out, _, bad = _csv.parse_locale_numbers(values, locale["decimal"])
            what = "a number"
        else:
            out, bad = _csv.parse_plain_numbers(values)
            what = "a plain number like 12500.00 (Data Export format)"
        if bad.any():
            reasons = _csv.bad_values(values, bad, what)
            if locale is None:
                reasons = np.where(
                    bad,
                    reasons + " - a formatted number: was the file edited in a spreadsheet?",
                    reasons,
                )
            problems.add(bad, f.api, reasons)
        return out
    text = _csv.text_column(values)
    if kind == "forecast":
        return _map_values(text, FORECAST_CATEGORIES)
    return text


def _parse_field_task(values, f: Field, locale: dict | None = None):
    """Parse one column in a worker thread: its values and its own problems."""
    found = Problems()
    return _parse_field(values, f, found, locale=locale), found


def _map_values(arr: pa.Array, mapping: Mapping[str, str]) -> pa.Array:
    """Map values through ``mapping`` (keys lower-case); unmapped values stay."""
    encoded = pc.dictionary_encode(arr)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = [mapping.get(v.lower(), v) for v in encoded.dictionary.to_pylist()]
    return pa.array(dictionary, pa.string()).take(encoded.indices)


def _default_values(kind: str, n: int, name: str = ""):
    if kind in ("id", "text", "forecast"):
        return pa.array([""] * n, pa.string()) if n else pa.array([], pa.string())
    if kind == "bool":
        return np.zeros(n, dtype=bool)
    if kind in ("datetime", "date"):
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    return np.full(n, np.nan)


def _to_frame(data: dict) -> pd.DataFrame:
    columns = {}
    for name, values in data.items():
        if isinstance(values, pa.Array | pa.ChunkedArray):
            columns[name] = values.to_pandas()
            if columns[name].dtype != "str":
                columns[name] = columns[name].astype("str")
        else:
            columns[name] = pd.Series(values)
    return pd.DataFrame(columns, copy=False)


def empty_frame(object_name: str) -> pd.DataFrame:
    """The canonical, typed, empty frame of an object (for a file that is absent)."""
    data = {f.name: _default_values(f.kind, 0) for f in SPECS[object_name]}
    frame = _to_frame(data)
    return frame.drop(columns=[c for c in _INTERNAL if c in frame.columns])


_INTERNAL = ("is_deleted", "master_record_id", "system_modstamp")


# --------------------------------------------------------------------------- Data Export


def _required(object_name: str) -> list[str]:
    return [f.api for f in SPECS[object_name] if f.required]


def _check_required(tf: _csv.TextFile, object_name: str) -> None:
    header = set(tf.header)
    required = _required(object_name)
    missing = [c for c in required if c not in header]
    if object_name == "OpportunityStage" and not ({"ApiName", "MasterLabel"} & header):
        missing.insert(0, "ApiName")
    if not missing:
        return
    looks_like_labels = sum(" " in h for h in tf.header) > len(tf.header) / 2
    hint = (
        " The header has labels with spaces: this looks like a report export - read it "
        "with read_report."
        if looks_like_labels
        else ""
    )
    shown = ", ".join(tf.header[:12]) + (", …" if len(tf.header) > 12 else "")
    raise InputError(
        tf.path,
        f"missing required column {missing[0]!r}"
        + (f" (and {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else "")
        + f"; {'an' if object_name[0] in 'AEIOU' else 'a'} {object_name} Data Export needs the "
        + "API-name columns "
        + ", ".join(required)
        + f"; found: {shown}.{hint}",
        line=tf.header_line,
        column=missing[0],
    )


def read_export(
    path: str | Path,
    object_name: str,
    *,
    allow_custom: Iterable[str] = (),
    encoding: str | None = None,
    key: bytes | None = None,
) -> ObjectData:
    """Read one Salesforce Data Export CSV (``Opportunity.csv`` …).

    Parameters
    ----------
    path : str or Path
    object_name : str
        A key of :data:`SPECS` (``"Opportunity"``, ``"OpportunityHistory"``, …).
    allow_custom : iterable of str
        Custom (``__c``) columns to read as text (named in snake_case); a name that
        looks personal (``ForecastComments__c``) is refused.
    encoding : str, optional
        ``"utf-8"`` or ``"cp1252"``; default: sniffed.
    key : bytes, optional
        Pseudonym key for quarantined record ids (default :func:`load_key`, asked
        only if a row is quarantined).

    Returns
    -------
    ObjectData

    Raises
    ------
    InputError
        Structural problems (see the module docstring).
    """
    from analysis.notebook import note_input

    path = Path(path)
    if object_name not in SPECS:
        raise InputError(path, f"unknown Salesforce object {object_name!r}; known: {sorted(SPECS)}")
    spec = SPECS[object_name]
    tf = _csv.open_text(path, encoding=encoding, delimiter=",", kind="Salesforce Data Export")
    _check_required(tf, object_name)
    extra = list(allow_custom)
    read, ignored = allowed_columns(object_name, tf.header, extra)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        # Hashing for the report's source list runs beside parsing (hashlib and
        # pyarrow release the GIL); the columns are validated in parallel too.
        noted = pool.submit(note_input, path, source=f"{SOURCE}: Data Export {object_name}")
        table = _csv.read_columns(tf, read)
        n = table.num_rows
        fields = [f for f in spec if f.api in read]
        columns = [table.column(f.api) for f in fields]
        parsed = list(pool.map(_parse_field_task, columns, fields))
        noted.result()
    problems = Problems()
    by_name = {}
    for f, (values, found) in zip(fields, parsed, strict=True):
        by_name[f.name] = values
        problems.extend(found)
    data: dict = {
        f.name: by_name[f.name] if f.name in by_name else _default_values(f.kind, n) for f in spec
    }
    known = {f.api for f in spec}
    for name in read:
        if name not in known:
            # An allow-listed custom field: text, named in snake_case without "__c"
            # (with "_c" if that would clash with a standard column).
            snake = _snake(name)
            data[snake if snake not in data else snake + "_c"] = _csv.text_column(
                table.column(name)
            )
    del table
    info = {
        "path": str(path),
        "format": "data_export",
        "encoding": tf.encoding,
        "ignored_columns": ignored,
        "missing_optional_columns": [f.api for f in spec if f.api not in read and not f.required],
        "sha256": _sha256_of(path),
    }
    line_of = functools.partial(_csv.row_lines, tf, n)
    return _finalize(object_name, data, problems, info, line_of, _key_source(key))


def _snake(name: str) -> str:
    base = re.sub(r"__c$", "", name)
    base = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()
    return re.sub(r"[^0-9a-z]+", "_", base).strip("_")


def _key_source(key: bytes | None) -> Callable[[], bytes]:
    if key is not None:
        return lambda: key
    return functools.cache(load_key)


def _sha256_of(path: Path) -> str:
    """The SHA-256 that note_input recorded for ``path`` (hashing the file once only)."""
    from analysis.notebook import noted_inputs
    from analysis.paths import project_root

    resolved = path.resolve()
    for item in noted_inputs():
        shown = Path(item.get("path", ""))
        if (shown if shown.is_absolute() else project_root() / shown) == resolved:
            return item.get("sha256", "")
    return ""


def _length(data: dict) -> int:
    return len(next(iter(data.values())))


def _filter(values, mask: np.ndarray):
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.filter(pa.array(mask))
    return values[mask]


def _id_name(object_name: str) -> str:
    spec = SPECS.get(object_name)
    return spec[0].name if spec is not None else "prospect_id"


def _finalize(
    object_name: str,
    data: dict,
    problems: Problems,
    info: dict,
    line_of: Callable,
    key_source: Callable[[], bytes],
) -> ObjectData:
    """Drop deleted and merged rows, quarantine bad rows and duplicate Ids, build the frame.

    Works on the parsed arrow / NumPy columns, so that nothing is converted to
    Python objects on the happy path.
    """
    data = dict(data)
    n = _length(data)
    deleted = data.pop("is_deleted", None)
    deleted = np.zeros(n, bool) if deleted is None else np.asarray(deleted, dtype=bool)
    master = data.pop("master_record_id", None)
    merged = (
        _csv._np(pc.not_equal(master, "")) & ~deleted if master is not None else np.zeros(n, bool)
    )
    bad = problems.any_rows(n) & ~deleted & ~merged
    keep = ~(deleted | merged | bad)
    id_col = _id_name(object_name)
    ids = data.get(id_col)
    entries = []
    listed = problems.frame()
    if len(listed):
        listed = listed[bad[listed["row"].to_numpy()]]
        rows = listed["row"].to_numpy()
        row_ids = ids.take(pa.array(rows)).to_pylist() if ids is not None else [""] * rows.size
        entries.append(
            _quarantine_frame(
                info["path"],
                line_of(rows),
                listed["column"].to_numpy(),
                listed["reason"].to_numpy(),
                pd.Series(row_ids, dtype="str"),
                key_source,
            )
        )
    n_duplicates = 0
    if (
        ids is not None
        and (object_name in _KEYED or object_name == "PardotProspect")
        and keep.any()
    ):
        kept_rows = np.flatnonzero(keep)
        dup_sub = _csv.duplicated_ids(ids.filter(pa.array(keep)) if not keep.all() else ids)
        if dup_sub.any():
            dup_rows = kept_rows[dup_sub]
            dup_ids = ids.take(pa.array(dup_rows)).to_pylist()
            recency = {name: data[name][dup_rows] for name in _RECENCY if name in data}
            ranked = pd.DataFrame({**recency, "_row": dup_rows, "_id": dup_ids}).sort_values(
                [*recency, "_row"], na_position="first", kind="stable"
            )
            winners = ranked.drop_duplicates("_id", keep="last")
            winner_of = dict(zip(winners["_id"], winners["_row"], strict=True))
            losers = ranked[~ranked["_row"].isin(winners["_row"])].sort_values("_row")
            loser_rows = losers["_row"].to_numpy()
            keep[loser_rows] = False
            n_duplicates = int(loser_rows.size)
            kept_for = np.array([winner_of[i] for i in losers["_id"]], dtype=np.int64)
            kept_lines = line_of(kept_for)
            reasons = np.array(
                [
                    f"duplicate Id: the more recently modified record on line {line} was kept"
                    for line in kept_lines
                ],
                dtype=object,
            )
            entries.append(
                _quarantine_frame(
                    info["path"],
                    line_of(loser_rows),
                    _api_of(object_name, id_col),
                    reasons,
                    losers["_id"].reset_index(drop=True),
                    key_source,
                )
            )
    quarantine = pd.concat(entries, ignore_index=True) if entries else _empty_quarantine()
    quarantine = quarantine.sort_values(["line", "column"], kind="stable").reset_index(drop=True)
    counts = {
        "n_rows_read": n,
        "n_deleted": int(deleted.sum()),
        "n_merged": int(merged.sum()),
        "n_duplicates": n_duplicates,
        "n_quarantined": int(bad.sum()) + n_duplicates,
        "n_rows_used": int(keep.sum()),
    }
    data.pop("system_modstamp", None)
    rows = np.arange(n)
    if not keep.all():
        data = {name: _filter(values, keep) for name, values in data.items()}
        rows = rows[keep]
    return ObjectData(
        object_name, _to_frame(data), quarantine, counts, info, rows, line_of, key_source
    )


_RECENCY = ("last_modified_date", "system_modstamp", "updated_at")


def _api_of(object_name: str, name: str) -> str:
    for f in SPECS.get(object_name, ()):
        if f.name == name:
            return f.api
    return name


# --------------------------------------------------------------------------- reports

#: Report-export column labels (English; German [M] - no verified de_DE sample),
#: normalised with :func:`_label_key`. Anything else in a report is not read.
REPORT_LABELS: dict[str, tuple[str, ...]] = {
    "opportunity_id": ("opportunity id", "opportunity-id", "opportunity id (18)"),
    "account_id": ("account id", "account-id", "accountid"),
    "stage_name": ("stage", "phase", "opportunity stage"),
    "amount": ("amount", "betrag", "opportunity amount"),
    "currency": (
        "opportunity currency",
        "amount currency",
        "currency",
        "opportunity-währung",
        "währung",
        "betrag währung",
    ),
    "close_date": ("close date", "schlusstermin", "abschlussdatum"),
    "created_date": ("created date", "erstellungsdatum", "erstellt am", "erstelldatum"),
    "lead_source": ("lead source", "lead-quelle", "leadquelle"),
    "type": ("type", "opportunity type", "typ", "opportunity-typ"),
    "owner_id": ("opportunity owner id", "owner id", "opportunity-inhaber-id", "inhaber-id"),
    "probability": (
        "probability (%)",
        "probability",
        "wahrscheinlichkeit (%)",
        "wahrscheinlichkeit",
    ),
    "forecast_category": ("forecast category", "prognosekategorie"),
    "campaign_id": ("campaign id", "primary campaign source id", "kampagnen-id"),
    "last_modified_date": ("last modified date", "letzte änderung", "zuletzt geändert am"),
}
_REPORT_KIND = {
    "opportunity_id": "id",
    "account_id": "id",
    "campaign_id": "id",
    "owner_id": "id",
    "amount": "number",
    "probability": "number",
    "close_date": "date",
    "created_date": "datetime",
    "last_modified_date": "datetime",
    "forecast_category": "forecast",
}
_REPORT_REQUIRED = ("opportunity_id", "stage_name", "amount", "close_date")
_GERMAN_LABELS = {
    "opportunity-id",
    "phase",
    "betrag",
    "schlusstermin",
    "erstellungsdatum",
    "währung",
    "opportunity-währung",
    "lead-quelle",
    "leadquelle",
    "typ",
    "wahrscheinlichkeit (%)",
    "prognosekategorie",
    "abschlussdatum",
    "erstellt am",
}

_FOOTERS = (
    (
        "grand_totals",
        re.compile(
            r"^(grand totals?|gesamtsummen?|gesamtergebnis|summe)\s*\(\s*([\d.,]+)\s*"
            r"(records?|datens[äa]tze?|einträge|eintr[äa]ge)\s*\)",
            re.IGNORECASE,
        ),
    ),
    (
        "confidential",
        re.compile(r"^(confidential information|vertrauliche informationen?)", re.IGNORECASE),
    ),
    ("copyright", re.compile(r"^copyright\s*(\(c\)|©)?\s*\d{4}", re.IGNORECASE)),
    ("generated_by", re.compile(r"^(generated by|erstellt von)\s*:", re.IGNORECASE)),
)


def _label_key(label: str) -> str:
    text = label.replace("\ufeff", "").strip().lower()
    return re.sub(r"\s+", " ", text)


def _report_column_map(header: list[str]) -> dict[str, int]:
    lookup = {}
    for name, labels in REPORT_LABELS.items():
        for label in labels:
            lookup[label] = name
    mapping: dict[str, int] = {}
    for index, label in enumerate(header):
        name = lookup.get(_label_key(label))
        if name and name not in mapping:
            mapping[name] = index
    return mapping


def _footer_kind(row: list[str]) -> tuple[str, str] | None:
    cells = [c.strip() for c in row if c and c.strip()]
    if not cells:
        return ("blank", "")
    for kind, pattern in _FOOTERS:
        m = pattern.match(cells[0])
        if m:
            return (kind, m.group(2) if kind == "grand_totals" else "")
    return None


def _xlsx_records(
    path: Path, sheet: str | None
) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError(path, f"reading .xlsx needs openpyxl ({exc})") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputError(
            path, f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            rows.append((number, [_xlsx_cell(v) for v in values]))
    finally:
        book.close()
    for position, (number, cells) in enumerate(rows[:50]):
        if "opportunity_id" in _report_column_map(cells):
            return number, cells, rows[position + 1 :]
    raise InputError(
        path,
        "no header row with an 'Opportunity ID' / 'Opportunity-ID' column in the first 50 rows "
        "(only opportunity reports are supported)",
    )


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return str(value)


def read_report(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    decimal: str | None = None,
    date_order: str | None = None,
    key: bytes | None = None,
) -> ObjectData:
    """Read a Salesforce opportunity report export ("Details Only", CSV or XLSX).

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.xlsx``.
    encoding : str, optional
        CSV only; default sniffed.
    delimiter : str, optional
        CSV only; default sniffed from the header (``,`` ``;`` tab).
    sheet : str, optional
        XLSX only; default the first sheet.
    decimal : {",", "."}, optional
        Default: sniffed from the amounts (German labels tip an undecided vote to ",").
    date_order : {"dmy.", "mdy/", "dmy/", "ymd-"}, optional
        Default: sniffed per date column.
    key : bytes, optional
        Pseudonym key for quarantined record ids.

    Returns
    -------
    ObjectData
        ``object_name == "Opportunity"``; footer lines are in ``info['footer']`` as
        ``(line, kind)`` (their text is not kept: "Generated By" names a person).

    Raises
    ------
    InputError
        Missing required labels, structural CSV problems.
    """
    from analysis.notebook import note_input

    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if not path.is_file():
            raise InputError(path, "file not found")
        header_line, header, records = _xlsx_records(path, sheet)
        encoding_used = "xlsx"
    else:
        tf = _csv.open_text(path, encoding=encoding, delimiter=delimiter, kind="report export")
        header_line, header = tf.header_line, list(tf.header)
        records = list(_csv.iter_records(tf))
        encoding_used = tf.encoding
    mapping = _report_column_map(header)
    missing = [name for name in _REPORT_REQUIRED if name not in mapping]
    if missing:
        expected = "; ".join(f"{n}: {' / '.join(REPORT_LABELS[n][:2])}" for n in _REPORT_REQUIRED)
        raise InputError(
            path,
            f"missing required column for {missing[0]} (expected one of the labels "
            f"{' / '.join(map(repr, REPORT_LABELS[missing[0]]))}); an opportunity report needs "
            f"{expected}; found: {', '.join(header[:12])}",
            line=header_line,
            column=REPORT_LABELS[missing[0]][0],
        )
    note_input(path, source=f"{SOURCE}: report export")
    # Footer: strip trailing blank and footer records, remember what they were.
    footer: list[tuple[int, str]] = []
    expected_total = None
    while records:
        kind = _footer_kind(records[-1][1])
        if kind is None:
            break
        line, _ = records.pop()
        if kind[0] != "blank":
            footer.append((line, kind[0]))
        if kind[0] == "grand_totals":
            expected_total = int(re.sub(r"[.,]", "", kind[1]))
    footer.reverse()
    german = any(_label_key(h) in _GERMAN_LABELS for h in header)
    width = len(header)
    if encoding_used != "xlsx":
        for position, (line, row) in enumerate(records):
            if len(row) != width:
                raise _csv._field_count_error(tf, line, row, is_last=position == len(records) - 1)
    lines = np.array([line for line, _ in records], dtype=np.int64)
    problems = Problems()
    columns = {
        name: pa.array([r[i].strip() if i < len(r) else "" for _, r in records], pa.string())
        for name, i in mapping.items()
    }
    n = len(records)
    locale: dict = {}
    amount_cells = columns["amount"].to_pylist()
    locale["decimal"] = decimal or _csv.sniff_decimal(amount_cells, default="," if german else ".")
    for name in ("close_date", "created_date", "last_modified_date"):
        if name in columns:
            locale[name] = date_order or _csv.sniff_date_order(
                columns[name].to_pylist(), default="dmy." if german else "mdy/"
            )
    data: dict = {}
    for f in SPECS["Opportunity"]:
        if f.name not in columns:
            data[f.name] = _default_values(f.kind, n)
            continue
        kind = _REPORT_KIND.get(f.name, "text")
        spec = Field(header[mapping[f.name]], f.name, kind)
        data[f.name] = _parse_field(columns[f.name], spec, problems, locale=locale)
    if "currency" not in columns:
        _, cell_currency, _ = _csv.parse_locale_numbers(columns["amount"], locale["decimal"])
        data["currency"] = pa.array(cell_currency, pa.string())
    no_id = _csv._np(pc.equal(data["opportunity_id"], "")) & ~problems.any_rows(n)
    problems.add(
        no_id,
        header[mapping["opportunity_id"]],
        "no Opportunity ID: a subtotal or summary row? (export 'Details Only')",
    )
    info = {
        "path": str(path),
        "format": "report_xlsx" if encoding_used == "xlsx" else "report_csv",
        "encoding": encoding_used,
        "ignored_columns": [h for i, h in enumerate(header) if i not in set(mapping.values())],
        "missing_optional_columns": [
            n_ for n_ in REPORT_LABELS if n_ not in mapping and n_ not in _REPORT_REQUIRED
        ],
        "footer": footer,
        "footer_records": expected_total,
        "records_found": n,
        "decimal": locale["decimal"],
        "date_order": {k: v for k, v in locale.items() if k != "decimal"},
        "sha256": _sha256_of(path),
    }
    if expected_total is not None and expected_total != n:
        info["footer_mismatch"] = (
            f"the footer says {expected_total} records, the file holds {n} data rows"
        )
    key_source = _key_source(key)
    return _finalize("Opportunity", data, problems, info, lambda rows: lines[rows], key_source)


def looks_like_report(path: Path) -> bool:
    """True for a CSV/XLSX whose header has an opportunity-report Id label."""
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            _xlsx_records(path, None)
            return True
        tf = _csv.open_text(path, delimiter=None)
    except InputError:
        return False
    return "opportunity_id" in _report_column_map(list(tf.header))


# --------------------------------------------------------------------------- semantics


def stage_table(
    stages: ObjectData | None, names: Iterable[str], path_hint: Path
) -> tuple[pd.DataFrame, str]:
    """Stage semantics: from OpportunityStage.csv, else the Salesforce defaults.

    Returns
    -------
    stages : DataFrame
        ``stage_name, is_closed, is_won, sort_order, default_probability,
        forecast_category`` plus ``label`` (the master label, also matched).
    source : str

    Raises
    ------
    InputError
        Without OpportunityStage.csv when a stage name is not a default stage.
    """
    if stages is not None and len(stages.frame):
        f = stages.frame
        api = f["api_name"].where(f["api_name"] != "", f["master_label"])
        table = (
            pd.DataFrame(
                {
                    "stage_name": api.astype("str"),
                    "label": f["master_label"].where(f["master_label"] != "", api).astype("str"),
                    "is_closed": f["is_closed"].astype(bool),
                    "is_won": f["is_won"].astype(bool),
                    "sort_order": f["sort_order"].astype(float),
                    "default_probability": f["default_probability"].astype(float),
                    "forecast_category": f["forecast_category"].astype("str"),
                    "is_active": f["is_active"].astype(bool) if "is_active" in f else True,
                }
            )
            .sort_values("sort_order", kind="stable")
            .reset_index(drop=True)
        )
        return table, stages.info["path"]
    names = sorted({n for n in names if n})
    unknown = [n for n in names if n not in set(DEFAULT_STAGES["stage_name"])]
    if unknown:
        raise InputError(
            path_hint,
            "no OpportunityStage.csv, and these stage names are not Salesforce default "
            f"stages: {', '.join(map(repr, unknown[:10]))}. Export OpportunityStage (it says "
            "which stages are closed and won); custom stages are not classified by name",
        )
    return DEFAULT_STAGES.assign(label=DEFAULT_STAGES["stage_name"], is_active=True), (
        "Salesforce default stages (no OpportunityStage.csv)"
    )


def _arrow(series: pd.Series) -> pa.Array:
    """A string column as one arrow array (zero-copy for pandas' arrow-backed ``str``)."""
    arr = pa.array(series)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string()) if arr.type != pa.string() else arr


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Dictionary-encode a string column: integer codes and the distinct values."""
    encoded = pc.dictionary_encode(_arrow(series))
    return (
        encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
        encoded.dictionary.to_pylist(),
    )


def apply_stages(obj: ObjectData, stages: pd.DataFrame, source: str) -> ObjectData:
    """Add ``is_closed``/``is_won`` from the stage table; unknown stages are quarantined.

    A stage matches the table's API name or its master label.
    """
    lookup = pd.concat(
        [
            stages[["stage_name", "is_closed", "is_won"]],
            stages[["label", "is_closed", "is_won"]].rename(columns={"label": "stage_name"}),
        ]
    ).drop_duplicates("stage_name")
    codes, values = _codes(obj.frame["stage_name"])
    position = pd.Index(lookup["stage_name"]).get_indexer(values)
    row_position = position[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    known = row_position >= 0
    is_closed = lookup["is_closed"].to_numpy(dtype=bool)[np.maximum(row_position, 0)]
    is_won = lookup["is_won"].to_numpy(dtype=bool)[np.maximum(row_position, 0)]
    frame = obj.frame.assign(is_closed=is_closed, is_won=is_won)
    obj = replace(obj, frame=frame)
    if known.all():
        return obj
    shown = ", ".join(map(repr, stages["stage_name"].tolist()[:12]))
    reason_of = np.array(
        [f"stage {v!r} is not in {Path(source).name} (known: {shown})" for v in values],
        dtype=object,
    )
    return obj.quarantine_rows(~known, "StageName", reason_of[codes])


def _rate_lookup(
    codes: np.ndarray,
    dictionary: list[str],
    dates: np.ndarray,
    static: dict[str, float],
    dated: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Conversion rate per row: the dated rate whose period holds the date, else static.

    Returns the rates (NaN where the currency has none) and the source per row
    (0 none, 1 static, 2 dated).
    """
    rates = np.full(codes.size, np.nan)
    source = np.zeros(codes.size, dtype=np.int8)
    for k, code in enumerate(dictionary):
        rows = np.flatnonzero(codes == k)
        if rows.size == 0:
            continue
        base = static.get(code, np.nan)
        rates[rows] = base
        source[rows] = 1 if np.isfinite(base) else 0
        if dated is None or not len(dated):
            continue
        periods = dated[dated["iso_code"] == code].sort_values("start_date")
        if not len(periods):
            continue
        starts = periods["start_date"].to_numpy(dtype="datetime64[us]")
        nexts = periods["next_start_date"].to_numpy(dtype="datetime64[us]")
        values = periods["conversion_rate"].to_numpy(dtype=float)
        when = dates[rows]
        pos = np.searchsorted(starts, when, side="right") - 1
        inside = (pos >= 0) & ~np.isnat(when)
        pos = np.where(inside, pos, 0)
        inside &= when < nexts[pos]
        rates[rows[inside]] = values[pos[inside]]
        source[rows[inside]] = 2
    return rates, source


def convert_to_eur(
    obj: ObjectData,
    currency_types: pd.DataFrame | None,
    dated: pd.DataFrame | None,
    *,
    org_currency: str = "EUR",
    currency_path: str = "CurrencyType.csv",
) -> tuple[ObjectData, dict]:
    """Add ``amount_eur`` (and fill a blank ``currency``) to opportunities.

    Rate semantics (Salesforce): a rate is units of the currency per 1 unit of the
    corporate currency, so ``amount_corporate = amount / rate``; to EUR multiply by
    the EUR rate of the same date when the corporate currency is not EUR. The rate
    is the dated one (``StartDate <= close_date < NextStartDate``) where dated rates
    exist, else the static ``CurrencyType`` rate. Opportunities in a currency
    without any rate are quarantined.
    """
    frame = obj.frame
    info: dict = {}
    if currency_types is not None and len(currency_types):
        corporate = currency_types.loc[currency_types["is_corporate"], "iso_code"].tolist()
        if len(corporate) != 1:
            raise InputError(
                currency_path,
                f"expected exactly one corporate currency (IsCorporate=1), found {len(corporate)}",
            )
        corporate_code = corporate[0]
        static = dict(
            zip(
                currency_types["iso_code"],
                currency_types["conversion_rate"].astype(float),
                strict=True,
            )
        )
    else:
        corporate_code = org_currency
        static = {org_currency: 1.0}
        dated = None
    info["corporate_currency"] = corporate_code
    currency = pc.if_else(
        pc.equal(_arrow(frame["currency"]), ""), corporate_code, _arrow(frame["currency"])
    )
    encoded = pc.dictionary_encode(currency)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    dictionary = encoded.dictionary.to_pylist()
    dates = frame["close_date"].to_numpy(dtype="datetime64[us]")
    rates, source = _rate_lookup(codes, dictionary, dates, static, dated)
    missing = ~np.isfinite(rates) | (rates <= 0)
    amount = frame["amount"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        eur = amount / np.where(missing, np.nan, rates)
    missing_eur = np.zeros(len(frame), dtype=bool)
    if corporate_code != "EUR" and "EUR" not in static:
        raise InputError(
            currency_path,
            f"the corporate currency is {corporate_code} and CurrencyType.csv has no EUR rate: "
            "amounts cannot be converted to EUR (activate EUR in the org and re-export)",
        )
    if corporate_code != "EUR":
        eur_rates, _ = _rate_lookup(np.zeros(len(frame), np.int64), ["EUR"], dates, static, dated)
        missing_eur = ~np.isfinite(eur_rates) & ~missing
        eur = eur * eur_rates
    currency_column = currency.to_pandas().astype("str").set_axis(frame.index)
    frame = frame.assign(currency=currency_column, amount_eur=eur)
    obj = replace(obj, frame=frame)
    reason_of = np.array(
        [f"currency {c!r} has no conversion rate in CurrencyType.csv" for c in dictionary],
        dtype=object,
    )
    reasons = reason_of[codes] if len(codes) else np.zeros(0, dtype=object)
    bad = missing | missing_eur
    reasons = np.where(
        missing_eur, f"no EUR rate in CurrencyType.csv to convert from {corporate_code}", reasons
    )
    obj = obj.quarantine_rows(bad, "CurrencyIsoCode", reasons)
    info["n_dated_rate"] = int((source[~bad] == 2).sum())
    info["n_static_rate"] = int((source[~bad] == 1).sum())
    info["rates"] = (
        "dated where available, else static" if dated is not None and len(dated) else "static"
    )
    return obj, info


# --------------------------------------------------------------------------- CrmData


@dataclass(frozen=True)
class CrmData:
    """Everything :func:`load_crm` read, typed and privacy-filtered.

    Ids are 18-character strings (``""`` for an empty lookup), dates and times
    ``datetime64[us]`` (UTC, naive; dates at midnight), text ``str`` (``""`` when
    blank), amounts ``float64``. Deleted, merged-away, quarantined and superseded
    duplicate rows are not in the frames.

    Attributes
    ----------
    opportunities : DataFrame
        ``opportunity_id, account_id, stage_name, is_closed, is_won`` (from the stage
        table), ``amount, currency, amount_eur, close_date, created_date,
        lead_source, campaign_id, type, owner_id, forecast_category`` (API values),
        ``probability, contact_id, last_modified_date``.
    opportunity_history : DataFrame
        ``history_id, opportunity_id, created_date, stage_name, amount, close_date,
        probability, forecast_category, prev_amount, prev_close_date``.
    accounts : DataFrame
        ``account_id, account_name`` (company name: for matching only, never shown),
        ``billing_postal_code`` (text), ``billing_city, billing_state,
        billing_state_code, billing_country, billing_country_code, industry,
        number_of_employees, annual_revenue, account_source, type, parent_id,
        owner_id, created_date, last_modified_date``.
    leads : DataFrame
        ``lead_id, status, lead_source, is_converted, converted_date,
        converted_account_id, converted_contact_id, converted_opportunity_id,
        postal_code, country, country_code, industry, number_of_employees,
        annual_revenue, owner_id, created_date, last_modified_date``.
    contacts : DataFrame
        ``contact_id, account_id, lead_source, owner_id, created_date,
        last_modified_date``.
    campaigns : DataFrame
        ``campaign_id, campaign_type, status, start_date, end_date, budgeted_cost,
        actual_cost, is_active, parent_id, created_date, last_modified_date``.
    campaign_members : DataFrame
        ``campaign_member_id, campaign_id, lead_id, contact_id, status,
        has_responded, created_date, first_responded_date, last_modified_date``.
    users : DataFrame
        ``user_id, team`` (UserRole name, else Department), ``is_active``.
    prospects : DataFrame
        See :func:`analysis.sources.crm.pardot.read_prospects`.
    stages : DataFrame
        ``stage_name, is_closed, is_won, sort_order, default_probability,
        forecast_category, is_active``.
    quarantine : DataFrame
        ``file, line, column, reason, record_id`` (pseudonymised) of rows not used.
    quality : DataFrame
        Per object: ``object, file, n_rows_read, n_deleted, n_merged, n_duplicates,
        n_quarantined, n_rows_used``. Fill rates by field and month:
        :attr:`fill_rates` (computed on first use).
    attrs : dict
        ``files`` (per object: path, format, encoding, sha256, ignored and missing
        columns, footer), ``encodings``, ``missing_files``, ``stage_source``,
        ``currency`` ("EUR"), ``corporate_currency``, ``rates``, ``n_dated_rate``,
        ``n_static_rate``.
    """

    opportunities: pd.DataFrame
    opportunity_history: pd.DataFrame
    accounts: pd.DataFrame
    leads: pd.DataFrame
    contacts: pd.DataFrame
    campaigns: pd.DataFrame
    campaign_members: pd.DataFrame
    users: pd.DataFrame
    prospects: pd.DataFrame
    stages: pd.DataFrame
    quarantine: pd.DataFrame
    quality: pd.DataFrame
    attrs: dict

    @functools.cached_property
    def fill_rates(self) -> pd.DataFrame:
        """``object, field, month, n_rows, fill_rate`` for every analysis frame."""
        parts = [
            fill_rates(self.opportunities, "Opportunity"),
            fill_rates(self.opportunity_history, "OpportunityHistory"),
            fill_rates(self.accounts, "Account"),
            fill_rates(self.leads, "Lead"),
            fill_rates(self.contacts, "Contact"),
            fill_rates(self.campaign_members, "CampaignMember"),
            fill_rates(self.prospects, "PardotProspect", date_col="created_at"),
        ]
        return pd.concat(parts, ignore_index=True)


def fill_rates(
    frame: pd.DataFrame, object_name: str, date_col: str = "created_date"
) -> pd.DataFrame:
    """Share of filled cells per field and month of ``date_col``.

    A cell is filled when it is not missing and not ``""``; booleans always are.

    Returns
    -------
    DataFrame
        ``object, field, month (Timestamp), n_rows, fill_rate``.
    """
    columns = ["object", "field", "month", "n_rows", "fill_rate"]
    if date_col not in frame.columns or frame.empty:
        return pd.DataFrame(columns=columns)
    month = frame[date_col].dt.to_period("M").dt.to_timestamp()
    fields = [c for c in frame.columns if c != date_col and not c.startswith("_")]
    filled = pd.DataFrame(
        {
            c: (frame[c].notna() & (frame[c] != ""))
            if frame[c].dtype == "str"
            else frame[c].notna()
            for c in fields
        }
    )
    grouped = filled.groupby(month.to_numpy())
    rates = grouped.mean()
    sizes = grouped.size()
    long = (
        rates.rename_axis("month")
        .reset_index()
        .melt(id_vars="month", var_name="field", value_name="fill_rate")
        .assign(object=object_name)
    )
    long["n_rows"] = long["month"].map(sizes).astype("int64")
    return long[columns]


def _find(folder: Path, name: str) -> Path | None:
    target = name.lower()
    for path in folder.iterdir():
        if path.is_file() and path.name.lower() == target:
            return path
    return None


def load_crm(
    folder: str | Path,
    *,
    pardot: str | Path | None = None,
    key: bytes | None = None,
    allow_custom: Mapping[str, Iterable[str]] | None = None,
    encoding: str | None = None,
    org_currency: str = "EUR",
    pardot_timezone: str | None = None,
) -> CrmData:
    """Read a folder of Salesforce (and Pardot) exports into typed, privacy-filtered frames.

    Parameters
    ----------
    folder : str or Path
        Holds the Data Export CSVs (``Opportunity.csv`` … see :data:`FILES`); without
        ``Opportunity.csv`` an opportunity report export (``.csv``/``.xlsx``) in the
        folder is read instead.
    pardot : str or Path, optional
        A Pardot prospect export or a folder of them; default ``folder/"pardot"``.
    key : bytes, optional
        Pseudonym key for quarantined record ids (default :func:`load_key`).
    allow_custom : mapping, optional
        ``{"Opportunity": ["Loss_Reason__c"]}``: custom fields to read as text.
    encoding : str, optional
        Force an encoding for every CSV (default: sniffed per file).
    org_currency : str
        Currency of a single-currency org (no ``CurrencyIsoCode``/``CurrencyType``).
    pardot_timezone : str, optional
        Time zone of the Pardot export API's local times; converts them to UTC.

    Returns
    -------
    CrmData

    Raises
    ------
    InputError
        A missing folder or ``Opportunity`` export, structural problems in any file,
        unclassifiable stages (see the module docstring).
    """
    from analysis.sources.crm import pardot as pardot_reader

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "expected a folder of Salesforce exports, found none")
    allow_custom = dict(allow_custom or {})
    key_for_readers = key
    objects: dict[str, ObjectData] = {}
    for name, file_name in FILES.items():
        path = _find(folder, file_name)
        if path is not None:
            objects[name] = read_export(
                path,
                name,
                allow_custom=allow_custom.get(name, ()),
                encoding=encoding,
                key=key_for_readers,
            )
    if "Opportunity" not in objects:
        reports = sorted(
            p
            for p in folder.iterdir()
            if p.suffix.lower() in (".csv", ".xlsx")
            and p.name.lower() not in {f.lower() for f in FILES.values()}
            and looks_like_report(p)
        )
        if not reports:
            raise InputError(
                folder,
                "no Opportunity.csv (Salesforce Data Export) and no opportunity report export "
                f"found; expected Data Export files such as {', '.join(list(FILES.values())[:6])}",
            )
        objects["Opportunity"] = read_report(reports[0], key=key_for_readers)
    opp = objects["Opportunity"]
    stages, stage_source = stage_table(
        objects.get("OpportunityStage"), opp.frame["stage_name"].unique().tolist(), opp.info["path"]
    )
    opp = apply_stages(opp, stages, stage_source)
    types = objects.get("CurrencyType")
    dated = objects.get("DatedConversionRate")
    if (
        types is None
        and (opp.frame["currency"] != "").any()
        and (set(opp.frame["currency"].unique()) - {"", org_currency})
    ):
        raise InputError(
            opp.info["path"],
            "opportunities are in several currencies but there is no CurrencyType.csv to "
            "convert them; export CurrencyType (and DatedConversionRate)",
        )
    opp, currency_info = convert_to_eur(
        opp,
        types.frame if types else None,
        dated.frame if dated else None,
        org_currency=org_currency,
        currency_path=types.info["path"] if types else "CurrencyType.csv",
    )
    objects["Opportunity"] = opp
    if "OpportunityHistory" in objects:
        objects["OpportunityHistory"] = apply_stages(
            objects["OpportunityHistory"], stages, stage_source
        )
    users = _users(objects.get("User"), objects.get("UserRole"))
    prospects_obj = pardot_reader.load_prospects(
        Path(pardot) if pardot is not None else folder / "pardot",
        key=key_for_readers,
        timezone=pardot_timezone,
        required=pardot is not None,
    )
    if prospects_obj is not None:
        objects["PardotProspect"] = prospects_obj

    def frame_of(name: str) -> pd.DataFrame:
        if name in objects:
            return objects[name].frame
        return empty_frame(name)

    opportunities = frame_of("Opportunity")
    order = [f.name for f in SPECS["Opportunity"] if f.name in opportunities.columns]
    for col in ("is_closed", "is_won"):
        order.insert(order.index("stage_name") + 1 + (col == "is_won"), col)
    order.insert(order.index("currency") + 1, "amount_eur")
    rest = [c for c in opportunities.columns if c not in order]
    opportunities = opportunities[order + rest]
    history = frame_of("OpportunityHistory").drop(columns=["is_closed", "is_won"], errors="ignore")
    prospects = (
        objects["PardotProspect"].frame
        if "PardotProspect" in objects
        else pardot_reader.empty_prospects()
    )
    quarantine = pd.concat(
        [_empty_quarantine()] + [o.quarantine for o in objects.values()], ignore_index=True
    )
    quality = pd.DataFrame(
        [{"object": name, "file": o.info["path"], **o.counts} for name, o in objects.items()]
    )
    attrs = {
        "files": {name: dict(o.info) for name, o in objects.items()},
        "encodings": {name: o.info.get("encoding", "") for name, o in objects.items()},
        "missing_files": [FILES[n] for n in FILES if n not in objects],
        "stage_source": stage_source,
        "currency": "EUR",
        **currency_info,
    }
    return CrmData(
        opportunities=opportunities,
        opportunity_history=history,
        accounts=frame_of("Account"),
        leads=frame_of("Lead"),
        contacts=frame_of("Contact"),
        campaigns=frame_of("Campaign"),
        campaign_members=frame_of("CampaignMember"),
        users=users,
        prospects=prospects,
        stages=stages.drop(columns=["label"]),
        quarantine=quarantine,
        quality=quality,
        attrs=attrs,
    )


def _users(users: ObjectData | None, roles: ObjectData | None) -> pd.DataFrame:
    """``user_id, team, is_active``: team = role name, else department, else ''."""
    if users is None:
        return pd.DataFrame(
            {
                "user_id": pd.Series(dtype="str"),
                "team": pd.Series(dtype="str"),
                "is_active": pd.Series(dtype=bool),
            }
        )
    frame = users.frame
    team = frame["department"].astype("str")
    if roles is not None and len(roles.frame):
        role_name = roles.frame.set_index("user_role_id")["role_name"]
        by_role = frame["user_role_id"].map(role_name).fillna("").astype("str")
        team = by_role.where(by_role != "", team)
    return pd.DataFrame(
        {"user_id": frame["user_id"], "team": team.astype("str"), "is_active": frame["is_active"]}
    )
