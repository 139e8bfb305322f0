"""`ryot compare` of two reports `ryot accept` wrote."""

import copy

from ryot.cli import main
from tests.verification.helpers import MIXED, write


def test_compare_shows_changes(mixed_run, tmp_path, capsys):
    _, out = mixed_run
    faster = copy.deepcopy(MIXED)
    faster["criteria"][1]["params"]["true_ratio"] = 4.0  # "slow" now passes
    crit = write(tmp_path / "faster.json", faster)
    assert main(["accept", "--criteria", str(crit), "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    assert main(["compare", str(out / "report.json"), str(tmp_path / "b" / "report.json")]) == 0
    text = capsys.readouterr().out
    assert "FAIL → PASS" in text and "slow" in text
