"""Small builders for criteria documents in tests."""

import json


def criterion(**overrides):
    base = {"id": "c", "metric": "synthetic.scalar", "unit": "x", "comparator": ">=",
            "threshold": 1.0, "description": "test criterion"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def document(*criteria, **top):
    return {"format": "ryot.criteria", "format_version": 1, "name": "test",
            "criteria": list(criteria) or [criterion()], **top}


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


# PASS, FAIL, an exact PASS and NOT_APPLICABLE: `ryot accept` exits 1 on these
MIXED = document(
    criterion(id="fast", metric="synthetic.ratio", comparator=">=", threshold=3.0,
              params={"true_ratio": 4.0, "noise": 0.05}, expected_max=10),
    criterion(id="slow", metric="synthetic.ratio", comparator=">=", threshold=3.0,
              params={"true_ratio": 2.0, "noise": 0.05}),
    criterion(id="err", metric="synthetic.exact", comparator="<=", threshold=0.05,
              params={"value": 0.01}),
    criterion(id="na", metric="synthetic.not_applicable", params={"reason": "needs a GPU"}),
)

# the origin's legacy criteria file, every key it had (what `ryot criteria migrate` reads)
LEGACY = {
    "speedup_metrics": {"training_speedup_min": 3.0, "training_speedup_max": 6.0,
                        "ttft_speedup_min": 2.5, "ttft_speedup_max": 3.5,
                        "throughput_min_tokens_per_sec": 40, "throughput_max_tokens_per_sec": 60},
    "accuracy_metrics": {"baseline_accuracy_threshold": 0.99, "top1_accuracy_min": 0.75,
                         "top5_accuracy_min": 0.92, "convergence_divergence_max": 0.05},
    "memory_metrics": {"memory_reduction_min": 0.4, "memory_stability_threshold": 0.05,
                       "inference_token_latency_max_ms": 50, "ttft_max_ms": 200},
    "general_metrics": {"test_coverage_min": 0.8, "gpu_utilization_avg_min": 0.8,
                        "no_oom_requirement": True, "no_nan_inf_requirement": True},
}
