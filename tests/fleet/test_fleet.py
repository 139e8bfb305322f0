"""`ryot fleet run` with the local executor (real processes through submitit), the merge and its
verification, and the runner's handling of failed and unfinished jobs (injected through the
executor interface). The Slurm tests are in test_fleet_slurm.py (nox -s fleet)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from ryot.cli import main
from ryot.fleet import merge
from ryot.fleet.executors import FINISHED, RUNNING, Outcome
from ryot.fleet.render import render_fleet_markdown
from ryot.fleet.run import run_fleet
from ryot.fleet.verify import verify_fleet
from ryot.history.simulated import machine, simulated_report
from ryot.infra.jsonio import seal
from tests.fleet.conftest import criterion, sleepy, write_criteria, write_fleet


def test_two_local_kinds_pass_and_merge_into_a_verified_fleet_report(workdir, capsys):
    crit = write_criteria(workdir, criterion("fast", 2.0), criterion("small", 0.5, "<="),
                          {"id": "gpu", "metric": "synthetic.not_applicable", "unit": "x",
                           "comparator": ">=", "threshold": 0, "description": "n/a"})
    fleet = write_fleet(workdir, {"name": "kind-a", "executor": "local"},
                        {"name": "kind-b", "executor": "local", "shards": 2})
    assert main(["fleet", "run", "--criteria", str(crit), "--fleet", str(fleet),
                 "--out", "out"]) == 0
    captured = capsys.readouterr()
    assert "kind-b-shard2of2: done" in captured.err and "kind-a: running" in captured.err
    report = json.loads((workdir / "out" / "fleet-report.json").read_text())
    assert report["matrix"]["kinds"] == ["kind-a", "kind-b"]
    assert [v["status"] for v in report["verdicts"]] == ["PASS", "PASS", "NOT_APPLICABLE"]
    assert [p["criteria"] for p in report["parts"]] == [["fast", "small", "gpu"],
                                                       ["fast", "gpu"], ["small"]]
    for p in report["parts"]:  # each part is the job's own sealed report, with its machine
        assert p["report"]["environment"]["machine"]["id"]
    assert verify_fleet(report) == []
    assert main(["verify", str(workdir / "out" / "fleet-report.json")]) == 0
    md = (workdir / "out" / "report.md").read_text()
    assert "| criterion | fleet | rule | kind-a | kind-b |" in md and "✅ PASS 2.0" in md
    suites = ET.parse(workdir / "out" / "junit.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["ryot fleet", "ryot fleet: kind-a",
                                               "ryot fleet: kind-b"]


@pytest.mark.parametrize(("machines", "pointer", "words"), [
    ([{"name": "a", "executor": "ssh"}], "/machines/0/executor", "is not one of"),
    ([{"name": "a", "executor": "local"}, {"name": "a", "executor": "local"}],
     "/machines/1/name", "duplicate machine name"),
    ([{"name": "a", "executor": "local", "criteria": ["fast", "nope"]}],
     "/machines/0/criteria/1", "no criterion 'nope'"),
    ([{"name": "a", "executor": "local", "shards": 3}], "/machines/0/shards", "3 shards for 2"),
    ([{"name": "a", "executor": "local", "slurm": {"partition": "p"}}], "/machines/0/slurm",
     "no slurm settings"),
    ([{"name": "a", "executor": "slurm", "slurm": {"time_limit_min": 0}}],
     "/machines/0/slurm/time_limit_min", "less than the minimum"),
])
def test_a_bad_fleet_file_is_exit_2_naming_the_pointer(workdir, capsys, machines, pointer, words):
    crit = write_criteria(workdir, criterion("fast", 2.0), criterion("small", 0.5, "<="))
    fleet = write_fleet(workdir, *machines)
    assert main(["fleet", "run", "--criteria", str(crit), "--fleet", str(fleet)]) == 2
    err = capsys.readouterr().err
    assert f"fleet.json: at {pointer}:" in err and words in err and "Traceback" not in err
    assert not (workdir / "results").exists()  # nothing submitted, nothing written


def test_a_rule_that_cannot_be_met_is_exit_2(workdir, capsys):
    crit = write_criteria(workdir, criterion("fast", 2.0))
    fleet = write_fleet(workdir, {"name": "a", "executor": "local"},
                        rules={"criteria": {"fast": {"at_least": 2}}})
    assert main(["fleet", "run", "--criteria", str(crit), "--fleet", str(fleet)]) == 2
    assert "at /rules/criteria/fast: at_least 2 kinds for 'fast', which runs on 1" in \
        capsys.readouterr().err


class _Scripted:
    """An executor whose jobs end as scripted (the interface a second backend implements)."""

    def __init__(self, script):
        self.script, self.submitted = script, []

    def submit(self, kind, name, fn, criteria, out, quick, cwd, env):
        outcomes = self.script[kind.name]
        outcome = outcomes.pop(0)
        self.submitted.append(name)
        if outcome == "run":  # the real job function, in this process
            outcome = Outcome(value=fn(criteria, out, quick, cwd, env))
        return _ScriptedJob(f"{name}-{len(self.submitted)}", outcome)


class _ScriptedJob:
    def __init__(self, job_id, outcome):
        self.job_id, self._outcome, self.cancelled, self._polls = job_id, outcome, False, 0

    def phase(self):
        self._polls += 1
        return RUNNING if self._polls < 2 else FINISHED

    def outcome(self):
        return self._outcome

    def cancel(self):
        self.cancelled = True


def test_a_job_that_does_not_finish_is_retried_then_error_and_the_others_are_kept(workdir):
    crit = write_criteria(workdir, criterion("fast", 2.0))
    fleet = write_fleet(workdir, {"name": "kind-a", "executor": "local"},
                        {"name": "kind-b", "executor": "local", "retries": 1})
    killed = Outcome(failure="JOB 7 ON localhost CANCELLED AT 2026-12-03T08:00:00",
                     uncompleted=True)
    ex = _Scripted({"kind-a": ["run"], "kind-b": [killed, killed]})
    done = run_fleet(str(crit), str(fleet), "out", executor=ex, poll_s=0.01)
    assert ex.submitted == ["kind-a", "kind-b", "kind-b"]  # kind-b tried twice (retries: 1)
    r = done.report
    assert r["matrix"]["cells"]["fast"]["kind-a"]["status"] == "PASS"
    cell = r["matrix"]["cells"]["fast"]["kind-b"]
    assert cell["status"] == "ERROR" and "did not finish: JOB 7 ON localhost CANCELLED" in \
        cell["reason"]
    assert r["verdicts"][0]["status"] == "ERROR" and r["summary"]["exit_code"] == 3
    assert r["parts"][1]["attempts"] == 2 and verify_fleet(r) == []


def test_a_failed_job_with_at_least_one_rule_still_passes(workdir):
    crit = write_criteria(workdir, criterion("fast", 2.0))
    fleet = write_fleet(workdir, {"name": "kind-a", "executor": "local"},
                        {"name": "kind-b", "executor": "local"},
                        rules={"default": {"at_least": 1}})
    ex = _Scripted({"kind-a": ["run"], "kind-b": [Outcome(failure="ryot accept exited 2 "
                                                                  "without a report: boom")]})
    r = run_fleet(str(crit), str(fleet), "out", executor=ex, poll_s=0.01).report
    assert r["verdicts"][0]["status"] == "PASS" and "failed: ryot accept exited 2" in \
        r["matrix"]["cells"]["fast"]["kind-b"]["reason"]


@pytest.mark.parametrize(("statuses", "rule", "expected"), [
    (["PASS", "PASS"], "all", "PASS"),
    (["PASS", "NOT_APPLICABLE"], "all", "PASS"),
    (["PASS", "FAIL"], "all", "FAIL"),
    (["FAIL", "ERROR"], "all", "FAIL"),
    (["PASS", "ERROR"], "all", "ERROR"),
    (["PASS", "INCONCLUSIVE"], "all", "INCONCLUSIVE"),
    (["NOT_APPLICABLE", "NOT_APPLICABLE"], "all", "NOT_APPLICABLE"),
    (["PASS", "FAIL", "FAIL"], {"at_least": 1}, "PASS"),
    (["FAIL", "FAIL", "PASS"], {"at_least": 2}, "FAIL"),
    (["PASS", "INCONCLUSIVE", "FAIL"], {"at_least": 2}, "INCONCLUSIVE"),
    (["PASS", "ERROR", "FAIL"], {"at_least": 2}, "ERROR"),
    (["NOT_APPLICABLE", "NOT_APPLICABLE"], {"at_least": 1}, "NOT_APPLICABLE"),
])
def test_fleet_rules(statuses, rule, expected):
    assert merge.decide(statuses, rule)[0] == expected


def _reports(tmp_path):
    a = simulated_report(1, {"speed": 1.0}, machine_facts=machine("CPU A", 2))
    b = simulated_report(1, {"speed": 0.5}, machine_facts=machine("CPU B", 8))
    for name, r in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(json.dumps(r))
    return tmp_path / "a.json", tmp_path / "b.json"


def test_merge_of_two_reports_follows_the_rule_and_verify_rederives_it(tmp_path, capsys):
    a, b = _reports(tmp_path)  # speed >= 0.9: PASS on A, FAIL on B
    out = tmp_path / "fleet-report.json"
    assert main(["merge", f"xeon={a}", str(b), "-o", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["matrix"]["kinds"] == ["xeon", "CPU B · 8 cores · 24 GiB · avx2"]
    assert (tmp_path / "fleet-report.md").exists()
    assert (tmp_path / "fleet-report.junit.xml").exists()
    assert main(["merge", str(a), str(b), "--at-least", "1", "-o", str(out)]) == 0
    assert main(["verify", str(out)]) == 0
    assert main(["merge", str(a), str(b), "--at-least", "3", "-o", str(out)]) == 2
    assert "--at-least: expected 1 to 2" in capsys.readouterr().err


def test_verify_catches_a_tampered_part_verdict_or_matrix(tmp_path):
    a, b = _reports(tmp_path)
    report = merge.build([merge.part("a", json.loads(a.read_text())),
                          merge.part("b", json.loads(b.read_text()))],
                         started_at="t", finished_at="t")
    assert verify_fleet(report) == []
    forged = copy.deepcopy(report)
    forged["parts"][1]["report"]["results"][0]["status"] = "PASS"
    assert any("/parts/1 (b)" in str(m) for m in verify_fleet(forged))
    forged = copy.deepcopy(report)
    forged["verdicts"][0]["status"] = "PASS"
    assert any("verdicts is not what the parts" in str(m) for m in verify_fleet(forged))
    forged = copy.deepcopy(report)
    forged["matrix"]["cells"]["speed"]["b"]["status"] = "PASS"
    assert any("matrix" in str(m) for m in verify_fleet(forged))
    forged = copy.deepcopy(report)
    forged["summary"]["exit_code"] = 0
    assert verify_fleet(forged)


def test_merge_refuses_one_criterion_defined_two_ways(tmp_path, capsys):
    a = simulated_report(1, {"speed": 1.0}, threshold=0.9)
    b = simulated_report(1, {"speed": 1.0}, threshold=0.8, machine_facts=machine("B"))
    for name, r in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(json.dumps(r))
    assert main(["merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o",
                 str(tmp_path / "m.json")]) == 2
    assert "'speed' is not the same" in capsys.readouterr().err


def test_ctrl_c_cancels_the_local_jobs_it_submitted(workdir):
    crit = write_criteria(workdir, sleepy(seconds=600))
    fleet = write_fleet(workdir, {"name": "kind-a", "executor": "local"})
    proc = subprocess.Popen([sys.executable, "-m", "ryot.cli", "fleet", "run", "--criteria",
                             str(crit), "--fleet", str(fleet), "--out", "out"], cwd=workdir,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "kind-a: running" in line:
            break
    time.sleep(2)  # the job's `ryot accept` is in the provider's sleep
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert "kind-a: cancelled" in rest and "submitted jobs cancelled" in rest
    job_id = next(line for line in lines if "submitted" in line).split("(job ")[1].split(")")[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(int(job_id), 0)  # a local job's id is its process id
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the local job {job_id} still runs after Ctrl-C")
    leftover = subprocess.run(["pgrep", "-f", str(workdir / "out")], capture_output=True,
                              text=True).stdout.split()
    assert leftover == [], "processes of the cancelled job are still running"


def test_merge_refuses_the_same_report_twice(tmp_path, capsys):
    a, _ = _reports(tmp_path)
    assert main(["merge", str(a), f"again={a}", "--at-least", "2", "-o",
                 str(tmp_path / "m.json")]) == 2
    assert "one run counts once" in capsys.readouterr().err


def test_verify_refuses_changed_rules_and_a_failed_part_hiding_its_criteria(tmp_path):
    a, b = _reports(tmp_path)
    parts = [merge.part("a", json.loads(a.read_text())), merge.part("b", json.loads(b.read_text()))]
    report = merge.build(parts, started_at="t", finished_at="t")
    forged = copy.deepcopy(report)
    forged["rules"] = {"default": {"at_least": 0}, "criteria": {}}
    assert any("rules" in str(m) for m in verify_fleet(forged))
    hidden = merge.build([parts[0], merge.failed_part("b", ["speed"], "boom")],
                         started_at="t", finished_at="t")
    hidden = copy.deepcopy(hidden)
    hidden["parts"][1]["criteria"] = []
    assert any("names the criteria" in str(m) for m in verify_fleet(hidden))


def test_a_criterion_quarantined_on_every_kind_does_not_set_the_fleet_exit_code(tmp_path):
    a, b = _reports(tmp_path)
    parts = []
    for name, path in (("a", a), ("b", b)):
        r = json.loads(path.read_text())
        entry = dict(r["results"][0], quarantined=True)
        entry["criterion"] = {**entry["criterion"],
                              "quarantine": {"reason": "flaky", "until": "2026-01-31"}}
        entry.pop("sha256")
        r["results"][0] = seal(entry)
        parts.append(merge.part(name, r))
    report = merge.build(parts, started_at="t", finished_at="t")
    assert report["verdicts"][0]["status"] == "FAIL" and report["verdicts"][0]["quarantined"]
    assert report["summary"]["exit_code"] == 0
    assert "QUARANTINED (not counted)" in render_fleet_markdown(report)


def test_two_kinds_whose_folders_would_collide_are_exit_2(workdir, capsys):
    crit = write_criteria(workdir, criterion("fast", 2.0), criterion("small", 0.5, "<="))
    fleet = write_fleet(workdir, {"name": "gpu", "executor": "local", "shards": 2},
                        {"name": "GPU-shard1of2", "executor": "local"})
    assert main(["fleet", "run", "--criteria", str(crit), "--fleet", str(fleet)]) == 2
    assert "would share its folder" in capsys.readouterr().err


def test_merge_output_must_be_a_json_file(tmp_path, capsys):
    a, b = _reports(tmp_path)
    assert main(["merge", str(a), str(b), "-o", str(tmp_path / "fleet.md")]) == 2
    assert "expected a .json file" in capsys.readouterr().err


def test_a_job_that_hands_back_a_forged_or_foreign_report_is_error(workdir, tmp_path):
    crit = write_criteria(workdir, criterion("speed", 2.0))
    fleet = write_fleet(workdir, {"name": "kind-a", "executor": "local"},
                        {"name": "kind-b", "executor": "local"},
                        {"name": "kind-c", "executor": "local"})
    honest = simulated_report(1, {"speed": 0.5})  # FAIL; forged into a PASS below
    forged = copy.deepcopy(honest)
    forged["results"][0]["status"] = "PASS"
    foreign = simulated_report(1, {"memory": 2.0})  # verifies, but holds another criterion
    ex = _Scripted({"kind-a": ["run"], "kind-b": [Outcome(value={"report": forged})],
                    "kind-c": [Outcome(value={"report": foreign})]})
    r = run_fleet(str(crit), str(fleet), "out", executor=ex, poll_s=0.01).report
    cells = r["matrix"]["cells"]["speed"]
    assert cells["kind-a"]["status"] == "PASS"
    assert cells["kind-b"]["status"] == "ERROR" and "does not verify" in cells["kind-b"]["reason"]
    assert cells["kind-c"]["status"] == "ERROR" and "not the criteria ['speed']" in \
        cells["kind-c"]["reason"]
