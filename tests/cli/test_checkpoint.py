"""`ryot checkpoint check`: exit 0 for sealed metadata, 2 for an edited file."""

import subprocess
import sys

import pytest

from tests.tiny_models import orchestrator_with_history


@pytest.fixture
def orch():
    return orchestrator_with_history()


def test_cli_checkpoint_check_exit_codes(orch, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    orch.save_checkpoint_metadata(good)
    bad.write_text(good.read_text().replace('"epoch": 3', '"epoch": 4'))
    ok = subprocess.run([sys.executable, "-m", "ryot.cli", "checkpoint", "check", str(good)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "valid" in ok.stdout
    ko = subprocess.run([sys.executable, "-m", "ryot.cli", "checkpoint", "check", str(bad)],
                        capture_output=True, text=True)
    assert ko.returncode == 2
    assert "sha256 mismatch" in ko.stderr and "Traceback" not in ko.stderr
