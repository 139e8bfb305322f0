"""`ryot checkpoint check`: exit 0 for sealed metadata, 2 for an edited file."""

import subprocess
import sys

import pytest

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    KernelConfig,
    OptimizationOrchestrator,
    RLVRConfig,
)


@pytest.fixture
def orch():
    o = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(48, 4),
                                 RLVRConfig(4, 0.9, 100))
    o.validate_safety_gates({"loss": 2.0, "grad_norm": 0.1, "compression_error": 0.2})
    o.adapt_parameters({"compression_error": 0.045})
    o.snapshot_configuration(3, 300)
    return o


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
