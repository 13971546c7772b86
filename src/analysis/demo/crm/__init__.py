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

Where the code is: :mod:`~analysis.demo.crm.params` (dates, parameters, vocabularies),
:mod:`~analysis.demo.crm.simulation` (the stages in order, :func:`write_part`), one
module per stage (:mod:`~analysis.demo.crm.org`, :mod:`~analysis.demo.crm.leads`,
:mod:`~analysis.demo.crm.accounts`, :mod:`~analysis.demo.crm.opportunities`,
:mod:`~analysis.demo.crm.history`, :mod:`~analysis.demo.crm.campaigns`,
:mod:`~analysis.demo.crm.champions`, :mod:`~analysis.demo.crm.pardot`), the file
format (:mod:`~analysis.demo.crm.export`, :mod:`~analysis.demo.crm.headers`),
invented people (:mod:`~analysis.demo.crm.people`) and the truths
(:mod:`~analysis.demo.crm.truth`).
"""

from __future__ import annotations

from analysis.demo.crm.champions import champion_spelling, link_champions, read_champions
from analysis.demo.crm.export import salesforce_id18
from analysis.demo.crm.params import (
    AS_OF,
    GO_LIVE,
    MQL_SCORE,
    NULL_ID,
    README_SECTION,
    UNIFICATION_DATE,
    CrmParameters,
)
from analysis.demo.crm.simulation import simulate, write_part
from analysis.demo.crm.truth import load_truth, truths

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
