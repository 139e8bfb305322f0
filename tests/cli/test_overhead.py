"""`ryot overhead`: an analysis that reports numbers."""

import json

from ryot.cli import main
from ryot.infra.schemas import validator


def test_ryot_overhead_reports_numbers_and_exits_0(tmp_path):
    """An analysis, not a gate: exit 0 whatever the fraction (the overhead_gate criterion
    judges)."""
    assert main(["overhead", "--preset", "quick", "--out", str(tmp_path)]) == 0
    analysis = json.loads((tmp_path / "overhead_analysis.json").read_text())
    assert validator("overhead_analysis").is_valid(analysis)
    markdown = (tmp_path / "overhead_analysis.md").read_text()
    assert "total overhead" in markdown and "30%" not in markdown and "0.3)" not in markdown


def test_ryot_overhead_bad_out_is_exit_2_before_measuring(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["overhead", "--out", str(blocker / "sub")]) == 2
    assert "--out" in capsys.readouterr().err
