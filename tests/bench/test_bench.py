"""The benchmark commands run and keep their raw samples (their figures live in docs/benchmarks.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ryot import bench
from ryot.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name, options", [
    ("orchestrator", {"samples": 3}),
    ("compression", {"megabytes": 1, "rounds": 3}),
    ("kv", {"tokens": (300,), "rounds": 3}),
    ("tune", {"shape": (64, 64, 64), "cold_samples": 1}),
    ("decisions", {"repetitions": 4, "scenarios": ("independent CV 5%", "drift falls 0.5%/trial"),
                   "offsets": (-0.2, 0.2), "hints": False}),
])
def test_each_benchmark_writes_raw_samples(tmp_path, name, options):
    result, path = bench.run(name, tmp_path, **options)
    stored = json.loads(path.read_text())
    assert stored["benchmark"] == name and stored["hardware"]["cores"] >= 1
    for row in stored["rows"]:
        if row.get("median") is None:
            assert row["reason"]
        elif row["unit"] not in ("ratio", "fraction") or "samples" in row:
            assert row["samples"] and row["ci95"][0] <= row["median"] <= row["ci95"][1]
    assert "median" in bench.format_rows(result) or "wrong" in bench.format_rows(result)


def test_cli_bench_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bench", "nonsense"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.interpreter
def test_gpu_check_script_smoke_runs_every_kernel(tmp_path):
    out = tmp_path / "gc.json"
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--smoke",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert {r["kernel"] for r in rows} >= {"matmul", "quantize int8", "quantize int4",
                                           "decode attention int8", "decode attention int4"}
    assert all(r.get("codes_identical_to_torch", True) for r in rows)
