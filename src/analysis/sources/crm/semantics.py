"""Meaning of the exported values: stage semantics (closed? won?) and currency conversion.

Stages come from ``OpportunityStage.csv`` (else the Salesforce defaults, if every
stage is one); amounts are converted to EUR with the dated rate of the close date
where ``DatedConversionRate.csv`` has one, else the ``CurrencyType.csv`` rate.
Opportunities with an unknown stage or a currency without a rate are quarantined
with the rule broken (never the cell's content).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputError
from analysis.sources.crm.exports import ObjectData
from analysis.sources.crm.objects import DEFAULT_STAGES


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
        # The names are not shown: a stage cell may hold anything a user typed.
        raise InputError(
            path_hint,
            f"no OpportunityStage.csv, and {len(unknown)} stage name(s) in the opportunities "
            "are not Salesforce default stages. Export OpportunityStage (it says which stages "
            "are closed and won); custom stages are not classified by name",
            column="StageName",
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
    reason = f"expected a stage of {Path(source).name} ({shown}); the value is another (not shown)"
    return obj.quarantine_rows(~known, "StageName", reason)


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
    known_codes = ", ".join(sorted(static))
    reasons = np.full(
        len(codes),
        f"expected a currency with a rate in CurrencyType.csv ({known_codes}); "
        "the value is another (not shown)",
        dtype=object,
    )
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
