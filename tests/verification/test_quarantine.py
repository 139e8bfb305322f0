"""Quarantine: measured and reported, not setting the exit code until its day; counted again
(and said) after it; the horizon; verify recomputes the rule. The clock is frozen."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date

import pytest

import ryot
from ryot.cli import main
from ryot.infra.errors import CriteriaError
from ryot.infra.jsonio import seal
from ryot.verification import quarantine
from ryot.verification import report as report_module
from ryot.verification.criteria import parse_criteria
from ryot.verification.verify import verify_report
from ryot.verification.writers import render_all


def _criteria(until="2027-01-31", **file_fields):
    return {"format": "ryot.criteria", "format_version": 1, "name": "q", **file_fields,
            "criteria": [
                {"id": "flaky", "metric": "synthetic.scalar", "unit": "x", "comparator": ">=",
                 "threshold": 1.0, "description": "fails", "min_samples": 8, "max_samples": 8,
                 "params": {"value": 0.5, "noise": 0.01},
                 "quarantine": {"reason": "noisy runner, issue #7", "until": until}},
                {"id": "steady", "metric": "synthetic.scalar", "unit": "x", "comparator": ">=",
                 "threshold": 1.0, "description": "passes", "min_samples": 8,
                 "max_samples": 8, "params": {"value": 2.0, "noise": 0.01}}]}


@pytest.fixture
def frozen(monkeypatch):
    def at(day: str):
        monkeypatch.setattr(quarantine, "today", lambda: date.fromisoformat(day))
        monkeypatch.setattr(report_module, "now", lambda: f"{day}T23:59:00+00:00")
    return at


def test_on_its_last_day_a_quarantined_fail_is_reported_but_not_counted(frozen):
    frozen("2027-01-31")
    report = ryot.evaluate(_criteria())
    flaky = report["results"][0]
    assert flaky["status"] == "FAIL" and flaky["quarantined"] is True
    assert report["summary"]["counts"]["FAIL"] == 1 and report["summary"]["exit_code"] == 0
    assert "quarantined" not in report["results"][1]
    assert verify_report(report) == []
    files, notes = render_all(report)
    assert "**FAIL** QUARANTINED" in files["report.md"].decode()
    assert any("QUARANTINED until 2027-01-31" in n for n in notes)
    suite = ET.fromstring(files["junit.xml"]).find("testsuite")
    assert suite.get("failures") == "0" and suite.get("skipped") == "1"


def test_the_day_after_it_counts_again_and_the_run_says_so(frozen):
    frozen("2027-02-01")
    report = ryot.evaluate(_criteria())
    assert report["results"][0]["quarantined"] is False and report["summary"]["exit_code"] == 1
    assert verify_report(report) == []
    _, notes = render_all(report)
    assert any("quarantine of flaky ended on 2027-01-31: it counts again" in n for n in notes)


def test_a_quarantine_beyond_the_horizon_is_refused_with_its_pointer(frozen):
    frozen("2026-12-03")
    with pytest.raises(CriteriaError) as caught:
        parse_criteria(_criteria(until="2027-03-04"), "q.json")  # 91 days
    assert caught.value.pointer == "/criteria/0/quarantine/until"
    assert "more than 90 days" in str(caught.value)
    parse_criteria(_criteria(until="2027-03-03"), "q.json")  # 90 days: allowed
    parse_criteria(_criteria(until="2027-06-01", quarantine_horizon_days=200), "q.json")
    with pytest.raises(CriteriaError, match="expected a date"):
        parse_criteria(_criteria(until="2027-02-30"), "q.json")


def test_a_quarantine_without_a_reason_is_exit_2(tmp_path, capsys, frozen):
    frozen("2026-12-03")
    doc = _criteria()
    del doc["criteria"][0]["quarantine"]["reason"]
    (tmp_path / "c.json").write_text(json.dumps(doc))
    assert main(["criteria", "check", str(tmp_path / "c.json")]) == 2
    assert "at /criteria/0/quarantine: 'reason' is a required property" in capsys.readouterr().err


def _resealed(report, flip_to):
    report = json.loads(json.dumps(report))
    entry = dict(report["results"][0], quarantined=flip_to)
    entry.pop("sha256")
    report["results"][0] = seal(entry)
    report["summary"]["exit_code"] = 0
    report.pop("sha256")
    return seal(report)


def test_verify_recomputes_the_rule_from_the_run_day(frozen):
    frozen("2027-02-01")  # over: a report claiming it was in force (and exit 0) is caught
    forged = _resealed(ryot.evaluate(_criteria()), True)
    problems = [str(m) for m in verify_report(forged)]
    assert any("quarantined is True, but on 2027-02-01 a quarantine until 2027-01-31 is over"
               in p for p in problems), problems
    frozen("2026-12-03")
    far = ryot.evaluate(_criteria(until="2027-03-03"))
    far = json.loads(json.dumps(far))
    far["started_at"] = "2026-11-01T00:00:00+00:00"  # the run day moves: the horizon is exceeded
    far.pop("sha256")
    problems = [str(m) for m in verify_report(seal(far))]
    assert any("reaches more than 90 days past the run (2026-11-01)" in p for p in problems)


def test_verify_against_the_criteria_file_refuses_a_quarantine_it_does_not_have(frozen, tmp_path):
    from ryot.verification.criteria import load_criteria

    frozen("2027-01-15")
    doc = _criteria()
    del doc["criteria"][0]["quarantine"]
    (tmp_path / "c.json").write_text(json.dumps(doc))
    report = ryot.evaluate(str(tmp_path / "c.json"))
    assert report["summary"]["exit_code"] == 1
    forged = json.loads(json.dumps(report))  # claim a quarantine, turning the FAIL into exit 0
    entry = forged["results"][0]
    entry["criterion"]["quarantine"] = {"reason": "x", "until": "2027-01-31"}
    entry["quarantined"] = True
    entry.pop("sha256")
    forged["results"][0] = seal(entry)
    forged["summary"]["exit_code"] = 0
    forged["criteria_file"]["quarantine_horizon_days"] = 90
    forged.pop("sha256")
    forged = seal(forged)
    assert verify_report(forged) == []  # consistent in itself (an unkeyed seal can be redone)
    problems = [str(m) for m in verify_report(forged, criteria=load_criteria(tmp_path / "c.json"))]
    assert any("criterion.quarantine is" in p and "says nothing" in p for p in problems), problems
