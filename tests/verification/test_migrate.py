import json
from pathlib import Path

import pytest

from ryot.cli import main
from ryot.verification.criteria import load_criteria, parse_criteria
from ryot.verification.migrate import LEGACY_MAP, migrate

ROOT = Path(__file__).resolve().parents[2]
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


def test_cli_migrate_writes_a_file_that_checks(tmp_path, capsys):
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps({**LEGACY, "extra": {"mystery_min": 1}}))
    out = tmp_path / "new.json"
    assert main(["criteria", "migrate", str(legacy), "-o", str(out)]) == 0
    assert "not mapped: /extra/mystery_min" in capsys.readouterr().err
    assert main(["criteria", "check", str(out)]) == 0


def test_cli_migrate_prints_to_stdout_by_default(tmp_path, capsys):
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps(LEGACY))
    assert main(["criteria", "migrate", str(legacy)]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "ryot.criteria"


@pytest.mark.parametrize("content, fragment", [
    ("[1, 2]", "a legacy criteria file is an object"),
    ('{"speedup_metrics": 3}', "at /speedup_metrics: expected a section object"),
    ('{"format": "ryot.criteria", "criteria": []}', "already in the current format"),
    ("{nope", "line 1, column 2"),
])
def test_cli_migrate_bad_input_is_exit_2(tmp_path, capsys, content, fragment):
    path = tmp_path / "legacy.json"
    path.write_text(content)
    assert main(["criteria", "migrate", str(path)]) == 2
    assert fragment in capsys.readouterr().err


def test_the_default_success_criteria_carry_the_origin_thresholds():
    criteria = load_criteria(ROOT / "success_criteria.json")
    assert len(criteria.criteria) == 16
    by_id = {c.id: c for c in criteria.criteria}
    assert by_id["training_speedup"].threshold == 3.0 and by_id["ttft"].threshold == 200
    assert by_id["overhead_gate"].threshold == 0.3
    migrated, _ = migrate(LEGACY)
    for c in migrated["criteria"]:
        assert by_id[c["id"]].threshold == c["threshold"]
