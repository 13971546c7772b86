"""Matching a firm list (Hidden Champions) to CRM accounts by name and place.

Company names are spelt differently in every system: ``Müller Sensorik GmbH & Co. KG``
on a firm list is ``Mueller Sensorik GmbH`` or ``MÜLLER-SENSORIK`` in Salesforce. The
matcher therefore

1. normalizes names (:func:`normalize_company_name`): case, umlauts and ß (``ä`` and
   ``ae`` give the same key, both ways), other accents, punctuation, whitespace, legal
   forms (GmbH, GmbH & Co. KG, AG, SE, KG, e.K., mbH, UG (haftungsbeschränkt), OHG,
   e.V., Co., Holding, ...) and a few abbreviations;
2. compares only firms and accounts in the same Kreis (*blocking*: the same name in
   another city is another firm, or at least not a match this method can vouch for);
3. scores each pair (:func:`name_similarity`: a token-set Jaccard index that forgives
   abbreviated and misspelt words, averaged with a difflib sequence ratio; plus a small
   bonus for the same postcode) and accepts the best pair above a threshold;
4. flags, never guesses: a firm with two candidates within a margin of each other, or
   two firms that both want the same account, are returned as *ambiguous*.

Accounts or firms without a usable location (no, a foreign or an invalid postcode)
cannot be blocked; where such a record has exactly the normalized name of one on the
other side, the pair is flagged as ambiguous for review (``blocked_by =
"name_only"``) — a common name abroad or without an address is not proof.

Most pairs in a Kreis share no word; a pair whose token Jaccard index leaves no way to
reach the threshold is not scored further (``pruned``), which keeps the matcher fast.

Only the standard library's :mod:`difflib` is used for string similarity.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.names import (  # noqa: F401 - re-exported: the one name normalizer
    ABBREVIATIONS,
    CONNECTORS,
    LEGAL_FORMS,
    normalize_company_name,
)


@functools.lru_cache(maxsize=262144)
def _tokens_agree(a: str, b: str) -> bool:
    """Two words that stand for the same word: equal, abbreviated or misspelt.

    An abbreviation is a prefix of at least 5 letters covering at least 70 % of the
    longer word (``messtech`` / ``messtechnik``, but not ``schwarz`` /
    ``schwarzwald``); a misspelling has a difflib ratio of at least 0.85 with both
    words at least 5 letters long (``muller`` / ``mueller``). Short words must be
    equal: ``wolf`` is not ``wolfram``.
    """
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 5 or short.isdigit() or long_.isdigit():
        return False
    if long_.startswith(short) and len(short) >= 0.7 * len(long_):
        return True
    if 2 * len(short) / (len(short) + len(long_)) < 0.85:  # the ratio's upper bound
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85


def token_jaccard(a: str, b: str) -> float:
    """Token-set Jaccard index of two normalized names, forgiving abbreviations and typos.

    Each token of the shorter name is paired with at most one agreeing token of the
    other (see :func:`_tokens_agree`); ``J = m / (|A| + |B| - m)`` with ``m`` pairs.

    Returns
    -------
    float
        In [0, 1]; 0 when either name is empty.
    """
    ta, tb = list(dict.fromkeys(a.split())), list(dict.fromkeys(b.split()))
    if not ta or not tb:
        return 0.0
    used: set[int] = set()
    m = 0
    for token in ta:
        for j, other in enumerate(tb):
            if j not in used and _tokens_agree(token, other):
                used.add(j)
                m += 1
                break
    return m / (len(ta) + len(tb) - m)


def sequence_ratio(a: str, b: str) -> float:
    """difflib ratio of two normalized names, order-insensitive.

    The larger of the ratio of the names without spaces (``mueller sensorik`` vs
    ``muellersensorik``) and of their sorted tokens (``sensorik mueller``).
    """
    if not a or not b:
        return 0.0
    compact = SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", ""), autojunk=False)
    ordered = SequenceMatcher(
        None, " ".join(sorted(a.split())), " ".join(sorted(b.split())), autojunk=False
    )
    return max(compact.ratio(), ordered.ratio())


def name_similarity(a: str, b: str) -> float:
    """Similarity of two *normalized* names: mean of :func:`token_jaccard` and
    :func:`sequence_ratio`.

    Both parts are needed: the Jaccard index alone calls ``mueller sensorik`` and
    ``mueller messtechnik`` half-equal (one shared word of three), the sequence ratio
    alone scores them 0.7 (long shared prefix); their mean is about 0.5, while a
    respelling of the same name scores above 0.95.

    Returns
    -------
    float
        In [0, 1]; 1 for equal non-empty names.
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return 0.5 * (token_jaccard(a, b) + sequence_ratio(a, b))


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MatchResult:
    """Result of :func:`match_firms_to_accounts`.

    Attributes
    ----------
    matches : DataFrame
        One row per accepted pair: ``firm_id, account_id, score, name_score,
        same_plz, blocked_by`` (``"kreis"``).
    ambiguous : DataFrame
        Firms not matched because the evidence does not decide: one row per (firm,
        candidate account) with ``score, name_score, same_plz, blocked_by, reason``
        — two candidates within the margin, two firms wanting one account, or the
        same name without a place to compare (``blocked_by = "name_only"``). For
        manual review; holds account ids, never show it in a report.
    unmatched : DataFrame
        Every other firm: ``firm_id, best_score, reason``.
    candidates : DataFrame
        Every pair compared (for threshold studies); ``pruned`` pairs could not
        reach the threshold and have no score (NaN).
    params : dict
        The thresholds used.
    """

    matches: pd.DataFrame
    ambiguous: pd.DataFrame
    unmatched: pd.DataFrame
    candidates: pd.DataFrame
    params: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Firms by outcome: matched, ambiguous, unmatched (counts only, no names)."""
        n_amb = self.ambiguous["firm_id"].nunique() if len(self.ambiguous) else 0
        rows = [
            ("matched to an account", len(self.matches)),
            ("ambiguous (flagged for review)", n_amb),
            ("no matching account", len(self.unmatched)),
        ]
        return pd.DataFrame(rows, columns=["outcome", "firms"])


_CANDIDATE_COLUMNS = ["firm_id", "account_id", "score", "name_score", "same_plz", "blocked_by"]


def _side(
    frame: pd.DataFrame, id_col: str, name_col: str, plz_col: str | None, kreis_col: str | None
) -> pd.DataFrame:
    """(id, key, plz, kreis) rows; one per Kreis a record touches ("" when unlocated)."""
    for col in (id_col, name_col, plz_col, kreis_col):
        if col is not None and col not in frame.columns:
            raise ParameterError(
                "columns", f"expected a column {col!r}; found {list(frame.columns)}"
            )
    ids = frame[id_col].astype("str")
    out = pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "key": [normalize_company_name(v) for v in frame[name_col]],
            "plz": (
                frame[plz_col].astype("str").fillna("").str.strip().to_numpy() if plz_col else ""
            ),
            "kreis": (frame[kreis_col].astype("str").fillna("").to_numpy() if kreis_col else ""),
        }
    )
    return out.drop_duplicates(["id", "kreis"]).reset_index(drop=True)


def match_firms_to_accounts(
    firms: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    firm_id: str = "firm_id",
    firm_name: str = "name",
    firm_plz: str | None = "plz",
    firm_kreis: str | None = "kreis_ags",
    account_id: str = "account_id",
    account_name: str = "account_name",
    account_plz: str | None = "plz5",
    account_kreis: str | None = "kreis_ags",
    threshold: float = 0.85,
    margin: float = 0.05,
    plz_weight: float = 0.1,
    name_only: bool = True,
) -> MatchResult:
    """Match firms (e.g. Hidden Champions) to CRM accounts.

    Parameters
    ----------
    firms : DataFrame
        One row per firm and Kreis (e.g. ``located`` from
        :func:`analysis.champions.locate_firms`; a firm whose postcode spans two
        Kreise has two rows) — firms that could not be placed may be appended with
        an empty Kreis.
    accounts : DataFrame
        One row per account and Kreis (e.g. ``placed`` accounts from
        :func:`analysis.market.locate_accounts`), unplaced accounts with an empty
        Kreis. ``account_name`` is used here and nowhere else.
    firm_id, firm_name, firm_plz, firm_kreis, account_id, account_name, account_plz, account_kreis : str
        Column names (``*_plz``/``*_kreis`` may be None).
    threshold : float
        Smallest accepted score. With the default postcode weight 0.1 a pair in the
        same postcode needs a name similarity of 0.83, other pairs in the Kreis 0.94.
    margin : float
        Two candidates whose scores differ by less than this are ambiguous.
    plz_weight : float
        Weight of postcode agreement: ``score = (1 - w) * name + w * same_plz``.
    name_only : bool
        Flag records without a Kreis whose exact normalized name (unique on both
        sides) is on the other side, as ambiguous for review.

    Returns
    -------
    MatchResult
        ``matches``, ``ambiguous``, ``unmatched`` (every firm is in exactly one of
        them), ``candidates``.

    Raises
    ------
    ParameterError
        A missing column, or thresholds outside [0, 1].

    Examples
    --------
    >>> result = match_firms_to_accounts(champions, accounts)  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """
    for name, value in (("threshold", threshold), ("margin", margin), ("plz_weight", plz_weight)):
        if not 0 <= value <= 1:
            raise ParameterError(name, f"expected a number in [0, 1], got {value!r}")
    f = _side(firms, firm_id, firm_name, firm_plz, firm_kreis)
    a = _side(accounts, account_id, account_name, account_plz, account_kreis)

    candidates = _kreis_candidates(f, a, threshold, plz_weight)

    matches, ambiguous, best = _decide(candidates[~candidates["pruned"]], threshold, margin)
    if name_only:
        review = _name_only_pairs(f, a)
        review = review[
            ~review["firm_id"].isin(set(matches["firm_id"]) | set(ambiguous["firm_id"]))
            & ~review["account_id"].isin(set(matches["account_id"]))
        ].assign(reason="same name, but no place to compare")
        ambiguous = pd.concat([ambiguous, review[ambiguous.columns]], ignore_index=True)
        candidates = pd.concat(
            [candidates, review.drop(columns="reason").assign(pruned=False)], ignore_index=True
        )
    unmatched = _unmatched(f, matches, ambiguous, candidates, best, threshold)
    params = {
        "threshold": threshold,
        "margin": margin,
        "plz_weight": plz_weight,
        "name_only": name_only,
    }
    return MatchResult(
        matches=matches.reset_index(drop=True),
        ambiguous=ambiguous.reset_index(drop=True),
        unmatched=unmatched,
        candidates=candidates,
        params=params,
    )


def _kreis_candidates(
    f: pd.DataFrame, a: pd.DataFrame, threshold: float, plz_weight: float
) -> pd.DataFrame:
    """Score the firm-account pairs sharing a Kreis (pairs that cannot reach the threshold: pruned)."""
    # Kreis blocking: pairs that share a Kreis.
    pairs = (
        f[f["kreis"] != ""]
        .merge(a[a["kreis"] != ""], on="kreis", suffixes=("_f", "_a"))
        .drop_duplicates(["id_f", "id_a"])
    )
    same_plz = (pairs["plz_f"].to_numpy() == pairs["plz_a"].to_numpy()) & (
        pairs["plz_f"].to_numpy() != ""
    )
    # The name score is the mean of the Jaccard index and a ratio <= 1, so
    # 0.5 * (J + 1) bounds it: pairs that cannot reach the threshold are not scored.
    jaccard = np.array(
        [token_jaccard(x, y) for x, y in zip(pairs["key_f"], pairs["key_a"], strict=True)],
        dtype="float64",
    )
    bound = (1 - plz_weight) * 0.5 * (jaccard + 1) + plz_weight * same_plz
    pruned = bound < threshold
    name_scores = np.full(len(pairs), np.nan)
    keep = np.flatnonzero(~pruned)
    name_scores[keep] = [
        1.0 if x == y else 0.5 * (jaccard[i] + sequence_ratio(x, y))
        for i, x, y in zip(
            keep, pairs["key_f"].to_numpy()[keep], pairs["key_a"].to_numpy()[keep], strict=True
        )
    ]
    candidates = pd.DataFrame(
        {
            "firm_id": pairs["id_f"].to_numpy(),
            "account_id": pairs["id_a"].to_numpy(),
            "score": (1 - plz_weight) * name_scores + plz_weight * same_plz,
            "name_score": name_scores,
            "same_plz": same_plz,
            "blocked_by": "kreis",
            "pruned": pruned,
        }
    ).astype({"firm_id": "str", "account_id": "str", "blocked_by": "str"})
    return candidates


def _unmatched(
    f: pd.DataFrame,
    matches: pd.DataFrame,
    ambiguous: pd.DataFrame,
    candidates: pd.DataFrame,
    best: pd.Series,
    threshold: float,
) -> pd.DataFrame:
    """Every firm neither matched nor ambiguous, with its best score and the reason."""
    firm_ids = pd.unique(f["id"])
    decided = set(matches["firm_id"]) | set(ambiguous["firm_id"])
    located = set(f.loc[f["kreis"] != "", "id"])
    compared = set(candidates["firm_id"])
    rest = [i for i in firm_ids if i not in decided]
    best_score = best.reindex(rest)
    reason = [
        (
            "not located and no account with the same name"
            if i not in located
            else "no account in its Kreis"
            if i not in compared
            else "no account in its Kreis comes close (too few common words)"
            if np.isnan(s)
            else f"best candidate scored {s:.2f} < {threshold:.2f}"
            if s < threshold
            else "its best account matched another firm better"
        )
        for i, s in zip(rest, best_score.to_numpy(dtype="float64"), strict=True)
    ]
    unmatched = pd.DataFrame(
        {
            "firm_id": pd.Series(rest, dtype="str"),
            "best_score": best_score.to_numpy(),
            "reason": reason,
        }
    ).astype({"reason": "str"})
    return unmatched


def _name_only_pairs(f: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    """Exact-key pairs where at least one side has no Kreis and the key is unique."""
    f_keys = f.drop_duplicates("id")
    a_keys = a.drop_duplicates("id")
    f_unique = f_keys[~f_keys["key"].duplicated(keep=False) & (f_keys["key"] != "")]
    a_unique = a_keys[~a_keys["key"].duplicated(keep=False) & (a_keys["key"] != "")]
    f_unlocated = set(
        f.groupby("id")["kreis"].agg(lambda k: (k == "").all()).loc[lambda s: s].index
    )
    a_unlocated = set(
        a.groupby("id")["kreis"].agg(lambda k: (k == "").all()).loc[lambda s: s].index
    )
    pairs = f_unique.merge(a_unique, on="key", suffixes=("_f", "_a"))
    pairs = pairs[pairs["id_f"].isin(f_unlocated) | pairs["id_a"].isin(a_unlocated)]
    same_plz = (pairs["plz_f"].to_numpy() == pairs["plz_a"].to_numpy()) & (
        pairs["plz_f"].to_numpy() != ""
    )
    return pd.DataFrame(
        {
            "firm_id": pairs["id_f"].to_numpy(),
            "account_id": pairs["id_a"].to_numpy(),
            "score": np.ones(len(pairs)),
            "name_score": np.ones(len(pairs)),
            "same_plz": same_plz,
            "blocked_by": "name_only",
        },
        columns=_CANDIDATE_COLUMNS,
    )


def _decide(
    candidates: pd.DataFrame, threshold: float, margin: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Accepted pairs, ambiguous candidates, and each firm's best score."""
    ranked = candidates.sort_values(
        ["firm_id", "score", "account_id"], ascending=[True, False, True], kind="mergesort"
    )
    best = ranked.groupby("firm_id", sort=False)["score"].max()
    above = ranked[ranked["score"] >= threshold]
    top = above.groupby("firm_id", sort=False)["score"].transform("max")
    close = above[above["score"] > top - margin]
    n_close = close.groupby("firm_id", sort=False)["account_id"].transform("size")
    firm_ambiguous = close[n_close > 1].assign(reason="two or more accounts score alike")
    single = close[n_close == 1]

    # Two firms wanting the same account: the clearly better one keeps it.
    # Firms more than a margin below fall through to "unmatched".
    claim_top = single.groupby("account_id", sort=False)["score"].transform("max")
    contenders = single[single["score"] > claim_top - margin]
    n_contenders = contenders.groupby("account_id", sort=False)["firm_id"].transform("size")
    account_ambiguous = contenders[n_contenders > 1].assign(
        reason="two or more firms score alike for one account"
    )
    winners = contenders[n_contenders == 1]
    matches = winners[_CANDIDATE_COLUMNS]
    ambiguous = pd.concat([firm_ambiguous, account_ambiguous], ignore_index=True)
    ambiguous = ambiguous[[*_CANDIDATE_COLUMNS, "reason"]].astype({"reason": "str"})
    return matches, ambiguous, best


# --------------------------------------------------------------------------- evaluation


def evaluate_matches(matches: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float | int]:
    """Precision and recall of accepted pairs against known true pairs.

    Parameters
    ----------
    matches : DataFrame
        ``firm_id, account_id`` (e.g. :attr:`MatchResult.matches`).
    truth : DataFrame
        ``firm_id, account_id`` of the true pairs (e.g. :func:`champion_truth`).

    Returns
    -------
    dict
        ``precision`` (share of accepted pairs that are true; NaN without any),
        ``recall`` (share of true pairs accepted; NaN without any), ``n_true``,
        ``n_matched``, ``true_positives``, ``false_positives``, ``false_negatives``.
    """
    found = set(zip(matches["firm_id"].astype(str), matches["account_id"].astype(str), strict=True))
    true = set(zip(truth["firm_id"].astype(str), truth["account_id"].astype(str), strict=True))
    tp = len(found & true)
    return {
        "precision": tp / len(found) if found else float("nan"),
        "recall": tp / len(true) if true else float("nan"),
        "n_true": len(true),
        "n_matched": len(found),
        "true_positives": tp,
        "false_positives": len(found - true),
        "false_negatives": len(true - found),
    }


def champion_truth(dataset: str = "demo") -> pd.DataFrame | None:
    """The demo's true champion ↔ customer-account pairs, or None.

    Reads ``TRUTH.json["crm"]["champion_customers"]`` of the demo dataset (written by
    ``workbook demo``). Official data has no truth: ``None``.

    Returns
    -------
    DataFrame or None
        ``firm_id, account_id``; ``attrs["decoys"]`` lists the decoy account ids.
    """
    import json

    from analysis.paths import dataset_dir

    if dataset != "demo":
        return None
    path = dataset_dir("demo") / "TRUTH.json"
    if not path.is_file():
        return None
    crm = json.loads(path.read_text(encoding="utf-8")).get("crm") or {}
    pairs = crm.get("champion_customers")
    if pairs is None:
        return None
    frame = pd.DataFrame(pairs, columns=["firm_id", "account_id"]).astype("str")
    frame.attrs["decoys"] = list(crm.get("champion_decoys", []))
    return frame


def matched_status(
    firm_ids: Iterable[str], result: MatchResult, customer_ids: Iterable[str]
) -> pd.Series:
    """Each firm's relation to the CRM: customer, account (no won deal), ambiguous, none.

    Parameters
    ----------
    firm_ids : iterable of str
    result : MatchResult
    customer_ids : iterable of str
        Accounts with at least one won opportunity.

    Returns
    -------
    Series
        Indexed by firm id: ``"customer"``, ``"account, not a customer"``,
        ``"ambiguous"`` or ``"not in the CRM"``.
    """
    customers = set(map(str, customer_ids))
    account_of = result.matches.set_index("firm_id")["account_id"]
    ambiguous = set(result.ambiguous["firm_id"])
    status = {}
    for fid in map(str, firm_ids):
        if fid in account_of.index:
            status[fid] = "customer" if account_of[fid] in customers else "account, not a customer"
        elif fid in ambiguous:
            status[fid] = "ambiguous"
        else:
            status[fid] = "not in the CRM"
    return pd.Series(status, dtype="str", name="crm_status")
