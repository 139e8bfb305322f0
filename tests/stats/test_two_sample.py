"""ryot.stats.two_sample: the Hodges–Lehmann shift and its Mann–Whitney (Moses) interval,
against independent oracles (no scipy here): enumeration of every rank arrangement, a second
recurrence in exact integers, the published critical values, hand-computed examples and seeded
simulation."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from ryot.infra.errors import ConfigError
from ryot.stats import two_sample as ts


def u_counts_by_enumeration(m: int, n: int) -> list[int]:
    """How many of the C(m+n, m) equally likely rank arrangements give U = u, u = 0..mn."""
    counts = [0] * (m * n + 1)
    for xs in itertools.combinations(range(m + n), m):
        taken = set(xs)
        counts[sum(1 for x in xs for y in range(x) if y not in taken)] += 1
    return counts


def u_counts_by_recurrence(m: int, n: int) -> list[int]:
    """f(m, n, u) = f(m − 1, n, u − n) + f(m, n − 1, u): is the largest value an x or a y?"""
    table = {(0, j): [1] for j in range(n + 1)} | {(i, 0): [1] for i in range(m + 1)}
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            out = [0] * (i * j + 1)
            for u, c in enumerate(table[(i - 1, j)]):
                out[u + j] += c
            for u, c in enumerate(table[(i, j - 1)]):
                out[u] += c
            table[(i, j)] = out
    return table[(m, n)]


def exact_cdf(counts: list[int]) -> list[float]:
    total = sum(counts)
    return [float(Fraction(c, total)) for c in itertools.accumulate(counts)]


@pytest.mark.parametrize("m, n", [(1, 1), (1, 4), (2, 2), (3, 5), (4, 4), (5, 3), (6, 6)])
def test_the_u_distribution_is_the_count_of_rank_arrangements(m, n):
    want = exact_cdf(u_counts_by_enumeration(m, n))[: m * n // 2 + 1]
    assert ts.mann_whitney_cdf(m, n).tolist() == want  # correctly rounded, not approximately


@pytest.mark.parametrize("m, n", [(12, 17), (25, 25), (3, 90)])
def test_the_u_distribution_matches_a_second_recurrence(m, n):
    want = exact_cdf(u_counts_by_recurrence(m, n))[: m * n // 2 + 1]
    assert ts.mann_whitney_cdf(m, n).tolist() == want


@pytest.mark.parametrize("m, n, critical", [(5, 5, 2), (8, 8, 13), (10, 10, 23), (15, 15, 64),
                                            (20, 20, 127), (6, 9, 10)])
def test_ranks_match_the_published_critical_values(m, n, critical):
    """Two-sided 5% Mann–Whitney tables: reject when U <= critical, so k = critical + 1."""
    k, coverage = ts.mann_whitney_k(m, n, 0.95)
    assert k == critical + 1 and coverage >= 0.95
    assert ts.mann_whitney_k(m, n, coverage) == (k, coverage)
    assert ts.mann_whitney_k(n, m, 0.95) == (k, coverage)


def brute_force_coverage(m: int, n: int, confidence: float) -> float:
    """The definition: for continuous data with no shift every arrangement of the ranks
    1..m+n into the arms is equally likely; count those whose interval covers 0."""
    covered = total = 0
    for xs in itertools.combinations(range(1, m + n + 1), m):
        ys = sorted(set(range(1, m + n + 1)) - set(xs))
        ci = ts.shift_interval(xs, ys, confidence)
        covered += ci.low <= 0 <= ci.high
        total += 1
    return covered / total


@pytest.mark.parametrize("m, n, confidence", [(4, 4, 0.95), (4, 5, 0.9), (5, 6, 0.95),
                                              (3, 7, 0.8), (6, 6, 0.99)])
def test_coverage_is_what_enumerating_every_arrangement_gives(m, n, confidence):
    ci = ts.shift_interval(list(range(m)), list(range(n)), confidence)
    assert brute_force_coverage(m, n, confidence) == pytest.approx(ci.coverage, abs=1e-12)
    assert ci.coverage >= confidence


def test_hand_computed_examples():
    ci = ts.shift_interval([1, 2, 3], [0], 0.5)  # differences 1, 2, 3
    assert ci.estimate == 2.0
    ci = ts.shift_interval([1, 4], [0, 1], 0.5)  # differences 0, 1, 3, 4: median (1 + 3) / 2
    assert ci.estimate == 2.0
    # m = n = 3: P(U <= 0) = 1/20, so [min, max] of the 9 differences covers 90%, no more
    ci = ts.shift_interval([10, 11, 12], [1, 2, 4], 0.85)
    assert (ci.low, ci.high, ci.coverage) == (6.0, 11.0, pytest.approx(0.9))
    assert ci.estimate == 9.0  # differences 6 7 8 8 9 9 10 10 11: the 5th
    # k = 2 at 0.8: P(U <= 1) = 2/20, coverage 0.8, the 2nd and 8th differences
    ci = ts.shift_interval([10, 11, 12], [1, 2, 4], 0.8)
    assert (ci.low, ci.high, ci.coverage) == (7.0, 10.0, pytest.approx(0.8))


def test_shift_moves_the_interval_and_roles_swap_the_sign():
    rng = np.random.default_rng(5)
    x, y = rng.normal(0, 1, 13), rng.normal(0, 1, 9)
    a, b = ts.shift_interval(x, y, 0.95), ts.shift_interval(x + 3.0, y, 0.95)
    assert (b.estimate, b.low, b.high) == pytest.approx((a.estimate + 3, a.low + 3, a.high + 3))
    c = ts.shift_interval(y, x, 0.95)
    assert (c.estimate, c.low, c.high) == pytest.approx((-a.estimate, -a.high, -a.low))
    assert c.coverage == a.coverage


@pytest.mark.parametrize("m, n", [(1, 1), (1, 3), (2, 2), (2, 3), (3, 3), (3, 1)])
def test_one_to_three_per_arm_reach_no_95_percent_interval(m, n):
    ci = ts.shift_interval(np.arange(m) + 0.5, np.arange(n), 0.95)
    assert ci.coverage < 0.95  # a caller refuses to decide on it
    assert ci.low <= ci.estimate <= ci.high


def test_four_per_arm_is_the_smallest_square_design_that_decides_at_95_percent():
    assert ts.mann_whitney_k(3, 4, 0.95)[1] < 0.95 <= ts.mann_whitney_k(4, 4, 0.95)[1]


def simulated_coverage(m, n, runs=2000, sigma=0.1, ratio=1.25, grid=None, seed=20261128):
    """Lognormal arms whose true ratio of times is ``ratio``; interval of the log shift."""
    rng = np.random.default_rng(seed)
    covered = 0
    for _ in range(runs):
        base = rng.lognormal(math.log(ratio), sigma, m)
        cand = rng.lognormal(0.0, sigma, n)
        if grid is not None:  # a coarse timer: every time a multiple of grid
            base, cand = np.round(base / grid) * grid, np.round(cand / grid) * grid
        ci = ts.shift_interval(np.log(base), np.log(cand), 0.95)
        covered += ci.low <= math.log(ratio) <= ci.high
    return covered / runs


def test_coverage_by_simulation_at_20_per_arm():
    """docs/statistics.md ("Two samples") quotes this figure: nominal 0.95, exact 0.9509."""
    coverage = simulated_coverage(20, 20)
    assert 0.93 <= coverage <= 0.97, coverage


def test_coverage_by_simulation_with_unequal_arms_and_on_a_grid():
    assert 0.93 <= simulated_coverage(12, 30) <= 0.97
    # ties from a timer resolution of ~2.5% of a time: the closed interval only gets safer
    assert simulated_coverage(15, 15, ratio=1.0, grid=0.025) >= 0.94


def test_tied_data_gives_order_statistics_of_the_tied_differences():
    ci = ts.shift_interval([1.0] * 10, [1.0] * 10, 0.95)
    assert (ci.estimate, ci.low, ci.high) == (0.0, 0.0, 0.0) and ci.coverage >= 0.95
    ci = ts.shift_interval([2.0, 2.0, 2.0, 3.0, 3.0], [1.0, 1.0, 2.0, 2.0, 2.0], 0.9)
    d = np.sort(np.subtract.outer([2.0, 2.0, 2.0, 3.0, 3.0], [1.0, 1.0, 2.0, 2.0, 2.0]).ravel())
    k, _ = ts.mann_whitney_k(5, 5, 0.9)
    assert (ci.estimate, ci.low, ci.high) == (d[12], d[k - 1], d[25 - k])


def test_effective_sizes_widen_the_interval_at_the_same_quantile_levels():
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 1, 40), rng.normal(0.5, 1, 30)
    full = ts.shift_interval(x, y, 0.95)
    assert ts.shift_interval(x, y, 0.95, effective_sizes=(40, 30)) == full
    assert ts.shift_interval(x, y, 0.95, effective_sizes=(99.0, 99.0)) == full  # clipped
    small = ts.shift_interval(x, y, 0.95, effective_sizes=(10.7, 7.2))
    assert small.low <= full.low and full.high <= small.high and small.estimate == full.estimate
    assert small.coverage == ts.mann_whitney_k(10, 7, 0.95)[1]
    assert ts.shift_interval(x, y, 0.95, effective_sizes=(0.2, 3)).coverage < 0.95


@pytest.mark.parametrize("m, n", [(150, 150), (60, 1000)])
def test_the_normal_approximation_above_the_exact_limit_is_close(monkeypatch, m, n):
    assert min(m, n) * m * n <= ts.EXACT_MANN_WHITNEY_MAX  # counted exactly
    k, coverage = ts.mann_whitney_k(m, n, 0.95)
    monkeypatch.setattr(ts, "EXACT_MANN_WHITNEY_MAX", 0)
    k_normal, coverage_normal = ts.mann_whitney_k(m, n, 0.95)
    true_coverage = 1.0 - 2.0 * ts.mann_whitney_cdf(m, n)[k_normal - 1]  # of the normal's rank
    assert abs(k - k_normal) <= 1e-4 * m * n and coverage_normal >= 0.95
    assert true_coverage == pytest.approx(coverage_normal, abs=5e-4)
    assert coverage_normal == pytest.approx(coverage, abs=5e-4)
    assert ts.mann_whitney_k(3000, 4000, 0.95)[1] >= 0.95  # far above: normal, and fast


def test_one_run_against_many_is_counted_exactly():
    """m = 1: U is uniform on 0..n, so P(U <= k − 1) = k / (n + 1), where a normal
    approximation would be far off; the work limit keeps such designs exact."""
    k, coverage = ts.mann_whitney_k(1, 123_456, 0.95)
    assert k == math.floor(0.025 * 123_457) and coverage == pytest.approx(1 - 2 * k / 123_457)


@pytest.mark.parametrize("case", range(12))
def test_selection_without_the_pairs_in_memory_gives_the_same_floats(monkeypatch, case):
    rng = np.random.default_rng(case)
    m, n = (int(v) for v in rng.integers(1, 120, 2))
    if case % 3 == 0:  # heavy ties, as from a coarse timer
        x, y = rng.integers(0, 4, m) * 0.1, rng.integers(0, 4, n) * 0.1
    else:
        x, y = rng.lognormal(0, 1, m), rng.normal(0, 1, n)
    ranks = [1, m * n, *rng.integers(1, m * n + 1, 6).tolist()]
    want = np.sort(np.subtract.outer(x, y).ravel())[np.array(ranks) - 1]
    assert np.array_equal(ts.difference_order_statistics(x, y, ranks), want)
    monkeypatch.setattr(ts, "PAIRS_IN_MEMORY", 0)
    monkeypatch.setattr(ts, "_GATHER", int(rng.integers(1, 40)))
    assert np.array_equal(ts.difference_order_statistics(x, y, ranks), want)


def test_large_arms_are_selected_in_bounded_memory():
    rng = np.random.default_rng(9)
    x, y = rng.lognormal(0, 0.1, 2500), rng.lognormal(0, 0.1, 1800)  # 4.5M pairs: selected
    assert x.size * y.size > ts.PAIRS_IN_MEMORY
    ci = ts.shift_interval(np.log(x), np.log(y), 0.95)
    d = np.sort(np.subtract.outer(np.log(x), np.log(y)).ravel())
    k, _ = ts.mann_whitney_k(2500, 1800, 0.95)
    assert (ci.low, ci.high) == (d[k - 1], d[d.size - k])
    assert ci.estimate == (d[d.size // 2 - 1] + d[d.size // 2]) / 2


@pytest.mark.parametrize("call, fragment", [
    (lambda: ts.shift_interval([], [1.0], 0.95), "at least one sample in each arm"),
    (lambda: ts.shift_interval([1.0], [], 0.95), "at least one sample in each arm"),
    (lambda: ts.shift_interval([1.0, math.nan], [1.0], 0.95), "finite"),
    (lambda: ts.shift_interval([1.0], [math.inf], 0.95), "finite"),
    (lambda: ts.shift_interval([1.0], [1.0], 1.5), "confidence"),
    (lambda: ts.difference_order_statistics([1.0, 2.0], [1.0], [3]), "ranks must lie"),
    (lambda: ts.mann_whitney_cdf(-1, 3), "non-negative"),
])
def test_bad_input_is_a_clear_error(call, fragment):
    with pytest.raises(ConfigError, match=fragment):
        call()
