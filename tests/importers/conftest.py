"""Result files written by the real tools during the test run: hyperfine (Debian's package),
pytest-benchmark and google-benchmark (PyPI), asv, torch.utils.benchmark. Each fixture skips,
saying why, where its tool is missing."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest


def clean_env(env=None) -> dict:
    """The environment without the test runner's variables: pytest-benchmark turns itself off
    when it sees PYTEST_XDIST_WORKER (this suite runs under xdist)."""
    return {k: v for k, v in (env or os.environ).items() if not k.startswith("PYTEST_")}


def _run(cmd, cwd, env=None, **kw):
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=clean_env(env), **kw)
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="session")
def tools_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tools")


def _apt_install(package: str) -> str | None:
    """Install a Debian package when root with apt; None, or why it could not."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"{package} is not installed (apt-get install {package}, as root)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
        if subprocess.run(cmd, capture_output=True, env=env, timeout=600).returncode:
            return f"{' '.join(cmd)} failed"
    return None


@pytest.fixture(scope="session")
def hyperfine_file(tools_dir):
    if not shutil.which("hyperfine"):
        why = _apt_install("hyperfine")
        if why:
            pytest.skip(why)
    out = tools_dir / "hyperfine.json"
    _run(["hyperfine", "-N", "--runs", "10", "--warmup", "1", "--export-json", str(out),
          "--command-name", "slow", "sleep 0.03", "--command-name", "fast", "sleep 0.001"],
         tools_dir)
    return out


PYTEST_BENCH = '''
import time

def test_step_slow(benchmark):
    benchmark.pedantic(time.sleep, args=(0.004,), rounds=12, iterations=1)

def test_step_fast(benchmark):
    benchmark.pedantic(time.sleep, args=(0.0005,), rounds=12, iterations=1)
'''


def _run_pytest_benchmark(tools_dir, name, *flags):
    pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed")
    folder = tools_dir / f"pb_{name}"
    folder.mkdir(exist_ok=True)
    (folder / "test_bench.py").write_text(PYTEST_BENCH)
    out = folder / f"{name}.json"
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
          "-p", "no:randomly", "test_bench.py", f"--benchmark-json={out}", *flags], folder)
    return out


@pytest.fixture(scope="session")
def pb_file(tools_dir):
    return _run_pytest_benchmark(tools_dir, "data", "--benchmark-save-data")


@pytest.fixture(scope="session")
def pb_summary_file(tools_dir):
    return _run_pytest_benchmark(tools_dir, "summary")


GOOGLE_BENCH = '''
import time
import google_benchmark as benchmark

@benchmark.register
def BM_slow(state):
    while state:
        time.sleep(0.002)

@benchmark.register
def BM_fast(state):
    while state:
        time.sleep(0.0002)

if __name__ == "__main__":
    benchmark.main()
'''


@pytest.fixture(scope="session")
def google_benchmark_file(tools_dir):
    pytest.importorskip("google_benchmark", reason="google-benchmark is not installed")
    (tools_dir / "gb.py").write_text(GOOGLE_BENCH)
    out = tools_dir / "gb.json"
    _run([sys.executable, "gb.py", "--benchmark_repetitions=8", "--benchmark_min_time=0.02s",
          f"--benchmark_out={out}", "--benchmark_out_format=json"], tools_dir)
    return out


ASV_CONF = {"version": 1, "project": "demo", "repo": ".", "environment_type": "existing",
            "benchmark_dir": "benchmarks", "results_dir": "results", "html_dir": "html"}
ASV_BENCH = '''
import time

def time_slow():
    time.sleep(0.003)

def time_fast():
    time.sleep(0.0003)

class Sizes:
    params = [[1, 4]]
    param_names = ["n"]

    def time_sleep(self, n):
        time.sleep(0.0005 * n)
'''


@pytest.fixture(scope="session")
def asv_file(tools_dir):
    pytest.importorskip("asv", reason="asv is not installed")
    repo = tools_dir / "asv_repo"
    (repo / "benchmarks").mkdir(parents=True)
    (repo / "benchmarks" / "__init__.py").write_text("")
    (repo / "benchmarks" / "bench.py").write_text(ASV_BENCH)
    (repo / "asv.conf.json").write_text(json.dumps(ASV_CONF))
    env = {**os.environ, "HOME": str(tools_dir), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "b"]):
        _run(cmd, repo, env=env)
    sha = _run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    _run([sys.executable, "-m", "asv", "machine", "--yes", "--machine", "ci"], repo, env=env)
    _run([sys.executable, "-m", "asv", "run", f"--python={sys.executable}", "--record-samples",
          "--set-commit-hash", sha, "-a", "repeat=(6, 6, 10.0)", "-a", "warmup_time=0"],
         repo, env=env)
    found = [p for p in (repo / "results" / "ci").glob("*.json") if p.name != "machine.json"]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="session")
def torch_benchmark_files(tools_dir):
    runs = [timer_runs(size) for size in (256, 65536)]
    as_json = tools_dir / "torch.json"
    as_json.write_text(json.dumps([dataclasses.asdict(m) for m in runs]))
    as_pickle = tools_dir / "torch.pkl"
    as_pickle.write_bytes(pickle.dumps(runs))
    return as_json, as_pickle


def timer_runs(size):
    """One Measurement of 8 raw times (8 timeit calls of 200 runs, merged as torch does)."""
    from torch.utils import benchmark

    timer = benchmark.Timer("x.sum()", setup=f"import torch; x = torch.ones({size})",
                            label="sum", sub_label="ones",
                            description="small" if size < 1000 else "large")
    (m,) = benchmark.Measurement.merge([timer.timeit(200) for _ in range(8)])
    assert len(m.raw_times) == 8, len(m.raw_times)
    return m


@pytest.fixture
def evaluate():
    import ryot

    def run(*criteria):
        return ryot.evaluate({"format": "ryot.criteria", "format_version": 1, "name": "import",
                              "criteria": list(criteria)})
    return run


def compared(provider, file, baseline, candidate, threshold=1.5, **params):
    return {"id": "faster", "provider": f"ryot.importers:{provider}", "unit": "x",
            "comparator": ">=", "threshold": threshold, "description": "candidate faster",
            "min_samples": 5, "params": {"file": str(file), "baseline": baseline,
                                         "candidate": candidate, **params}}

