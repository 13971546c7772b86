"""Privacy: what may enter the analysis (ingest) and what may leave it (disclosure).

Rooms: :mod:`~analysis.privacy.ingest` (column allow-list, keyed pseudonyms) and
:mod:`~analysis.privacy.disclosure` (small-cell and complementary suppression, teams).
"""

from __future__ import annotations

from analysis.privacy.disclosure import (
    OTHER_TEAMS,
    SUPPRESSION_NOTE,
    TOTAL,
    UNKNOWN_TEAM,
    disclosure_intervals,
    html_safe,
    safe_table,
    suppress_small_cells,
    suppression_pattern,
    team_only,
)
from analysis.privacy.dominance import dominance_mask
from analysis.privacy.ingest import (
    ALLOWED_COLUMNS,
    DENIED_PATTERNS,
    KEY_ENV,
    KEY_FILE_ENV,
    allowed_columns,
    default_key_file,
    is_denied,
    load_key,
    normalize_name,
    pseudonymize,
)
from analysis.privacy.linear import (
    DisclosureError,
    PublishedNumbers,
    assert_protected,
    feasible_intervals,
    protection_check,
)

__all__ = [
    "DisclosureError",
    "PublishedNumbers",
    "assert_protected",
    "dominance_mask",
    "feasible_intervals",
    "protection_check",
    "ALLOWED_COLUMNS",
    "DENIED_PATTERNS",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "OTHER_TEAMS",
    "SUPPRESSION_NOTE",
    "TOTAL",
    "UNKNOWN_TEAM",
    "allowed_columns",
    "default_key_file",
    "disclosure_intervals",
    "html_safe",
    "is_denied",
    "load_key",
    "normalize_name",
    "pseudonymize",
    "safe_table",
    "suppress_small_cells",
    "suppression_pattern",
    "team_only",
]
