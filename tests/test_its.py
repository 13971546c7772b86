"""Tests for analysis.sales.its: segmented regression, HAC, GLSAR/SARIMAX, placebos."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.errors import ParameterError
from analysis.sales import its

T0 = "2023-04-01"


def series(
    level=0.05, slope=0.0, noise=0.0, rho=0.0, n=60, seed=0, season=True, start="2021-01-01"
):
    """Monthly outcome with a known level and slope change at T0."""
    rng = np.random.default_rng(seed)
    months = pd.date_range(start, periods=n, freq="MS")
    t = np.arange(n)
    i0 = int(np.flatnonzero(months >= T0)[0])
    post = (t >= i0).astype(float)
    e = np.zeros(n)
    shocks = rng.normal(0, noise, n)
    for i in range(n):
        e[i] = (rho * e[i - 1] if i else 0.0) + shocks[i]
    seasonal = 0.02 * np.sin(2 * np.pi * months.month / 12) if season else 0.0
    y = 0.25 + 0.001 * t + level * post + slope * (t - i0) * post + seasonal + e
    return pd.DataFrame({"month": months, "y": y})


def test_newey_west_lag_rule():
    assert its.newey_west_lags(60) == 3
    assert its.newey_west_lags(100) == 4
    assert its.newey_west_lags(12) == 2


def test_noise_free_series_recovers_level_and_slope_exactly():
    data = series(level=0.07, slope=0.002, noise=0.0)
    for seasonality in ("month", "fourier"):
        fit = its.segmented_regression(data, intervention=T0, method="ols", seasonality=seasonality)
        assert fit.level_change == pytest.approx(0.07, abs=1e-9)
        assert fit.slope_change == pytest.approx(0.002, abs=1e-10)


def test_design_columns_and_transition_pulses():
    data = series()
    frame, y, X = its.design(data, intervention="2023-04-15", transition_months=2)
    i0 = int(np.flatnonzero(frame["month"] >= T0)[0])
    assert list(X.columns[:6]) == ["const", "t", "post", "ramp", "transition_0", "transition_1"]
    assert X["post"].iloc[i0] == 1 and X["post"].iloc[i0 - 1] == 0
    assert X["ramp"].iloc[i0 + 5] == 5
    assert X["transition_1"].sum() == 1 and X["transition_1"].iloc[i0 + 1] == 1
    assert sum(c.startswith("month_") for c in X.columns) == 11
    assert frame["transition"].sum() == 2


def test_transition_pulses_equal_dropping_those_months():
    # Arrange: a disruption in the first two months after the date
    data = series(level=0.05, noise=0.01, seed=3)
    data.loc[data["month"].isin(pd.to_datetime(["2023-04-01", "2023-05-01"])), "y"] -= 0.2
    # Act
    fit = its.segmented_regression(data, intervention=T0, method="ols", transition_months=2)
    frame, y, X = its.design(data, intervention=T0)
    keep = ~frame["month"].isin(pd.to_datetime(["2023-04-01", "2023-05-01"])).to_numpy()
    dropped = sm.OLS(y[keep].to_numpy(), X[keep].to_numpy()).fit()
    # Assert
    assert fit.level_change == pytest.approx(dropped.params[2], abs=1e-10)
    assert fit.se == pytest.approx(dropped.bse[2], rel=1e-9)
    biased = its.segmented_regression(data, intervention=T0, method="ols", transition_months=0)
    assert biased.level_change < fit.level_change - 0.02


def hand_newey_west(X, u, times, lags):
    """Newey–West by the textbook formula, loops over pairs exactly ``lag`` months apart."""
    n, k = X.shape
    inv = np.linalg.inv(X.T @ X)
    meat = np.zeros((k, k))
    for i in range(n):
        meat += u[i] ** 2 * np.outer(X[i], X[i])
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        for i in range(n):
            for j in range(n):
                if times[i] - times[j] == lag:
                    meat += w * u[i] * u[j] * (np.outer(X[i], X[j]) + np.outer(X[j], X[i]))
    return inv @ meat @ inv


def test_hac_standard_error_matches_statsmodels_and_the_textbook_formula():
    data = series(level=0.05, noise=0.03, rho=0.4, seed=11)
    frame, y, X = its.design(data, intervention=T0, seasonality="fourier")
    reference = sm.OLS(y.to_numpy(), X.to_numpy()).fit(
        cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": False}
    )

    plain = its.segmented_regression(
        data, intervention=T0, method="hac", seasonality="fourier", maxlags=3
    )

    # no gaps: exactly statsmodels' Newey-West without small-sample factors
    assert plain.se == pytest.approx(reference.bse[2], rel=1e-10)
    # fixed-b critical value (Kiefer-Vogelsang 2005 cubic at b = 4/60), not t or z
    b = 4 / 60
    q = 1.96 + 2.9694 * b + 0.4160 * b**2 - 0.5324 * b**3
    assert plain.ci_high - plain.ci_low == pytest.approx(2 * q * plain.se, rel=1e-4)


def test_gaps_are_never_neighbours():
    data = series(level=0.05, noise=0.03, rho=0.5, seed=4)
    gap = data["month"].isin(pd.to_datetime(["2022-03-01", "2022-04-01", "2024-02-01"]))
    with_gap = data.assign(y=data["y"].where(~gap))
    frame, y, X = its.design(with_gap, intervention=T0, seasonality="fourier")
    u = np.asarray(sm.OLS(y.to_numpy(), X.to_numpy()).fit().resid)

    fit = its.segmented_regression(
        with_gap, intervention=T0, method="hac", seasonality="fourier", maxlags=3
    )

    by_hand = hand_newey_west(X.to_numpy(), u, frame["t"].to_numpy(), 3)
    assert fit.se == pytest.approx(np.sqrt(by_hand[2, 2]), rel=1e-10)
    # a series that drops the missing rows (t re-numbered) gives another answer
    squeezed = with_gap.dropna().assign(month=pd.date_range("2021-01-01", periods=57, freq="MS"))
    other = its.segmented_regression(
        squeezed, intervention="2023-01-01", method="hac", seasonality="fourier", maxlags=3
    )
    assert other.se != pytest.approx(fit.se, rel=1e-6)
    assert fit.n_months == 57 and fit.fitted["observed"].isna().sum() == 3
    # months absent from the frame are gaps too
    absent = its.segmented_regression(
        with_gap.dropna(), intervention=T0, method="hac", seasonality="fourier", maxlags=3
    )
    assert absent.se == pytest.approx(fit.se, rel=1e-12)


def test_reml_equals_gls_at_its_rho_and_the_ar1_likelihood_by_hand():
    from scipy import linalg

    from analysis.sales.its_inference import reml_ar1

    data = series(level=0.05, noise=0.03, rho=0.5, seed=6)
    data.loc[[10, 11, 40], "y"] = np.nan
    frame, y, X = its.design(data, intervention=T0, seasonality="none", keep_missing=True)
    keep = y.notna().to_numpy()
    t = frame["t"].to_numpy(float)[keep]
    fit = reml_ar1(y.to_numpy()[keep], X.to_numpy()[keep], t)

    # GLS with the full correlation matrix rho^|t_i - t_j| (no whitening shortcut)
    r = fit.rho ** np.abs(t[:, None] - t[None, :])
    gls = sm.GLS(y.to_numpy()[keep], X.to_numpy()[keep], sigma=r).fit()
    assert fit.params == pytest.approx(gls.params, rel=1e-8, abs=1e-10)
    assert np.sqrt(np.diag(fit.cov)) == pytest.approx(gls.bse, rel=1e-6)
    # the REML criterion is maximal at rho-hat: compare with a brute-force grid
    n, k = X[keep].shape

    def reml(rho):
        rr = rho ** np.abs(t[:, None] - t[None, :])
        g = sm.GLS(y.to_numpy()[keep], X.to_numpy()[keep], sigma=rr).fit()
        xw = linalg.solve(np.linalg.cholesky(rr), X.to_numpy()[keep])
        return -0.5 * (
            (n - k) * np.log(g.ssr / (n - k))
            + np.linalg.slogdet(rr)[1]
            + np.linalg.slogdet(xw.T @ xw)[1]
        )

    grid = np.linspace(-0.9, 0.9, 181)
    assert fit.rho == pytest.approx(grid[np.argmax([reml(g) for g in grid])], abs=0.011)
    df = fit.df(np.eye(k)[2])
    assert 3 <= df <= n - k


def test_effects_at_6_and_12_months_by_hand():
    data = series(level=0.04, slope=0.003, noise=0.01, seed=9)

    fit = its.segmented_regression(data, intervention=T0, method="ols")

    eff = fit.effects.set_index("months_after")
    assert list(eff.index) == [6, 12]
    c = np.zeros(len(fit.params))
    c[2], c[3] = 1.0, 12.0
    assert eff.loc[12, "effect"] == pytest.approx(fit.level_change + 12 * fit.slope_change)
    assert eff.loc[12, "se"] == pytest.approx(np.sqrt(c @ fit.cov @ c))
    from scipy import stats

    q = stats.t.ppf(0.975, fit.df_resid)
    assert eff.loc[12, "ci_high"] - eff.loc[12, "effect"] == pytest.approx(q * eff.loc[12, "se"])
    assert eff.loc[12, "ci_low"] <= 0.04 + 12 * 0.003 <= eff.loc[12, "ci_high"]
    row = fit.as_row()
    assert row["effect_6m"] == pytest.approx(fit.level_change + 6 * fit.slope_change)


def test_ramp_in_design_phases_the_level_in():
    frame, y, X = its.design(series(), intervention=T0, ramp_in=6, seasonality="none")
    i0 = int(np.flatnonzero(frame["month"] >= T0)[0])
    assert X["post"].iloc[i0 - 1 : i0 + 7].tolist() == pytest.approx(
        [0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1, 1]
    )


def test_reml_interval_covers_injected_level_change_across_simulations():
    # 200 short series (60 months, 11 month dummies, AR(0.3) noise)
    covered = []
    for seed in range(200):
        data = series(level=0.06, noise=0.04, rho=0.3, seed=seed)
        fit = its.segmented_regression(data, intervention=T0, method="reml")
        covered.append(fit.ci_low <= 0.06 <= fit.ci_high)
    assert 0.91 <= np.mean(covered) <= 0.99


def test_glsar_and_sarimax_recover_ar1_errors():
    data = series(level=0.05, noise=0.02, rho=0.6, n=240, seed=5, start="2013-01-01")
    glsar = its.segmented_regression(data, intervention=T0, method="glsar", seasonality="none")
    sarimax = its.segmented_regression(data, intervention=T0, method="sarimax", seasonality="none")
    assert glsar.rho == pytest.approx(0.6, abs=0.12)
    assert sarimax.rho == pytest.approx(0.6, abs=0.12)
    for fit in (glsar, sarimax):
        assert fit.ci_low <= 0.05 <= fit.ci_high
    assert np.isinf(sarimax.df_resid)


def test_compare_methods_and_fitted_counterfactual():
    data = series(level=0.08, noise=0.01, seed=2)
    table = its.compare_methods(data, intervention=T0)
    assert list(table["method"]) == list(its.METHODS)
    assert {"effect_6m", "effect_12m_ci_high"} <= set(table.columns)
    assert table["level_change"].between(0.05, 0.11).all()
    fit = its.segmented_regression(data, intervention=T0)
    after = fit.fitted["month"] >= T0
    gap = (fit.fitted["fitted"] - fit.fitted["counterfactual"])[after]
    assert gap.iloc[0] == pytest.approx(fit.level_change)


def test_placebo_dates_rarely_find_an_effect_where_there_is_none():
    data = series(level=0.06, noise=0.03, seed=8, n=72, start="2020-01-01")
    placebos = its.placebo_dates(data, intervention=T0, min_months=9)
    pre_months = (data["month"] < T0).sum()
    assert len(placebos) == pre_months - 2 * 9 + 1
    assert (placebos["placebo_date"] < pd.Timestamp(T0)).all()
    assert placebos.attrs["share_excluding_zero"] <= 0.25
    assert placebos["level_change"].abs().median() < 0.03


def test_placebo_fits_use_the_main_model():
    data = series(level=0.06, noise=0.03, seed=8, n=72, start="2020-01-01")
    pre = data[data["month"] < T0]

    placebos = its.placebo_dates(data, intervention=T0, min_months=12, transition_months=1)

    fake = placebos["placebo_date"].iloc[0]
    main = its.segmented_regression(pre, intervention=fake, transition_months=1)
    assert main.method == "reml" and main.params.index.str.startswith("month_").sum() == 11
    assert placebos["level_change"].iloc[0] == pytest.approx(main.level_change, rel=1e-9)
    assert placebos["ci_low"].iloc[0] == pytest.approx(main.ci_low, rel=1e-6)


def test_transition_sensitivity_rows():
    table = its.transition_sensitivity(
        series(noise=0.01), intervention=T0, windows=(0, 2), method="ols"
    )
    assert list(table["transition_months"]) == [0, 2]
    assert table["df_resid"].iloc[0] == table["df_resid"].iloc[1] + 2


def test_bad_parameters_raise_parameter_error():
    data = series()
    with pytest.raises(ParameterError, match="method"):
        its.segmented_regression(data, intervention=T0, method="bayes")
    with pytest.raises(ParameterError, match="at least 3 months"):
        its.segmented_regression(data, intervention="2025-11-01")
    with pytest.raises(ParameterError, match="intervention"):
        its.segmented_regression(data, intervention="not a date")
    with pytest.raises(ParameterError, match="seasonality"):
        its.segmented_regression(data, intervention=T0, seasonality="weekly")


# --------------------------------------------------------------------------- threats


def _deals(rows):
    """rows: (close_date, is_closed, is_won, type)"""
    return pd.DataFrame(rows, columns=["close_date", "is_closed", "is_won", "type"]).assign(
        lead_source=""
    )


def test_mix_shift_adjusted_change_by_hand():
    from analysis.sales import mix_shift

    rows = (
        [("2023-01-10", True, i < 5, "A") for i in range(10)]
        + [("2023-01-10", True, i < 1, "B") for i in range(10)]
        + [("2023-06-10", True, i < 15, "A") for i in range(30)]
        + [("2023-06-10", True, i < 2, "B") for i in range(10)]
    )

    table = mix_shift(_deals(rows), unification_date=T0, columns=["type"])

    summary = table.attrs["summary"].set_index("column").loc["type"]
    # crude: 17/40 - 6/20 = 0.125; pre mix 50/50: (0.5 + 0.2)/2 - (0.5 + 0.1)/2 = 0.05
    assert summary["crude_change"] == pytest.approx(0.125)
    assert summary["adjusted_change"] == pytest.approx(0.05)
    a = table.set_index("category").loc["A"]
    assert (a["share_pre"], a["share_post"]) == pytest.approx((0.5, 0.75))
    assert 0 < summary["p_value"] < 1


def test_late_losses_bound_the_recent_win_rate():
    from analysis.sales import late_losses

    rows = (
        [("2025-11-05", True, i < 4, "A") for i in range(10)]
        + [("2025-11-20", False, False, "A") for _ in range(6)]
        + [("2025-12-05", True, i < 2, "A") for i in range(4)]
        + [("2026-02-01", False, False, "A")]  # close date after as_of: not overdue
    )

    out = late_losses(_deals(rows), as_of="2025-12-31", months=2).set_index("month")

    nov = out.loc[pd.Timestamp("2025-11-01")]
    assert (nov["n_closed"], nov["n_won"], nov["n_overdue"]) == (10, 4, 6)
    assert nov["win_rate_if_lost"] == pytest.approx(4 / 16)
    assert out.attrs["n_overdue"] == 6
    assert out.attrs["max_drop"] == pytest.approx(0.4 - 0.25)
    assert out.attrs["share_overdue"] == pytest.approx(6 / 20)


def test_ramp_in_check_recovers_a_phased_in_change():
    from analysis.sales import ramp_in_check

    data = series(level=0.0, noise=0.0, season=False)
    months = data["month"]
    i0 = int(np.flatnonzero(months >= T0)[0])
    phase = np.clip((np.arange(len(data)) - i0 + 1) / 6, 0, 1) * (np.arange(len(data)) >= i0)
    data = data.assign(y=data["y"] + 0.06 * phase)

    table = ramp_in_check(data, intervention=T0, seasonality="none", method="ols").set_index(
        "ramp_in_months"
    )

    assert table.loc[6, "level_change"] == pytest.approx(0.06, abs=1e-9)
    assert table.loc[6, "rss"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc[0, "rss"] > 1e-4  # the jump model does not fit a phase-in
    assert table.loc[0, "level_change"] < 0.06
