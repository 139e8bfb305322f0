"""examples/hf_transformers runs from a fresh clone: a user's own model gated end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ryot.cli import main

pytest.importorskip("transformers", reason="the examples extra is not installed "
                                           "(pip install -e .[examples])")

CRITERIA = Path(__file__).resolve().parent.parent / "examples" / "hf_transformers" / "criteria.json"


def test_the_guides_command_gates_the_example(tmp_path, monkeypatch):
    """docs/guide.md: ``ryot accept --criteria examples/hf_transformers/criteria.json --quick``."""
    assert "ryot accept --criteria examples/hf_transformers/criteria.json --quick" in (
        CRITERIA.parent.parent.parent / "docs" / "guide.md").read_text()
    monkeypatch.chdir(CRITERIA.parent.parent.parent)  # the repository root, as a user runs it
    out = tmp_path / "out"
    code = main(["accept", "--criteria", str(CRITERIA), "--quick", "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    results = {r["id"]: r for r in report["results"]}
    assert code == report["summary"]["exit_code"]
    speed = results["gpt2_train_speedup"]
    assert speed["status"] != "ERROR", speed["reason"]
    assert speed["samples"]["kind"] == "paired" and len(speed["samples"]["numerator"]) >= 6
    gap = results["gpt2_loss_agreement"]
    assert gap["status"] == "PASS" and gap["suspicious"] is None  # bf16 really ran
    assert main(["verify", str(out / "report.json"), "--criteria", str(CRITERIA)]) == 0


def test_a_bf16_arm_that_ran_in_fp32_is_flagged(monkeypatch):
    from examples.hf_transformers import gpt2_bench

    real = gpt2_bench.Arm.__init__

    def fp32_only(self, params, attention, bf16):
        real(self, params, attention, bf16=False)  # the bug: autocast never enabled

    monkeypatch.setattr(gpt2_bench.Arm, "__init__", fp32_only)
    report = __import__("ryot").evaluate(
        {**json.loads(CRITERIA.read_text()),
         "criteria": [json.loads(CRITERIA.read_text())["criteria"][1]]})
    result = report["results"][0]
    assert result["suspicious"] and "below expected_min" in result["suspicious"]
