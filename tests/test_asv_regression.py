"""asv catches a commit that makes encode 2x+ slower, and stays quiet for an unchanged one.

Slow (builds real asv virtualenvs and two wheels): run with `nox -s slow`.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

SLOWDOWN = '''    _check_input(x, config)
    flat = x.detach().reshape(-1)
    for _ in range(3):  # throwaway regression for the asv test
        _encode_torch(flat, config.block_size, config.bits)
'''


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def asv(cwd, *args, env):
    return subprocess.run([sys.executable, "-m", "asv", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=1800)


@pytest.fixture(scope="module")
def throwaway_repo(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path_factory.mktemp("asv") / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    git(repo, "config", "user.email", "ci@ryot.invalid")
    git(repo, "config", "user.name", "ryot ci")
    base = git(repo, "rev-parse", "HEAD")
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\nA docs-only change.\n")
    git(repo, "commit", "-qam", "docs only")
    unchanged = git(repo, "rev-parse", "HEAD")
    source = repo / "ryot" / "semantic_compression.py"
    text = source.read_text()
    anchor = "    _check_input(x, config)\n    flat = x.detach().reshape(-1)\n"
    assert anchor in text
    source.write_text(text.replace(anchor, SLOWDOWN, 1))
    git(repo, "commit", "-qam", "make encode slower")
    slower = git(repo, "rev-parse", "HEAD")
    env = {**os.environ, "HOME": str(repo.parent)}  # a private ~/.asv-machine.json
    proc = asv(repo, "machine", "--yes", "--machine", "ci", env=env)
    assert proc.returncode == 0, proc.stderr
    return repo, base, unchanged, slower, env


# one parameter combination: 4M values at 8 bits, milliseconds long, so timer noise stays small
BENCH = r"TimeEncodeDecode\.time_encode\(4194304, 8\)"


def test_a_2x_slower_encode_is_reported_and_fails(throwaway_repo):
    repo, _, unchanged, slower, env = throwaway_repo
    proc = asv(repo, "continuous", unchanged, slower, "--factor", "1.1", "--bench", BENCH,
               "--machine", "ci", "--show-stderr", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert ("PERFORMANCE DECREASED" in out
            or "SOME BENCHMARKS HAVE CHANGED SIGNIFICANTLY" in out), out
    assert re.search(r"\+\s.*time_encode", out), out


def test_an_unchanged_commit_reports_no_change(throwaway_repo):
    repo, base, unchanged, _, env = throwaway_repo
    proc = asv(repo, "continuous", base, unchanged, "--factor", "1.1", "--bench", BENCH,
               "--machine", "ci", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "BENCHMARKS NOT SIGNIFICANTLY CHANGED" in out, out
