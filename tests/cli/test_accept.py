"""`ryot accept`, `verify` and `compare` end to end on synthetic criteria."""

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from jsonschema import Draft202012Validator

from ryot.cli import main
from ryot.infra.schemas import validator
from ryot.verification import report as report_module

from .helpers import criterion, document, write

MIXED = document(
    criterion(id="fast", metric="synthetic.ratio", comparator=">=", threshold=3.0,
              params={"true_ratio": 4.0, "noise": 0.05}, expected_max=10),
    criterion(id="slow", metric="synthetic.ratio", comparator=">=", threshold=3.0,
              params={"true_ratio": 2.0, "noise": 0.05}),
    criterion(id="err", metric="synthetic.exact", comparator="<=", threshold=0.05,
              params={"value": 0.01}),
    criterion(id="na", metric="synthetic.not_applicable", params={"reason": "needs a GPU"}),
)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mixed")
    crit = write(tmp / "criteria.json", MIXED)
    out = tmp / "out"
    code = main(["accept", "--criteria", str(crit), "--out", str(out)])
    return code, out


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
    assert suite.get("tests") == "4" and suite.get("failures") == "1" and suite.get("skipped") == "1"


def test_verify_accepts_the_report(mixed_run, capsys):
    _, out = mixed_run
    assert main(["verify", str(out / "report.json")]) == 0
    assert "consistent" in capsys.readouterr().out


def _tampered(out, tmp_path, edit):
    report = json.loads((out / "report.json").read_text())
    edit(report)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(report))
    return path


@pytest.mark.parametrize("edit, named", [
    (lambda r: r["results"][0]["samples"]["numerator"].__setitem__(0, 99.0), "synthetic.ratio (fast)"),
    (lambda r: r["results"][1].__setitem__("status", "PASS"), "synthetic.ratio (slow)"),
    (lambda r: r["results"][0]["statistics"].__setitem__("ci_low", 3.5), "synthetic.ratio (fast)"),
    (lambda r: r["results"][2]["samples"]["values"].__setitem__(0, 0.001), "synthetic.exact (err)"),
    (lambda r: r["results"][3].__setitem__("reason", "it passed, honest"), "synthetic.not_applicable (na)"),
    (lambda r: r["results"][0].__setitem__("status", "MAYBE"), "synthetic.ratio (fast)"),
    (lambda r: r.__setitem__("quick", True), "report"),
    (lambda r: r["summary"]["counts"].__setitem__("FAIL", 0), "report"),
])
def test_verify_rejects_an_edited_copy_and_names_the_metric(mixed_run, tmp_path, capsys, edit, named):
    _, out = mixed_run
    path = _tampered(out, tmp_path, edit)
    assert main(["verify", str(path)]) == 1
    assert f"MISMATCH {named}" in capsys.readouterr().err


def test_verify_catches_an_edit_even_when_resealed(mixed_run, tmp_path, capsys):
    _, out = mixed_run

    def edit(r):
        r["results"][0]["samples"]["numerator"] = [v * 0.5 for v in r["results"][0]["samples"]["numerator"]]
        r["results"][0] = report_module.seal(r["results"][0])

    assert main(["verify", str(_tampered(out, tmp_path, edit))]) == 1
    err = capsys.readouterr().err
    assert "statistics.estimate" in err or "the samples give FAIL" in err


@pytest.mark.parametrize("content", ["{oops", "[]", '{"format": "something.else"}'])
def test_verify_unreadable_is_exit_2(tmp_path, capsys, content):
    path = tmp_path / "r.json"
    path.write_text(content)
    assert main(["verify", str(path)]) == 2
    assert str(path) in capsys.readouterr().err


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
    c = criterion(metric="synthetic.ratio", threshold=3.0, params={"true_ratio": 3.0, "noise": 0.15},
                  min_samples=10, max_samples=80)
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


def test_report_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(validator("report").schema)
    Draft202012Validator.check_schema(validator("criteria").schema)


def test_a_criteria_file_can_bring_its_own_workload(tmp_path):
    doc = document(
        criterion(id="own", metric="user.name_length", comparator=">=", threshold=9,
                  provider="tests.verification.user_metrics:workload_name", min_samples=6, max_samples=6),
        criterion(id="divergence", metric="training.convergence_divergence", comparator="<=",
                  threshold=1.0, unit="ratio"),
        workload="tests.verification.user_metrics:tiny_workload")
    path = write(tmp_path / "c.json", doc)
    assert main(["accept", "--criteria", str(path), "--out", str(tmp_path / "o")]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert [r["status"] for r in report["results"]] == ["PASS", "PASS"]
