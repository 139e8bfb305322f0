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


def test_both_memory_criteria_share_one_set_of_isolated_runs(monkeypatch):
    """memory.stability reads the optimized runs memory.reduction measured (the runs each sample
    came from are named), then measures only the ones it still needs."""
    made = []

    def fake_run(p, mode):
        made.append(mode)
        return {"before": 10, "rss": [100] * 10, "peak": 200 if mode == "baseline" else 120,
                "file_before": 0, "file_after": 0, "files": [0] * 10}

    monkeypatch.setattr(origin, "_memory", fake_run)
    monkeypatch.setattr(origin, "_memory_runs", {})
    reduction = origin.memory_reduction(3, Q)
    assert sorted(made) == ["baseline"] * 3 + ["optimized"] * 3
    assert reduction.values == [1 - 110 / 190] * 3
    assert [p["runs"] for p in reduction.details["pairs"]] == [
        [f"baseline-{i}", f"optimized-{i}"] for i in range(3)]
    stability = origin.memory_stability(4, Q)
    assert made.count("optimized") == 4  # three reused, one new
    assert stability.details["runs"] == [f"optimized-{i}" for i in range(4)]
    more = origin.memory_reduction(1, {**Q, "_offset": 3})  # the runs after the first three
    assert more.details["pairs"][0]["runs"] == ["baseline-3", "optimized-3"]
    assert made.count("optimized") == 4


def test_extended_samples_keep_every_batch_of_per_sample_details():
    from ryot.measure.samples import Samples

    s = Samples("scalar", values=[1.0], details={"pairs": [{"a": 1}], "note": "x"})
    s.extend(Samples("scalar", values=[2.0], details={"pairs": [{"a": 2}], "note": "y"}))
    assert s.details == {"pairs": [{"a": 1}, {"a": 2}], "note": "y"}
