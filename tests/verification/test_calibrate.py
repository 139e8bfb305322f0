"""``ryot calibrate`` (issue #22's A/A guard): the rate of false alarms over A/A runs, and the
minimum detectable effect it prints — measured here on simulated rounds: a slowdown of the size
it names is FAILed about four times in five."""

import json
import math
import random
import subprocess
import sys

import pytest

from ryot.cli import main
from ryot.measure.samples import Samples
from ryot.verification.calibrate import POWER, log_half_width, minimum_detectable_effect
from ryot.verification.criteria import Criterion
from ryot.verification.verdicts import decide

from . import test_across_commits as scratch
from .test_across_commits import (
    PROVIDER,
    ROOT,
    across,
    commit_provider,
    criteria_file,
    git,
    worktrees,
)

repo = scratch.repo  # the scratch repository fixture


def _rounds(rng, n, sigma, shift):
    """n paired rounds whose log ratio is normal(shift, sigma): candidate = baseline × e^-shift."""
    base = [1.0 + 0.1 * rng.random() for _ in range(n)]
    return Samples("paired", numerator=base,
                   denominator=[b * math.exp(-rng.gauss(shift, sigma)) for b in base])


def test_a_slowdown_of_the_minimum_detectable_effect_fails_about_four_times_in_five():
    rng = random.Random(7)
    c = Criterion(id="ab", metric="ab", unit="x", comparator=">=", threshold=1.0,
                  description="sim", confidence=0.95)
    n, sigma = 48, 0.05
    widths = []
    for _ in range(40):  # A/A runs: their intervals, as ryot computes them
        s = decide(c, _rounds(rng, n, sigma, 0.0), c.confidence, budget_spent=True).statistics
        widths.append(log_half_width(s.estimate, s.low, s.high))
    mde = minimum_detectable_effect(widths, c.confidence)
    assert 0.01 < mde < 0.05
    trials = 400
    fails = sum(decide(c, _rounds(rng, n, sigma, math.log(1 - mde)), c.confidence,
                       budget_spent=True).status == "FAIL" for _ in range(trials))
    # measured, not assumed: about POWER, or more (intervals covering more than asked)
    assert POWER - 0.06 < fails / trials < 0.95, fails / trials


def test_calibrate_counts_aa_verdicts_and_writes_the_raw_runs(repo, capsys):
    criteria_file(repo, across(threshold=0.97))
    git(repo, "commit", "-qam", "a >= 0.97 criterion")  # an A/A run needs a clean tree
    assert main(["calibrate", "--criteria", "criteria.json", "--runs", "2", "--json",
                 "cal.json"]) == 0
    out = capsys.readouterr().out
    assert "A/A calibration" in out and "false alarms" in out
    saved = json.loads((repo / "cal.json").read_text())["criteria"][0]
    assert saved["runs"] == 2 and saved["statuses"] == ["PASS", "PASS"]
    assert len(saved["log_ratios"]) == sum(saved["rounds"])
    assert len(worktrees(repo)) == 1


def test_calibrate_refuses_uncommitted_changes_and_files_without_such_criteria(repo, capsys):
    (repo / "speed.py").write_text(PROVIDER.format(value=3.0))
    assert main(["calibrate", "--criteria", "criteria.json", "--runs", "1"]) == 2
    assert "uncommitted changes" in capsys.readouterr().err
    git(repo, "checkout", "speed.py")
    doc = json.loads((repo / "criteria.json").read_text())
    doc["criteria"][0]["across_commits"] = False
    (repo / "criteria.json").write_text(json.dumps(doc))
    assert main(["calibrate", "--criteria", "criteria.json", "--runs", "1"]) == 2
    assert 'no criterion in the file has "across_commits": true' in capsys.readouterr().err


def test_the_ci_example_is_a_valid_criteria_file_and_workflow():
    yaml = pytest.importorskip("yaml")
    assert subprocess.run([sys.executable, "-m", "ryot.cli", "criteria", "check",
                           "examples/ci/across_commits.json"], cwd=ROOT).returncode == 0
    workflow = yaml.safe_load((ROOT / "examples/ci/performance-gate.yml").read_text())
    steps = workflow["jobs"]["across-commits"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert any("--baseline" in step.get("run", "") for step in steps)


def test_calibrate_says_when_runs_measured_nothing(repo, capsys):
    commit_provider(repo, "broken", "def step(n, params):\n"
                    "    if params['_side'] == 'baseline':\n"
                    "        raise RuntimeError('no baseline here')\n"
                    "    return [1.0] * n\n", "broken")
    assert main(["calibrate", "--criteria", "criteria.json", "--runs", "2"]) == 3
    assert main(["calibrate", "--criteria", "criteria.json", "--runs", "1", "--json",
                 "no/such/folder/cal.json"]) == 2


def test_calibrate_refuses_fewer_than_one_run(repo, capsys):
    assert main(["calibrate", "--criteria", "criteria.json", "--runs", "0"]) == 2
    err = capsys.readouterr().err
    assert "--runs 0: expected at least 1 run" in err and "Traceback" not in err
