"""Count regression of Hidden Champions per Kreis on MINT strength (Poisson, NB2)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.champions.definitions import MINT_SHIFT, MINT_TERM

# --------------------------------------------------------------------------- regression


def mint_log_indicator(values, shift: float = MINT_SHIFT) -> np.ndarray:
    """The regressor: ``log(mint_students_per_1000 + shift)``.

    The demo generator uses this very function, so the notebook estimates the
    injected elasticity exactly.
    """
    return np.log(np.asarray(values, dtype="float64") + shift)


@dataclass(frozen=True)
class Elasticity:
    """The elasticity of champion density w.r.t. the MINT indicator, with its CI."""

    model: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float

    @property
    def irr(self) -> float:
        """Incidence rate ratio ``exp(beta)`` (rate factor per e-fold MINT increase)."""
        return float(np.exp(self.estimate))

    def covers(self, value: float) -> bool:
        """Whether the confidence interval contains ``value``."""
        return bool(self.ci_low <= value <= self.ci_high)


@dataclass(frozen=True)
class CountModels:
    """Poisson and negative binomial fits of champion counts per Kreis.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        Tidy: ``model`` (``poisson``/``negbin``), ``term``, ``coef``, ``se`` (robust),
        ``z``, ``p_value``, ``ci_low``, ``ci_high``, ``irr``, ``irr_ci_low``,
        ``irr_ci_high``.
    elasticity : Elasticity
        ``log_mint`` in the negative binomial model (the headline figure).
    elasticity_poisson : Elasticity
        The same in the Poisson model (robust SE).
    overdispersion : pandas.DataFrame
        One row of statistics: ``pearson_chi2``, ``df_resid``, ``pearson_ratio``
        (Poisson Pearson chi² / df; ≈ 1 without overdispersion), ``deviance_ratio``,
        ``alpha`` (NB2 ML), ``alpha_ci_low``, ``alpha_ci_high``, ``lr_stat``
        (2 × (llf NB − llf Poisson)), ``lr_p_value`` (against ½ χ²₁: alpha = 0 lies on
        the boundary), ``llf_poisson``, ``llf_negbin``, ``aic_poisson``, ``aic_negbin``.
    predictions : pandas.DataFrame
        Per Kreis used: key, ``observed``, ``expected_poisson``, ``expected_negbin``,
        ``pearson_resid_negbin`` and the columns passed through.
    dropped : pandas.DataFrame
        Kreise left out, with ``reason`` (missing indicator or population; a Land
        without any champion, whose fixed effect is not estimable).
    n : int
        Kreise used.
    cov_type : str
    shift : float
    land_effects : bool
    reference_land : str or None
    """

    coefficients: pd.DataFrame
    elasticity: Elasticity
    elasticity_poisson: Elasticity
    overdispersion: pd.DataFrame
    predictions: pd.DataFrame
    dropped: pd.DataFrame
    n: int
    cov_type: str
    shift: float
    land_effects: bool
    reference_land: str | None

    def irr_table(self, terms: Iterable[str] = ("Intercept", MINT_TERM)) -> pd.DataFrame:
        """Incidence rate ratios with CIs for ``terms``, both models side by side."""
        table = self.coefficients[self.coefficients["term"].isin(list(terms))]
        return table[
            ["model", "term", "coef", "se", "irr", "irr_ci_low", "irr_ci_high", "p_value"]
        ].reset_index(drop=True)


def fit_count_models(
    data: pd.DataFrame,
    *,
    count: str = "hc_count",
    population: str = "population",
    indicator: str = "mint_students_per_1000",
    land: str | None = "land_code",
    key: str = "ags",
    shift: float = MINT_SHIFT,
    cov_type: str = "HC3",
    level: float = 0.95,
) -> CountModels:
    """Poisson and NB2 GLMs of champion counts on the log MINT indicator.

    Model: ``log E[count] = log(population) + a + beta * log(indicator + shift)
    (+ Land effects)``; see the module docstring.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per Kreis (e.g. :func:`count_by_kreis` joined with the indicators).
    count, population, indicator, land, key : str
        Column names; ``land=None`` fits without Land effects.
    shift : float
        Added to the indicator before the log.
    cov_type : {"HC3", "HC1", "HC0", "nonrobust"}
        Standard errors: heteroskedasticity-robust sandwich (HC3, the default,
        corrects for leverage; see :func:`_standard_errors`) or model-based.
    level : float
        Confidence level.

    Returns
    -------
    CountModels

    Raises
    ------
    ValueError
        If fewer Kreise than parameters + 2 remain.
    """
    import statsmodels.api as sm
    from statsmodels.discrete.discrete_model import NegativeBinomial

    frame, dropped, reference = _model_frame(data, count, population, indicator, land, key, shift)
    y = frame[count].to_numpy(dtype="float64")
    offset = np.log(frame[population].to_numpy(dtype="float64"))
    columns = {
        "Intercept": np.ones(len(frame)),
        MINT_TERM: mint_log_indicator(frame[indicator], shift),
    }
    if land is not None:
        for code in sorted(frame[land].astype("str").unique()):
            if code != reference:
                columns[f"land[{code}]"] = (frame[land].astype("str") == code).to_numpy(
                    dtype="float64"
                )
    X = pd.DataFrame(columns)
    if len(frame) < X.shape[1] + 2:
        raise ValueError(f"{len(frame)} Kreise are too few for {X.shape[1]} parameters")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
        nb_ml = _fit_nb2(NegativeBinomial(y, X, offset=offset, loglike_method="nb2"), poisson)
        alpha = float(max(nb_ml.params["alpha"], 1e-8))
        negbin = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset).fit()

    z = stats.norm.ppf(0.5 + level / 2)
    tables = [
        _tidy(poisson.params, _standard_errors(poisson, cov_type), "poisson", z),
        _tidy(negbin.params, _standard_errors(negbin, cov_type), "negbin", z),
    ]
    coefficients = pd.concat(tables, ignore_index=True)

    overdispersion = _overdispersion(poisson, nb_ml, alpha, z, X.shape[1])
    mu_nb = negbin.fittedvalues.to_numpy()
    predictions = frame.assign(
        observed=y,
        expected_poisson=poisson.fittedvalues.to_numpy(),
        expected_negbin=mu_nb,
        pearson_resid_negbin=(y - mu_nb) / np.sqrt(mu_nb + alpha * mu_nb**2),
    )
    return CountModels(
        coefficients=coefficients,
        elasticity=_elasticity(coefficients, "negbin", level),
        elasticity_poisson=_elasticity(coefficients, "poisson", level),
        overdispersion=overdispersion,
        predictions=predictions,
        dropped=pd.concat(dropped, ignore_index=True),
        n=len(frame),
        cov_type=cov_type,
        shift=shift,
        land_effects=land is not None,
        reference_land=reference,
    )


def _model_frame(
    data: pd.DataFrame,
    count: str,
    population: str,
    indicator: str,
    land: str | None,
    key: str,
    shift: float,
) -> tuple[pd.DataFrame, list[pd.DataFrame], str | None]:
    """The Kreise the model can use, the dropped ones with reasons, and the reference Land."""
    frame = data.reset_index(drop=True)
    bad = (
        frame[count].isna()
        | frame[population].isna()
        | (frame[population] <= 0)
        | frame[indicator].isna()
        | (frame[indicator] + shift <= 0)
    )
    dropped = [
        frame.loc[bad, [key]].assign(reason="missing or invalid count, population or indicator")
    ]
    frame = frame.loc[~bad]
    reference = None
    if land is not None:
        totals = frame.groupby(land)[count].transform("sum")
        empty = totals <= 0
        dropped.append(
            frame.loc[empty, [key]].assign(
                reason="its Land has no champion: the Land effect is not estimable"
            )
        )
        frame = frame.loc[~empty]
        sizes = frame.groupby(land).size()
        # The Land with most Kreise as reference keeps the intercept well determined.
        reference = str(sizes.sort_values(ascending=False, kind="stable").index[0])
    frame = frame.reset_index(drop=True)
    return frame, dropped, reference


def _overdispersion(poisson, nb_ml, alpha: float, z: float, n_params: int) -> pd.DataFrame:
    """One-row table: Pearson and deviance ratios, NB2 alpha, LR test, likelihoods, AIC."""
    pois_llf = float(poisson.llf)
    nb_llf = float(nb_ml.llf)
    lr = max(2.0 * (nb_llf - pois_llf), 0.0)
    alpha_se = float(nb_ml.bse["alpha"])
    return pd.DataFrame(
        [
            {
                "pearson_chi2": float(poisson.pearson_chi2),
                "df_resid": float(poisson.df_resid),
                "pearson_ratio": float(poisson.pearson_chi2 / poisson.df_resid),
                "deviance_ratio": float(poisson.deviance / poisson.df_resid),
                "alpha": alpha,
                "alpha_ci_low": max(alpha - z * alpha_se, 0.0),
                "alpha_ci_high": alpha + z * alpha_se,
                "lr_stat": lr,
                "lr_p_value": float(0.5 * stats.chi2.sf(lr, 1)) if lr > 0 else 1.0,
                "llf_poisson": pois_llf,
                "llf_negbin": nb_llf,
                "aic_poisson": float(2 * n_params - 2 * pois_llf),
                "aic_negbin": float(2 * (n_params + 1) - 2 * nb_llf),
            }
        ]
    )


def _fit_nb2(model, poisson):
    """NB2 maximum likelihood, robust to the optimizer's occasional failures.

    BFGS on log(alpha) is the reliable default; Newton and Nelder-Mead are tried when
    it does not converge or returns a non-finite likelihood.
    """
    start = np.append(poisson.params.to_numpy(), 0.1)
    last = None
    for method, maxiter in (("bfgs", 500), ("newton", 100), ("nm", 5000)):
        try:
            result = model.fit(start_params=start, method=method, maxiter=maxiter, disp=0)
        except (ValueError, np.linalg.LinAlgError):
            continue
        last = result
        if result.mle_retvals.get("converged", False) and np.isfinite(result.llf):
            return result
    if last is None:
        raise ValueError("the negative binomial model could not be fitted")
    return last


def _standard_errors(result, cov_type: str) -> pd.Series:
    """Standard errors of a GLM fit: model-based or heteroskedasticity-robust.

    The sandwich is ``B (sum_i w_i s_i s_i') B`` with ``B`` the inverse Fisher
    information and ``s_i`` the score of Kreis ``i``; ``w_i`` is 1 for HC0,
    ``n / (n - k)`` for HC1 and ``1 / (1 - h_i)^2`` for HC3, ``h_i`` the GLM leverage
    (hat value). HC3 keeps its coverage with the small counts and the few-Kreis
    Länder of this model, where HC0 and HC1 are too small (see
    ``validation/hc_coverage.py``).
    """
    if cov_type == "nonrobust":
        return result.bse
    if cov_type not in ("HC0", "HC1", "HC3"):
        raise ValueError(f"cov_type must be nonrobust, HC0, HC1 or HC3, got {cov_type!r}")
    bread = result.cov_params().to_numpy()  # inverse Fisher information (scale 1)
    scores = result.model.score_obs(result.params.to_numpy())
    n, k = scores.shape
    if cov_type == "HC3":
        hat = result.get_hat_matrix_diag()
        # a Kreis alone in its Land has leverage 1 and a zero score: it adds nothing
        weight = np.where(hat < 1 - 1e-8, 1.0 / np.square(1.0 - np.minimum(hat, 1 - 1e-8)), 0.0)
    else:
        weight = np.full(n, n / (n - k) if cov_type == "HC1" else 1.0)
    meat = scores.T @ (scores * weight[:, None])
    cov = bread @ meat @ bread
    return pd.Series(np.sqrt(np.diag(cov)), index=result.params.index)


def _tidy(params: pd.Series, se: pd.Series, model: str, z: float) -> pd.DataFrame:
    low, high = params - z * se, params + z * se
    return pd.DataFrame(
        {
            "model": model,
            "term": params.index.astype("str"),
            "coef": params.to_numpy(),
            "se": se.to_numpy(),
            "z": (params / se).to_numpy(),
            "p_value": 2 * stats.norm.sf(np.abs((params / se).to_numpy())),
            "ci_low": low.to_numpy(),
            "ci_high": high.to_numpy(),
            "irr": np.exp(params.to_numpy()),
            "irr_ci_low": np.exp(low.to_numpy()),
            "irr_ci_high": np.exp(high.to_numpy()),
        }
    )


def _elasticity(coefficients: pd.DataFrame, model: str, level: float) -> Elasticity:
    row = coefficients[(coefficients["model"] == model) & (coefficients["term"] == MINT_TERM)].iloc[
        0
    ]
    return Elasticity(
        model=model,
        estimate=float(row["coef"]),
        se=float(row["se"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        p_value=float(row["p_value"]),
        level=level,
    )


def _nb_coefficient(models: CountModels, term: str) -> float:
    coef = models.coefficients
    row = coef[(coef["model"] == "negbin") & (coef["term"] == term)]
    return float(row["coef"].iloc[0]) if len(row) else 0.0


def _leverage(models: CountModels, region: str, key: str, land: str = "land_code") -> float:
    """Hat value of the Kreis in the NB2 GLM (IRLS weights ``mu / (1 + alpha mu)``)."""
    frame = models.predictions
    x = {"Intercept": np.ones(len(frame)), MINT_TERM: mint_log_indicator(frame[_INDICATOR])}
    if models.land_effects:
        for code in sorted(frame[land].astype("str").unique()):
            if code != models.reference_land:
                x[f"land[{code}]"] = (frame[land].astype("str") == code).to_numpy(float)
    design = np.column_stack(list(x.values()))
    mu = frame["expected_negbin"].to_numpy(float)
    alpha = float(models.overdispersion["alpha"].iloc[0])
    w = mu / (1 + alpha * mu)
    info = design.T @ (design * w[:, None])
    i = int(np.flatnonzero(frame[key].astype("str").to_numpy() == region)[0])
    return float(w[i] * design[i] @ np.linalg.solve(info, design[i]))


def _loo_fit(models: CountModels, kreis_counts: pd.DataFrame, region: str, key: str):
    """Refit without the Kreis; the expected count for it and a note on the refit."""
    row = kreis_counts[kreis_counts[key].astype("str") == region].iloc[0]
    rest = kreis_counts[kreis_counts[key].astype("str") != region]
    land = "land_code" if models.land_effects else None
    note = "model refitted without this Kreis"
    if (
        land is not None
        and not ((rest[land].astype("str") == str(row[land])) & (rest["hc_count"] > 0)).any()
    ):
        land = None
        note = "refitted without this Kreis and without Land effects (its Land has no other data)"
    refit = fit_count_models(rest, land=land, shift=models.shift, cov_type=models.cov_type)
    eta = _nb_coefficient(refit, "Intercept") + _nb_coefficient(refit, MINT_TERM) * float(
        mint_log_indicator(np.array([row[_INDICATOR]]), models.shift)[0]
    )
    if land is not None and str(row[land]) != refit.reference_land:
        eta += _nb_coefficient(refit, f"land[{row[land]}]")
    mu = float(row["population"]) * np.exp(eta)
    return mu, float(refit.overdispersion["alpha"].iloc[0]), note


_INDICATOR = "mint_students_per_1000"


def region_standing(
    models: CountModels,
    kreis_counts: pd.DataFrame,
    region: str,
    *,
    key: str = "ags",
    interval: float = 0.9,
    leave_one_out: bool = True,
) -> pd.DataFrame:
    """Where one Kreis stands: observed against expected champions, and its rank.

    The expectation comes from the model refitted *without* the Kreis (leave one
    out): compared with its own in-sample fit a Kreis is partly compared with itself,
    and a Kreis that is alone in its Land (Berlin, Hamburg) is fitted exactly by
    its Land effect and would always read "as expected". Without other Kreise of its
    Land the refit drops the Land effects. ``leverage`` is the Kreis's hat value in
    the full fit; ``high_leverage`` flags values above ``3 p / n`` or 0.5.

    Parameters
    ----------
    models : CountModels
    kreis_counts : pandas.DataFrame
        From :func:`count_by_kreis` (all Kreise, for the density rank; with
        ``population``, ``mint_students_per_1000`` and ``land_code`` for the refit).
    region : str
        The Kreis code.
    key : str
    interval : float
        Probability of the negative binomial prediction interval for the count.
    leave_one_out : bool
        False: the in-sample expectation (the former behaviour).

    Returns
    -------
    pandas.DataFrame
        One row: ``region``, ``hc_count``, ``hc_per_100k``, ``density_rank`` (1 =
        highest), ``kreise``, ``density_percentile``, ``expected_negbin``,
        ``expected_in_sample``, ``observed_to_expected``, ``interval_low``,
        ``interval_high``, ``verdict`` (``"above"``, ``"within"``, ``"below"``),
        ``leverage``, ``high_leverage`` and ``note``.

    Raises
    ------
    KeyError
        If ``region`` is not in ``kreis_counts``.
    """
    if region not in set(kreis_counts[key].astype("str")):
        raise KeyError(f"Kreis {region!r} is not in the table ({len(kreis_counts)} Kreise)")
    ranked = kreis_counts.assign(
        density_rank=kreis_counts["hc_per_100k"].rank(ascending=False, method="min").astype("int64")
    )
    row = ranked[ranked[key].astype("str") == region].iloc[0]
    pred = models.predictions[models.predictions[key].astype("str") == region]
    out = {
        "region": region,
        "hc_count": float(row["hc_count"]),
        "hc_per_100k": float(row["hc_per_100k"]),
        "density_rank": int(row["density_rank"]),
        "kreise": len(ranked),
        "density_percentile": float((ranked["hc_per_100k"] <= row["hc_per_100k"]).mean() * 100),
    }
    if not len(pred):
        nan = np.nan
        return pd.DataFrame(
            [
                out
                | dict.fromkeys(
                    (
                        "expected_negbin",
                        "expected_in_sample",
                        "observed_to_expected",
                        "interval_low",
                        "interval_high",
                        "leverage",
                    ),
                    nan,
                )
                | {"verdict": "not in the model", "high_leverage": False, "note": ""}
            ]
        )
    in_sample = float(pred["expected_negbin"].iloc[0])
    alpha = float(models.overdispersion["alpha"].iloc[0])
    mu, note = in_sample, "in-sample fit"
    if leave_one_out:
        mu, alpha, note = _loo_fit(models, kreis_counts, region, key)
    size = 1.0 / max(alpha, 1e-8)
    dist = stats.nbinom(size, size / (size + mu))
    low, high = dist.ppf((1 - interval) / 2), dist.ppf(0.5 + interval / 2)
    verdict = "above" if row["hc_count"] > high else "below" if row["hc_count"] < low else "within"
    leverage = _leverage(models, region, key)
    p = int((models.coefficients["model"] == "negbin").sum())
    out |= {
        "expected_negbin": mu,
        "expected_in_sample": in_sample,
        "observed_to_expected": float(row["hc_count"]) / mu if mu > 0 else np.nan,
        "interval_low": float(low),
        "interval_high": float(high),
        "verdict": verdict,
        "leverage": leverage,
        "high_leverage": bool(leverage > min(3 * p / models.n, 0.5)),
        "note": note,
    }
    return pd.DataFrame([out])
