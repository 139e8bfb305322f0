"""ryot.stats.proportions: published worked examples, edge cases, exact coverage.

Published values (no scipy oracle: scipy is not installed here) come from the papers' worked
examples, as reproduced by the R packages ratesci (tests/testthat/test3.R) and contingencytables
(Fagerland, Lydersen & Laake 2017, chapter 8). A table is written (both, candidate_only,
baseline_only, neither): the papers' (a, b, c, d) with condition 1 = the candidate.
"""

import itertools
import math

import numpy as np
import pytest

from ryot.infra.errors import ConfigError
from ryot.stats.intervals import z_two_sided
from ryot.stats.proportions import (
    DIFFERENCE_METHODS,
    PROPORTION_METHOD,
    PROPORTION_METHODS,
    binomial_log_pmf,
    exact_coverage,
    exact_paired_coverage,
    minimum_coverage,
    paired_difference_interval,
    paired_ratio_interval,
    proportion_interval,
)

Z95 = z_two_sided(0.95)


def table(both, candidate_only, baseline_only, neither):
    return {"both": both, "candidate_only": candidate_only, "baseline_only": baseline_only,
            "neither": neither}


def all_tables(n):
    for both, cand, base in itertools.product(range(n + 1), repeat=3):
        if both + cand + base <= n:
            yield table(both, cand, base, n - both - cand - base)


# -- one proportion ----------------------------------------------------------------------------
@pytest.mark.parametrize("k, n, low, high", [(0, 10, 0.0, 0.3085), (5, 10, 0.1871, 0.8129),
                                             (15, 148, 0.0578, 0.1617), (0, 20, 0.0, 0.1684),
                                             (1, 29, 0.0009, 0.1776)])
def test_clopper_pearson_matches_published_values(k, n, low, high):
    ci = proportion_interval(k, n, 0.95, method="clopper_pearson")
    assert ci.estimate == k / n and ci.coverage == 0.95
    assert ci.low == pytest.approx(low, abs=5e-5) and ci.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("method, expected", [
    # Newcombe 1998 (Stat Med 17:857), Table II: 15/148, 0/20, 1/29 at 95%
    ("wilson", [(0.0624, 0.1605), (0.0, 0.1611), (0.0061, 0.1718)]),
    ("wilson_cc", [(0.0598, 0.1644), (0.0, 0.2005), (0.0018, 0.1963)]),
    ("mid_p", [(0.0601, 0.1581), (0.0, 0.1391), (0.0017, 0.1585)]),
])
def test_other_methods_match_newcombe_1998(method, expected):
    for (k, n), (low, high) in zip([(15, 148), (0, 20), (1, 29)], expected, strict=True):
        ci = proportion_interval(k, n, 0.95, method=method)
        assert (round(ci.low, 4), round(ci.high, 4)) == (low, high)
        assert math.isnan(ci.coverage)


def test_clopper_pearson_bounds_solve_their_tail_equations():
    n, alpha = 37, 0.05
    for k in range(1, n):
        ci = proportion_interval(k, n, 1 - alpha, method="clopper_pearson")
        upper_pmf = np.exp(binomial_log_pmf(n, ci.high)[0])
        lower_pmf = np.exp(binomial_log_pmf(n, ci.low)[0])
        assert upper_pmf[: k + 1].sum() == pytest.approx(alpha / 2, abs=1e-12)
        assert lower_pmf[k:].sum() == pytest.approx(alpha / 2, abs=1e-12)


@pytest.mark.parametrize("method", ["clopper_pearson", "mid_p"])
def test_large_n_bounds_sum_only_near_the_mode_yet_solve_the_full_tails(method):
    n, alpha = 40_000, 0.05  # the bisection sums 50 sd around n·p; the check sums every count
    for k in (1, 57, 13_333, 39_990):
        ci = proportion_interval(k, n, 1 - alpha, method=method)
        half = 0.5 if method == "mid_p" else 0.0
        for bound, side in ((ci.high, slice(0, k + 1)), (ci.low, slice(k, n + 1))):
            pmf = np.exp(binomial_log_pmf(n, bound)[0])
            assert pmf[side].sum() - half * pmf[k] == pytest.approx(alpha / 2, abs=1e-10)


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_proportion_edges_and_monotone_confidence(method):
    for n in (1, 2, 3, 10, 1000):
        for k in sorted({0, 1, n // 2, n - 1, n}):
            narrow, wide = (proportion_interval(k, n, c, method=method) for c in (0.8, 0.99))
            assert narrow.estimate == k / n
            assert 0.0 <= wide.low <= narrow.low <= k / n <= narrow.high <= wide.high <= 1.0
            assert narrow.high - narrow.low > 0
        assert proportion_interval(0, n, 0.95, method=method).low == 0.0
        assert proportion_interval(n, n, 0.95, method=method).high == 1.0


def test_default_method_is_clopper_pearson_and_covers_at_n_50():
    assert PROPORTION_METHOD == "clopper_pearson"
    minimum, _ = minimum_coverage(50, 0.95, PROPORTION_METHOD)
    assert minimum >= 0.9508 - 1e-4  # docs/statistics.md: 0.9508 at p = 0.0717
    wilson_small_p, _ = minimum_coverage(50, 0.95, "wilson", 0.01, 0.10)
    assert wilson_small_p == pytest.approx(0.8945, abs=1e-4)  # the issue's 89.5%


def test_minimum_coverage_is_the_infimum_of_a_fine_grid():
    p = np.linspace(0.01, 0.99, 20001)
    for method in PROPORTION_METHODS:
        minimum, at = minimum_coverage(30, 0.95, method)
        grid = exact_coverage(30, 0.95, method, p)
        assert minimum <= grid.min() + 1e-7 and 0.01 <= at <= 0.99
        assert grid.min() - minimum < 0.01  # the grid misses little, but never goes below


def test_exact_coverage_at_a_point_by_hand():
    n, p = 5, 0.3
    pmf = [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
    covered = sum(pmf[k] for k in range(n + 1)
                  if (ci := proportion_interval(k, n, 0.9, method="wilson")).low <= p <= ci.high)
    assert exact_coverage(n, 0.9, "wilson", [p])[0] == pytest.approx(covered, abs=1e-12)


# -- paired difference -------------------------------------------------------------------------
@pytest.mark.parametrize("cells, low, high", [
    ((20, 12, 2, 16), 0.0562, 0.3292),    # Newcombe 1998 (Stat Med 17:2635), method 10
    ((1, 1, 7, 12), -0.5069, -0.0256),    # Fagerland et al. 2014, Bentur et al. data
    ((59, 6, 16, 80), -0.1186, -0.0046),  # Fagerland et al. 2017, Cavo et al. data
    ((8, 3, 1, 2), -0.1574, 0.4136),      # Tang, Ling & Tian 2010 example
])
def test_newcombe_method_10_matches_published_examples(cells, low, high):
    ci = paired_difference_interval(table(*cells), 0.95, method="newcombe")
    assert ci.estimate == pytest.approx((cells[1] - cells[2]) / sum(cells))
    assert ci.low == pytest.approx(low, abs=5e-5) and ci.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("cells, confidence, low, high", [
    ((43, 0, 1, 0), 0.90, -0.096, 0.037),   # Tango 1998 (Stat Med 17:891), its example
    ((4, 9, 3, 16), 0.95, -0.027, 0.390),
    ((53, 16, 8, 9), 0.95, -0.020, 0.207),  # Agresti & Min 2005
    ((1, 1, 7, 12), 0.95, -0.517, -0.026),  # Fagerland et al. 2014
    ((8, 3, 1, 2), 0.95, -0.1670, 0.4327),  # Tang, Ling & Tian 2010
    ((7, 25, 2, 68), 0.95, 0.139, 0.321),   # Chang 2024
])
def test_tango_matches_published_examples(cells, confidence, low, high):
    ci = paired_difference_interval(table(*cells), confidence)
    tol = 5e-4 if round(low, 3) == low else 5e-5
    assert ci.low == pytest.approx(low, abs=tol) and ci.high == pytest.approx(high, abs=tol)


@pytest.mark.parametrize("method", DIFFERENCE_METHODS)
def test_difference_has_width_on_every_small_table(method):
    for n in (1, 2, 3):
        for t in all_tables(n):
            ci = paired_difference_interval(t, 0.95, method=method)
            assert ci.estimate == (t["candidate_only"] - t["baseline_only"]) / n
            assert -1.0 <= ci.low <= ci.estimate <= ci.high <= 1.0 and ci.high > ci.low
            if abs(ci.estimate) < 1:
                assert ci.low < ci.estimate < ci.high


def test_no_discordant_item_gives_the_closed_form_not_zero_width():
    for n in (1, 20, 100, 1000):
        for t in (table(n, 0, 0, 0), table(0, 0, 0, n), table(n // 2, 0, 0, n - n // 2)):
            ci = paired_difference_interval(t, 0.95)
            half = Z95 ** 2 / (n + Z95 ** 2)
            assert (ci.estimate, ci.low, ci.high) == pytest.approx((0.0, -half, half), abs=1e-9)


def test_breaks_one_percent_fixes_none_is_honest():
    """The issue's case: the bootstrap said 0 [0, 0]; a score interval straddles 0 with little
    evidence and lies below 0 with enough."""
    for method in DIFFERENCE_METHODS:
        for n in (50, 100):
            ci = paired_difference_interval(table(int(0.8 * n), 0, 0, n - int(0.8 * n)), 0.95,
                                            method=method)
            assert ci.low < 0 < ci.high
            one = paired_difference_interval(table(int(0.79 * n), 0, 1, n - int(0.8 * n) + 1),
                                             0.95, method=method)
            assert one.low < one.estimate < 0 < one.high  # one broken item: not yet a FAIL
        enough = paired_difference_interval(table(790, 0, 10, 200), 0.95, method=method)
        assert enough.low < enough.high < 0  # ten broken items of 1000: FAIL


def test_difference_is_monotone_in_confidence():
    for method in DIFFERENCE_METHODS:
        t = table(30, 4, 9, 7)
        cis = [paired_difference_interval(t, c, method=method) for c in (0.5, 0.8, 0.95, 0.999)]
        for narrow, wide in itertools.pairwise(cis):
            assert wide.low < narrow.low and narrow.high < wide.high


# -- paired ratio ------------------------------------------------------------------------------
@pytest.mark.parametrize("cells, confidence, low, high", [
    ((446, 5, 16, 690), 0.90, 0.958, 0.992),  # Tang, Tang & Chan 2003 (Stat Med 22:1217)
    ((43, 0, 1, 0), 0.90, 0.904, 1.039),      # Tang, Tang & Chan 2003, Tango's data
    ((1, 1, 7, 12), 0.95, 0.0653, 0.9069),    # DelRocco et al. 2022
    ((8, 3, 1, 2), 0.95, 0.776, 2.033),       # Tang, Ling & Tian 2010
])
def test_tang_ratio_matches_published_examples(cells, confidence, low, high):
    ci = paired_ratio_interval(table(*cells), confidence)
    assert ci.estimate == pytest.approx((cells[0] + cells[1]) / (cells[0] + cells[2]))
    tol = 5e-4 if round(low, 3) == low else 5e-5
    assert ci.low == pytest.approx(low, abs=tol) and ci.high == pytest.approx(high, abs=tol)


def test_ratio_edge_cases():
    n = 40
    everyone = paired_ratio_interval(table(n, 0, 0, 0), 0.95)
    assert (everyone.low, everyone.high) == pytest.approx((n / (n + Z95 ** 2), 1 + Z95 ** 2 / n))
    nothing = paired_ratio_interval(table(0, 0, 0, n), 0.95)
    assert math.isnan(nothing.estimate) and (nothing.low, nothing.high) == (0.0, math.inf)
    baseline_never = paired_ratio_interval(table(0, 3, 0, n - 3), 0.95)
    assert baseline_never.estimate == math.inf and baseline_never.high == math.inf
    assert baseline_never.low == pytest.approx(3 / Z95 ** 2)  # ratio 1 stays inside
    candidate_never = paired_ratio_interval(table(0, 0, 3, n - 3), 0.95)
    assert (candidate_never.estimate, candidate_never.low) == (0.0, 0.0)
    assert candidate_never.high == pytest.approx(Z95 ** 2 / 3)
    for m in (1, 2, 3):
        for t in all_tables(m):
            ci = paired_ratio_interval(t, 0.95)
            assert 0.0 <= ci.low < ci.high
            if math.isfinite(ci.estimate):
                assert ci.low <= ci.estimate <= ci.high


def test_ratio_is_monotone_in_confidence_and_breaks_one_percent_is_honest():
    cis = [paired_ratio_interval(table(30, 4, 9, 7), c) for c in (0.5, 0.8, 0.95, 0.999)]
    for narrow, wide in itertools.pairwise(cis):
        assert wide.low < narrow.low and narrow.high < wide.high
    none_broken = paired_ratio_interval(table(80, 0, 0, 20), 0.95)
    assert none_broken.low < 1 < none_broken.high


# -- exact paired coverage ---------------------------------------------------------------------
def test_exact_paired_coverage_of_the_issue_regime():
    cells = {"both": 0.79, "baseline_only": 0.01, "candidate_only": 0.0, "neither": 0.2}
    new = exact_paired_coverage(cells, 50, 0.95)
    old = exact_paired_coverage(cells, 50, 0.95, method="bootstrap")
    assert new["mass"] == pytest.approx(1.0, abs=1e-9) and new["truth"] == pytest.approx(-0.01)
    assert new["pass_rate"] == 0.0 and new["coverage"] > 0.99
    assert old["pass_rate"] == pytest.approx(0.99 ** 50, abs=1e-9)  # P(no broken item seen)
    ratio = exact_paired_coverage(cells, 50, 0.95, statistic="ratio")
    assert ratio["truth"] == pytest.approx(0.79 / 0.8) and ratio["pass_rate"] == 0.0


def test_exact_paired_coverage_sums_by_hand():
    cells = {"both": 0.5, "baseline_only": 0.2, "candidate_only": 0.1, "neither": 0.2}
    r = exact_paired_coverage(cells, 3, 0.9, method="newcombe", tail=0.0, keep_tables=True)
    assert r["tables"] == 20 and r["mass"] == pytest.approx(1.0)
    by_hand = 0.0
    for t in all_tables(3):
        counts = [t[c] for c in ("both", "baseline_only", "candidate_only", "neither")]
        prob = math.factorial(3) * math.prod(cells[c] ** k / math.factorial(k)
                                             for c, k in zip(cells, counts, strict=True))
        ci = paired_difference_interval(t, 0.9, method="newcombe")
        by_hand += prob * (ci.low <= -0.1 <= ci.high)
    assert r["coverage"] == pytest.approx(by_hand, abs=1e-12)


# -- arguments ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: proportion_interval(1, 0, 0.95), lambda: proportion_interval(5, 4, 0.95),
    lambda: proportion_interval(-1, 4, 0.95), lambda: proportion_interval(2.5, 4, 0.95),
    lambda: proportion_interval(1, 4, 1.0), lambda: proportion_interval(1, 4, 0.0),
    lambda: proportion_interval(1, 4, "0.95"), lambda: proportion_interval(1, 4, True),
    lambda: proportion_interval(1, 4, 0.95, method="wald"),
    lambda: paired_difference_interval(table(0, 0, 0, 0), 0.95),
    lambda: paired_difference_interval({"both": 1, "neither": 2}, 0.95),
    lambda: paired_difference_interval({**table(1, 1, 1, 1), "extra": 1}, 0.95),
    lambda: paired_difference_interval(table(1, -1, 1, 1), 0.95),
    lambda: paired_difference_interval(table(1, 1, 1, 1), 0.95, method="wald"),
    lambda: paired_ratio_interval(table(1, 1.5, 1, 1), 0.95),
    lambda: paired_ratio_interval(table(1, 1, 1, 1), 1.5),
    lambda: exact_paired_coverage({"both": 0.5, "neither": 0.5}, 10, 0.95),
    lambda: exact_paired_coverage({"both": 0.5, "baseline_only": 0.5, "candidate_only": 0.5,
                                   "neither": 0.0}, 10, 0.95),
    lambda: exact_paired_coverage(dict.fromkeys(("both", "baseline_only", "candidate_only",
                                                 "neither"), 0.25), 10, 0.95, statistic="odds"),
])
def test_bad_arguments_raise_config_error(call):
    with pytest.raises(ConfigError):
        call()


def test_a_huge_count_falls_back_to_a_bounded_memory_interval():
    from ryot.stats.proportions import EXACT_MAX_TRIALS, proportion_interval

    ci = proportion_interval(5 * 10 ** 11, 10 ** 12, 0.95)  # an exact tail would need TiB
    assert ci.low < 0.5 < ci.high and ci.high - ci.low < 1e-5
    assert EXACT_MAX_TRIALS < 10 ** 12 and math.isnan(ci.coverage)
