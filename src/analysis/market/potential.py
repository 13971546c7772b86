"""Customers against regional potential: accounts located, potential model, funnel limits."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import ParameterError
from analysis.market.limits import (
    FUNNEL_LEVELS,
    check_level,
    count_tail_probabilities,
    dispersion_used,
    funnel_limits,
    level_tag,
    ratio_interval,
)

#: Default covariates of :func:`fit_potential` (see :func:`kreis_frame`).
COVARIATES: tuple[str, ...] = ("hc_log", "mint_log")

#: Account location status → label (the order of the summary table).
STATUS_LABELS: dict[str, str] = {
    "placed": "placed in a Kreis",
    "foreign": "abroad (foreign country or postcode)",
    "missing": "no postcode",
    "malformed": "invalid postcode (not 5 digits)",
    "unknown": "postcode not in the PLZ map",
    "outside": "postcode in no current Kreis",
}


# --------------------------------------------------------------------------- accounts


class LocatedAccounts(NamedTuple):
    """Result of :func:`locate_accounts`.

    Attributes
    ----------
    placed : DataFrame
        One row per account and Kreis: the account's columns plus ``plz5``,
        ``kreis_ags`` and ``share`` (an account's shares sum to 1).
    unplaced : DataFrame
        Accounts that could not be placed, with ``status`` (a key of
        :data:`STATUS_LABELS`).
    summary : DataFrame
        ``status`` (label), ``accounts``, ``share``; a last row ``total``.
        Every account is counted exactly once.
    """

    placed: pd.DataFrame
    unplaced: pd.DataFrame
    summary: pd.DataFrame

    @property
    def n_accounts(self) -> int:
        """All accounts given."""
        return int(self.summary.loc[self.summary["status"] == "total", "accounts"].iloc[0])

    @property
    def n_placed(self) -> int:
        """Accounts placed in at least one current Kreis."""
        return int(self.placed["account_id"].nunique()) if len(self.placed) else 0


def _country(accounts: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The first non-empty country field per account ("" when none)."""
    country = pd.Series("", index=accounts.index, dtype="str")
    for col in reversed([c for c in columns if c in accounts.columns]):
        value = accounts[col].astype("str").fillna("").str.strip()
        country = value.where(value != "", country)
    return country


def locate_accounts(
    accounts: pd.DataFrame,
    plz_map: pd.DataFrame,
    *,
    kreis_codes: Sequence[str] | None = None,
    weight: pd.Series | None = None,
    plz_col: str = "billing_postal_code",
    country_cols: Sequence[str] = ("billing_country_code", "billing_country"),
    id_col: str = "account_id",
) -> LocatedAccounts:
    """Place accounts in Kreise by their billing postcode; count the rest apart.

    Uses :func:`analysis.territory.allocate_plz`: a postcode in one Kreis gives that
    Kreis; a postcode spanning several Kreise splits the account (equally, or by the
    population of its Gemeinden when ``weight`` is given). Limitation: the weight is
    the population of each *whole* Gemeinde the postcode touches, not of the part of
    the Gemeinde inside the postcode area (the PLZ file has no such overlap), so a
    postcode that covers a corner of a large city gives that city's Kreis too large
    a share. It affects only the accounts in postcodes spanning several Kreise
    (``summary.attrs["n_split"]``); reports should state that number. Accounts abroad (country
    or postcode), without a postcode, with an invalid postcode, with a postcode the
    map does not know or that lies in no current Kreis come back in ``unplaced``.

    Parameters
    ----------
    accounts : DataFrame
        ``CrmData.accounts`` (``account_id``, ``billing_postal_code``,
        ``billing_country_code``, ``billing_country``).
    plz_map : DataFrame
        From :func:`analysis.sources.official.plz.read_plz`.
    kreis_codes : sequence of str, optional
        Current Kreise; shares in other codes are dropped and the rest rescaled
        (an account with none left is ``outside``). Default: keep all.
    weight : Series, optional
        Population per Gemeinde (8-digit AGS) for splitting postcodes.
    plz_col : str
        Postcode column.
    country_cols : sequence of str
        Country columns, the first non-empty one counts (ISO code before name).
    id_col : str
        Account id column.

    Returns
    -------
    LocatedAccounts
        ``placed``, ``unplaced``, ``summary``.

    Raises
    ------
    ParameterError
        A missing column.
    """
    from analysis.territory import allocate_plz

    for col in (plz_col, id_col):
        if col not in accounts.columns:
            raise ParameterError(
                "accounts", f"expected a column {col!r}; found {list(accounts.columns)}"
            )
    frame = accounts.reset_index(drop=True).assign(_country=lambda f: _country(f, country_cols))
    allocated, unallocated = allocate_plz(frame, plz_map, plz_col, weight, country_col="_country")
    status = pd.Series(pd.NA, index=frame.index, dtype="str")
    status[unallocated.index] = unallocated["reason"].astype("str")
    if kreis_codes is not None:
        allocated = allocated[allocated["kreis_ags"].isin(set(map(str, kreis_codes)))]
        total = allocated.groupby(level=0)["share"].transform("sum")
        allocated = allocated.assign(share=allocated["share"] / total)
    placed_index = pd.Index(allocated.index.unique())
    outside = status.isna() & ~frame.index.isin(placed_index)
    status = status.mask(outside, "outside").fillna("placed")

    placed = allocated.drop(columns=["_country"]).reset_index(drop=True)
    unplaced = (
        frame.loc[status != "placed"]
        .drop(columns=["_country"])
        .assign(status=status[status != "placed"])
        .reset_index(drop=True)
    )
    counts = status.value_counts()
    n = len(frame)
    rows = [
        {"status": label, "accounts": int(counts.get(key, 0))}
        for key, label in STATUS_LABELS.items()
    ]
    summary = pd.DataFrame([*rows, {"status": "total", "accounts": n}])
    summary = summary.assign(share=summary["accounts"] / n if n else np.nan)
    summary.attrs = {"n_split": int(allocated.index.duplicated().sum())}
    return LocatedAccounts(placed, unplaced, summary)


def account_outcomes(accounts: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """Per account: opportunities, won opportunities, won revenue, customer flag.

    Parameters
    ----------
    accounts : DataFrame
        With ``account_id``.
    opportunities : DataFrame
        ``CrmData.opportunities`` (``account_id``, ``is_won``, ``amount_eur``).

    Returns
    -------
    DataFrame
        ``account_id``, ``n_opportunities``, ``n_won``, ``won_eur`` (sum of
        ``amount_eur`` of won deals; a won deal without an amount counts 0 and is
        counted in ``attrs["won_without_amount"]``), ``is_customer`` (at least one
        won deal). ``attrs["opportunities_without_account"]``: opportunities whose
        account is not among ``accounts``.
    """
    opp = opportunities[["account_id", "is_won", "amount_eur"]]
    known = opp["account_id"].isin(set(accounts["account_id"]))
    won = opp[known & opp["is_won"].fillna(False).astype(bool)]
    per = pd.DataFrame(
        {
            "n_opportunities": opp[known].groupby("account_id").size(),
            "n_won": won.groupby("account_id").size(),
            "won_eur": won.groupby("account_id")["amount_eur"].sum(min_count=0),
        }
    )
    out = (
        accounts[["account_id"]]
        .drop_duplicates()
        .merge(per, left_on="account_id", right_index=True, how="left")
        .fillna({"n_opportunities": 0, "n_won": 0, "won_eur": 0.0})
        .astype({"n_opportunities": "int64", "n_won": "int64", "won_eur": "float64"})
        .reset_index(drop=True)
    )
    out = out.assign(is_customer=out["n_won"] > 0)
    out.attrs = {
        "won_without_amount": int(won["amount_eur"].isna().sum()),
        "opportunities_without_account": int((~known).sum()),
    }
    return out


def observed_by_kreis(placed: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Accounts, customers and won revenue per Kreis (share-weighted).

    Parameters
    ----------
    placed : DataFrame
        :attr:`LocatedAccounts.placed` (``account_id``, ``kreis_ags``, ``share``).
    outcomes : DataFrame
        From :func:`account_outcomes`.

    Returns
    -------
    DataFrame
        ``kreis_ags``, ``accounts``, ``customers``, ``won_eur`` (floats: an account
        in a postcode spanning two Kreise counts half in each by default).
    """
    joined = placed[["account_id", "kreis_ags", "share"]].merge(
        outcomes[["account_id", "is_customer", "won_eur"]], on="account_id", how="left"
    )
    customer = joined["is_customer"].fillna(False).astype("float64")
    weighted = pd.DataFrame(
        {
            "kreis_ags": joined["kreis_ags"].astype("str"),
            "accounts": joined["share"],
            "customers": joined["share"] * customer,
            "won_eur": joined["share"] * joined["won_eur"].fillna(0.0),
        }
    )
    return weighted.groupby("kreis_ags", as_index=False)[["accounts", "customers", "won_eur"]].sum()


def kreis_frame(
    indicators: pd.DataFrame,
    observed: pd.DataFrame,
    hc_counts: pd.DataFrame | None = None,
    *,
    key: str = "ags",
) -> pd.DataFrame:
    """One row per Kreis: size, potential covariates and what the company has there.

    Parameters
    ----------
    indicators : DataFrame
        :func:`analysis.regions.load_kreis_indicators` (``ags``, ``name``,
        ``land_code``, ``population``, ``employees``, ``mint_students_per_1000``).
    observed : DataFrame
        :func:`observed_by_kreis`.
    hc_counts : DataFrame, optional
        :func:`analysis.champions.count_by_kreis` (``ags``, ``hc_count``,
        ``firms_listed``); without it ``hc_count`` is 0 everywhere.
    key : str
        Kreis code column of ``indicators``.

    Returns
    -------
    DataFrame
        The indicator columns kept (``ags, name, land_code, population, employees,
        mint_students_per_1000``), ``hc_count``, ``firms_listed``, ``hc_per_100k``,
        ``hc_log`` (= log(1 + hc_per_100k)), ``mint_log`` (=
        :func:`analysis.champions.mint_log_indicator`), ``accounts``, ``customers``,
        ``won_eur`` (0 where the company has nothing). ``attrs["outside"]``: observed
        totals in Kreise missing from ``indicators``.
    """
    from analysis.champions import mint_log_indicator

    keep = [
        c
        for c in (key, "name", "land_code", "population", "employees", "mint_students_per_1000")
        if c in indicators.columns
    ]
    base = indicators[keep].rename(columns={key: "ags"}).astype({"ags": "str"})
    if hc_counts is not None:
        hc = hc_counts[[key, "hc_count", "firms_listed"]].rename(columns={key: "ags"})
        base = base.merge(hc.astype({"ags": "str"}), on="ags", how="left")
    else:
        base = base.assign(hc_count=np.nan, firms_listed=np.nan)
    base = base.fillna({"hc_count": 0.0, "firms_listed": 0.0})
    obs = observed.rename(columns={"kreis_ags": "ags"}).astype({"ags": "str"})
    out = base.merge(obs, on="ags", how="left").fillna(
        {"accounts": 0.0, "customers": 0.0, "won_eur": 0.0}
    )
    population = out["population"].where(out["population"] > 0)
    hc_per_100k = out["hc_count"] / population * 1e5
    mint = out.get("mint_students_per_1000", pd.Series(np.nan, index=out.index))
    out = out.assign(
        hc_per_100k=hc_per_100k,
        hc_log=np.log1p(hc_per_100k),
        mint_log=mint_log_indicator(mint),
    )
    outside = obs[~obs["ags"].isin(set(base["ags"]))]
    out.attrs = {
        "outside": {c: float(outside[c].sum()) for c in ("accounts", "customers", "won_eur")}
    }
    return out


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class PotentialModel:
    """A fitted potential model (see :func:`fit_potential`).

    Attributes
    ----------
    frame : DataFrame
        One row per Kreis: the input columns plus ``observed``, ``expected``,
        ``ratio`` (O/E), ``ratio_ci_low``, ``ratio_ci_high``, ``p_below``,
        ``p_above``, ``limit_95_low``, ``limit_95_high``, ``limit_998_low``,
        ``limit_998_high`` (count scale) and ``funnel`` (``"below 99.8 %"``,
        ``"below 95 %"``, ``"within"``, ``"above 95 %"``, ``"above 99.8 %"``).
        Kreise left out of the fit have NaN there (see ``excluded``).
    coefficients : DataFrame
        ``term, coef, se, ci_low, ci_high, p_value, rate_ratio, rate_ratio_ci_low,
        rate_ratio_ci_high``.
    dispersion : float
        Pearson χ² / residual df (≈ 1 for Poisson counts).
    dispersion_used : float
        The φ behind every interval, limit and p-value: for counts
        ``max(1, dispersion)`` (quasi-Poisson), for amounts ``dispersion``.
    excluded : DataFrame
        ``ags``, ``reason`` for Kreise without a usable exposure or covariate.
    outcome, exposure : str
    covariates : tuple of str
    count : bool
        Whether the outcome is a count (exact Poisson limits) or an amount
        (quasi-Poisson, normal limits with the dispersion).
    level : float
    """

    frame: pd.DataFrame
    coefficients: pd.DataFrame
    dispersion: float
    excluded: pd.DataFrame
    outcome: str
    exposure: str
    covariates: tuple[str, ...]
    count: bool
    level: float
    result: object = field(repr=False, default=None)
    dispersion_used: float = 1.0

    @property
    def n_used(self) -> int:
        """Kreise in the fit."""
        return int(self.frame["expected"].notna().sum())


def choose_exposure(
    frame: pd.DataFrame,
    candidates: Sequence[str] = ("employees", "population"),
    *,
    min_share: float = 0.9,
) -> str:
    """The first exposure column that is positive for at least ``min_share`` of Kreise.

    Employment is the better exposure for B2B customers, but an official table may
    lack it for the latest date (13111 shows only ``-`` at some reference dates);
    population is then the fallback.

    Raises
    ------
    ParameterError
        When no candidate is usable.
    """
    for col in candidates:
        if col in frame.columns and (frame[col] > 0).mean() >= min_share:
            return col
    raise ParameterError(
        "exposure", f"none of {list(candidates)} is positive for {min_share:.0%} of the Kreise"
    )


def fit_potential(
    frame: pd.DataFrame,
    outcome: str = "customers",
    exposure: str = "employees",
    covariates: Sequence[str] = COVARIATES,
    *,
    count: bool | None = None,
    level: float = 0.95,
) -> PotentialModel:
    """Quasi-Poisson GLM of an outcome per Kreis with a log-exposure offset; O/E and funnel.

    ``log E[O_i] = log(exposure_i) + b0 + sum_k b_k x_ik`` with ``Var O_i = φ E[O_i]``.
    The point estimates are the Poisson ones; φ is estimated by Pearson χ² / residual
    df (McCullagh and Nelder 1989, 4.5) and *used*: standard errors and coefficient
    intervals are scaled by it. For counts φ is floored at 1 (an estimate below 1
    is not taken as underdispersion) and O/E intervals, funnel limits and tail
    probabilities come from the exact count distribution with mean E and variance
    φ E (:mod:`analysis.market.limits`); for amounts (``count=False``, e.g. revenue
    in EUR) they are normal with variance φ E. Funnel flags are decided on the tail
    probabilities (``p_below < 0.025`` is "below 95 %"), so that a Kreis on target
    is flagged at most at the nominal rate. E itself is treated as known (its own
    uncertainty from the fit is not added: with ~400 Kreise and 3 parameters it is
    small next to the count noise).

    Parameters
    ----------
    frame : DataFrame
        :func:`kreis_frame` (``ags``, the outcome, exposure and covariates).
    outcome : str
        ``"customers"``, ``"accounts"`` or ``"won_eur"``.
    exposure : str
        ``"employees"``, ``"population"``, ``"firms_listed"``, ...
    covariates : sequence of str
        Regressors (may be empty: then E is proportional to the exposure).
    count : bool, optional
        Whether the outcome is a count; default: True unless the outcome is
        ``won_eur``.
    level : float
        Confidence level of coefficient and O/E intervals.

    Returns
    -------
    PotentialModel

    Raises
    ------
    ParameterError
        A missing column, a level outside (0, 1), fewer Kreise than parameters + 1.
    """
    import statsmodels.api as sm

    check_level(level)
    covariates = tuple(covariates)
    for col in ("ags", outcome, exposure, *covariates):
        if col not in frame.columns:
            raise ParameterError("frame", f"expected a column {col!r}; found {list(frame.columns)}")
    if count is None:
        count = outcome != "won_eur"
    values = frame[[outcome, exposure, *covariates]].astype("float64")
    reasons = _exclusion_reasons(values, outcome, exposure, covariates)
    use = reasons == ""
    excluded = pd.DataFrame({"ags": frame.loc[~use, "ags"].astype("str"), "reason": reasons[~use]})
    if use.sum() <= len(covariates) + 1:
        raise ParameterError(
            "frame", f"only {int(use.sum())} usable Kreise for {len(covariates) + 1} parameters"
        )
    y = values.loc[use, outcome].to_numpy()
    x = sm.add_constant(values.loc[use, list(covariates)].to_numpy(), has_constant="add")
    offset = np.log(values.loc[use, exposure].to_numpy())
    model = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset)
    with warnings.catch_warnings():
        # non-integer outcomes (share-weighted counts, EUR) are a quasi-likelihood fit
        warnings.simplefilter("ignore", category=RuntimeWarning)
        fitted = model.fit()
        dispersion = float(fitted.pearson_chi2 / fitted.df_resid) if fitted.df_resid > 0 else np.nan
        phi = dispersion_used(dispersion) if count else dispersion
        fitted = model.fit(scale=phi)

    coefficients = _coefficient_table(fitted, ["intercept", *covariates], level)

    expected = np.full(len(frame), np.nan)
    expected[use] = np.asarray(fitted.fittedvalues)
    observed = values[outcome].to_numpy()
    out = frame.assign(observed=observed, expected=expected)
    out = out.assign(ratio=np.where(expected > 0, observed / expected, np.nan))
    if count:
        # scaled Garwood interval: O/φ is treated as Poisson with mean E/φ
        low, high = ratio_interval(observed / phi, expected / phi, level)
        p_below, p_above = count_tail_probabilities(observed, expected, phi)
    else:
        z = stats.norm.ppf(1 - (1 - level) / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            se_ratio = np.sqrt(dispersion / expected)
            zscore = (observed - expected) / np.sqrt(dispersion * expected)
        low, high = out["ratio"] - z * se_ratio, out["ratio"] + z * se_ratio
        low = np.maximum(low, 0.0)
        p_below, p_above = stats.norm.cdf(zscore), stats.norm.sf(zscore)
    limits = {}
    for lv in FUNNEL_LEVELS:
        lo, hi = funnel_limits(np.nan_to_num(expected), lv, dispersion=phi, count=count)
        tag = level_tag(lv)
        limits[f"limit_{tag}_low"] = np.where(use, lo, np.nan)
        limits[f"limit_{tag}_high"] = np.where(use, hi, np.nan)
    out = out.assign(
        ratio_ci_low=np.where(use, low, np.nan),
        ratio_ci_high=np.where(use, high, np.nan),
        p_below=np.where(use, p_below, np.nan),
        p_above=np.where(use, p_above, np.nan),
        **limits,
    )
    out = out.assign(funnel=_funnel_flags(out))
    return PotentialModel(
        frame=out,
        coefficients=coefficients,
        dispersion=dispersion,
        excluded=excluded.reset_index(drop=True),
        outcome=outcome,
        exposure=exposure,
        covariates=covariates,
        count=bool(count),
        level=level,
        result=fitted,
        dispersion_used=float(phi),
    )


def _exclusion_reasons(
    values: pd.DataFrame, outcome: str, exposure: str, covariates: tuple[str, ...]
) -> np.ndarray:
    """Why each Kreis cannot enter the fit ("" where it can)."""
    return np.select(
        [
            ~(values[exposure] > 0).to_numpy(),
            (values[outcome].isna() | (values[outcome] < 0)).to_numpy(),
            (
                ~np.isfinite(values[list(covariates)].to_numpy()).all(axis=1)
                if covariates
                else np.zeros(len(values), dtype=bool)
            ),
        ],
        [f"{exposure} missing or 0", f"{outcome} missing", "a covariate is missing"],
        default="",
    )


def _coefficient_table(fitted, names: list[str], level: float) -> pd.DataFrame:
    """Coefficients with (dispersion-scaled) intervals and p-values, and rate ratios."""
    ci = np.asarray(fitted.conf_int(alpha=1 - level))
    params = np.asarray(fitted.params)
    return pd.DataFrame(
        {
            "term": names,
            "coef": params,
            "se": np.asarray(fitted.bse),
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
            "p_value": np.asarray(fitted.pvalues),
            "rate_ratio": np.exp(params),
            "rate_ratio_ci_low": np.exp(ci[:, 0]),
            "rate_ratio_ci_high": np.exp(ci[:, 1]),
        }
    )


def _funnel_flags(frame: pd.DataFrame) -> pd.Series:
    """Flags from the one-sided tail probabilities (not from the drawn limits)."""
    lo, hi = ((1 - lv) / 2 for lv in FUNNEL_LEVELS)
    below, above = frame["p_below"], frame["p_above"]
    flags = np.select(
        [below < hi, below < lo, above < hi, above < lo, frame["expected"].notna()],
        ["below 99.8 %", "below 95 %", "above 99.8 %", "above 95 %", "within"],
        default="not fitted",
    )
    return pd.Series(flags, index=frame.index, dtype="str")
