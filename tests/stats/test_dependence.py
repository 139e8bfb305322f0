"""Student t quantiles, the Newey–West variance and the intervals built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ryot.infra.errors import ConfigError
from ryot.stats.dependence import (
    dependent_location_interval,
    mean_interval,
    newey_west_bandwidth,
    newey_west_variance,
    ratio_of_means_interval,
    student_t_quantile,
)


@pytest.mark.parametrize("p, df, expected", [  # printed t tables
    (0.975, 1, 12.706), (0.975, 5, 2.571), (0.975, 30, 2.042), (0.995, 10, 3.169),
    (0.95, 2, 2.920), (0.025, 5, -2.571)])
def test_t_quantiles_match_the_tables(p, df, expected):
    assert student_t_quantile(p, df) == pytest.approx(expected, abs=1e-3)


def test_t_tends_to_the_normal():
    assert student_t_quantile(0.975, 1e6) == pytest.approx(1.95996, abs=1e-4)


@pytest.mark.parametrize("p, df", [(0.0, 5), (1.0, 5), (0.5, 0), (0.9, -1)])
def test_bad_t_arguments(p, df):
    with pytest.raises(ConfigError):
        student_t_quantile(p, df)


def test_newey_west_of_white_noise_is_its_variance_and_grows_with_dependence():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 20_000)
    assert newey_west_variance(x) == pytest.approx(1.0, rel=0.05)
    assert newey_west_bandwidth(100) == 4 and newey_west_bandwidth(48) == 3
    ar = np.empty(20_000)
    state = 0.0
    for i in range(ar.size):
        state = 0.5 * state + rng.normal()
        ar[i] = state
    assert newey_west_variance(ar, bandwidth=40) > 2.5 * np.var(ar)  # (1+rho)/(1-rho) = 3


def test_mean_interval_covers_the_mean_of_independent_data():
    rng = np.random.default_rng(5)
    runs, covered = 800, 0
    for _ in range(runs):
        ci = mean_interval(rng.normal(2.0, 1.0, 30), 0.95)
        covered += ci.low <= 2.0 <= ci.high
    assert 0.92 <= covered / runs <= 0.975


def test_ratio_of_means_is_the_ratio_of_sums_on_a_log_scale():
    num, den = [3.0, 6.0, 3.0, 6.0], [1.0, 2.0, 1.0, 2.1]
    ci = ratio_of_means_interval(num, den, 0.95)
    assert ci.estimate == pytest.approx(math.log(18.0 / 6.1))
    assert ci.low < ci.estimate < ci.high
    with pytest.raises(ConfigError):
        ratio_of_means_interval([1.0], [1.0], 0.95)


def test_the_dependent_interval_widens_as_the_effective_n_falls():
    x = np.random.default_rng(1).normal(0, 1, 48)
    wide = dependent_location_interval(x, 0.0, 0.95, 6.0)
    narrow = dependent_location_interval(x, 0.0, 0.95, 40.0)
    assert wide.high - wide.low > 2 * (narrow.high - narrow.low)
    assert math.isnan(wide.coverage)
