"""`ryot fleet run` on a real single-node Slurm cluster (two partitions standing for two machine
kinds), started by the fixture; skipped, saying why, where the machine cannot start one.

Run by `nox -s fleet` (marker ``slurm``); not in the default suite: a time-limit test waits for
Slurm to kill a job (about a minute)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from ryot.fleet.verify import verify_fleet
from tests.fleet import slurm_cluster
from tests.fleet.conftest import criterion, sleepy, write_criteria, write_fleet

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def cluster():  # noqa: PT004 - its effect is the running cluster
    _, why = slurm_cluster.start()
    if why:
        pytest.skip(f"no Slurm cluster: {why}")
    # left running: another test process (pytest-xdist) may still be submitting to it


def _fleet_run(workdir, crit, fleet, *extra):
    return subprocess.Popen([sys.executable, "-m", "ryot.cli", "fleet", "run", "--criteria",
                             str(crit), "--fleet", str(fleet), "--out", "out", *extra],
                            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _running_job(name: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["squeue", "-h", "-n", f"ryot-{name}", "-o", "%i %T"],
                             capture_output=True, text=True).stdout.split()
        if len(out) == 2 and out[1] == "RUNNING":
            return out[0]
        time.sleep(0.5)
    raise AssertionError(f"no running Slurm job ryot-{name} within {timeout} s")


def test_both_partitions_pass_and_merge(cluster, workdir):
    crit = write_criteria(workdir, criterion("fast", 2.0), criterion("small", 0.5, "<="))
    fleet = write_fleet(workdir,
                        {"name": "kind-a", "executor": "slurm",
                         "slurm": {"partition": "kind-a", "time_limit_min": 10}},
                        {"name": "kind-b", "executor": "slurm",
                         "slurm": {"partition": "kind-b", "constraint": "cpu-b",
                                   "cpus_per_task": 1}})
    proc = _fleet_run(workdir, crit, fleet)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    report = json.loads((workdir / "out" / "fleet-report.json").read_text())
    assert [v["status"] for v in report["verdicts"]] == ["PASS", "PASS"]
    assert all(p["job_id"].isdigit() for p in report["parts"])  # Slurm job ids
    assert verify_fleet(report) == []
    assert "kind-a: running" in err and "kind-b: done: 2 PASS" in err


def test_a_job_cancelled_mid_run_is_error_and_the_other_kind_is_kept(cluster, workdir):
    crit = write_criteria(workdir, criterion("fast", 2.0), sleepy("slow", seconds=600))
    fleet = write_fleet(workdir,
                        {"name": "kind-a", "executor": "slurm", "slurm": {"partition": "kind-a"},
                         "criteria": ["fast"]},
                        {"name": "kind-b", "executor": "slurm", "slurm": {"partition": "kind-b"},
                         "retries": 0})
    proc = _fleet_run(workdir, crit, fleet)
    job = _running_job("kind-b")
    time.sleep(3)
    subprocess.run(["scancel", job], check=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, err  # ERROR on kind-b, nothing FAILed
    report = json.loads((workdir / "out" / "fleet-report.json").read_text())
    cells = report["matrix"]["cells"]
    assert cells["fast"]["kind-a"]["status"] == "PASS"
    assert cells["fast"]["kind-b"]["status"] == "ERROR"
    assert "CANCELLED" in cells["slow"]["kind-b"]["reason"]
    assert verify_fleet(report) == []


def test_a_job_past_its_time_limit_is_error_with_slurms_reason(cluster, workdir):
    crit = write_criteria(workdir, sleepy("slow", seconds=600))
    fleet = write_fleet(workdir, {"name": "kind-b", "executor": "slurm",
                                  "slurm": {"partition": "kind-b", "time_limit_min": 1}})
    proc = _fleet_run(workdir, crit, fleet)
    out, err = proc.communicate(timeout=400)
    assert proc.returncode == 3, err
    report = json.loads((workdir / "out" / "fleet-report.json").read_text())
    reason = report["matrix"]["cells"]["slow"]["kind-b"]["reason"]
    assert "time limit reached" in reason and "did not finish" in reason, reason


def test_ctrl_c_cancels_the_slurm_jobs(cluster, workdir):
    crit = write_criteria(workdir, sleepy("slow", seconds=600))
    fleet = write_fleet(workdir, {"name": "kind-a", "executor": "slurm",
                                  "slurm": {"partition": "kind-a"}})
    proc = _fleet_run(workdir, crit, fleet)
    job = _running_job("kind-a")
    proc.send_signal(2)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True,
                               text=True).stdout.strip()
        if state in ("", "CANCELLED"):
            return
        time.sleep(1)
    pytest.fail(f"Slurm job {job} is still {state} after Ctrl-C")
