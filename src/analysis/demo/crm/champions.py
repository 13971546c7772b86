"""Hidden Champions among the demo customers, under other spellings of their names.

Added for notebook 05 (market potential): which demo champions are customers, under
which spellings, so that firm-to-account matching can be measured. Kept apart from
the rest of the generator: its own random stream, and it only renames accounts.
:func:`read_champions` reads the firm list the firms part wrote,
:func:`champion_spelling` respells a name, :func:`link_champions` makes customers
and decoys.
"""

from __future__ import annotations

import csv
import zlib
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.demo.crm.people import COMPANY_KINDS, MARKUP_NAMES

#: Share of the listed firms that are customers.
CHAMPION_CUSTOMER_SHARE = 0.15
#: Decoys per champion customer (look-alike names that are other firms).
CHAMPION_DECOY_RATIO = 0.2
FIRM_LIST = Path("firms") / "hidden_champions.csv"
LEGAL_VARIANTS = {
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
    path = Path(out) / FIRM_LIST
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


def split_legal(name: str) -> tuple[str, str]:
    for legal in sorted(LEGAL_VARIANTS, key=len, reverse=True):
        if name.endswith(" " + legal):
            return name[: -len(legal) - 1], legal
    return name, ""


def champion_spelling(name: str, rng: np.random.Generator) -> str:
    """Another spelling of a firm name, as a CRM user might type it.

    One or two of: another or no legal form, umlauts and ß written out, ``…technik``
    abbreviated to ``…techn.``, a hyphen or comma, the words swapped, upper case.
    Always differs from ``name``.
    """
    base, legal = split_legal(name)
    chosen = set(rng.permutation(6)[: int(rng.integers(1, 3))].tolist())
    for _ in range(2):
        words, form = base.split(), legal
        if 0 in chosen and form:
            options = LEGAL_VARIANTS[form]
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


def fold(word: str) -> str:
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

    Parameters
    ----------
    champions : DataFrame or None
        The firm list (:func:`read_champions`); ``None`` or empty links nothing.
    geo : Geography
        ``geo.plz`` with ``plz, kreis_ags, ort``.
    seed : int
        Demo seed; the stream is ``(seed, crc32("crm:champions"))``.
    names, plz, city, kreis, country_code, is_customer, ids : numpy.ndarray
        Per account.

    Returns
    -------
    names, plz, city : ndarray
        New arrays (inputs are not changed).
    truth : dict
        ``champion_customers`` ([{firm_id, account_id}], sorted), ``champion_decoys``
        (account ids), ``champion_link`` (counts and the rule).
    """
    names, plz, city = names.copy(), plz.copy(), city.copy()
    empty = {"champion_customers": [], "champion_decoys": [], "champion_link": {"n_firms": 0}}
    if champions is None or champions.empty:
        return names, plz, city, empty
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(b"crm:champions")]))
    table = geo.plz[["plz", "kreis_ags", "ort"]].drop_duplicates(["plz", "kreis_ags", "ort"])
    firms = _firms_with_kreis(champions, table)
    usable = np.isin(plz, table["plz"].to_numpy()) & (country_code == "DE") & (kreis != "")
    usable &= ~np.isin(names, np.array(MARKUP_NAMES, dtype=object))
    free = {
        k: list(rng.permutation(np.flatnonzero(usable & is_customer & (kreis == k))))
        for k in pd.unique(firms["kreis_ags"])
    }
    accounts = {"names": names, "plz": plz, "city": city, "kreis": kreis, "ids": ids}
    near = _Neighbourhood(table, firms)
    pairs, taken = _champion_customers(rng, firms, table, free, near, accounts)
    decoys = _decoys(
        rng, firms, near, usable, taken, accounts, round(CHAMPION_DECOY_RATIO * len(pairs))
    )
    renamed = _rename_lookalikes(near, taken, accounts)
    truth = _link_truth(len(firms), pairs, decoys, renamed)
    return names, plz, city, truth


def _link_truth(n_firms: int, pairs: list[dict], decoys: list[str], renamed: int) -> dict:
    """The champion part of ``TRUTH.json["crm"]``."""
    truth = {
        "champion_customers": sorted(pairs, key=lambda p: p["firm_id"]),
        "champion_decoys": sorted(decoys),
        "champion_link": {
            "n_firms": int(n_firms),
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
    return truth


def _firms_with_kreis(champions: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The firms with the Kreis of their postcode and place (else their AGS); others dropped."""
    kreis_of = {
        (p, o): k for p, o, k in zip(table["plz"], table["ort"], table["kreis_ags"], strict=True)
    }
    ags = champions["ags"] if "ags" in champions.columns else pd.Series("", index=champions.index)
    firms = champions.assign(
        kreis_ags=[
            kreis_of.get((p, c), "") or str(a)[:5]
            for p, c, a in zip(champions["plz"], champions["city"], ags.fillna(""), strict=True)
        ]
    )
    return firms[firms["kreis_ags"] != ""].reset_index(drop=True)


class _Neighbourhood:
    """Kreise of postcodes and the champions' owner names by Kreis and trade word.

    The matcher compares records that share a Kreis; a postcode spanning two Kreise
    puts a record in both, so "another Kreis" and "the same Kreis" use these sets.
    """

    def __init__(self, table: pd.DataFrame, firms: pd.DataFrame) -> None:
        self.kreise_of_plz = table.groupby("plz")["kreis_ags"].agg(frozenset).to_dict()
        self.firm_kreise = [
            self.kreise_of(p, k) for p, k in zip(firms["plz"], firms["kreis_ags"], strict=True)
        ]
        self.owners: dict[tuple[str, str], list[str]] = {}  # (Kreis, trade) -> owner names
        for name, ks in zip(firms["name"], self.firm_kreise, strict=True):
            words = name.split()
            for k in ks if len(words) > 2 else ():
                self.owners.setdefault((k, words[1]), []).append(fold(words[0]))

    def kreise_of(self, code: str, fallback: str) -> frozenset:
        return self.kreise_of_plz.get(code, frozenset([fallback]) if fallback else frozenset())

    def looks_like_a_champion(self, ks: frozenset, owner: str, trade: str) -> bool:
        return any(
            SequenceMatcher(None, fold(owner), o).ratio() >= 0.8
            for k in ks
            for o in self.owners.get((k, trade), ())
        )


def _champion_customers(
    rng: np.random.Generator,
    firms: pd.DataFrame,
    table: pd.DataFrame,
    free: dict[str, list],
    near: _Neighbourhood,
    accounts: dict[str, np.ndarray],
) -> tuple[list[dict], set[int]]:
    """Rename customer accounts in firms' Kreise to the firms (changes ``accounts``)."""
    names, plz, city, ids = accounts["names"], accounts["plz"], accounts["city"], accounts["ids"]
    n_kreise = table.groupby("plz")["kreis_ags"].transform("nunique")
    single = table[n_kreise == 1].sort_values("plz")
    plz_of_kreis = single.groupby("kreis_ags")[["plz", "ort"]].agg(list)
    target = round(CHAMPION_CUSTOMER_SHARE * len(firms))
    taken: set[int] = set()
    pairs = []
    for i in rng.permutation(len(firms)):
        if len(pairs) >= target:
            break
        firm = firms.iloc[i]
        slots = free.get(firm["kreis_ags"], [])
        if not slots or firm["plz"] not in near.kreise_of_plz:  # e.g. a firm listed by AGS only
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
    return pairs, taken


def _decoys(
    rng: np.random.Generator,
    firms: pd.DataFrame,
    near: _Neighbourhood,
    usable: np.ndarray,
    taken: set[int],
    accounts: dict[str, np.ndarray],
    n_decoys: int,
) -> list[str]:
    """Look-alike names that are other firms (changes ``accounts`` and ``taken``)."""
    names, plz, kreis, ids = accounts["names"], accounts["plz"], accounts["kreis"], accounts["ids"]
    decoys = []
    pool = rng.permutation(np.flatnonzero(usable))
    pool = [int(j) for j in pool if j not in taken]
    stems = sorted({n.split()[1] for n in firms["name"] if len(n.split()) > 2})
    for d in range(n_decoys):
        f = int(rng.integers(len(firms)))
        firm, home = firms.iloc[f], near.firm_kreise[f]
        words = split_legal(firm["name"])[0].split()
        if d % 2 == 0:  # same name, another Kreis
            j = next((j for j in pool if not near.kreise_of(plz[j], kreis[j]) & home), None)
            if j is None:
                continue
            names[j] = champion_spelling(firm["name"], rng)
        else:  # same owner name, another trade, same Kreis
            j = next((j for j in pool if kreis[j] == firm["kreis_ags"]), None)
            if j is None or len(words) < 2:
                continue
            ks = near.kreise_of(plz[j], kreis[j])
            trades = [t for t in stems if not near.looks_like_a_champion(ks, words[0], t)]
            trade = trades[int(rng.integers(len(trades)))]
            names[j] = f"{words[0]} {trade} {split_legal(firm['name'])[1] or 'GmbH'}".strip()
        pool.remove(j)
        taken.add(j)
        decoys.append(str(ids[j]))
    return decoys


def _rename_lookalikes(
    near: _Neighbourhood, taken: set[int], accounts: dict[str, np.ndarray]
) -> int:
    """Give accidental look-alikes of a champion in its Kreis another trade word."""
    names, plz, kreis = accounts["names"], accounts["plz"], accounts["kreis"]
    renamed = 0
    for j in np.flatnonzero(kreis != ""):
        words = str(names[j]).split()
        if j in taken or len(words) < 3:
            continue
        ks = near.kreise_of(plz[j], kreis[j])
        if near.looks_like_a_champion(ks, words[0], words[1]):
            trade = next(
                t for t in COMPANY_KINDS if not near.looks_like_a_champion(ks, words[0], t)
            )
            names[j] = " ".join([words[0], trade, *words[2:]])
            renamed += 1
    return renamed
