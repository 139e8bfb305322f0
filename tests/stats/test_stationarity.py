"""ryot.stats.stationarity: Mann-Kendall trend, Theil-Sen slope, lag-1 autocorrelation
and the effective sample size."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ryot.stats import stationarity


def test_autocorrelation_shrinks_the_effective_sample_size():
    rng = np.random.default_rng(0)
    x, state = [], 0.0
    for _ in range(200):
        state = 0.8 * state + rng.normal()
        x.append(state)
    rho = stationarity.lag1_autocorrelation(x)
    assert 0.6 < rho < 0.9
    assert stationarity.effective_n(200, rho) < 60
    assert stationarity.lag1_autocorrelation(rng.normal(size=200)) < 0.2


def test_trend_reduces_long_series_to_batches():
    t = stationarity.trend(np.arange(10_000, dtype=float))
    assert t.slope == pytest.approx(1.0, rel=0.01) and t.p_value < 1e-6


# -- found untested by the mutation run (``nox -s mutation``, issue #13) ---------------------------
# Each test checks a number against an independent oracle (a closed formula, an exact
# distribution, or a published value); the mutants it kills are what a wrong implementation
# of that number would look like. Fixed seeds throughout.
def average_ranks(x) -> list[float]:
    order = sorted(range(len(x)), key=lambda i: x[i])
    ranks = [0.0] * len(x)
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for t in range(i, j + 1):
            ranks[order[t]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(a, b) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((u - ma) * (v - mb) for u, v in zip(a, b, strict=True))
    den = math.sqrt(sum((u - ma) ** 2 for u in a) * sum((v - mb) ** 2 for v in b))
    return num / den if den else 0.0


def theil_sen(x) -> float:
    return float(np.median([(x[j] - x[i]) / (j - i)
                            for i in range(len(x)) for j in range(i + 1, len(x))]))


def lag1_oracle(x) -> float:
    slope = theil_sen(x)
    r = average_ranks([v - slope * i for i, v in enumerate(x)])
    return min(0.9, max(0.0, pearson(r[:-1], r[1:])))


def upper_rho_oracle(x) -> float:
    """The dependence estimate the intervals use: Spearman's lag-1 correlation of the detrended
    series as the Pearson correlation it implies, bias-corrected, plus half a standard error
    once it exceeds one."""
    slope = theil_sen(x)
    r = average_ranks([v - slope * i for i, v in enumerate(x)])
    n = len(x)
    rho = 2 * math.sin(math.pi * pearson(r[:-1], r[1:]) / 6)
    rho += (1 + 3 * rho) / n
    se = math.sqrt(max(0.0, 1 - rho * rho) / n)
    if rho > se:
        rho += 0.5 * se
    return min(0.9, max(0.0, rho))


def mann_kendall_p(x, rho: float) -> float:
    """Two-sided Mann-Kendall p-value with the tie correction and the Hamed-Rao lag-1 inflation."""
    n = len(x)
    s = sum((x[j] > x[i]) - (x[j] < x[i]) for i in range(n) for j in range(i + 1, n))
    ties = sum(t * (t - 1) * (2 * t + 5) for t in (list(x).count(v) for v in set(x)))
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18 * (1 + rho) / (1 - rho)
    if s == 0:
        return 1.0
    return math.erfc(abs(s - math.copysign(1, s)) / math.sqrt(var) / math.sqrt(2))


def tied_drifting_series(n=40, seed=8):
    rng = np.random.default_rng(seed)
    state, out = 0.0, []
    for i in range(n):
        state = 0.7 * state + rng.normal()
        out.append(round(state + 0.05 * i, 0))  # rounding makes ties
    return out


@pytest.mark.mutation
@pytest.mark.parametrize("seed", [8, 9, 10])
def test_trend_matches_an_independent_mann_kendall_with_ties_and_autocorrelation(seed):
    x = tied_drifting_series(seed=seed)
    assert len(set(x)) < len(x)  # ties present
    t = stationarity.trend(x)
    assert t.n == len(x)
    assert t.slope == pytest.approx(theil_sen(x), rel=1e-12)
    assert t.rho == pytest.approx(upper_rho_oracle(x), rel=1e-12) and t.rho > 0.1
    assert stationarity.lag1_autocorrelation(x) == pytest.approx(upper_rho_oracle(x), rel=1e-12)
    assert t.p_value == pytest.approx(mann_kendall_p(x, t.rho), rel=1e-9)


@pytest.mark.mutation
def test_a_series_without_a_trend_has_p_value_one():
    x = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]  # S = 0: as many rises as falls
    assert sum((x[j] > x[i]) - (x[j] < x[i]) for i in range(10) for j in range(i + 1, 10)) == 0
    assert stationarity.trend(x).p_value == 1.0
    assert stationarity.trend([5.0] * 12) == stationarity.Trend(0.0, 1.0, 0.0, 12)


@pytest.mark.mutation
def test_trend_needs_eight_points_and_reports_none_below():
    assert stationarity.trend(range(7)) == stationarity.Trend(0.0, 1.0, 0.0, 7)
    t = stationarity.trend(range(8))
    assert t.slope == 1.0 and t.p_value == pytest.approx(mann_kendall_p(list(range(8)), 0.0))
    assert t.p_value < 0.01


@pytest.mark.mutation
def test_trend_slope_is_per_original_trial():
    assert stationarity.trend([3.0 + 0.5 * i for i in range(20)]).slope == 0.5
    # 5,120 trials: 512 batch medians of 10 trials each, and still the slope per trial
    assert stationarity.trend(0.5 * np.arange(5120)).slope == pytest.approx(0.5, rel=1e-12)


@pytest.mark.mutation
@pytest.mark.parametrize("seed", [1, 2])
def test_lag1_autocorrelation_is_the_bias_corrected_spearman_of_the_detrended_series(seed):
    x = tied_drifting_series(seed=seed)
    assert stationarity.lag1_autocorrelation(x) == pytest.approx(upper_rho_oracle(x), rel=1e-12)
    assert stationarity.lag1_autocorrelation(x) > lag1_oracle(x)  # the rank estimate runs low
    # the minimum length (stationarity.MIN_DEPENDENCE_POINTS = 12) is computed, not assumed
    twelve = [1.0, 1.2, 1.1, 3.0, 3.2, 3.1, 1.0, 1.1, 1.05, 3.05, 3.15, 3.1]
    assert stationarity.lag1_autocorrelation(twelve) == pytest.approx(
        upper_rho_oracle(twelve), rel=1e-12)
    assert lag1_oracle(twelve) > 0
    assert stationarity.lag1_autocorrelation(twelve[:11]) == 0.0  # shorter: taken as independent


@pytest.mark.mutation
def test_a_constant_or_perfectly_linear_series_is_not_autocorrelated():
    assert stationarity.lag1_autocorrelation([2.0] * 30) == 0.0
    assert stationarity.lag1_autocorrelation([2.0 + 3 * i for i in range(30)]) == 0.0


@pytest.mark.mutation
def test_theil_sen_slope_is_the_median_pairwise_slope():
    assert stationarity.theil_sen_slope(np.array([5.0])) == 0.0
    assert stationarity.theil_sen_slope(np.array([1.0, 3.0])) == 2.0
    x = np.random.default_rng(3).normal(size=25)
    assert stationarity.theil_sen_slope(x) == pytest.approx(theil_sen(x), rel=1e-12)
