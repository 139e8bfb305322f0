"""scripts/gpu_check.py runs every kernel (under TRITON_INTERPRET=1 here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
