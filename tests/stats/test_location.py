"""The interval a verdict is decided on: a grid widens it, dependence widens it."""

from __future__ import annotations

import numpy as np

from ryot.stats import intervals, location


def test_without_dependence_or_grid_it_is_the_rank_interval():
    x = np.random.default_rng(2).normal(0, 1, 30)
    loc = location.typical(x, 0.95, 0.0, symmetric=True)
    ci = intervals.hodges_lehmann_interval(x, 0.95, effective_n=30)
    assert (loc.estimate, loc.low, loc.high, loc.coverage) == (ci.estimate, ci.low, ci.high,
                                                               ci.coverage)
    assert loc.widening == 0.0 and loc.outliers is None  # no outlier rule asked for


def test_extremes_move_each_bound_as_far_as_the_grid_allows():
    x = np.array([2.0, 2.0, 3.0, 2.0, 2.0, 3.0, 2.0, 2.0, 2.0, 3.0, 2.0, 2.0])
    plain = location.typical(x, 0.95, 0.0, symmetric=False)
    wide = location.typical(x, 0.95, 0.0, symmetric=False, extremes=(x - 1.0, x + 1.0))
    assert wide.low == plain.low - 1.0 and wide.high == plain.high + 1.0
    assert 0.5 < wide.widening <= 1.0
    assert wide.low <= 2.3 <= wide.high  # the true 2.3 ms behind the readings is inside


def test_dependence_joins_a_t_interval():
    x = np.random.default_rng(4).normal(0, 1, 48)
    independent = location.typical(x, 0.95, 0.0, symmetric=True)
    dependent = location.typical(x, 0.95, 0.8, symmetric=True)
    assert dependent.low < independent.low and dependent.high > independent.high
    assert dependent.effective_n < 8


def test_the_mean_estimand_is_the_time_average():
    x = np.array([1.0] * 6 + [8.0])
    assert location.mean(x, 0.95, 0.0).estimate == 2.0
