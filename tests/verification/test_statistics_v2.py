"""The second-generation statistics: each promise of issue #14 with its edge cases."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from ryot.measure.metric import Metric
from ryot.measure.samples import (
    Samples,
    coerce,
    paired_proportions,
    paired_proportions_from_items,
    proportion,
)
from ryot.stats import intervals as stats
from ryot.stats import sequential, stationarity
from ryot.verification.criteria import Criterion
from ryot.verification.registry import Registry
from ryot.verification.runner import measure
from ryot.verification.verdicts import compute_statistics, decide


def crit(**kw):
    base = dict(id="c", metric="m", unit="x", comparator=">=", description="d", threshold=3.0,
                min_samples=1, max_samples=48)
    base.update(kw)
    return Criterion(**base)


def paired(ratios, base=1.0):
    return Samples("paired", numerator=[base * r for r in ratios], denominator=[base] * len(ratios))


# -- order-statistic intervals: real coverage, no decision from too few samples ------------------
@pytest.mark.parametrize("n, k, coverage", [(5, 1, 0.9375), (6, 1, 0.96875), (10, 2, 0.978515625)])
def test_median_rank_matches_the_binomial_formula(n, k, coverage):
    assert stats.median_rank(n, 0.95) == (k, pytest.approx(coverage))


def test_signed_rank_critical_value_matches_the_published_table():
    # n = 20, two-sided 0.05: critical T = 52, so the interval starts at Walsh average 53
    assert stats.signed_rank_k(20, 0.95)[0] == 53


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_no_decided_verdict_below_six_samples(n):
    far = paired([10.0] * n)  # even a value far above the threshold
    v = decide(crit(min_samples=1), far, 0.95, budget_spent=True)
    assert v.status == "INVALID" and "too few samples for 0.95 confidence" in v.reason


def test_six_equal_samples_decide():
    assert decide(crit(min_samples=1), paired([4.0] * 6), 0.95, budget_spent=True).status == "PASS"


def test_ties_and_all_equal_give_a_zero_width_interval():
    s = compute_statistics(Samples("scalar", values=[2.0] * 9 + [3.0]), 0.95)
    assert s.estimate == 2.0 and s.low == 2.0 and s.relative_spread == 0.0


def test_exact_values_have_no_interval():
    s = compute_statistics(Samples("exact", values=[0.09]), 0.95)
    assert s.low is None and s.high is None and s.to_dict()["ci_low"] is None


# -- the paired estimator uses the pairing ------------------------------------------------------
def test_load_shared_by_both_arms_cancels():
    rng = np.random.default_rng(1)
    load = np.exp(rng.normal(0, 0.3, 20))  # a huge per-round load on both arms
    s = Samples("paired", numerator=(3.3 * load).tolist(), denominator=load.tolist())
    stats_ = compute_statistics(s, 0.95)
    assert stats_.low == pytest.approx(3.3) and stats_.high == pytest.approx(3.3)


@pytest.mark.parametrize("numerator, denominator, fragment", [
    ([-3.0] * 8, [1.0] * 8, "numerator[0] = -3"),
    ([1.0] * 8, [0.0] * 8, "denominator[0] = 0"),
    ([1.0] * 7 + [math.nan], [1.0] * 8, "NaN or infinite"),
])
def test_ratio_arms_must_be_positive_and_finite(numerator, denominator, fragment):
    v = decide(crit(threshold=-5.0), Samples("paired", numerator=numerator, denominator=denominator),
               0.95, budget_spent=True)
    assert v.status == "INVALID" and fragment in v.reason


# -- dependence and drift ------------------------------------------------------------------------
def test_a_drifting_ratio_is_invalid_and_says_by_how_much():
    ratios = [3.3 * (0.995 ** i) for i in range(48)]
    v = decide(crit(), paired(ratios), 0.95, budget_spent=True)
    assert v.status == "INVALID" and "ratio falls" in v.reason and "over 48 trials" in v.reason


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


# -- sequential design -----------------------------------------------------------------------------
def test_error_spending_sums_to_alpha():
    schedule = sequential.look_schedule(12, 48)
    assert schedule == [12, 24, 48]
    spent = sum(1 - c for c in sequential.look_confidences(0.95, schedule))
    assert spent == pytest.approx(0.05)
    assert sequential.closing_confidence(0.95, schedule, 0) == pytest.approx(0.95)


def test_more_samples_hint_is_honest_about_what_will_not_decide():
    rng = np.random.default_rng(3)
    s = Samples("scalar", values=(3.0 + 0.3 * rng.standard_normal(24)).tolist())
    v = decide(crit(max_samples=24, threshold=3.0), s, 0.95, budget_spent=True)
    assert v.status == "INCONCLUSIVE"
    assert v.more_samples_hint is None and "will likely not decide within 240 samples" in v.reason


# -- the noise gate asks the right question ---------------------------------------------------------
def test_a_near_zero_metric_far_inside_its_bound_passes_despite_relative_noise():
    rng = np.random.default_rng(0)
    values = np.abs(rng.normal(1e-4, 1e-4, 12)).tolist()  # MAD/median ~ 1: "very noisy"
    v = decide(crit(comparator="<=", threshold=0.05, min_samples=5), Samples("scalar", values=values),
               0.95, budget_spent=True)
    assert v.status == "PASS"


def test_noise_makes_only_an_undecided_interval_invalid():
    values = [1.0, 9.0] * 12
    v = decide(crit(threshold=5.0, max_noise=0.5), Samples("scalar", values=values), 0.95,
               budget_spent=True)
    assert v.status == "INVALID" and "noise too high to decide" in v.reason


# -- proportions are estimates ---------------------------------------------------------------------
def test_a_proportion_carries_a_wilson_interval():
    s = compute_statistics(proportion(9, 100), 0.95)
    assert s.estimate == 0.09 and s.low < 0.05 < s.high  # rlvr_gain 0.09 of 100 is not >= 0.05
    v = decide(crit(threshold=0.05, comparator=">="), proportion(9, 100), 0.95, budget_spent=True)
    assert v.status == "INCONCLUSIVE"


def test_paired_proportions_bootstrap_over_items():
    s = paired_proportions_from_items([True, False] * 50, [True, True] * 50)
    assert s.counts == {"both": 50, "baseline_only": 0, "candidate_only": 50, "neither": 0}
    st = compute_statistics(s, 0.95)
    assert st.estimate == pytest.approx(0.5) and 0.35 < st.low < 0.5 < st.high < 0.65


@pytest.mark.parametrize("call, fragment", [
    (lambda: proportion(5, 3), "successes <= trials"),
    (lambda: proportion(-1, 3), "non-negative integer"),
    (lambda: proportion(1.5, 3), "non-negative integer"),
    (lambda: proportion(True, 3), "non-negative integer"),
    (lambda: paired_proportions(0, 0, 0, 0), "at least one item"),
    (lambda: paired_proportions(1, 1, 1, 1, statistic="odds"), "'difference' or 'ratio'"),
    (lambda: paired_proportions_from_items([True], [True, False]), "same items"),
])
def test_proportion_bad_input(call, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        call()


def test_a_ratio_of_accuracies_needs_a_baseline_success():
    v = decide(crit(threshold=0.99), paired_proportions(0, 0, 5, 5, statistic="ratio"), 0.95,
               budget_spent=True)
    assert v.status == "INVALID" and "baseline that got at least one item right" in v.reason


# -- strict sample types ---------------------------------------------------------------------------
@pytest.mark.parametrize("returned", ["1.0", True, None, ["1.0", 2.0], [True, 1.0],
                                      {"numerator": [1.0], "denominator": ["2"]}, {"x": 1}])
def test_providers_must_return_numbers(returned):
    with pytest.raises(ValueError, match="a metric provider returned|expected"):
        coerce(returned)


def test_numpy_numbers_are_numbers():
    assert coerce(np.float32(1.5)).values == [1.5]
    assert coerce(np.arange(3.0)).values == [0.0, 1.0, 2.0]


# -- bounded memory --------------------------------------------------------------------------------
def test_the_largest_sample_count_stays_in_bounded_memory():
    rng = np.random.default_rng(0)
    s = Samples("paired", numerator=(3.3 * np.exp(rng.normal(0, 0.05, 100_000))).tolist(),
                denominator=np.exp(rng.normal(0, 0.05, 100_000)).tolist())
    tracemalloc.start()
    v = decide(crit(), s, 0.95, budget_spent=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert v.status == "PASS" and peak < 512 * 2**20
    ci = stats.bootstrap_median(rng.normal(size=100_000), resamples=64)
    assert ci.low < ci.estimate < ci.high


# -- the runner end to end: a provider with drift is INVALID, the pairing decides -----------------------
def test_runner_flags_a_drifting_provider():
    def drifting(n, params):
        i0 = params["_offset"]
        rng = np.random.default_rng(i0)
        return {"numerator": [3.3 * (0.99 ** (i0 + i)) * math.exp(rng.normal(0, 0.02)) for i in range(n)],
                "denominator": [1.0] * n}
    registry = Registry()
    registry.register(Metric("drift", "paired", "x", "drifting", drifting))
    m = measure(crit(metric="drift", min_samples=12), registry)
    assert m.verdict.status == "INVALID" and "not stationary" in m.verdict.reason


def test_a_ratio_of_few_baseline_successes_has_an_infinite_not_nan_bound():
    """Bug found by mutation testing: resamples with no baseline success made the bounds NaN."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning escapes either
        ci = stats.paired_proportions_interval(
            {"both": 0, "baseline_only": 1, "candidate_only": 3, "neither": 2}, "ratio", 0.95)
    assert not math.isnan(ci.low) and not math.isnan(ci.high) and ci.high == math.inf
