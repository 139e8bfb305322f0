"""An A/B across commits (issue #22): both sides import their own code, bad refs are exit 2
before measuring, the worktree goes away however the run ends, and verify checks the commits.

Each test builds a scratch git repository whose provider returns a value written in its code
(``VALUE``): the baseline commit says 2.0, HEAD 1.0, so the paired ratio baseline / candidate
shows which side ran which commit without timing anything.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ryot.cli import main
from ryot.verification import report as report_module
from ryot.verification.verify import verify_report

ROOT = Path(__file__).resolve().parents[2]

PROVIDER = '''import os, time
VALUE = {value}

def step(n, params):  # a little steady spread: a zero-width interval never decides
    k = params["_offset"] + (params["_side"] == "baseline")  # _offset: the round
    return [VALUE * (1 + 0.01 * ((k + i) % 3)) for i in range(n)]

def sleepy(n, params):
    with open(params["log"], "a") as log:
        log.write(f"{{params['_side']}}={{os.getpid()}}\\n")
    time.sleep(60)
    return [1.0] * n

def dies_on_the_baseline(n, params):
    if params["_side"] == "baseline" and VALUE == 2.0:
        os._exit(3)
    return [VALUE] * n
'''


def across(cid="speed", provider="speed:step", **extra):
    return {"id": cid, "provider": provider, "across_commits": True, "unit": "x",
            "comparator": ">=", "threshold": 1.0, "description": "not slower",
            "min_samples": 6, "max_samples": 12, **extra}


def criteria_file(folder, *criteria):
    path = folder / "criteria.json"
    path.write_text(json.dumps({"format": "ryot.criteria", "format_version": 1, "name": "ab",
                                "criteria": list(criteria) or [across()]}))
    return path


def git(folder, *args):
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with two commits (VALUE 2.0, then 1.0), the working directory."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.email", "t@example.com")
    git(folder, "config", "user.name", "t")
    criteria_file(folder)
    for value, message in ((2.0, "one"), (1.0, "two")):
        (folder / "speed.py").write_text(PROVIDER.format(value=value))
        git(folder, "add", ".")
        git(folder, "commit", "-qm", message)
    monkeypatch.chdir(folder)
    return folder


def commit_provider(repo, module, code, message):
    """Commit ``module``.py holding ``code`` and a criteria file naming its ``step``."""
    (repo / f"{module}.py").write_text(code)
    criteria_file(repo, across(provider=f"{module}:step"))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", message)


def worktrees(folder):
    return [line for line in git(folder, "worktree", "list", "--porcelain").splitlines()
            if line.startswith("worktree ")]


def accept(*args, out="out"):
    return main(["accept", "--criteria", "criteria.json", "--out", out, *args])


def report_of(folder, out="out"):
    return json.loads((folder / out / "report.json").read_text())


def test_both_sides_import_their_own_commit_and_the_report_names_both(repo):
    assert accept("--baseline", "HEAD~1") == 0
    report = report_of(repo)
    result = report["results"][0]
    assert result["status"] == "PASS"
    assert result["samples"]["kind"] == "paired"
    assert all(1.99 < v < 2.05 for v in result["samples"]["numerator"])  # baseline: VALUE 2.0
    assert all(0.99 < v < 1.03 for v in result["samples"]["denominator"])  # HEAD: VALUE 1.0
    assert report["commits"] == {
        "baseline": {"ref": "HEAD~1", "sha": git(repo, "rev-parse", "HEAD~1"), "dirty": False},
        "candidate": {"ref": "main", "sha": git(repo, "rev-parse", "HEAD"), "dirty": False}}
    markdown = (repo / "out" / "report.md").read_text()
    head, base = git(repo, "rev-parse", "--short=7", "HEAD"), git(repo, "rev-parse",
                                                                  "--short=7", "HEAD~1")
    assert f"main (`{head}`) vs HEAD\\~1 (`{base}`)" in markdown
    assert verify_report(report) == []
    assert len(worktrees(repo)) == 1  # the baseline's worktree is gone


def test_without_baseline_the_criterion_is_not_applicable(repo):
    assert accept() == 0
    result = report_of(repo)["results"][0]
    assert result["status"] == "NOT_APPLICABLE" and "needs --baseline" in result["reason"]
    assert "commits" not in report_of(repo)


def test_a_dirty_working_tree_is_the_candidate_and_is_recorded(repo):
    (repo / "speed.py").write_text(PROVIDER.format(value=4.0))
    assert accept("--baseline", "HEAD") == 1  # 1.0 / 4.0: the uncommitted change is slower
    report = report_of(repo)
    assert report["commits"]["candidate"]["dirty"] is True
    assert report["results"][0]["status"] == "FAIL"
    assert "with uncommitted changes" in (repo / "out" / "report.md").read_text()


def test_a_ref_that_does_not_exist_is_exit_2_before_measuring(repo, capsys):
    assert accept("--baseline", "no-such-branch") == 2
    err = capsys.readouterr().err
    assert "--baseline: no commit named 'no-such-branch'" in err and "Traceback" not in err
    assert not (repo / "out").exists()


def test_outside_a_repository_is_exit_2(tmp_path, monkeypatch, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "speed.py").write_text(PROVIDER.format(value=1.0))
    criteria_file(plain)
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert accept("--baseline", "HEAD~1") == 2
    assert "is not inside a git repository" in capsys.readouterr().err


def test_a_shallow_clone_without_the_baseline_says_how_to_fetch_it(repo, tmp_path, monkeypatch,
                                                                  capsys):
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    monkeypatch.chdir(shallow)
    assert accept("--baseline", "HEAD~1") == 2
    err = capsys.readouterr().err
    assert "this clone is shallow" in err and "fetch-depth: 0" in err


def test_the_merge_base_is_the_default_baseline(repo, capsys):
    git(repo, "branch", "feature")
    git(repo, "checkout", "-q", "feature")
    (repo / "speed.py").write_text(PROVIDER.format(value=0.5))
    git(repo, "commit", "-qam", "faster")
    assert accept("--baseline") == 0  # main (1.0) / feature (0.5) = 2
    commits = report_of(repo)["commits"]
    assert commits["baseline"] == {"ref": "merge-base of HEAD and main",
                                   "sha": git(repo, "rev-parse", "main"), "dirty": False}
    assert commits["candidate"]["ref"] == "feature"


def test_a_provider_missing_from_the_baseline_is_exit_2_naming_the_side(repo, capsys):
    (repo / "newer.py").write_text("def step(n, params):\n    return [1.0] * n\n")
    git(repo, "add", "newer.py")
    git(repo, "commit", "-qm", "three")
    criteria_file(repo, across(provider="newer:step"))
    assert accept("--baseline", "HEAD~1") == 2
    err = capsys.readouterr().err
    assert "on the baseline side: cannot load 'newer:step'" in err
    assert "/criteria/0/provider" in err and not (repo / "out" / "report.json").exists()
    assert len(worktrees(repo)) == 1


def test_a_provider_imported_from_outside_the_repository_is_refused(repo, tmp_path,
                                                                    monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "installed_copy.py").write_text("def step(n, params):\n    return [1.0] * n\n")
    monkeypatch.setenv("PYTHONPATH", str(elsewhere))  # the worker's path
    monkeypatch.syspath_prepend(str(elsewhere))  # ryot's, where the reference is located
    criteria_file(repo, across(provider="installed_copy:step"))
    assert accept("--baseline", "HEAD~1") == 2
    err = capsys.readouterr().err
    assert "outside" in err and "both sides would run the same code" in err


def test_a_worker_dying_on_the_baseline_side_is_an_error_and_the_worktree_goes(repo):
    criteria_file(repo, across(provider="speed:dies_on_the_baseline"), across("after"))
    assert accept("--baseline", "HEAD~1") == 3
    results = {r["id"]: r for r in report_of(repo)["results"]}
    assert results["speed"]["status"] == "ERROR"
    assert "on the baseline side" in results["speed"]["reason"]
    assert "exited with status 3" in results["speed"]["reason"]
    assert results["after"]["status"] == "PASS"  # a fresh baseline worker measured it
    assert len(worktrees(repo)) == 1


def _start_sleepy_run(repo, log):
    criteria_file(repo, across(provider="speed:sleepy", params={"log": str(log)},
                               timeout_seconds=120))
    proc = subprocess.Popen([sys.executable, "-m", "ryot.cli", "accept", "--criteria",
                             "criteria.json", "--out", "out", "--baseline", "HEAD~1"],
                            cwd=repo, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (log.exists() and "=" in log.read_text()):
        time.sleep(0.1)
    assert len(worktrees(repo)) == 2, "the run did not start measuring"
    return proc


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_or_ctrl_c_removes_the_worktree(repo, tmp_path, signum, code):
    proc = _start_sleepy_run(repo, tmp_path / "log.txt")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and "interrupted" in err and "Traceback" not in err
    assert len(worktrees(repo)) == 1
    assert not [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("ryot-baseline-*")
                if (p / "owner.pid").exists() and (p / "owner.pid").read_text() == str(proc.pid)]


def test_a_run_killed_outright_leaves_a_worktree_the_next_run_removes(repo, tmp_path):
    log = tmp_path / "log.txt"
    proc = _start_sleepy_run(repo, log)
    left = [line.removeprefix("worktree ") for line in worktrees(repo)][1]
    proc.kill()
    proc.communicate(timeout=60)
    for line in log.read_text().split():  # its workers (their own sessions) live on: end them
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(line.split("=")[1]), signal.SIGKILL)
    assert Path(left).exists()
    criteria_file(repo)
    assert accept("--baseline", "HEAD~1", out="again") == 0
    assert len(worktrees(repo)) == 1 and not Path(left).exists()


def test_verify_refuses_a_result_measured_across_commits_without_its_commits(repo):
    assert accept("--baseline", "HEAD~1") == 0
    report = report_of(repo)
    del report["commits"]
    problems = verify_report(report_module.seal(report))
    assert any("records no commits" in m.message for m in problems)


def test_across_commits_without_a_provider_is_exit_2_with_its_pointer(repo, capsys):
    criteria_file(repo, {**across(), "provider": None, "metric": "synthetic.scalar"})
    doc = json.loads((repo / "criteria.json").read_text())
    del doc["criteria"][0]["provider"]
    (repo / "criteria.json").write_text(json.dumps(doc))
    assert main(["criteria", "check", "criteria.json"]) == 2
    assert "/criteria/0/across_commits" in capsys.readouterr().err


def test_the_pytest_plugin_takes_ryot_baseline(repo):
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "--ryot-criteria", "criteria.json", "--ryot-out", "pt",
                           "--ryot-baseline", "HEAD~1"], cwd=repo, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert report_of(repo, "pt")["commits"]["baseline"]["ref"] == "HEAD~1"
    assert len(worktrees(repo)) == 1


# -- review findings (helper-13), each injected ------------------------------------------------
def test_a_package_imported_from_an_installed_copy_on_one_side_only_is_refused(repo, tmp_path,
                                                                              monkeypatch,
                                                                              capsys):
    (repo / "src" / "mypkg").mkdir(parents=True)  # a src/ layout, not on the path here
    (repo / "src" / "mypkg" / "__init__.py").write_text("VALUE = 2.0\n")
    (repo / "bench.py").write_text("import mypkg\n\ndef step(n, params):\n"
                                   "    return [mypkg.VALUE * (1 + 0.01 * (params['_offset'] % 3))"
                                   "] * n\n")
    criteria_file(repo, across(provider="bench:step"))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "src layout")
    installed = tmp_path / "site"
    (installed / "mypkg").mkdir(parents=True)  # what a plain `pip install .` leaves
    (installed / "mypkg" / "__init__.py").write_text("VALUE = 2.0\n")
    monkeypatch.setenv("PYTHONPATH", str(installed))
    assert accept("--baseline", "HEAD") == 2
    err = capsys.readouterr().err
    assert "module 'mypkg' comes from" in err and str(installed) in err


def test_a_module_loaded_lazily_from_the_working_tree_is_an_error(repo, capsys):
    (repo / "lazymod.py").write_text("VALUE = 1.0\n")
    commit_provider(repo, "reach", "import os, sys\n\ndef step(n, params):\n"
                    "    sys.path.insert(0, os.environ['RYOT_TEST_REPO'])  # as a hook would\n"
                    "    import lazymod\n    return [lazymod.VALUE] * n\n", "lazy")
    os.environ["RYOT_TEST_REPO"] = str(repo)
    try:
        assert accept("--baseline", "HEAD") == 3
    finally:
        del os.environ["RYOT_TEST_REPO"]
    result = report_of(repo)["results"][0]
    assert result["status"] == "ERROR" and "in the working tree, while measuring" in \
        result["reason"]


def test_a_temporary_folder_behind_a_symbolic_link_works(repo, tmp_path, monkeypatch):
    real = tmp_path / "real-tmp"
    real.mkdir()
    (tmp_path / "link-tmp").symlink_to(real)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "link-tmp"))
    assert accept("--baseline", "HEAD~1") == 0
    assert len(worktrees(repo)) == 1 and not list(real.iterdir())


@pytest.mark.parametrize("ref", ["-x", "--all"])
def test_a_ref_that_looks_like_an_option_is_refused(repo, capsys, ref):
    assert accept(f"--baseline={ref}") == 2
    assert "is not a git ref" in capsys.readouterr().err


def test_a_run_measuring_no_across_criterion_records_no_commits(repo):
    criteria_file(repo, across(), {"id": "plain", "metric": "synthetic.exact", "unit": "x",
                                   "comparator": ">=", "threshold": 1.0,
                                   "params": {"value": 2.0}, "description": "plain"})
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "--ryot-criteria", "criteria.json", "--ryot-out", "pt",
                           "--ryot-baseline", "HEAD~1", "-k", "plain"], cwd=repo,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    report = report_of(repo, "pt")
    assert "commits" not in report and verify_report(report) == []


def test_a_negative_rounds_per_process_is_exit_2_with_its_pointer(repo, capsys):
    criteria_file(repo, across(rounds_per_process=-1))
    assert main(["criteria", "check", "criteria.json"]) == 2
    assert "/criteria/0/rounds_per_process" in capsys.readouterr().err
