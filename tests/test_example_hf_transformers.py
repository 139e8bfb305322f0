"""examples/hf_transformers runs from a fresh clone: a user's own model gated end to end."""

from __future__ import annotations

import json
import os
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


def test_a_bf16_arm_that_ran_in_fp32_is_flagged(tmp_path, monkeypatch):
    # the bug, planted where the provider runs (ryot's worker process): autocast never enabled
    (tmp_path / "fp32_only_bench.py").write_text(
        "from examples.hf_transformers import gpt2_bench\n"
        "real = gpt2_bench.Arm.__init__\n\n"
        "def fp32_only(self, params, attention, bf16):\n"
        "    real(self, params, attention, bf16=False)\n\n"
        "gpt2_bench.Arm.__init__ = fp32_only\n"
        "train_step_speedup = gpt2_bench.train_step_speedup\n"
        "first_step_loss_gap = gpt2_bench.first_step_loss_gap\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # where ryot locates it ...
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(  # ... and where the worker imports it
        [str(tmp_path), str(CRITERIA.parent.parent.parent), os.environ.get("PYTHONPATH", "")]))
    doc = json.loads(CRITERIA.read_text())
    criterion = {**doc["criteria"][1], "provider": doc["criteria"][1]["provider"].replace(
        "examples.hf_transformers.gpt2_bench", "fp32_only_bench")}
    report = __import__("ryot").evaluate({**doc, "criteria": [criterion]})
    result = report["results"][0]
    assert result["suspicious"] and "below expected_min" in result["suspicious"]
