"""``ryot criteria migrate``: the origin's flat ``_min``/``_max`` file to the current format.

Each legacy key maps to one registered metric. A speedup's ``_max`` does not fail a run: it
becomes ``expected_max``, which flags a result that is too good to be true as SUSPICIOUS.
"""

from __future__ import annotations

import math
from typing import Any

from ryot.infra.errors import CriteriaError
from ryot.infra.schemas import excerpt

__all__ = ["LEGACY_MAP", "REQUIRES", "migrate"]

# legacy key -> (criterion id, metric, unit, comparator, field, description)
LEGACY_MAP: dict[str, tuple[str, str, str, str, str, str]] = {
    "training_speedup_min": ("training_speedup", "training.speedup", "x", ">=", "threshold",
                             "optimized ÷ baseline training tokens/s "
                             "(baseline: fp32 eager, plain attention)"),
    "training_speedup_max": ("training_speedup", "training.speedup", "x", ">=", "expected_max", ""),
    "ttft_speedup_min": ("ttft_speedup", "inference.ttft_speedup", "x", ">=", "threshold",
                         "baseline ÷ optimized time to first token"),
    "ttft_speedup_max": ("ttft_speedup", "inference.ttft_speedup", "x", ">=", "expected_max", ""),
    "throughput_min_tokens_per_sec": ("decode_throughput", "inference.decode_throughput",
                                      "tokens/s", ">=", "threshold",
                                      "decode throughput of the optimized path"),
    "throughput_max_tokens_per_sec": ("decode_throughput", "inference.decode_throughput",
                                      "tokens/s", ">=", "expected_max", ""),
    "baseline_accuracy_threshold": ("accuracy_retention", "accuracy.retention", "ratio", ">=",
                                    "threshold", "optimized ÷ baseline held-out top-1 accuracy"),
    "top1_accuracy_min": ("top1_accuracy", "accuracy.top1", "fraction", ">=", "threshold",
                          "held-out next-token top-1 accuracy of the optimized model"),
    "top5_accuracy_min": ("top5_accuracy", "accuracy.top5", "fraction", ">=", "threshold",
                          "held-out next-token top-5 accuracy of the optimized model"),
    "convergence_divergence_max": ("convergence_divergence", "training.convergence_divergence",
                                   "ratio", "<=", "threshold",
                                   "relative gap of optimized vs baseline loss curves "
                                   "at equal steps"),
    "memory_reduction_min": ("memory_reduction", "memory.reduction", "fraction", ">=", "threshold",
                             "1 − optimized ÷ baseline peak memory, "
                             "each run measured in isolation"),
    "memory_stability_threshold": ("memory_stability", "memory.stability", "ratio", "<=",
                                   "threshold", "std ÷ mean of per-step memory"),
    "inference_token_latency_max_ms": ("token_latency", "inference.token_latency_ms", "ms", "<=",
                                       "threshold",
                                       "per-token decode latency of the optimized path"),
    "ttft_max_ms": ("ttft", "inference.ttft_ms", "ms", "<=", "threshold",
                    "time to first token of the optimized path"),
    "test_coverage_min": ("test_coverage", "quality.test_coverage", "fraction", ">=", "threshold",
                          "pytest-cov line coverage of ryot/"),
    "gpu_utilization_avg_min": ("gpu_utilization", "gpu.utilization", "fraction", ">=", "threshold",
                                "mean GPU utilization during training (NVML)"),
    "no_oom_requirement": ("no_oom", "run.oom_count", "count", "<=", "flag",
                           "no out-of-memory event across all runs"),
    "no_nan_inf_requirement": ("no_nan_inf", "run.nonfinite_count", "count", "<=", "flag",
                               "no NaN/Inf loss or gradient across all runs"),
}
REQUIRES = {"gpu_utilization": ["cuda", "nvml"]}


def _same(a: Any, b: Any) -> bool:
    return (isinstance(a, bool), a) == (isinstance(b, bool), b)


def _flatten(doc: Any, source: str) -> list[tuple[str, str, Any]]:
    """(section, key, value) of every legacy key; a mapped key given in two sections must say
    the same (it is then kept once)."""
    if not isinstance(doc, dict):
        raise CriteriaError(f"a legacy criteria file is an object of sections, got "
                            f"{type(doc).__name__}", source=source)
    if doc.get("format") == "ryot.criteria":
        raise CriteriaError("already in the current format (\"format\": \"ryot.criteria\")",
                            source=source)
    flat, mapped = [], {}
    for section, body in doc.items():
        if not isinstance(body, dict):
            raise CriteriaError(f"expected a section object of thresholds, got "
                                f"{type(body).__name__}", source=source, pointer=f"/{section}")
        for key, value in body.items():
            if key in mapped:
                first, before = mapped[key]
                if not _same(before, value):
                    raise CriteriaError(f"{key} is {value!r} here but {before!r} at "
                                        f"/{first}/{key}: give it once (or the same value in "
                                        "both sections)", source=source,
                                        pointer=f"/{section}/{key}")
                continue
            if key in LEGACY_MAP:
                mapped[key] = (section, value)
            flat.append((section, key, value))
    return flat


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond the float range
        return False


def _check_order(criteria: dict[str, dict], origin: dict[tuple[str, str], str],
                 source: str) -> None:
    """A ``_max`` below its ``_min`` would flag every passing result as SUSPICIOUS."""
    for cid, entry in criteria.items():
        if "threshold" in entry and entry.get("expected_max", math.inf) < entry["threshold"]:
            low, high = origin[(cid, "threshold")], origin[(cid, "expected_max")]
            raise CriteriaError(f"{high.rsplit('/', 1)[1]} ({entry['expected_max']}) is below "
                                f"{low.rsplit('/', 1)[1]} ({entry['threshold']}) at {low}: the "
                                "upper expectation must not be below the threshold",
                                source=source, pointer=high)


def migrate(doc: Any, source: str = "legacy file") -> tuple[dict, list[str]]:
    """The current-format document, and the legacy keys (with the reason) left unmapped."""
    criteria: dict[str, dict] = {}
    origin: dict[tuple[str, str], str] = {}  # (criterion id, field) -> the legacy key's pointer
    unmapped = []
    for section, key, value in _flatten(doc, source):
        if key not in LEGACY_MAP:
            unmapped.append(f"/{section}/{key}: no metric is registered for this key")
            continue
        cid, metric, unit, comparator, field, description = LEGACY_MAP[key]
        if field == "flag":
            if value is not True:
                unmapped.append(f"/{section}/{key}: only `true` (the requirement holds) "
                                "maps to a criterion")
                continue
            value, field = 0, "threshold"
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            unmapped.append(f"/{section}/{key}: expected a number, got {value!r}")
            continue
        elif not _finite(value):  # 1e999 or a 400-digit integer given as a dict
            raise CriteriaError(f"{excerpt(str(value), 40)} is not a finite number within the "
                                "range of a float", source=source, pointer=f"/{section}/{key}")
        entry = criteria.setdefault(cid, {"id": cid, "metric": metric, "unit": unit,
                                          "comparator": comparator, "description": description})
        if description:
            entry["description"] = description
        entry[field] = value
        origin[(cid, field)] = f"/{section}/{key}"
        if cid in REQUIRES:
            entry["requires"] = REQUIRES[cid]
    _check_order(criteria, origin, source)
    for cid, entry in list(criteria.items()):
        if "threshold" not in entry:
            unmapped.append(f"{cid}: only an upper expectation was given, no threshold; dropped")
            del criteria[cid]
    if not criteria:
        raise CriteriaError("no key maps to a criterion, so there is nothing to write ("
                            + (excerpt("; ".join(unmapped), 400) or "the file has no keys") + ")",
                            source=source)
    migrated = {"format": "ryot.criteria", "format_version": 1,
                "name": "migrated from the origin's success_criteria.json",
                "criteria": list(criteria.values())}
    _check(migrated, source)
    return migrated, unmapped


def _check(migrated: dict, source: str) -> None:
    """The result must itself be a valid criteria file (e.g. thresholds within the schema's
    range); nothing imports."""
    from ryot.verification.criteria import parse_criteria

    try:
        parse_criteria(migrated, f"{source} (as migrated)", import_references=False)
    except CriteriaError as exc:
        raise CriteriaError(f"{exc.message}; fix the legacy value it came from",
                            source=exc.source, pointer=exc.pointer) from None
