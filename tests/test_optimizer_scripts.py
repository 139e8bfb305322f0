"""scripts/optimizer_step_bench.py, optimizer_step_parts.py and adamw8bit_loop.py: bad arguments
are a usage error naming the argument (exit 2, no traceback), before anything is measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.mark.parametrize("script, args, message", [
    ("optimizer_step_bench.py", ["--rounds", "0", "--out", "{tmp}/a.json"], "--rounds"),
    ("optimizer_step_bench.py", ["--rounds", "many", "--out", "{tmp}/a.json"], "--rounds"),
    ("optimizer_step_bench.py", ["--out", "{tmp}/missing/a.json"], "does not exist"),
    ("optimizer_step_parts.py", ["--rounds", "-3", "--out", "{tmp}/a.json"], "--rounds"),
    ("optimizer_step_parts.py", [], "--out"),
    ("adamw8bit_loop.py", ["--steps", "0"], "--steps"),
])
def test_bad_arguments_are_a_usage_error(tmp_path, script, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    proc = subprocess.run([sys.executable, str(SCRIPTS / script), *args], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not any(tmp_path.iterdir())  # nothing written
