"""The origin metrics' providers measure real runs of the default workload (quick preset)."""

import math

import pytest

from ryot.metrics import origin

Q = {"preset": "quick", "_offset": 0}


def test_paired_speed_metrics_interleave_both_arms():
    for provider in (origin.training_speedup, origin.ttft_speedup):
        s = provider(4, Q)
        assert s.kind == "paired" and len(s.numerator) == len(s.denominator) == 4
        assert all(v > 0 for v in s.numerator + s.denominator)


@pytest.mark.parametrize("provider, low, high", [
    (origin.convergence_divergence, 0.0, 0.5), (origin.nonfinite_count, 0, 0),
    (origin.oom_count, 0, 0),
])
def test_exact_metrics_are_in_plausible_ranges(provider, low, high):
    s = provider(1, Q)
    assert s.kind == "exact" and low <= s.values[0] <= high


def test_accuracies_are_proportions_of_held_out_tokens():
    from ryot.verification.estimates import compute_statistics

    top1, top5 = origin.accuracy_top1(1, Q), origin.accuracy_top5(1, Q)
    assert top1.kind == top5.kind == "proportion"
    assert top1.counts["trials"] == top5.counts["trials"] > 1000
    assert 0.05 <= top1.counts["successes"] / top1.counts["trials"] <= 1.0
    assert top5.counts["successes"] >= top1.counts["successes"]
    s = compute_statistics(top1, 0.95)  # an estimate with a real interval, not an exact value
    assert s.low < s.estimate < s.high


def test_retention_pairs_both_models_on_the_same_tokens():
    s = origin.accuracy_retention(1, Q)
    assert s.kind == "paired_proportions" and s.statistic == "ratio"
    assert s.count == origin.accuracy_top1(1, Q).counts["trials"]
    table = s.counts
    ratio = (table["both"] + table["candidate_only"]) / (table["both"] + table["baseline_only"])
    assert 0.5 <= ratio <= 1.5


@pytest.mark.parametrize("provider", [origin.ttft_ms, origin.token_latency_ms,
                                      origin.decode_throughput])
def test_inference_metrics_are_positive_scalars(provider):
    s = provider(3, Q)
    assert s.kind == "scalar" and len(s.values) == 3 and all(v > 0 and math.isfinite(v)
                                                             for v in s.values)


def test_memory_is_measured_in_isolated_processes():
    s = origin.memory_reduction(2, Q)
    assert s.kind == "scalar" and len(s.values) == 2
    for pair in s.details["pairs"]:
        assert pair["baseline_added_bytes"] > 0 and pair["optimized_added_bytes"] > 0
    assert origin.memory_stability(1, Q).values[0] >= 0
