"""Bad input to every command: a clear message, exit code 2, no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from ryot.cli import main

CHEAP = str(Path(__file__).resolve().parents[2] / "examples" / "cheap_criteria.json")


@pytest.mark.parametrize("argv, fragment", [
    (["bench", "kv", "--steady-allocator"],
     "--steady-allocator applies to `ryot bench compression` only"),
    (["overhead", "--preset", "huge"], "invalid choice: 'huge'"),
    (["train", "--mode", "fast"], "invalid choice: 'fast'"),
    (["train", "--n-embd", "30", "--n-head", "4"], "n_embd=30 must be a multiple of n_head=4"),
    (["train", "--steps", "0"], "TrainConfig.steps must be an int >= 1"),
    (["train", "--activation-budget-mb", "-1"],
     "activation_budget_mb must be None or a finite number of MiB >= 0"),
    (["train", "--activation-budget-mb", "nan"],
     "activation_budget_mb must be None or a finite number of MiB >= 0"),
    (["train", "--activation-budget-mb", "lots"],
     "--activation-budget-mb: invalid float value: 'lots'"),
    (["accept", "--criteria", "/nonexistent/criteria.json"],
     "/nonexistent/criteria.json: cannot read"),
    (["accept", "--criteria", CHEAP, "--out", "/proc/ryot-out"],
     "--out /proc/ryot-out: cannot create"),
    (["criteria", "check", "--import", "/nonexistent/c.json"], "/nonexistent/c.json: cannot read"),
    (["criteria", "migrate", "/nonexistent/legacy.json"], "/nonexistent/legacy.json: cannot read"),
    (["nonsense"], "invalid choice: 'nonsense'"),
])
def test_exit_2_with_a_message(argv, fragment, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    assert fragment in capsys.readouterr().err


def test_compare_with_an_unreadable_report(tmp_path, capsys):
    bad = tmp_path / "a.json"
    bad.write_text("{")
    assert main(["compare", str(bad), str(bad)]) == 2
    assert "invalid JSON at line 1" in capsys.readouterr().err


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "ryot.cli", "--help"], capture_output=True,
                         text=True).stdout
    for command in ("accept", "verify", "compare", "criteria", "overhead", "train", "bench",
                    "checkpoint"):
        assert command in out
