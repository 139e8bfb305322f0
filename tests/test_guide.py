"""docs/guide.md's commands work as written: each ```bash line is run from the repository root
(with results/ redirected into a temporary folder) and must exit as the guide says."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide.md"
# installation lines (the test environment is installed already), and the Hugging Face example,
# which tests/test_example_hf_transformers.py runs with exactly the guide's command
SKIP = ("pip install", "ryot accept --criteria examples/hf_transformers/")


def guide_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")
            and not line.startswith(SKIP)]


def test_the_guide_has_commands_for_every_step():
    starts = {cmd.split()[0] + " " + cmd.split()[1] for cmd in guide_commands()}
    assert {"ryot criteria", "ryot accept", "ryot verify", "ryot compare", "pytest examples/own_workload"} <= starts


def test_every_guide_command_runs(tmp_path):
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for command in guide_commands():
        argv = [arg.replace("results/", f"{tmp_path}/") for arg in shlex.split(command)]
        if argv[0] == "pytest":
            argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *argv[1:]]
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
