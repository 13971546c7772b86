"""Hidden Champions that are not yet customers: matching frames, lists and coverage."""

from __future__ import annotations

import pandas as pd

from analysis.market.potential import LocatedAccounts

# --------------------------------------------------------------------------- champions


def firm_key(frame: pd.DataFrame) -> pd.Series:
    """A key per firm: ``firm_id``, or ``"row <n>"`` for lists without ids."""
    ids = (
        frame["firm_id"].astype("str")
        if "firm_id" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="str")
    )
    rows = (
        "row " + frame["row"].astype("str") if "row" in frame.columns else frame.index.astype(str)
    )
    return ids.where(ids.notna() & (ids != ""), rows).astype("str")


def firms_for_matching(located: pd.DataFrame, unplaced: pd.DataFrame) -> pd.DataFrame:
    """Firms as :func:`analysis.market.matching.match_firms_to_accounts` takes them.

    Parameters
    ----------
    located, unplaced : DataFrame
        From :func:`analysis.champions.locate_firms` (``LocatedFirms.located`` /
        ``.unplaced``).

    Returns
    -------
    DataFrame
        ``firm_key``, ``name``, ``plz``, ``kreis_ags`` (``""`` for unplaced firms);
        one row per firm and Kreis.
    """
    parts = [
        located.assign(firm_key=firm_key(located))[["firm_key", "name", "plz", "kreis_ags"]],
        unplaced.assign(firm_key=firm_key(unplaced), kreis_ags="")[
            ["firm_key", "name", "plz", "kreis_ags"]
        ],
    ]
    out = pd.concat(parts, ignore_index=True)
    return out.assign(plz=out["plz"].astype("str").fillna("")).astype({"kreis_ags": "str"})


def accounts_for_matching(located: LocatedAccounts) -> pd.DataFrame:
    """Accounts as :func:`analysis.market.matching.match_firms_to_accounts` takes them.

    Returns
    -------
    DataFrame
        ``account_id``, ``account_name``, ``plz5``, ``kreis_ags`` (``""`` and no
        postcode for accounts that could not be placed); one row per account and Kreis.
    """
    placed = located.placed[["account_id", "account_name", "plz5", "kreis_ags"]]
    rest = located.unplaced[["account_id", "account_name"]].assign(plz5="", kreis_ags="")
    return pd.concat([placed, rest], ignore_index=True).astype({"plz5": "str", "kreis_ags": "str"})


def champions_not_customers(
    firms: pd.DataFrame,
    status: pd.Series,
    kreis_names: pd.Series,
    *,
    definition: str = "simon",
    top: int | None = 20,
) -> pd.DataFrame:
    """Hidden Champions that are not (yet) customers, largest first.

    Parameters
    ----------
    firms : DataFrame
        ``LocatedFirms.located`` (one row per firm and Kreis, ``weight``).
    status : Series
        :func:`analysis.market.matching.matched_status`, indexed by :func:`firm_key`.
    kreis_names : Series
        Kreis name by code.
    definition : {"simon", "wmi", "all"}
        Which firms count as Hidden Champions (:func:`analysis.champions.classify`).
    top : int, optional
        Rows to return (None: all).

    Returns
    -------
    DataFrame
        ``firm``, ``kreis``, ``sector``, ``market_segment``, ``revenue_meur``,
        ``employees``, ``crm_status`` (``"not in the CRM"`` or ``"account, not a
        customer"``), by revenue. Firm names only — never account names.
        ``attrs``: ``n_champions``, ``n_customers``, ``n_ambiguous``,
        ``n_not_customers``.
    """
    from analysis.champions import classify

    keyed = firms.assign(firm_key=firm_key(firms))
    champs = keyed[classify(keyed, definition).fillna(False).to_numpy(dtype=bool)]
    # a firm split over two Kreise is listed once, in the Kreis with the larger share
    champs = champs.sort_values(["firm_key", "weight"], ascending=[True, False]).drop_duplicates(
        "firm_key"
    )
    crm_status = champs["firm_key"].map(status).fillna("not in the CRM").astype("str")
    table = champs.assign(
        firm=champs["name"],
        kreis=champs["kreis_ags"].map(kreis_names).fillna(champs["kreis_ags"]),
        revenue_meur=champs["revenue_eur"] / 1e6,
        crm_status=crm_status,
    )
    open_ = table[table["crm_status"].isin(["not in the CRM", "account, not a customer"])]
    ranked = open_.sort_values(
        ["revenue_meur", "firm"], ascending=[False, True], na_position="last"
    )
    columns = [
        "firm",
        "kreis",
        "sector",
        "market_segment",
        "revenue_meur",
        "employees",
        "crm_status",
    ]
    out = (ranked if top is None else ranked.head(top))[columns].reset_index(drop=True)
    out.index = out.index + 1
    out.attrs = {
        "n_champions": int(len(table)),
        "n_customers": int((table["crm_status"] == "customer").sum()),
        "n_ambiguous": int((table["crm_status"] == "ambiguous").sum()),
        "n_not_customers": int(len(open_)),
        "definition": definition,
    }
    return out


def champion_coverage_by_land(
    firms: pd.DataFrame,
    status: pd.Series,
    lands: pd.Series,
    *,
    definition: str = "simon",
    threshold: int = 5,
) -> pd.DataFrame:
    """Hidden Champions per Land and how many of them are customers, publishable.

    Parameters
    ----------
    firms : DataFrame
        ``LocatedFirms.located``.
    status : Series
        :func:`analysis.market.matching.matched_status` by :func:`firm_key`.
    lands : Series
        Land name by Kreis code.
    definition : {"simon", "wmi", "all"}
    threshold : int
        Smallest customer count shown.

    Returns
    -------
    DataFrame
        Index: Land and ``Total``; ``champions`` (firms on the list; one split over
        two Kreise counts in each by its share), ``customers`` and
        ``share_customers`` as text. Customer counts below ``threshold`` (zeros
        included) and the cells that would reveal them through the total
        (complementary suppression, :func:`analysis.privacy.suppress_small_cells`)
        show ``x``. ``attrs["note"]``.
    """
    from analysis.champions import classify
    from analysis.privacy import suppress_small_cells

    keyed = firms.assign(firm_key=firm_key(firms))
    champs = keyed[classify(keyed, definition).fillna(False).to_numpy(dtype=bool)]
    is_customer = champs["firm_key"].map(status).eq("customer").astype("float64")
    per = (
        champs.assign(
            land=champs["kreis_ags"].map(lands).fillna("?"),
            champions=champs["weight"],
            customers=champs["weight"] * is_customer,
        )
        .groupby("land")[["champions", "customers"]]
        .sum()
    )
    hidden = suppress_small_cells(
        per[["customers"]], threshold=threshold, totals="columns", include_zeros=True
    )
    mask = hidden.attrs["suppressed"]["customers"].to_numpy()
    full = pd.concat([per, per.sum().to_frame("Total").T])
    share = full["customers"] / full["champions"]
    out = pd.DataFrame(
        {
            "champions": full["champions"].round(1),
            "customers": [
                "x" if m else f"{v:,.1f}" for v, m in zip(full["customers"], mask, strict=True)
            ],
            "share_customers": ["x" if m else f"{v:.0%}" for v, m in zip(share, mask, strict=True)],
        },
        index=full.index.rename("land"),
    )
    out.attrs = {
        "note": (
            f"x = hidden: fewer than {threshold} customers (including none), or hidden so "
            "that the total does not reveal such a count."
        ),
        "n_suppressed": int(mask.sum()),
    }
    return out


def count_text(n: float, threshold: int = 5) -> str:
    """A customer count for a sentence: ``"<5"`` below the threshold (zeros included)."""
    return f"<{threshold}" if n < threshold else f"{n:,.0f}"


def champion_sentence(
    not_customers: pd.DataFrame,
    evaluation: dict | None = None,
    n_flagged: int = 0,
    *,
    threshold: int = 5,
) -> str:
    """Champions served and not served, and how well matching did against a truth.

    The statuses partition the list (customers + undecided + not yet customers =
    all), so printing the total, the undecided and the not-customer counts would
    reveal a hidden customer count as their difference. When the customer count is
    below ``threshold`` the sentence therefore merges customers and undecided firms
    into one number, and when even that number is below ``threshold`` it gives the
    not-customer count only as "all but fewer than ``threshold``". Whatever is
    printed leaves every customer count from 0 to ``threshold - 1`` possible
    (checked in the tests with :func:`analysis.privacy.protection_check`).

    Parameters
    ----------
    not_customers : DataFrame
        :func:`champions_not_customers` (its ``attrs`` carry the counts).
    evaluation : dict, optional
        :func:`analysis.market.matching.evaluate_matches` against the demo truth.
    n_flagged : int
        Ambiguous firms of the whole list (all definitions), for the review note.
        Shown only when the customer count is shown.
    threshold : int
        Smallest customer count printed.
    """
    a = not_customers.attrs
    n = a["n_champions"]
    served = a["n_customers"]
    undecided = a["n_ambiguous"]
    open_ = a["n_not_customers"]
    head = f"Of {n:,} Hidden Champions ({a['definition']}), "
    if served >= threshold:
        text = (
            head + f"{served:,} are customers ({served / n:.0%}), {undecided:,} could not be "
            f"decided (flagged for review, not shown) and {open_:,} are not yet customers"
        )
    elif served + undecided >= threshold:
        text = (
            head + f"{open_:,} are not yet customers; the other {served + undecided:,} are "
            f"customers or could not be decided (fewer than {threshold} of them are customers, "
            "so the split is not shown)"
        )
    else:
        text = (
            head + f"all but fewer than {threshold} are not yet customers (the few others are "
            "customers or could not be decided; not shown)"
        )
    if len(not_customers):
        top = not_customers.iloc[0]
        text += f"; the largest of them by revenue is {top['firm']} ({top['kreis']})"
    text += "."
    if n_flagged and served >= threshold:
        text += f" {n_flagged:,} firms of the list await a manual check of their match."
    if evaluation is not None:
        text += (
            f" Against the demo's known pairs the matching reaches a precision of "
            f"{evaluation['precision']:.3f} and a recall of {evaluation['recall']:.3f} "
            f"({evaluation['true_positives']} of {evaluation['n_true']} true pairs found, "
            f"{evaluation['false_positives']} false)."
        )
    return text
