"""`ryot accept` end to end on synthetic criteria."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from ryot.cli import main
from ryot.infra.schemas import validator
from tests.verification.helpers import criterion, document, write


def test_accept_writes_the_four_outputs(mixed_run):
    code, out = mixed_run
    assert code == 1  # one FAIL
    assert sorted(p.name for p in out.iterdir()) == [".ryot.lock", "junit.xml", "plot.png",
                                                     "report.json", "report.md"]
    report = json.loads((out / "report.json").read_text())
    assert validator("report").is_valid(report)
    statuses = {r["id"]: r["status"] for r in report["results"]}
    assert statuses == {"fast": "PASS", "slow": "FAIL", "err": "PASS", "na": "NOT_APPLICABLE"}
    fast = next(r for r in report["results"] if r["id"] == "fast")
    assert len(fast["samples"]["numerator"]) == fast["statistics"]["n"] >= 10
    assert report["environment"]["torch"] and report["environment"]["hardware"]["cores"] >= 1
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert "| ✅ | `fast`" in md and "**FAIL**" in md
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests") == "4" and suite.get("failures") == "1"
            and suite.get("skipped") == "1")


@pytest.mark.parametrize("crit, code", [
    (criterion(metric="synthetic.exact", params={"value": 2.0}), 0),
    (criterion(metric="synthetic.exact", params={"value": 0.5}), 1),
    (criterion(metric="synthetic.error"), 3),
    (criterion(metric="synthetic.cold", params={"value": 5.0}), 3),
    (criterion(metric="synthetic.not_applicable"), 0),
])
def test_exit_codes(tmp_path, crit, code):
    path = write(tmp_path / "c.json", document(crit))
    assert main(["accept", "--criteria", str(path), "--out", str(tmp_path / "o")]) == code


def test_quick_reduces_the_budget(tmp_path):
    c = criterion(metric="synthetic.ratio", threshold=3.0,
                  params={"true_ratio": 3.0, "noise": 0.15}, min_samples=10, max_samples=80)
    path = write(tmp_path / "c.json", document(c))
    main(["accept", "--criteria", str(path), "--out", str(tmp_path / "o"), "--quick"])
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["quick"] and report["results"][0]["statistics"]["n"] <= 20


def test_accept_subprocess_bad_input_has_no_traceback(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "ryot.criteria", "format_version": 1, "criteria": [{"id": 3}]}')
    proc = subprocess.run([sys.executable, "-m", "ryot.cli", "accept", "--criteria", str(path),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "/criteria/0" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_a_criteria_file_can_bring_its_own_workload(tmp_path):
    doc = document(
        criterion(id="own", metric="user.name_length", comparator=">=", threshold=9,
                  provider="tests.verification.user_metrics:workload_name", min_samples=6,
                  max_samples=6),
        criterion(id="divergence", metric="training.convergence_divergence", comparator="<=",
                  threshold=1.0, unit="ratio"),
        workload="tests.verification.user_metrics:tiny_workload")
    path = write(tmp_path / "c.json", doc)
    assert main(["accept", "--criteria", str(path), "--out", str(tmp_path / "o")]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert [r["status"] for r in report["results"]] == ["PASS", "PASS"]
