"""The goals of issue #22, measured: an A/B across commits on a scratch repository.

The repository's second commit makes ``work()`` about 5% slower by a real code change (an extra
pass over part of the data). Four experiments, each ``--runs`` times, with every run's raw
rounds kept in the output JSON:

* ``ab``: ``ryot accept --baseline HEAD~1`` on a ``>= 1.0`` criterion (the right verdict: FAIL);
* ``aa``: ``ryot accept --baseline HEAD`` on a ``>= 0.97`` criterion (the right verdict: PASS);
* under a background load that switches on and off every ~1.5 s (two busy processes), ``ab``
  again, beside the same comparison made the way users make it today: the two commits measured
  one after the other in separate processes (as ``asv continuous`` does) and judged as two
  samples (``sequential_ab``), and the A/A of both (``loaded_aa``, ``sequential_aa``).

    python scripts/ab_commits_goal.py --runs 40 --out docs/data/ab_commits_goal.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORK = '''import time

def work():
    total = 0
    for i in range(75_000):
        total += i * i
{extra}    return total

def timed(n, params=None):
    """n timings of work(), in seconds (one per call of this provider in a run)."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        work()
        out.append(time.perf_counter() - start)
    return out
'''
SLOWER = '''    for i in range(3_750):  # the regression: an extra pass over the first 5%
        total += i * i
'''


ROUNDS_PER_PROCESS = [4]


def criterion(threshold):
    return {"format": "ryot.criteria", "format_version": 1, "name": "goal", "criteria": [
        {"id": "step_speedup", "provider": "speed:timed", "across_commits": True,
         "unit": "x", "comparator": ">=", "threshold": threshold, "min_samples": 24,
         "max_samples": 192, "rounds_per_process": ROUNDS_PER_PROCESS[0],
         "description": "HEAD is not slower than the baseline"}]}


def git(folder, *args):
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def scratch_repo(folder: Path) -> Path:
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.email", "goal@example.com")
    git(folder, "config", "user.name", "goal")
    (folder / "ab.json").write_text(json.dumps(criterion(1.0)))
    (folder / "aa.json").write_text(json.dumps(criterion(0.97)))
    for extra, message in (("", "fast"), (SLOWER, "5% slower")):
        (folder / "speed.py").write_text(WORK.format(extra=extra))
        git(folder, "add", ".")
        git(folder, "commit", "-qm", message)
    return folder


def ours(repo: Path, criteria: str, baseline: str, out: Path) -> dict:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ryot.cli", "accept", "--criteria", criteria,
                    "--out", str(out), "--baseline", baseline], cwd=repo, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    result = json.loads((out / "report.json").read_text())["results"][0]
    return {"status": result["status"], "reason": result["reason"],
            "estimate": (result["statistics"] or {}).get("estimate"),
            "ci": [(result["statistics"] or {}).get("ci_low"),
                   (result["statistics"] or {}).get("ci_high")],
            "wall_s": time.perf_counter() - started, "samples": result["samples"]}


def one_checkout(tree: Path, n: int) -> list[float]:
    code = (f"import sys, json; sys.path.insert(0, {str(tree)!r}); import speed; "
            f"speed.timed(3); print(json.dumps(speed.timed({n})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def sequential(trees: tuple[Path, Path], threshold: float) -> dict:
    """Baseline then candidate, each in its own process, judged as two samples."""
    from ryot.measure.samples import two_sample
    from ryot.verification.criteria import parse_criteria
    from ryot.verification.verdicts import decide

    baseline, candidate = one_checkout(trees[0], 192), one_checkout(trees[1], 192)
    doc = criterion(threshold)
    entry = doc["criteria"][0]
    del entry["provider"], entry["across_commits"], entry["rounds_per_process"]
    entry["metric"] = "synthetic.scalar"  # any registered name: only the bounds are used here
    c = parse_criteria(doc, "<goal>").criteria[0]
    verdict = decide(c, two_sample(baseline, candidate), c.confidence, budget_spent=True)
    return {"status": verdict.status, "reason": verdict.reason,
            "estimate": verdict.statistics.estimate,
            "ci": [verdict.statistics.low, verdict.statistics.high],
            "samples": {"baseline": baseline, "candidate": candidate}}


def load_generator() -> subprocess.Popen:
    code = ("import time, multiprocessing as mp\n"
            "def burn():\n"
            "    while True:\n"
            "        end = time.time() + 1.5\n"
            "        while time.time() < end: pass\n"
            "        time.sleep(1.5)\n"
            "if __name__ == '__main__':\n"
            "    ps = [mp.Process(target=burn) for _ in range(2)]\n"
            "    [p.start() for p in ps]; [p.join() for p in ps]\n")
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def cpu_name() -> str:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def tally(runs: list[dict]) -> dict:
    return {s: sum(r["status"] == s for r in runs) for s in sorted({r["status"] for r in runs})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--loaded-runs", type=int, default=20)
    parser.add_argument("--out", default="ab_commits_goal.json")
    parser.add_argument("--rounds-per-process", type=int, default=4)
    parser.add_argument("--only", choices=["quiet"], help="skip the experiments under load")
    args = parser.parse_args()
    ROUNDS_PER_PROCESS[0] = args.rounds_per_process
    results: dict = {"cpu": cpu_name(), "cores": os.cpu_count(), "runs": args.runs,
                     "rounds_per_process": args.rounds_per_process}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "repo").mkdir()
        repo = scratch_repo(Path(tmp) / "repo")
        trees = (Path(tmp) / "base", Path(tmp) / "head")
        git(repo, "worktree", "add", "-q", "--detach", str(trees[0]), "HEAD~1")
        git(repo, "worktree", "add", "-q", "--detach", str(trees[1]), "HEAD")
        out = Path(tmp) / "out"
        for name, criteria, ref, n in (("ab", "ab.json", "HEAD~1", args.runs),
                                       ("aa", "aa.json", "HEAD", args.runs)):
            results[name] = [ours(repo, criteria, ref, out) for _ in range(n)]
            print(name, tally(results[name]), flush=True)
            if os.environ.get("GOAL_DEBUG"):
                for r in results[name]:
                    print(r["status"], r["estimate"], r["ci"], r["wall_s"])
                    print([round(a / b, 3) for a, b in zip(r["samples"]["numerator"],
                                                         r["samples"]["denominator"], strict=True)])
        if args.only == "quiet":
            args.loaded_runs = 0
        load = load_generator()
        try:
            for name in ("loaded_ab", "sequential_ab", "loaded_aa", "sequential_aa"):
                results[name] = []
            for _ in range(args.loaded_runs):
                results["loaded_ab"].append(ours(repo, "ab.json", "HEAD~1", out))
                results["sequential_ab"].append(sequential(trees, 1.0))
                results["loaded_aa"].append(ours(repo, "aa.json", "HEAD", out))
                results["sequential_aa"].append(sequential((trees[1], trees[1]), 0.97))
            for name in ("loaded_ab", "sequential_ab", "loaded_aa", "sequential_aa"):
                print(name, tally(results[name]), flush=True)
        finally:
            os.killpg(load.pid, 9)
        git(repo, "worktree", "remove", "--force", str(trees[0]))
        git(repo, "worktree", "remove", "--force", str(trees[1]))
    results["tallies"] = {k: tally(v) for k, v in results.items() if isinstance(v, list)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(json.dumps(results["tallies"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
