"""The pytest plugin (entry point ``pytest11``) in a repository that is not ryot's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ryot.cli import main

CRITERIA = {
    "format": "ryot.criteria", "format_version": 1, "name": "plugin",
    "criteria": [
        {"id": "passes", "metric": "synthetic.ratio", "unit": "x", "comparator": ">=",
         "threshold": 1.5, "params": {"true_ratio": 2.0, "noise": 0.05}, "description": "passes"},
        {"id": "fails", "metric": "synthetic.exact", "unit": "n", "comparator": "<=",
         "threshold": 1, "params": {"value": 3}, "description": "fails"},
        {"id": "gpu", "metric": "synthetic.scalar", "unit": "n", "comparator": ">=", "threshold": 0,
         "requires": ["cuda"], "description": "skips here"},
    ],
}


def run_pytest(cwd, *args, env=None):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def other_repo(tmp_path):
    (tmp_path / "criteria.json").write_text(json.dumps(CRITERIA))
    return tmp_path


def test_each_criterion_is_an_item_with_live_progress_and_a_report(other_repo):
    summary = other_repo / "summary.md"
    proc = run_pytest(other_repo, "--ryot-criteria", "criteria.json", "--ryot-out", "out", "-rA",
                      env={"GITHUB_STEP_SUMMARY": str(summary)})
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "PASSED criteria.json::passes" in out and "FAILED criteria.json::fails" in out
    assert "SKIPPED" in out and "requires cuda" in out
    assert "ryot: measuring passes (synthetic.ratio)" in out and "samples," in out
    assert "FAIL: exact value 3 is outside <= 1" in out
    report = other_repo / "out" / "report.json"
    assert {p.name for p in (other_repo / "out").iterdir()} >= {"report.json", "report.md",
                                                                "junit.xml"}
    assert main(["verify", str(report), "--criteria", str(other_repo / "criteria.json")]) == 0
    assert "| ❌ |" in summary.read_text() or "FAIL" in summary.read_text()


def test_without_the_option_the_plugin_does_nothing(other_repo):
    (other_repo / "test_plain.py").write_text("def test_one():\n    assert True\n")
    proc = run_pytest(other_repo, "-q")
    assert proc.returncode == 0 and "1 passed" in proc.stdout
    assert not (other_repo / "results").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--ryot-criteria", "missing.json"], "missing.json: cannot read"),
    (["--ryot-criteria", "criteria.json", "--ryot-out", "criteria.json"], "--ryot-out"),
])
def test_bad_options_are_usage_errors_before_measuring(other_repo, args, fragment):
    proc = run_pytest(other_repo, *args)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage-error code
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert "ryot: measuring" not in proc.stdout


# -- #20 item 9: under pytest-xdist one complete report, in one folder ---------------------------
@pytest.mark.parametrize("with_out", [True, False])
def test_under_xdist_one_worker_measures_and_one_complete_report_is_written(other_repo,
                                                                            with_out):
    (other_repo / "test_plain.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('i', range(4))\ndef test_other(i):\n"
        "    assert True\n")
    args = ["--ryot-out", "out"] if with_out else []
    proc = run_pytest(other_repo, "-n", "2", "--ryot-criteria", "criteria.json", *args, "-rA")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the FAIL, nothing else
    assert "4 passed" in proc.stdout.splitlines()[-1] or "5 passed" in proc.stdout
    folders = [p for p in (other_repo.glob("out") if with_out
                           else (other_repo / "results").glob("accept-*"))]
    assert len(folders) == 1, folders
    report = json.loads((folders[0] / "report.json").read_text())
    assert sorted(r["id"] for r in report["results"]) == ["fails", "gpu", "passes"]
    assert main(["verify", str(folders[0] / "report.json"),
                 "--criteria", str(other_repo / "criteria.json")]) == 0
    workers = {line.split()[1] for line in proc.stdout.splitlines()
               if line.startswith("[gw") and "criteria.json::" in line}
    assert len(workers) <= 1  # every ryot item ran on one worker


def test_dist_each_is_refused_before_measuring(other_repo):
    proc = run_pytest(other_repo, "-n", "2", "--dist", "each", "--ryot-criteria",
                      "criteria.json", "--ryot-out", "out")
    assert proc.returncode == 4 and "cannot run under --dist each" in proc.stderr
    assert not (other_repo / "out" / "report.json").exists()


def test_a_report_that_cannot_be_written_is_said_and_kept(other_repo):
    """#20 item 7: ``report.md`` becomes a folder mid-run: one line naming where the set was
    kept, pytest's internal-error code (3), no traceback; the verdicts are not lost."""
    (other_repo / "blocker.py").write_text(
        "import os\n\ndef p(n, params):\n"
        "    os.makedirs(os.path.join(params['out'], 'report.md', 'x'), exist_ok=True)\n"
        "    return 2.0\n")
    doc = {**CRITERIA, "criteria": [{"id": "blocks", "metric": "user.blocks", "unit": "x",
                                     "comparator": ">=", "threshold": 1, "provider": "blocker:p",
                                     "params": {"out": str(other_repo / "out")},
                                     "description": "makes report.md a folder"}]}
    (other_repo / "blocking.json").write_text(json.dumps(doc))
    proc = run_pytest(other_repo, "--ryot-criteria", "blocking.json", "--ryot-out", "out")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "ryot error: " in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    kept = [p for p in other_repo.iterdir() if p.name.startswith("out.unwritten-")]
    assert len(kept) == 1 and (kept[0] / "report.json").is_file()
    assert json.loads((kept[0] / "report.json").read_text())["results"][0]["status"] == "PASS"
