"""Benchmark: CRM ingest (load + validate + monthly aggregation) vs plain pyarrow.

Generates - deterministically, with NumPy and pyarrow, not the demo generator -
1,000,000 opportunities and 3,000,000 history rows in Salesforce Data Export format
(the verbatim 55- and 21-column headers, every field quoted) and 1,000,000 Pardot
prospects in export-API format (45 snake_case columns) into a temporary folder,
then runs each side in its own subprocess:

(a) ``workbook``: ``analysis.sources.crm.salesforce.load_crm`` (encoding sniffing,
    allow-list, typed parsing and validation of every read column, deleted rows,
    duplicate Ids, stage semantics, dated currency conversion, Pardot prospects)
    + count and sum of ``amount_eur`` by close month;
(b) ``pyarrow``: ``pyarrow.csv.read_csv`` of the same files (type inference, all
    columns) + the same aggregation (same rates) in pyarrow/NumPy/pandas.

It prints the wall-time ratio (a)/(b), each side's peak resident memory
(``ru_maxrss`` of the child) and (a)'s peak relative to the CSV bytes, and checks
that both sides computed the same monthly figures. Targets: ratio <= 2.5, peak
memory of (a) <= 3 x CSV bytes.

Usage::

    nice .venv/bin/python benchmarks/crm_ingest.py [--opportunities 1000000]
        [--history 3000000] [--prospects 1000000] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OPP_HEADER = (
    "Id,IsDeleted,AccountId,IsPrivate,Name,Description,StageName,StageSortOrder,Amount,"
    "Probability,ExpectedRevenue,TotalOpportunityQuantity,CloseDate,Type,NextStep,LeadSource,"
    "IsClosed,IsWon,ForecastCategory,ForecastCategoryName,CurrencyIsoCode,CampaignId,"
    "HasOpportunityLineItem,Pricebook2Id,OwnerId,Territory2Id,IsExcludedFromTerritory2Filter,"
    "CreatedDate,CreatedById,LastModifiedDate,LastModifiedById,SystemModstamp,LastActivityDate,"
    "LastStageChangeDate,FiscalYear,FiscalQuarter,ContactId,PrimaryPartnerAccountId,"
    "SyncedQuoteId,ContractId,LastAmountChangedHistoryId,LastCloseDateChangedHistoryId,"
    "Budget_Confirmed__c,Discovery_Completed__c,ROI_Analysis_Completed__c,BudgetConfirmed__c,"
    "Loss_Reason__c,Channel__c,ClosingPlan__c,DiscoveryCompleted__c,ForecastComments__c,"
    "LossReason__c,Opportunity_rating__c,Partner__c,ROIAnalysisCompleted__c"
).split(",")
HISTORY_HEADER = (
    "Id,OpportunityId,CreatedById,CreatedDate,CreatedDateForInsert,StageName,Amount,"
    "ExpectedRevenue,CloseDate,Probability,FromForecastCategory,ForecastCategory,"
    "PrevForecastUpdate,FromOpportunityStageName,PrevOpportunityStageUpdate,CurrencyIsoCode,"
    "ValidThroughDate,SystemModstamp,IsDeleted,PrevAmount,PrevCloseDate"
).split(",")
PROSPECT_HEADER = (
    "id,campaign_id,salutation,first_name,last_name,email,password,company,prospect_account_id,"
    "website,job_title,department,country,address_one,address_two,city,state,territory,zip,"
    "phone,fax,source,annual_revenue,employees,industry,years_in_business,comments,notes,score,"
    "grade,last_activity_at,recent_interaction,crm_lead_fid,crm_contact_fid,crm_owner_fid,"
    "crm_account_fid,crm_last_sync,crm_url,is_do_not_email,is_do_not_call,opted_out,"
    "is_reviewed,is_starred,created_at,updated_at"
).split(",")
STAGES = [
    # name, closed, won, probability, forecast category (API), history label, weight
    ("Prospecting", 0, 0, 10, "Pipeline", "Pipeline", 0.08),
    ("Qualification", 0, 0, 10, "Pipeline", "Pipeline", 0.08),
    ("Needs Analysis", 0, 0, 20, "Pipeline", "Pipeline", 0.05),
    ("Value Proposition", 0, 0, 50, "Pipeline", "Pipeline", 0.04),
    ("Proposal/Price Quote", 0, 0, 75, "BestCase", "Best Case", 0.04),
    ("Negotiation/Review", 0, 0, 90, "Forecast", "Commit", 0.03),
    ("Closed Won", 1, 1, 100, "Closed", "Closed", 0.28),
    ("Closed Lost", 1, 0, 0, "Omitted", "Omitted", 0.40),
]
KEY = b"benchmark-key-0123456789abcdef"
_BASE62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)
_CHECK = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)


# --------------------------------------------------------------------------- generate


def _ids(prefix: str, index: np.ndarray, pa):
    """18-character Salesforce Ids (with the case-safe checksum) for integer indexes."""
    n = index.size
    chars = np.empty((n, 15), dtype=np.uint8)
    chars[:, :3] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars[:, 3:6] = np.frombuffer(b"5g0", dtype=np.uint8)
    value = index.astype(np.int64) * 7919 + 12345
    for k in range(14, 5, -1):
        chars[:, k] = _BASE62[value % 62]
        value //= 62
    upper = ((chars >= 65) & (chars <= 90)).reshape(n, 3, 5)
    check = _CHECK[(upper * np.array([1, 2, 4, 8, 16], dtype=np.uint8)).sum(axis=2)]
    full = np.ascontiguousarray(np.concatenate([chars, check], axis=1))
    return pa.array(full.view("S18").ravel(), pa.binary()).cast(pa.string())


def _times(pa, pc, seconds: np.ndarray, date_only: bool = False):
    stamps = np.datetime64("2019-01-01T00:00:00") + seconds.astype("timedelta64[s]")
    if date_only:
        text = np.datetime_as_string(stamps.astype("datetime64[D]"))
        return pc.binary_join_element_wise(pa.array(text), " 00:00:00", "")
    return pc.replace_substring(pa.array(np.datetime_as_string(stamps, unit="s")), "T", " ")


def _pick(pa, values, index: np.ndarray):
    return pa.array(list(values), pa.string()).take(pa.array(index))


def _const(pa, value: str, n: int):
    return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))


def _write(pv, pa, path: Path, columns: dict, header: list[str], quote_all: bool | None) -> None:
    n = len(next(iter(columns.values())))
    empty = _const(pa, "", n)
    table = pa.table({name: columns.get(name, empty) for name in header})
    # Data Export quotes every field; the Pardot API file is written unquoted.
    style = {True: "all_valid", False: "needed", None: "none"}[quote_all]
    options = pv.WriteOptions(quoting_style=style)
    pv.write_csv(table, path, write_options=options)


def generate(folder: Path, n_opp: int, n_hist: int, n_pros: int, seed: int = 0) -> None:
    """Write the benchmark's Data Export and Pardot files into ``folder``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    rng = np.random.default_rng(seed)
    crm = folder / "crm"
    (crm / "pardot").mkdir(parents=True, exist_ok=True)
    names = [s[0] for s in STAGES]
    weights = np.array([s[6] for s in STAGES])
    stage = rng.choice(len(STAGES), size=n_opp, p=weights / weights.sum())
    closed = np.array([s[1] for s in STAGES])[stage]
    won = np.array([s[2] for s in STAGES])[stage]
    created_s = rng.integers(0, 6 * 365 * 86400, n_opp)
    close_s = created_s + rng.integers(7, 240, n_opp) * 86400
    modified_s = close_s + rng.integers(0, 30 * 86400, n_opp)
    amount = (rng.lognormal(9.5, 1.0, n_opp)).round(0).astype(np.int64)
    amount_text = pc.cast(pa.array(amount), pa.string())
    blank_amount = rng.random(n_opp) < 0.01
    amount_text = pc.if_else(pa.array(blank_amount), "", amount_text)
    currency = rng.random(n_opp) < 0.2
    owner = rng.integers(0, 120, n_opp)
    campaign = rng.random(n_opp) < 0.3
    opp_index = np.arange(n_opp)
    deleted = rng.random(n_opp) < 0.005
    opp = {
        "Id": _ids("006", opp_index, pa),
        "IsDeleted": pa.array(np.where(deleted, "1", "0")),
        "AccountId": _ids("001", rng.integers(0, 200_000, n_opp), pa),
        "IsPrivate": _const(pa, "0", n_opp),
        "Name": pc.binary_join_element_wise(
            "Opportunity ", pc.cast(pa.array(opp_index), pa.string()), ", Phase 1", ""
        ),
        "Description": _pick(
            pa,
            ["", "Follow up with the buyer, call back next week"],
            (rng.random(n_opp) < 0.05).astype(np.int64),
        ),
        "StageName": _pick(pa, names, stage),
        "StageSortOrder": pc.cast(pa.array(stage + 1), pa.string()),
        "Amount": amount_text,
        "Probability": _pick(pa, [str(s[3]) for s in STAGES], stage),
        "CloseDate": _times(pa, pc, close_s, date_only=True),
        "Type": _pick(pa, ["New Business", "Existing Business", ""], rng.integers(0, 3, n_opp)),
        "LeadSource": _pick(
            pa, ["", "Web", "Partner", "Trade Show", "Purchased List"], rng.integers(0, 5, n_opp)
        ),
        "IsClosed": pa.array(np.where(closed == 1, "1", "0")),
        "IsWon": pa.array(np.where(won == 1, "1", "0")),
        "ForecastCategory": _pick(pa, [s[4] for s in STAGES], stage),
        "ForecastCategoryName": _pick(pa, [s[5] for s in STAGES], stage),
        "CurrencyIsoCode": pa.array(np.where(currency, "USD", "EUR")),
        "CampaignId": pc.if_else(
            pa.array(campaign), _ids("701", rng.integers(0, 500, n_opp), pa), "000000000000000AAA"
        ),
        "HasOpportunityLineItem": _const(pa, "0", n_opp),
        "OwnerId": _ids("005", owner, pa),
        "IsExcludedFromTerritory2Filter": _const(pa, "0", n_opp),
        "CreatedDate": _times(pa, pc, created_s),
        "CreatedById": _ids("005", owner, pa),
        "LastModifiedDate": _times(pa, pc, modified_s),
        "LastModifiedById": _ids("005", owner, pa),
        "SystemModstamp": _times(pa, pc, modified_s),
        "FiscalYear": _const(pa, "2015", n_opp),
        "FiscalQuarter": _pick(pa, ["1", "2", "3", "4"], rng.integers(0, 4, n_opp)),
        "ContactId": _const(pa, "000000000000000AAA", n_opp),
        "Budget_Confirmed__c": _const(pa, "0", n_opp),
        "Discovery_Completed__c": _const(pa, "0", n_opp),
        "ForecastComments__c": _pick(
            pa, ["", "Customer unhappy, talk to CFO"], (rng.random(n_opp) < 0.02).astype(np.int64)
        ),
    }
    _write(pv, pa, crm / "Opportunity.csv", opp, OPP_HEADER, quote_all=True)
    del opp
    # History: several rows per opportunity (stages repeat, as in real orgs).
    owner_of = rng.integers(0, n_opp, n_hist)
    h_stage = rng.choice(len(STAGES), size=n_hist, p=weights / weights.sum())
    h_created = created_s[owner_of] + rng.integers(0, 90 * 86400, n_hist)
    hist = {
        "Id": _ids("008", np.arange(n_hist), pa),
        "OpportunityId": _ids("006", owner_of, pa),
        "CreatedById": _ids("005", owner[owner_of], pa),
        "CreatedDate": _times(pa, pc, h_created),
        "CreatedDateForInsert": _times(pa, pc, h_created),
        "StageName": _pick(pa, names, h_stage),
        "Amount": amount_text.take(pa.array(owner_of)),
        "CloseDate": _times(pa, pc, close_s[owner_of], date_only=True),
        "Probability": _pick(pa, [str(s[3]) for s in STAGES], h_stage),
        "ForecastCategory": _pick(pa, [s[5] for s in STAGES], h_stage),
        "CurrencyIsoCode": pa.array(np.where(currency[owner_of], "USD", "EUR")),
        "ValidThroughDate": _times(pa, pc, h_created + 86400),
        "SystemModstamp": _times(pa, pc, h_created),
        "IsDeleted": _const(pa, "0", n_hist),
    }
    _write(pv, pa, crm / "OpportunityHistory.csv", hist, HISTORY_HEADER, quote_all=True)
    del hist
    p_index = np.arange(1, n_pros + 1)
    p_created = rng.integers(0, 6 * 365 * 86400, n_pros)
    text_index = pc.cast(pa.array(p_index), pa.string())
    prospects = {
        "id": text_index,
        "campaign_id": pc.cast(pa.array(rng.integers(100, 400, n_pros)), pa.string()),
        "first_name": pc.binary_join_element_wise("Vorname", text_index, ""),
        "last_name": pc.binary_join_element_wise("Nachname", text_index, ""),
        "email": pc.binary_join_element_wise("person", text_index, "@example.com", ""),
        "company": pc.binary_join_element_wise("Firma ", text_index, " GmbH", ""),
        "country": _pick(pa, ["Germany", "Austria", "Switzerland", ""], rng.integers(0, 4, n_pros)),
        "city": _pick(pa, ["Göttingen", "München", "Köln"], rng.integers(0, 3, n_pros)),
        "phone": pc.binary_join_element_wise("+49 551 ", text_index, ""),
        "source": _pick(
            pa, ["", "Web", "Trade Show", "Google AdWords"], rng.integers(0, 4, n_pros)
        ),
        "score": pc.cast(pa.array(rng.integers(0, 1000, n_pros)), pa.string()),
        "crm_lead_fid": pc.if_else(
            pa.array(rng.random(n_pros) < 0.6), _ids("00Q", p_index, pa), ""
        ),
        "created_at": _times(pa, pc, p_created),
        "updated_at": _times(pa, pc, p_created + rng.integers(0, 365 * 86400, n_pros)),
    }
    _write(
        pv,
        pa,
        crm / "pardot" / "prospects_export_api.csv",
        prospects,
        PROSPECT_HEADER,
        quote_all=None,
    )
    del prospects
    # Small reference files.
    stage_rows = [
        '"Id","MasterLabel","ApiName","IsActive","SortOrder","IsClosed","IsWon",'
        '"ForecastCategory","DefaultProbability"'
    ]
    for k, (name, c, w, p, fc, _, _) in enumerate(STAGES, start=1):
        stage_rows.append(
            f'"01J5g00000000{k:02d}AAA","{name}","{name}","1","{k}","{c}","{w}","{fc}","{p}"'
        )
    (crm / "OpportunityStage.csv").write_text("\n".join(stage_rows) + "\n", encoding="utf-8")
    (crm / "CurrencyType.csv").write_text(
        '"Id","IsoCode","ConversionRate","DecimalPlaces","IsActive","IsCorporate"\n'
        '"02c5g0000000001AAA","EUR","1","2","1","1"\n'
        '"02c5g0000000002AAA","USD","1.1","2","1","0"\n',
        encoding="utf-8",
    )
    months = np.arange(np.datetime64("2019-01"), np.datetime64("2026-01"))
    rows = ['"Id","IsoCode","StartDate","NextStartDate","ConversionRate"']
    for k, month in enumerate(months[:-1]):
        rate = 1.05 + 0.1 * np.sin(k / 6)
        rows.append(
            f'"04w5g00000{k:05d}AAA","USD","{month}-01 00:00:00",'
            f'"{months[k + 1]}-01 00:00:00","{rate:.6f}"'
        )
    (crm / "DatedConversionRate.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- sides


def _monthly(close_date: np.ndarray, amount_eur: np.ndarray):
    import pandas as pd

    month = close_date.astype("datetime64[M]")
    frame = pd.DataFrame({"month": month, "amount_eur": amount_eur})
    return frame.groupby("month").agg(n=("amount_eur", "size"), amount_eur=("amount_eur", "sum"))


def side_workbook(folder: Path):
    from analysis.sources.crm.salesforce import load_crm

    crm = load_crm(folder / "crm", key=KEY)
    opps = crm.opportunities
    result = _monthly(opps["close_date"].to_numpy(), opps["amount_eur"].to_numpy())
    rows = {
        "opportunities": len(opps),
        "history": len(crm.opportunity_history),
        "prospects": len(crm.prospects),
        "quarantined": len(crm.quarantine),
    }
    return result, rows


def side_pyarrow(folder: Path):
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    crm = folder / "crm"
    opps = pv.read_csv(crm / "Opportunity.csv")
    history = pv.read_csv(crm / "OpportunityHistory.csv")
    prospects = pv.read_csv(crm / "pardot" / "prospects_export_api.csv")
    types = pv.read_csv(crm / "CurrencyType.csv").to_pandas()
    dated = pv.read_csv(crm / "DatedConversionRate.csv").to_pandas()
    opps = opps.filter(pc.equal(opps["IsDeleted"], 0))
    close = opps["CloseDate"].to_numpy().astype("datetime64[us]")
    amount = opps["Amount"].to_numpy(zero_copy_only=False).astype(float)
    code = opps["CurrencyIsoCode"].to_numpy(zero_copy_only=False)
    rate = np.ones(len(close))
    static = dict(zip(types["IsoCode"], types["ConversionRate"], strict=True))
    for cur in ("USD",):
        rows = np.flatnonzero(code == cur)
        periods = dated[dated["IsoCode"] == cur].sort_values("StartDate")
        starts = periods["StartDate"].to_numpy().astype("datetime64[us]")
        nexts = periods["NextStartDate"].to_numpy().astype("datetime64[us]")
        pos = np.searchsorted(starts, close[rows], side="right") - 1
        ok = (pos >= 0) & (close[rows] < nexts[np.maximum(pos, 0)])
        rate[rows] = np.where(
            ok, periods["ConversionRate"].to_numpy()[np.maximum(pos, 0)], static[cur]
        )
    result = _monthly(close, amount / rate)
    rows = {
        "opportunities": opps.num_rows,
        "history": history.num_rows,
        "prospects": prospects.num_rows,
    }
    return result, rows


def run_side(name: str, folder: Path) -> None:
    """Child process: time one side, print JSON with seconds, peak RSS and the result."""
    # Imports are not timed: both sides pay them once per process.
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401

    if name == "workbook":
        import analysis.sources.crm.pardot  # noqa: F401
        import analysis.sources.crm.salesforce  # noqa: F401
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result, rows = (side_workbook if name == "workbook" else side_pyarrow)(folder)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = after.ru_maxrss * 1024
    out = {
        "side": name,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_bytes": peak,
        "rows": rows,
        "months": [str(m) for m in result.index],
        "n": result["n"].astype(int).tolist(),
        "amount_eur": result["amount_eur"].astype(float).tolist(),
    }
    print(json.dumps(out))


def _child(name: str, folder: Path) -> dict:
    cmd = [sys.executable, __file__, "--side", name, "--workdir", str(folder)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"side {name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=3_000_000)
    parser.add_argument("--prospects", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the files")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--side", choices=["workbook", "pyarrow"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        run_side(args.side, args.workdir)
        return 0
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="crm_ingest_"))
    try:
        if not (folder / "crm" / "Opportunity.csv").is_file():
            start = time.perf_counter()
            generate(folder, args.opportunities, args.history, args.prospects)
            print(f"generated in {time.perf_counter() - start:.1f} s: {folder}")
        files = [p for p in (folder / "crm").rglob("*.csv")]
        csv_bytes = sum(p.stat().st_size for p in files)
        print(f"CSV bytes: {csv_bytes / 1e6:,.0f} MB in {len(files)} files")
        # Warm the page cache so that neither side pays for the first read from disk.
        for p in files:
            with open(p, "rb") as handle:
                while handle.read(1 << 24):
                    pass
        workbook = _child("workbook", folder)
        baseline = _child("pyarrow", folder)
        children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        ratio = workbook["seconds"] / baseline["seconds"]
        cpu_ratio = workbook["cpu_seconds"] / baseline["cpu_seconds"]
        memory = workbook["peak_rss_bytes"] / csv_bytes
        same_months = workbook["months"] == baseline["months"]
        same_n = same_months and workbook["n"] == baseline["n"]
        diff = (
            float(np.max(np.abs(np.subtract(workbook["amount_eur"], baseline["amount_eur"]))))
            if same_months
            else float("nan")
        )
        print(f"rows (workbook): {workbook['rows']}")
        print(f"rows (pyarrow):  {baseline['rows']}")
        for label, side in (
            ("(a) workbook load + validate + monthly aggregation", workbook),
            ("(b) pyarrow.csv.read_csv + same aggregation       ", baseline),
        ):
            print(
                f"{label}: {side['seconds']:.2f} s wall, {side['cpu_seconds']:.2f} s CPU, "
                f"peak RSS {side['peak_rss_bytes'] / 1e6:,.0f} MB"
            )
        print(f"max RSS of any child (RUSAGE_CHILDREN): {children_peak / 1e6:,.0f} MB")
        print(f"time ratio (a)/(b): {ratio:.2f} wall, {cpu_ratio:.2f} CPU  (target <= 2.5)")
        print(f"peak memory of (a) / CSV bytes: {memory:.2f}  (target <= 3)")
        print(f"same monthly counts: {same_n}; max |difference| of monthly EUR sums: {diff:.6g}")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
