"""Customers against regional potential: where is the white space?

Puts the company's accounts (CRM), the regional potential (employment, Hidden
Champions, MINT strength) and the question "where are we under-represented?" side
by side:

1. :func:`locate_accounts` places every account in its Kreis by billing postcode
   (share-weighted where a postcode spans several Kreise) and counts the others —
   abroad, no postcode, invalid postcode — apart, with the reason; none is lost.
2. :func:`account_outcomes` and :func:`kreis_frame` give customers (accounts with a
   won opportunity), accounts and won revenue per Kreis next to the covariates.
3. :func:`fit_potential` fits a Poisson GLM with an exposure offset::

       log E[O_i] = log(exposure_i) + b0 + b1 * hc_log_i + b2 * mint_log_i

   (exposure: employees, or firms or population; ``hc_log = log(1 + Hidden Champions
   per 100,000 inhabitants)``, ``mint_log = log(1 + MINT students per 1,000
   inhabitants)``). Its fitted values are the *expected* customers E_i — what a
   Kreis of that size and potential would have at the company's average reach — and
   O/E the penetration against potential (indirect standardization).
4. :func:`funnel_limits` gives exact Poisson control limits for O given E (the
   funnel plot of Spiegelhalter 2005): a small Kreis with 2 customers where 0.5 are
   expected has O/E = 4, yet lies inside the funnel, so noise does not top a ranking.
5. :func:`white_space` ranks Kreise with high potential (high E) and low coverage
   (O significantly below E, or O/E below a threshold) by their shortfall E − O.

Note that the model is fitted to the company's own customers: where the company
is weak in champion-rich regions, the champion coefficient absorbs part of that
weakness. E is therefore "expected at our average reach", not a market size.

Privacy: customer counts describe the company's customers; tables for a report go
through :func:`publishable`, which hides counts below 5 and every column derived
from them (:func:`analysis.privacy.suppress_small_cells`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.errors import ParameterError

#: Funnel levels drawn and flagged: about 2 and 3 standard deviations.
FUNNEL_LEVELS: tuple[float, float] = (0.95, 0.998)

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
    population of its Gemeinden when ``weight`` is given). Accounts abroad (country
    or postcode), without a postcode, with an invalid postcode, with a postcode the
    map does not know or that lies in no current Kreis come back in ``unplaced``.

    Parameters
    ----------
    accounts : DataFrame
        ``CrmData.accounts`` (``account_id``, ``billing_postal_code``,
        ``billing_country_code``, ``billing_country``).
    plz_map : DataFrame
        From :func:`analysis.sources.plz.read_plz`.
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


# --------------------------------------------------------------------------- funnel limits


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ParameterError("level", f"expected a probability in (0, 1), got {level!r}")


def poisson_quantile_limit(expected, p: float) -> np.ndarray:
    """The p-quantile of Poisson(expected), interpolated to a continuous value.

    With ``r`` the smallest integer whose cumulative probability ``F(r)`` reaches
    ``p``, the limit is ``r - (F(r) - p) / (F(r) - F(r - 1))`` (Spiegelhalter 2005,
    *Funnel plots for comparing institutional performance*, Stat Med 24:1185,
    appendix A.1.2), floored at 0. At values of ``expected`` where ``F`` crosses ``p``
    exactly the limit is the integer quantile.

    Parameters
    ----------
    expected : array-like
        Poisson means (≥ 0).
    p : float
        Probability in (0, 1).

    Returns
    -------
    ndarray
    """
    _check_level(p)
    mu = np.asarray(expected, dtype="float64")
    r = stats.poisson.ppf(p, mu)
    f_r = stats.poisson.cdf(r, mu)
    f_prev = stats.poisson.cdf(r - 1, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_prev, (f_r - p) / (f_r - f_prev), 0.0)
    limit = np.maximum(r - alpha, 0.0)
    return np.where(mu > 0, limit, 0.0)


def funnel_limits(
    expected, level: float = 0.95, *, dispersion: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits for the observed count O of a unit with expected count E.

    Parameters
    ----------
    expected : array-like
        E (≥ 0).
    level : float
        Two-sided coverage, e.g. 0.95 or 0.998: a unit on target lies inside with
        this probability.
    dispersion : float, optional
        ``None``: exact Poisson limits (:func:`poisson_quantile_limit` at
        ``(1 - level) / 2`` and ``(1 + level) / 2``). A number φ: normal limits
        ``E ± z * sqrt(φ E)`` for overdispersed or non-count outcomes (quasi-Poisson,
        e.g. revenue), floored at 0.

    Returns
    -------
    (lower, upper) : tuple of ndarray
        On the count scale; divide by E for O/E limits.
    """
    _check_level(level)
    mu = np.asarray(expected, dtype="float64")
    tail = (1 - level) / 2
    if dispersion is None:
        return poisson_quantile_limit(mu, tail), poisson_quantile_limit(mu, 1 - tail)
    z = stats.norm.ppf(1 - tail)
    half = z * np.sqrt(dispersion * np.maximum(mu, 0))
    return np.maximum(mu - half, 0.0), mu + half


def ratio_interval(observed, expected, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence interval of O/E for a Poisson count O.

    ``lower = chi2.ppf(a/2, 2 O) / (2 E)`` (0 when O = 0), ``upper = chi2.ppf(1 -
    a/2, 2 (O + 1)) / (2 E)`` with ``a = 1 - level``. Non-integer O (share-weighted
    counts) uses the same formula with fractional degrees of freedom.

    Returns
    -------
    (lower, upper) : tuple of ndarray
        NaN where E is not positive.
    """
    _check_level(level)
    o = np.asarray(observed, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    a = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(o > 0, stats.chi2.ppf(a / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
        high = stats.chi2.ppf(1 - a / 2, 2 * (o + 1)) / 2
        valid = e > 0
        return np.where(valid, low / e, np.nan), np.where(valid, high / e, np.nan)


def poisson_tail_probabilities(observed, expected) -> tuple[np.ndarray, np.ndarray]:
    """One-sided exact p-values ``P(X ≤ O)`` and ``P(X ≥ O)`` for X ~ Poisson(E).

    Computed as regularized incomplete gamma functions, which equal the Poisson sums
    at integer O and extend them continuously to share-weighted counts.
    """
    o = np.asarray(observed, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    below = special.gammaincc(o + 1, e)
    above = np.where(o > 0, special.gammainc(np.maximum(o, 1e-300), e), 1.0)
    return below, above


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
    """Poisson GLM of an outcome per Kreis with a log-exposure offset; O/E and funnel.

    ``log E[O_i] = log(exposure_i) + b0 + sum_k b_k x_ik``. For counts the standard
    errors are the model's (Poisson); for amounts (``count=False``, e.g. revenue in
    EUR) the fit is quasi-Poisson: the same point estimates, standard errors scaled
    by the Pearson dispersion, funnel limits normal with that dispersion.

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

    _check_level(level)
    covariates = tuple(covariates)
    for col in ("ags", outcome, exposure, *covariates):
        if col not in frame.columns:
            raise ParameterError("frame", f"expected a column {col!r}; found {list(frame.columns)}")
    if count is None:
        count = outcome != "won_eur"
    values = frame[[outcome, exposure, *covariates]].astype("float64")
    reasons = np.select(
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
        fitted = model.fit(scale="X2" if not count else None)
    dispersion = float(fitted.pearson_chi2 / fitted.df_resid) if fitted.df_resid > 0 else np.nan

    names = ["intercept", *covariates]
    ci = np.asarray(fitted.conf_int(alpha=1 - level))
    params = np.asarray(fitted.params)
    coefficients = pd.DataFrame(
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

    expected = np.full(len(frame), np.nan)
    expected[use] = np.asarray(fitted.fittedvalues)
    observed = values[outcome].to_numpy()
    out = frame.assign(observed=observed, expected=expected)
    out = out.assign(ratio=np.where(expected > 0, observed / expected, np.nan))
    phi = None if count else dispersion
    if count:
        low, high = ratio_interval(observed, expected, level)
        p_below, p_above = poisson_tail_probabilities(observed, expected)
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
        lo, hi = funnel_limits(np.nan_to_num(expected), lv, dispersion=phi)
        tag = _level_tag(lv)
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
    )


def _level_tag(level: float) -> str:
    """0.95 → "95", 0.998 → "998"."""
    return f"{level * 100:g}".replace(".", "")


def _funnel_flags(frame: pd.DataFrame) -> pd.Series:
    lo, hi = (_level_tag(lv) for lv in FUNNEL_LEVELS)
    o = frame["observed"]
    flags = np.select(
        [
            o < frame[f"limit_{hi}_low"],
            o < frame[f"limit_{lo}_low"],
            o > frame[f"limit_{hi}_high"],
            o > frame[f"limit_{lo}_high"],
            frame["expected"].notna(),
        ],
        ["below 99.8 %", "below 95 %", "above 99.8 %", "above 95 %", "within"],
        default="not fitted",
    )
    return pd.Series(flags, index=frame.index, dtype="str")


def funnel_curve(
    expected_max: float,
    levels: Sequence[float] = FUNNEL_LEVELS,
    *,
    n: int = 200,
    dispersion: float | None = None,
    expected_min: float = 0.05,
) -> pd.DataFrame:
    """O/E control limits on a grid of E, for drawing the funnel.

    Returns
    -------
    DataFrame
        ``expected`` and per level ``low_<tag>``, ``high_<tag>`` on the ratio scale
        (tag: 95, 998).
    """
    grid = np.geomspace(max(expected_min, 1e-3), max(expected_max, expected_min * 2), n)
    out = {"expected": grid}
    for lv in levels:
        lo, hi = funnel_limits(grid, lv, dispersion=dispersion)
        out[f"low_{_level_tag(lv)}"] = lo / grid
        out[f"high_{_level_tag(lv)}"] = hi / grid
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- white space


def white_space(
    model: PotentialModel,
    *,
    potential_quantile: float = 0.75,
    min_expected: float | None = None,
    level: float = 0.95,
    max_ratio: float | None = None,
) -> pd.DataFrame:
    """Kreise with high potential and low coverage, ranked by shortfall.

    A Kreis is white space when its expected value is high — at least
    ``min_expected``, or by default at least the ``potential_quantile`` of the
    expected values of all fitted Kreise — *and* its coverage is low: the observed
    value lies below the lower control limit at ``level`` (significantly below
    E), or, when ``max_ratio`` is given, O/E is below it.

    Parameters
    ----------
    model : PotentialModel
    potential_quantile : float
        Quantile of E that counts as high potential (ignored with ``min_expected``).
    min_expected : float, optional
        Absolute threshold for E.
    level : float
        Two-sided level of the control limit (0.95: one-sided 2.5 %).
    max_ratio : float, optional
        Also flag O/E below this value.

    Returns
    -------
    DataFrame
        Ranked (``rank`` 1 = largest shortfall): ``ags``, ``name`` (if present),
        ``expected``, ``observed``, ``ratio``, ``ratio_ci_low``, ``ratio_ci_high``,
        ``shortfall`` (E − O), ``p_below``, ``hc_count``, the model's exposure
        (e.g. ``employees``), ``reason``. ``attrs``: ``min_expected`` (the threshold used), ``level``,
        ``max_ratio``, ``n_high_potential``.
    """
    _check_level(level)
    frame = model.frame[model.frame["expected"].notna()]
    if min_expected is None:
        if not 0 <= potential_quantile <= 1:
            raise ParameterError("potential_quantile", f"expected [0, 1], got {potential_quantile}")
        min_expected = float(frame["expected"].quantile(potential_quantile))
    high = frame[frame["expected"] >= min_expected]
    low_limit, _ = funnel_limits(
        high["expected"], level, dispersion=None if model.count else model.dispersion
    )
    significant = high["observed"].to_numpy() < low_limit
    below_ratio = (
        high["ratio"].to_numpy() < max_ratio - 1e-12
        if max_ratio is not None
        else np.zeros(len(high), bool)
    )
    pct = f"{level * 100:g} %"
    reason = np.where(
        significant & below_ratio,
        f"below the {pct} limit; O/E < {max_ratio}",
        np.where(significant, f"below the {pct} limit", f"O/E < {max_ratio}"),
    )
    chosen = high.assign(shortfall=high["expected"] - high["observed"], reason=reason)[
        significant | below_ratio
    ]
    columns = [
        c
        for c in (
            "ags",
            "name",
            "expected",
            "observed",
            "ratio",
            "ratio_ci_low",
            "ratio_ci_high",
            "shortfall",
            "p_below",
            "hc_count",
            model.exposure,
            "reason",
        )
        if c in chosen.columns
    ]
    ranked = (
        chosen.sort_values(["shortfall", "ags"], ascending=[False, True])[columns]
        .reset_index(drop=True)
        .astype({"reason": "str"})
    )
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    # How many Kreise on target would be flagged by these rules by chance alone: a
    # Kreis is flagged when O < max(limit, max_ratio * E), and P(O < c) for a Poisson
    # count is P(O <= ceil(c) - 1).
    if model.count:
        cut = np.maximum(low_limit, (max_ratio or 0.0) * high["expected"].to_numpy())
        # (1e-9: a cut that is an integer up to rounding, e.g. 0.7 * 10, stays one)
        flagged_up_to = np.ceil(cut - 1e-9) - 1
        by_chance = float(stats.poisson.cdf(flagged_up_to, high["expected"].to_numpy()).sum())
    else:
        by_chance = float("nan")
    ranked.attrs = {
        "min_expected": float(min_expected),
        "level": level,
        "max_ratio": max_ratio,
        "n_high_potential": int(len(high)),
        "n_significant": int(significant.sum()),
        "expected_by_chance": by_chance,
    }
    return ranked


# --------------------------------------------------------------------------- report helpers


def publishable(
    table: pd.DataFrame,
    count_col: str,
    dependent: Sequence[str] = (),
    *,
    threshold: int = 5,
    decimals: int | dict[str, int] = 1,
    label: str = f"<{5}",
) -> pd.DataFrame:
    """A report version of a table with customer counts: small counts hidden.

    Rows whose ``count_col`` is below ``threshold`` (zeros included) show ``label``
    in ``count_col`` and ``"x"`` in every ``dependent`` column (values derived from
    the count, e.g. O/E, shortfall, revenue), so that nothing reveals the hidden
    count. Uses :func:`analysis.privacy.suppress_small_cells` for the rule; shown
    numbers are formatted as text with ``decimals`` (thousands separators).

    Returns
    -------
    DataFrame
        The table with ``count_col`` and ``dependent`` as text columns; ``attrs``
        ``n_suppressed`` and ``note``.
    """
    from analysis.privacy import suppress_small_cells

    columns = [count_col, *dependent]
    part = table[columns].apply(pd.to_numeric, errors="coerce")
    hidden = suppress_small_cells(
        part, counts=count_col, threshold=threshold, label=label, include_zeros=True
    )
    mask = hidden.attrs["suppressed"][count_col].to_numpy()
    out = table.copy()
    for col in columns:
        places = decimals.get(col, 1) if isinstance(decimals, dict) else decimals
        text = part[col].map(lambda v, p=places: "–" if pd.isna(v) else f"{v:,.{p}f}")
        out[col] = text.where(~mask, label if col == count_col else "x").astype("str")
    out.attrs = {
        "n_suppressed": int(mask.sum()),
        "note": (
            f"{label} = fewer than {threshold} customers (including none); x = hidden "
            "because it would reveal such a count."
        ),
    }
    return out


def count_table(counts: pd.Series, *, threshold: int = 5, label: str = "accounts") -> pd.DataFrame:
    """A one-column table of record counts with a total, small counts hidden.

    Counts from 1 to ``threshold - 1`` show ``x``, and so does whatever else would
    reveal them through the total (complementary suppression with
    :func:`analysis.privacy.suppress_small_cells`); zeros are shown.

    Parameters
    ----------
    counts : Series
        Counts by category (no total).
    label : str
        Name of the count column.

    Returns
    -------
    DataFrame
        Index: the categories and ``Total``; ``label`` and ``share`` (text).
        ``attrs["note"]``.
    """
    from analysis.privacy import suppress_small_cells

    frame = counts.astype("float64").to_frame(label)
    hidden = suppress_small_cells(frame, threshold=threshold, totals="columns")
    mask = hidden.attrs["suppressed"][label].to_numpy()
    total = float(frame[label].sum())
    values = [*frame[label].tolist(), total]
    out = pd.DataFrame(
        {
            label: ["x" if m else f"{v:,.0f}" for v, m in zip(values, mask, strict=True)],
            "share": [
                "x" if m else (f"{v / total:.1%}" if total else "–")
                for v, m in zip(values, mask, strict=True)
            ],
        },
        index=pd.Index([*frame.index, "Total"], name=counts.index.name),
    )
    out.attrs = {"note": hidden.attrs["note"], "n_suppressed": int(mask.sum())}
    return out


def location_table(located: LocatedAccounts, threshold: int = 5) -> pd.DataFrame:
    """:attr:`LocatedAccounts.summary` for a report: accounts by status, small counts hidden.

    See :func:`count_table`; the total always shows every account.
    """
    counts = located.summary.set_index("status")["accounts"].drop("total")
    return count_table(counts.rename_axis("status"), threshold=threshold)


def location_sentence(located: LocatedAccounts) -> str:
    """One sentence on how many accounts were placed and why the others were not."""
    s = located.summary.set_index("status")
    n = located.n_accounts
    placed = int(s.loc[STATUS_LABELS["placed"], "accounts"])
    parts = [
        f"{count_text(s.loc[label, 'accounts'])} {label.split(' (')[0]}"
        for key, label in STATUS_LABELS.items()
        if key != "placed" and s.loc[label, "accounts"] > 0
    ]
    rest = "; ".join(parts) if parts else "none left over"
    share = placed / n if n else float("nan")
    return (
        f"{placed:,} of {n:,} accounts ({share:.1%}) were placed in a Kreis by their billing "
        f"postcode; the others are counted apart, not dropped: {rest}."
    )


_PER = {"employees": "employee", "population": "inhabitant", "firms_listed": "listed firm"}


def model_sentence(model: PotentialModel) -> str:
    """What the potential model says, in words (rate ratios with intervals)."""
    pct = f"{model.level * 100:g} %"
    per = _PER.get(model.exposure, model.exposure.replace("_", " "))
    parts = []
    labels = {
        "hc_log": "1 + Hidden Champions per 100,000 inhabitants",
        "mint_log": "1 + MINT students per 1,000 inhabitants",
    }
    for row in model.coefficients.itertuples():
        if row.term == "intercept":
            continue
        outcome = model.outcome.replace("_", " ")
        if row.term in labels:  # log covariates: an elasticity
            parts.append(
                f"doubling {labels[row.term]} multiplies the expected {outcome} per {per} by "
                f"{2**row.coef:.2f} ({pct} CI {2**row.ci_low:.2f}–{2**row.ci_high:.2f})"
            )
        else:
            parts.append(
                f"one unit more {row.term} multiplies the expected {outcome} per {per} by "
                f"{row.rate_ratio:.2f} ({pct} CI {row.rate_ratio_ci_low:.2f}–"
                f"{row.rate_ratio_ci_high:.2f})"
            )
    flags = model.frame["funnel"].value_counts()
    below = int(flags.get("below 95 %", 0) + flags.get("below 99.8 %", 0))
    above = int(flags.get("above 95 %", 0) + flags.get("above 99.8 %", 0))
    effects = "; ".join(parts) if parts else "no covariates"
    return (
        f"Fitted on {model.n_used} Kreise (exposure: {model.exposure.replace('_', ' ')}; "
        f"dispersion {model.dispersion:.2f}): {effects}. Outside the 95 % funnel: {below} Kreise "
        f"below and {above} above expectation (about {0.05 * model.n_used:.0f} would be expected "
        "by chance alone)."
    )


def white_space_sentence(ranked: pd.DataFrame, names: pd.Series | None = None) -> str:
    """What the white-space list says, with how many Kreise chance alone would flag."""
    a = ranked.attrs
    n = len(ranked)
    rule = f"significantly below expectation ({a['level'] * 100:g} % limits)"
    if a.get("max_ratio") is not None:
        rule += f" or O/E below {a['max_ratio']:g}"
    head = (
        f"Among the {a['n_high_potential']} Kreise with the highest potential (at least "
        f"{a['min_expected']:.1f} customers expected), {n} {'has' if n == 1 else 'have'} low "
        f"coverage ({rule})"
    )
    if n == 0:
        return head + ": no white space stands out from chance."
    chance = a.get("expected_by_chance", float("nan"))
    sig = a.get("n_significant", 0)
    text = f"{head}, {sig} of them significantly below expectation."
    if np.isfinite(chance):
        text += f" Chance alone would flag about {chance:.1f} Kreise under these rules, " + (
            "so the list is mostly noise: treat it as a watch list."
            if n <= 1.5 * chance + 1
            else "so most of them are real gaps."
        )
    if names is not None and n:
        top = "; ".join(str(names.get(c, c)) for c in ranked["ags"].head(3))
        text += f" Largest shortfall: {top}."
    return text


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
    """Firms as :func:`analysis.matching.match_firms_to_accounts` takes them.

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
    """Accounts as :func:`analysis.matching.match_firms_to_accounts` takes them.

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
        :func:`analysis.matching.matched_status`, indexed by :func:`firm_key`.
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
        :func:`analysis.matching.matched_status` by :func:`firm_key`.
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
    not_customers: pd.DataFrame, evaluation: dict | None = None, n_flagged: int = 0
) -> str:
    """Champions served and not served, and how well matching did against a truth.

    Parameters
    ----------
    not_customers : DataFrame
        :func:`champions_not_customers` (its ``attrs`` carry the counts).
    evaluation : dict, optional
        :func:`analysis.matching.evaluate_matches` against the demo truth.
    n_flagged : int
        Ambiguous firms of the whole list (all definitions), for the review note.
    """
    a = not_customers.attrs
    n = a["n_champions"]
    served = a["n_customers"]
    share = f" ({served / n:.0%})" if n and served >= 5 else ""
    text = (
        f"Of {n:,} Hidden Champions ({a['definition']}), {count_text(served)} are customers"
        f"{share}, {a['n_ambiguous']:,} could not be decided (flagged for review, not shown) and "
        f"{a['n_not_customers']:,} are not yet customers"
    )
    if len(not_customers):
        top = not_customers.iloc[0]
        text += f"; the largest of them by revenue is {top['firm']} ({top['kreis']})"
    text += "."
    if n_flagged:
        text += f" {n_flagged:,} firms of the list await a manual check of their match."
    if evaluation is not None:
        text += (
            f" Against the demo's known pairs the matching reaches a precision of "
            f"{evaluation['precision']:.3f} and a recall of {evaluation['recall']:.3f} "
            f"({evaluation['true_positives']} of {evaluation['n_true']} true pairs found, "
            f"{evaluation['false_positives']} false)."
        )
    return text
