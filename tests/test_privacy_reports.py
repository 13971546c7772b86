"""No personal data or free text from the CRM and marketing inputs reaches a report.

Builds the two reports that read CRM data (04 sales alignment, 05 market potential)
from a fresh demo and scans their HTML for every email, phone number, person name,
street and free-text value of the inputs (issue 5: "scanned").
"""

from __future__ import annotations

import csv
import re

import pytest

from analysis.paths import project_root
from analysis.report.params import read_parameters, validate
from analysis.report.plan import Job, parameter_slug
from analysis.report.runner import ReportStore, run_jobs

pytestmark = pytest.mark.slow

PERSON_FILES = {
    "Lead.csv": (
        "Email",
        "Phone",
        "MobilePhone",
        "Street",
        "Description",
        ("FirstName", "LastName"),
    ),
    "Contact.csv": (
        "Email",
        "Phone",
        "MobilePhone",
        "MailingStreet",
        "Description",
        ("FirstName", "LastName"),
    ),
    "Opportunity.csv": ("Description", "NextStep"),
    "Account.csv": ("Phone", "BillingStreet", "Description"),
}


def _read(path):
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    return list(csv.DictReader(text.splitlines()))


def _secrets(crm):
    found: set[str] = set()
    for name, fields in PERSON_FILES.items():
        path = crm / name
        if not path.is_file():
            continue
        for row in _read(path):
            for field in fields:
                if isinstance(field, tuple):
                    parts = [row.get(f, "").strip() for f in field]
                    # a surname alone may also be a firm's name, which reports may show
                    value = " ".join(parts) if all(parts) else ""
                else:
                    value = row.get(field, "").strip()
                if len(value) >= 6 and value != "000000000000000AAA":
                    found.add(value)
    for path in (crm / "pardot").glob("*.csv"):
        for row in _read(path):
            for key, value in row.items():
                key = (key or "").lower().replace(" ", "_")
                if key in {"email", "phone", "comments", "address_one"} and len(value) >= 6:
                    found.add(value.strip())
            first = row.get("first_name") or row.get("First Name") or ""
            last = row.get("last_name") or row.get("Last Name") or ""
            if first and last:
                found.add(f"{first} {last}")
    return found


@pytest.fixture(scope="module")
def crm_reports(demo_root, tmp_path_factory):
    import os

    reports = tmp_path_factory.mktemp("privacy") / "reports"
    old = os.environ.get("WORKBOOK_DEMO_DIR")
    os.environ["WORKBOOK_DEMO_DIR"] = str(demo_root)
    try:
        jobs = []
        for stem in ("04_sales_marketing_alignment", "05_market_potential"):
            notebook = project_root() / "notebooks" / f"{stem}.ipynb"
            declared = read_parameters(notebook)
            final = validate(declared, {})
            defaults = {p.name: p.default for p in declared}
            jobs.append(Job(stem, notebook, final, parameter_slug(final, defaults)))
        counts = run_jobs(jobs, n_jobs=2, store=ReportStore(reports))
    finally:
        if old is None:
            os.environ.pop("WORKBOOK_DEMO_DIR", None)
        else:
            os.environ["WORKBOOK_DEMO_DIR"] = old
    assert counts["ok"] == 2, counts
    return [p.read_text(encoding="utf-8") for p in reports.glob("*/*/report.html")]


def test_no_personal_data_or_free_text_in_any_crm_report(crm_reports, demo_root):
    secrets = _secrets(demo_root / "crm")
    assert len(secrets) > 1000, "the demo carries personal data to look for"
    assert len(crm_reports) == 2
    for page in crm_reports:
        text = page.replace("&amp;", "&")
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, f"personal data in a report: {leaked[:5]}"
        assert not re.search(r"[\w.+-]+@[\w-]+\.(example|de|com)\b", text), "an email address"


def test_markup_in_names_is_never_live(crm_reports):
    for page in crm_reports:
        assert "<script>alert" not in page
