"""A folder of Salesforce Sales Cloud (and Pardot) exports into typed, privacy-filtered frames.

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
  dates (sniffed per column), footer lines recognised by their shape (not their
  wording), stripped and reported.

Decisions on bad input (each tested in ``tests/test_sources_salesforce.py``):

* Structural problems - a truncated file (unterminated quote, short last line), a
  wrong or mixed encoding, a ``;`` file where ``,`` was expected, a missing required
  column - raise :class:`~analysis.errors.InputError` with file, line and column.
* A bad value in a row - an invalid date (``31.02.2024``), a formatted number in a
  Data Export (``12.500,00 €``: Salesforce never writes one, so the row was edited by
  hand and is not guessed at), an invalid Id, an unknown stage, a currency without a
  rate, a close date before the creation date - puts the row in ``quarantine``
  (file, physical line, column, the rule broken - never the cell's content -,
  pseudonymised record id). It is counted in ``quality``, never silently dropped.
* Orphans (an account not in ``Account.csv``) and won deals without a positive
  amount are kept, flagged (``action == "kept"``) and counted (``n_flagged``).
* Duplicate Ids: the record with the latest ``LastModifiedDate`` (then
  ``SystemModstamp``, then the later line) is kept; the others are listed as
  duplicates. A Pardot UI export beside export-API files is counted as not used.
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

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.sources.crm import pardot as pardot_reader
from analysis.sources.crm.dataexport import empty_frame, read_export
from analysis.sources.crm.exports import ObjectData, empty_quarantine
from analysis.sources.crm.objects import FILES, SPECS
from analysis.sources.crm.reports import looks_like_report, read_report
from analysis.sources.crm.semantics import apply_stages, convert_to_eur, stage_table

__all__ = [
    "CrmData",
    "apply_stages",
    "convert_to_eur",
    "fill_rates",
    "load_crm",
    "read_export",
    "read_report",
    "stage_table",
]


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
        ``file, line, column, reason, record_id`` (pseudonymised), ``action`` of every
        row not used - ``"quarantined"`` (a rule broken), ``"duplicate"`` (a newer
        record kept), ``"not used"`` (an export read but not used) - and of rows kept
        but flagged (``"kept"``: orphans, won deals without a positive amount). A
        reason names the rule, never the content of a cell.
    quality : DataFrame
        Per file read (:data:`QUALITY_COLUMNS`): ``n_rows_read = n_deleted +
        n_merged + n_duplicates + n_quarantined + n_not_used + n_rows_used``;
        ``n_flagged`` counts the used rows that carry a flag. Fill rates by field and month:
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

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "expected a folder of Salesforce exports, found none")
    objects = _read_objects(folder, dict(allow_custom or {}), encoding, key)
    opp = objects["Opportunity"]
    stages, stage_source = stage_table(
        objects.get("OpportunityStage"), opp.frame["stage_name"].unique().tolist(), opp.info["path"]
    )
    opp = apply_stages(opp, stages, stage_source)
    opp, currency_info = _convert(opp, objects, org_currency)
    objects["Opportunity"] = check_opportunities(opp, objects.get("Account"))
    if "OpportunityHistory" in objects:
        objects["OpportunityHistory"] = apply_stages(
            objects["OpportunityHistory"], stages, stage_source
        )
    prospects_obj = pardot_reader.load_prospects(
        Path(pardot) if pardot is not None else folder / "pardot",
        key=key,
        timezone=pardot_timezone,
        required=pardot is not None,
    )
    unused: list[ObjectData] = []
    if prospects_obj is not None:
        objects["PardotProspect"] = prospects_obj
        unused = list(prospects_obj.info.pop("ignored_exports", []))
    attrs = {
        "files": {name: dict(o.info) for name, o in objects.items()},
        "encodings": {name: o.info.get("encoding", "") for name, o in objects.items()},
        "missing_files": [FILES[n] for n in FILES if n not in objects],
        "stage_source": stage_source,
        "currency": "EUR",
        **currency_info,
    }
    return _assemble(objects, unused, stages, attrs)


def _read_objects(folder: Path, allow_custom: dict, encoding, key) -> dict[str, ObjectData]:
    """Every Data Export file of the folder; an opportunity report if no Opportunity.csv."""
    objects: dict[str, ObjectData] = {}
    for name, file_name in FILES.items():
        path = _find(folder, file_name)
        if path is not None:
            objects[name] = read_export(
                path, name, allow_custom=allow_custom.get(name, ()), encoding=encoding, key=key
            )
    if "Opportunity" not in objects:
        reports = sorted(
            p
            for p in folder.iterdir()
            if p.is_file()
            and p.suffix.lower() in (".csv", ".xlsx")
            and p.name.lower() not in {f.lower() for f in FILES.values()}
            and looks_like_report(p)
        )
        if not reports:
            raise InputError(
                folder,
                "no Opportunity.csv (Salesforce Data Export) and no opportunity report export "
                f"found; expected Data Export files such as {', '.join(list(FILES.values())[:6])}",
            )
        objects["Opportunity"] = read_report(reports[0], key=key)
    return objects


def _convert(opp: ObjectData, objects: dict, org_currency: str) -> tuple[ObjectData, dict]:
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
            column="CurrencyIsoCode",
        )
    return convert_to_eur(
        opp,
        types.frame if types else None,
        dated.frame if dated else None,
        org_currency=org_currency,
        currency_path=types.info["path"] if types else "CurrencyType.csv",
    )


def check_opportunities(opp: ObjectData, accounts: ObjectData | None) -> ObjectData:
    """Rules across fields and files, each counted under its own reason.

    * A close date before the creation day is impossible: the row is quarantined
      (a cycle length cannot be negative).
    * An opportunity whose account is not in ``Account.csv`` (an orphan: the
      exports were taken at different times, or the account export was filtered)
      is kept - it is a real deal for win rates - but flagged.
    * A won deal with an amount that is not positive is kept (it is won) but
      flagged: sums and averages of won amounts may mislead.

    Parameters
    ----------
    opp : ObjectData
        Opportunities after stages and currency conversion.
    accounts : ObjectData or None
        Without ``Account.csv`` orphans are not checked.

    Returns
    -------
    ObjectData
    """
    frame = opp.frame
    created_day = frame["created_date"].dt.normalize()
    before = (frame["close_date"] < created_day).to_numpy()
    opp = opp.quarantine_rows(
        before, "CloseDate", "impossible date order: the close date is before the creation date"
    )
    frame = opp.frame
    if accounts is not None:
        account = frame["account_id"]
        orphan = ((account != "") & ~account.isin(accounts.frame["account_id"])).to_numpy()
        opp = opp.flag_rows(
            orphan, "AccountId", "orphan: the account is not in Account.csv (deal kept)"
        )
    amount = frame["amount"].to_numpy(dtype=float)
    won_not_positive = frame["is_won"].to_numpy(dtype=bool) & ~(amount > 0)
    return opp.flag_rows(
        won_not_positive,
        "Amount",
        "a won deal without a positive amount (blank, zero or negative; deal kept)",
    )


#: Columns of :attr:`CrmData.quality`, in order.
QUALITY_COLUMNS = [
    "object",
    "file",
    "n_rows_read",
    "n_deleted",
    "n_merged",
    "n_duplicates",
    "n_quarantined",
    "n_not_used",
    "n_rows_used",
    "n_flagged",
]


def _assemble(objects: dict, unused: list, stages: pd.DataFrame, attrs: dict) -> CrmData:
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
    # an export read but not used gets its own row: the counts of each file add up
    read = [*objects.items(), *(("PardotProspect (not used)", o) for o in unused)]
    quarantine = pd.concat(
        [empty_quarantine()] + [part for _, o in read for part in (o.quarantine, o.flags)],
        ignore_index=True,
    )
    quality = pd.DataFrame(
        [{"object": name, "file": o.info["path"], **o.counts} for name, o in read],
        columns=QUALITY_COLUMNS,
    )
    return CrmData(
        opportunities=opportunities,
        opportunity_history=history,
        accounts=frame_of("Account"),
        leads=frame_of("Lead"),
        contacts=frame_of("Contact"),
        campaigns=frame_of("Campaign"),
        campaign_members=frame_of("CampaignMember"),
        users=_users(objects.get("User"), objects.get("UserRole")),
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
