"""A frozen hard set for firm-to-account matching, and its precision and recall.

The demo's firm/account pairs are spelled the way the normaliser was written to
undo (legal forms, umlauts, case), so its near-perfect precision and recall say
little. This script has its own generator, independent of ``analysis.demo``, for
the cases real CRM data brings:

control       the easy case the demo measures (same name, legal form spelled out)
renamed       the account carries the firm's new name (no shared token left)
acquired      the account carries the acquirer's name with the firm's as a suffix
group         a group entity: "X Holding SE" on the list, "X GmbH & Co. KG" in the CRM
plant         the account is billed at a plant in another Kreis than the listed HQ
abbreviation  abbreviations beyond legal forms ("Ges. f.", "Maschb.", "Elektrot.")
distractor    a different firm with a near-identical name in the same Kreis (true
              non-pair: any match is a false positive)

``--write`` regenerates the frozen CSVs under ``tests/fixtures/matching_hard/``
(fixed seed; commit them); without it the script evaluates
:func:`analysis.market.matching.match_firms_to_accounts` on the frozen set and
prints precision and recall overall and per category.

Usage::

    .venv/bin/python validation/matching_hard_set.py [--write]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "tests" / "fixtures" / "matching_hard"
SEED = 20251203

STEMS = [
    "Albrecht", "Bergmann", "Conrad", "Dietz", "Ebert", "Fuchs", "Gerlach", "Haas",
    "Irmer", "Jung", "Kessler", "Lindner", "Marx", "Nowak", "Ott", "Pohl", "Quast",
    "Roth", "Seidel", "Thiel", "Ulrich", "Vogt", "Wendt", "Xaver", "Yilmaz", "Zeller",
]  # fmt: skip
TRADES = [
    ("Maschinenbau", "Maschb."), ("Elektrotechnik", "Elektrot."), ("Messtechnik", "Meßtechn."),
    ("Antriebstechnik", "Antriebstechn."), ("Kunststofftechnik", "Kunstst.-Technik"),
    ("Präzisionswerkzeuge", "Präz.-Werkzeuge"), ("Verpackungsmaschinen", "Verp.-Masch."),
]  # fmt: skip
NEW_NAMES = ["Novatec", "Axiom", "Quantis", "Veritas", "Lumen", "Orbis", "Primus"]
ACQUIRERS = ["Siemens", "Bosch", "Würth", "Trumpf", "Festo", "Voith", "Freudenberg"]
KREISE = ["03159", "09162", "08111", "05315", "06412", "14612", "02000", "11000"]
CATEGORIES = ("control", "renamed", "acquired", "group", "plant", "abbreviation", "distractor")


def generate(seed: int = SEED, per_category: int = 8) -> tuple[pd.DataFrame, ...]:
    """Firms, accounts and true pairs (``firm_id, account_id, category``)."""
    rng = np.random.default_rng(seed)
    firms, accounts, truth = [], [], []
    stems = list(rng.permutation(STEMS))
    k = 0
    for category in CATEGORIES:
        for i in range(per_category):
            stem = stems[k % len(stems)] + ("" if k < len(stems) else f"-{k}")
            k += 1
            trade, short = TRADES[int(rng.integers(len(TRADES)))]
            kreis = KREISE[int(rng.integers(len(KREISE)))]
            plz = f"{int(rng.integers(10000, 99999)):05d}"
            fid, aid = f"F{category[:3]}{i:02d}", f"A{category[:3]}{i:02d}"
            firm = f"{stem} {trade} GmbH"
            acc_kreis, acc_plz = kreis, plz
            if category == "control":  # the easy case: same name, legal form spelled out
                account = f"{stem} {trade} Gesellschaft mit beschränkter Haftung"
            elif category == "renamed":
                account = f"{NEW_NAMES[i % len(NEW_NAMES)]} {trade} GmbH"
            elif category == "acquired":
                account = f"{ACQUIRERS[i % len(ACQUIRERS)]} {trade} {stem} GmbH"
            elif category == "group":
                firm = f"{stem} Holding SE"
                account = f"{stem} {trade} GmbH & Co. KG"
            elif category == "plant":
                account = f"{stem} {trade} GmbH"
                acc_kreis = KREISE[(KREISE.index(kreis) + 1) % len(KREISE)]
                acc_plz = f"{int(rng.integers(10000, 99999)):05d}"
            elif category == "abbreviation":
                account = f"{stem} {short} Ges. m. b. H."
            else:  # distractor: another firm, same stem, another trade, same Kreis
                other = TRADES[(TRADES.index((trade, short)) + 1) % len(TRADES)][0]
                account = f"{stem} {other} GmbH"
            firms.append((fid, firm, plz, kreis, category))
            accounts.append((aid, account, acc_plz, acc_kreis))
            if category != "distractor":
                truth.append((fid, aid, category))
    return (
        pd.DataFrame(firms, columns=["firm_id", "name", "plz", "kreis_ags", "category"]),
        pd.DataFrame(accounts, columns=["account_id", "account_name", "plz5", "kreis_ags"]),
        pd.DataFrame(truth, columns=["firm_id", "account_id", "category"]),
    )


def read_frozen(folder: Path = FOLDER) -> tuple[pd.DataFrame, ...]:
    """The committed hard set (all columns as text)."""
    return tuple(
        pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("firms", "accounts", "truth")
    )


def evaluate(firms: pd.DataFrame, accounts: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall overall and per category (recall only where pairs exist)."""
    from analysis.market.matching import evaluate_matches, match_firms_to_accounts

    result = match_firms_to_accounts(firms, accounts)
    matches = result.matches
    rows = [{"category": "all", **evaluate_matches(matches, truth)}]
    for category in CATEGORIES:
        ids = set(firms.loc[firms["category"] == category, "firm_id"])
        part = matches[matches["firm_id"].isin(ids)]
        rows.append(
            {"category": category, **evaluate_matches(part, truth[truth["firm_id"].isin(ids)])}
        )
    out = pd.DataFrame(rows)
    out.attrs["n_ambiguous"] = len(result.ambiguous)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate the frozen CSVs")
    args = parser.parse_args(argv)
    if args.write:
        FOLDER.mkdir(parents=True, exist_ok=True)
        for name, frame in zip(("firms", "accounts", "truth"), generate(), strict=True):
            frame.to_csv(FOLDER / f"{name}.csv", index=False)
        print(f"wrote {FOLDER}")
    table = evaluate(*read_frozen())
    with pd.option_context("display.width", 140, "display.precision", 3):
        print(table.to_string(index=False))
    print(f"\nflagged ambiguous for review: {table.attrs['n_ambiguous']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
