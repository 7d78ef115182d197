"""Metrics against hand-computed cases, against scipy on random data, and on degenerate input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edgeiqa import metrics


def test_hand_computed_cases():
    t = [1.0, 2.0, 3.0, 4.0]
    p = [1.0, 3.0, 2.0, 4.0]
    # ranks differ by (0, 1, -1, 0): rho = 1 - 6*2 / (4*15) = 0.8
    assert metrics.srocc(t, p) == pytest.approx(0.8)
    # 6 pairs, 5 concordant, 1 discordant: tau = 4/6
    assert metrics.krocc(t, p) == pytest.approx(4 / 6)
    # deviations (-1.5,-0.5,0.5,1.5) and (-1.5,0.5,-0.5,1.5): 4 / 5
    assert metrics.plcc(t, p) == pytest.approx(0.8)
    # errors (0, -1, 1, 0): sqrt(2/4)
    assert metrics.rmse(t, p) == pytest.approx(np.sqrt(0.5))


def test_reversed_order_and_monotonic_transform():
    x = np.linspace(0.1, 5, 30)
    assert metrics.krocc(x, x[::-1]) == pytest.approx(-1.0)
    assert metrics.srocc(x, x[::-1]) == pytest.approx(-1.0)
    assert metrics.srocc(x, np.exp(3 * x)) == pytest.approx(1.0)
    assert metrics.krocc(x, np.log(x)) == pytest.approx(1.0)
    # a strongly non-linear monotonic relation: raw PLCC is clearly below 1
    assert metrics.plcc(x, np.exp(3 * x)) < 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agree_with_scipy_on_random_data(seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 100, 50)
    p = t + rng.normal(0, 25, 50)
    assert metrics.srocc(t, p) == pytest.approx(stats.spearmanr(t, p).statistic)
    assert metrics.krocc(t, p) == pytest.approx(stats.kendalltau(t, p).statistic)
    assert metrics.plcc(t, p) == pytest.approx(stats.pearsonr(t, p).statistic)
    assert metrics.rmse(t, p) == pytest.approx(np.sqrt(np.mean((t - p) ** 2)))


def test_logistic_maps_monotonic_noiseless_relation():
    rng = np.random.default_rng(0)
    pred = rng.uniform(0, 1, 80)
    # human scores saturate at both ends of the predictor's range (the case VQEG's mapping is for)
    quality = 100 / (1 + np.exp(-(pred - 0.5) * 8))
    fit = metrics.fit_logistic(pred, quality)
    assert fit.method == "logistic5" and not fit.is_fallback
    assert metrics.plcc(quality, fit(pred)) > 0.99
    assert metrics.plcc(quality, fit(pred)) > metrics.plcc(quality, pred)
    # a decreasing relation (like DMOS against quality) is fitted too
    fit_dec = metrics.fit_logistic(-pred, quality)
    assert metrics.plcc(quality, fit_dec(-pred)) > 0.99
    # a convex monotonic relation
    cubic = metrics.fit_logistic(pred, 100 * pred**3)
    assert metrics.plcc(100 * pred**3, cubic(pred)) > 0.99
    row = metrics.all_metrics(quality, pred * 100)
    assert row["plcc_logistic"] > 0.99 and row["rmse_logistic"] < row["rmse"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_logistic_mapping_is_monotonic_on_noisy_data(seed):
    rng = np.random.default_rng(seed)
    pred = rng.uniform(20, 70, 20)
    quality = rng.uniform(0, 100, 20)  # unrelated: an unconstrained fit would wiggle
    grid = np.linspace(pred.min(), pred.max(), 300)
    up = metrics.fit_logistic(pred, quality, increasing=True)
    assert np.all(np.diff(up(grid)) >= -1e-9)
    down = metrics.fit_logistic(pred, quality, increasing=False)
    assert np.all(np.diff(down(grid)) <= 1e-9)
    # an anti-correlated predictor is not rescued by a decreasing map when the direction is fixed
    anti = metrics.all_metrics(np.linspace(0, 100, 20), np.linspace(90, 10, 20))
    assert anti["srocc"] == pytest.approx(-1) and not anti["plcc_logistic"] > 0


def test_logistic_fit_recovers_known_parameters():
    x = np.linspace(-3, 3, 60)
    truth = metrics.logistic5(x, 60.0, 2.0, 0.3, 1.0, 50.0)
    fit = metrics.fit_logistic(x, truth)
    np.testing.assert_allclose(fit(x), truth, atol=1e-4)


def test_logistic_fallbacks_on_constant_and_tiny_input():
    const = metrics.fit_logistic([0.5] * 10, np.arange(10.0))
    assert const.method == "constant" and const.is_fallback and "constant" in const.reason
    np.testing.assert_allclose(const([0.1, 0.9]), [4.5, 4.5])

    tiny = metrics.fit_logistic([0.1, 0.2, 0.4], [10.0, 30.0, 50.0])
    assert tiny.method == "linear" and "points" in tiny.reason
    assert metrics.plcc([10.0, 30.0, 50.0], tiny([0.1, 0.2, 0.4])) > 0.95

    one = metrics.fit_logistic([0.3], [40.0])
    assert one.method == "constant"

    # constant human scores: the fit must not raise
    flat = metrics.fit_logistic(np.linspace(0, 1, 10), [50.0] * 10)
    np.testing.assert_allclose(flat(np.linspace(0, 1, 10)), 50.0, atol=1e-6)


def test_undefined_correlations_are_nan_not_errors():
    assert np.isnan(metrics.srocc([1, 2, 3], [5, 5, 5]))
    assert np.isnan(metrics.krocc([1, 1, 1], [1, 2, 3]))
    assert np.isnan(metrics.plcc([2, 2], [1, 3]))
    row = metrics.all_metrics([40.0], [55.0])
    assert row["n"] == 1 and np.isnan(row["srocc"]) and row["rmse"] == pytest.approx(15.0)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="differ in length"):
        metrics.srocc([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        metrics.plcc([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(ValueError, match="at least 2"):
        metrics.srocc([1], [1])


def test_bootstrap_ci_contains_estimate_and_matches_generic_path():
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 100, 40)
    p = t + rng.normal(0, 20, 40)
    low, high = metrics.bootstrap_ci(t, p, n_boot=500, seed=1)
    assert -1 <= low < metrics.srocc(t, p) < high <= 1
    # the vectorised SROCC path equals calling srocc on each resample
    generic = metrics.bootstrap_ci(t, p, stat=lambda a, b: metrics.srocc(a, b), n_boot=200, seed=4)
    fast = metrics.bootstrap_ci(t, p, n_boot=200, seed=4)
    np.testing.assert_allclose(fast, generic)
    # wider interval at higher coverage, same seed
    low99, high99 = metrics.bootstrap_ci(t, p, n_boot=500, seed=1, level=0.99)
    assert low99 <= low and high99 >= high
    # perfect agreement: degenerate resamples are skipped, the rest give 1
    assert metrics.bootstrap_ci(t, 2 * t, n_boot=100) == pytest.approx((1.0, 1.0))


def test_correlation_table_per_distortion_and_all():
    rng = np.random.default_rng(5)
    n = 60
    df = pd.DataFrame(
        {
            "distortion": np.repeat(["wn", "jpeg", "gblur"], n // 3),
            "quality": rng.uniform(0, 100, n),
        }
    )
    df["predicted"] = df["quality"] + rng.normal(0, 10, n)
    df.loc[df["distortion"] == "wn", "predicted"] = 50.0  # constant predictions for one type
    table = metrics.correlation_table(df, n_boot=200)
    assert list(table["distortion"]) == ["gblur", "jpeg", "wn", "ALL"]
    assert set(metrics.METRICS) <= set(table.columns)
    assert {"srocc_ci_low", "srocc_ci_high", "logistic_fit", "n"} <= set(table.columns)
    jpeg = table.set_index("distortion").loc["jpeg"]
    sub = df[df["distortion"] == "jpeg"]
    assert jpeg["srocc"] == pytest.approx(stats.spearmanr(sub["quality"], sub["predicted"])[0])
    wn = table.set_index("distortion").loc["wn"]
    assert np.isnan(wn["srocc"]) and np.isnan(wn["plcc_logistic"])
    # one mapping for the whole split (VQEG), so every row names the same fit
    assert set(table["logistic_fit"]) == {"logistic5"}
    assert table.set_index("distortion").loc["ALL", "n"] == n


def test_aggregate_repeats_median_and_iqr():
    table = pd.DataFrame(
        {
            "protocol": ["content"] * 4 + ["image"] * 2,
            "srocc": [0.1, 0.2, 0.3, 0.4, 0.9, np.nan],
            "rmse": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    out = metrics.aggregate_repeats(table, ["protocol"], ["srocc", "rmse"]).set_index("protocol")
    assert out.loc["content", "srocc_median"] == pytest.approx(0.25)
    assert out.loc["content", "srocc_q25"] == pytest.approx(0.175)
    assert out.loc["content", "srocc_q75"] == pytest.approx(0.325)
    assert out.loc["image", "srocc_median"] == pytest.approx(0.9)
    assert out.loc["image", "n_splits"] == 2 and out.loc["image", "n_defined"] == 1


def test_per_type_plcc_uses_one_mapping_fitted_on_the_whole_split():
    # Two types of five images each. Within "a" the predictions follow a curve that a logistic
    # fitted to those five points alone would straighten (per-type PLCC 1.000); fitted once on
    # all ten points (VQEG), the curve stays visible in the per-type figure.
    quality = np.array([10, 20, 30, 40, 50, 10, 20, 30, 40, 50], dtype=float)
    predicted = np.array([10, 11, 14, 25, 50, 12, 22, 29, 41, 48], dtype=float)
    df = pd.DataFrame(
        {"quality": quality, "predicted": predicted, "distortion": ["a"] * 5 + ["b"] * 5}
    )
    table = metrics.correlation_table(df).set_index("distortion")
    mapping = metrics.fit_logistic(predicted, quality)
    for name, rows in (("a", slice(0, 5)), ("b", slice(5, 10)), ("ALL", slice(0, 10))):
        mapped = mapping(predicted[rows])
        assert table.loc[name, "plcc_logistic"] == pytest.approx(
            metrics.plcc(quality[rows], mapped)
        )
        assert table.loc[name, "rmse_logistic"] == pytest.approx(
            metrics.rmse(quality[rows], mapped)
        )
    alone = metrics.all_metrics(quality[:5], predicted[:5])  # the convention we do not use
    assert alone["plcc_logistic"] > 0.995
    assert table.loc["a", "plcc_logistic"] < alone["plcc_logistic"] - 0.01
