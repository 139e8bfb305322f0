from pathlib import Path

import pytest

from ryot.infra.errors import CriteriaError
from ryot.verification.criteria import load_criteria, parse_criteria
from ryot.verification.migrate import LEGACY_MAP, migrate
from tests.verification.helpers import LEGACY

ROOT = Path(__file__).resolve().parents[2]


def test_every_origin_key_maps_to_a_registered_metric():
    migrated, unmapped = migrate(LEGACY)
    assert unmapped == []
    assert len(migrated["criteria"]) == 15  # three min/max pairs merge
    parse_criteria(migrated, "migrated")  # valid, metrics registered
    by_id = {c["id"]: c for c in migrated["criteria"]}
    assert by_id["training_speedup"] == {**by_id["training_speedup"], "threshold": 3.0,
                                         "expected_max": 6.0, "comparator": ">="}
    assert by_id["no_oom"]["threshold"] == 0 and by_id["no_oom"]["comparator"] == "<="
    assert by_id["gpu_utilization"]["requires"] == ["cuda", "nvml"]
    assert set(LEGACY_MAP) == {k for section in LEGACY.values() for k in section}


def test_unknown_and_odd_keys_are_reported_not_dropped_silently():
    legacy = {"speedup_metrics": {"training_speedup_min": 3.0, "latency_p99_ms": 12},
              "general_metrics": {"no_oom_requirement": False, "top1_accuracy_min": "high"},
              "memory_metrics": {"ttft_speedup_max": 3.5}}
    migrated, unmapped = migrate(legacy)
    text = "\n".join(unmapped)
    assert "/speedup_metrics/latency_p99_ms: no metric is registered" in text
    assert "/general_metrics/no_oom_requirement: only `true`" in text
    assert "/general_metrics/top1_accuracy_min: expected a number" in text
    assert "ttft_speedup: only an upper expectation" in text
    assert [c["id"] for c in migrated["criteria"]] == ["training_speedup"]


def test_the_default_success_criteria_carry_the_origin_thresholds():
    criteria = load_criteria(ROOT / "success_criteria.json")
    assert len(criteria.criteria) == 16
    by_id = {c.id: c for c in criteria.criteria}
    assert by_id["training_speedup"].threshold == 3.0 and by_id["ttft"].threshold == 200
    assert by_id["overhead_gate"].threshold == 0.3
    migrated, _ = migrate(LEGACY)
    for c in migrated["criteria"]:
        assert by_id[c["id"]].threshold == c["threshold"]


def test_one_key_in_two_sections_must_say_the_same():
    legacy = {"speedup_metrics": {"training_speedup_min": 3.0},
              "extra": {"training_speedup_min": 4.0}}
    with pytest.raises(CriteriaError) as info:
        migrate(legacy, "legacy.json")
    assert info.value.pointer == "/extra/training_speedup_min"
    assert info.value.message.startswith("training_speedup_min is 4.0 here but 3.0 at "
                                         "/speedup_metrics/training_speedup_min")
    legacy["extra"]["training_speedup_min"] = 3  # the same value: kept once
    migrated, unmapped = migrate(legacy)
    assert [c["threshold"] for c in migrated["criteria"]] == [3.0] and unmapped == []


def test_a_max_below_its_min_is_refused():
    with pytest.raises(CriteriaError) as info:
        migrate({"s": {"throughput_min_tokens_per_sec": 60, "throughput_max_tokens_per_sec": 40}})
    assert info.value.pointer == "/s/throughput_max_tokens_per_sec"
    assert info.value.message.startswith("throughput_max_tokens_per_sec (40) is below "
                                         "throughput_min_tokens_per_sec (60) at "
                                         "/s/throughput_min_tokens_per_sec")
    migrated, _ = migrate({"s": {"ttft_speedup_min": 2.5, "ttft_speedup_max": 2.5}})  # equal: ok
    assert migrated["criteria"][0]["expected_max"] == 2.5


@pytest.mark.parametrize("value", [10**400, -(10**400), float("inf")])
def test_a_number_beyond_the_float_range_is_refused_not_a_traceback(value):
    with pytest.raises(CriteriaError) as info:
        migrate({"s": {"ttft_max_ms": value}}, "legacy.json")
    assert info.value.pointer == "/s/ttft_max_ms" and "not a finite number" in info.value.message
