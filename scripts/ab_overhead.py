"""What an A/B across commits costs beyond the measurements (issue #22), measured.

* ``git worktree add`` + ``remove`` of this repository's HEAD (what ``--baseline`` does once);
* starting the baseline's worker and moving it into the worktree (once, and after each restart);
* one fresh pair of processes (both sides restarted, imports replayed, one warm-up round):
  what ``rounds_per_process`` pays every that many rounds, for a provider importing nothing big;
* one round (a request to each side) for a provider that returns at once.

    python scripts/ab_overhead.py          # prints medians [min, max] over --repeats
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ryot.metrics.overhead import _seconds_per_call  # noqa: E402
from ryot.verification.across import AcrossCommits, BaselineSide  # noqa: E402
from ryot.verification.commits import plan, worktree  # noqa: E402
from ryot.verification.criteria import parse_criteria  # noqa: E402
from ryot.verification.worker_client import Worker  # noqa: E402


def timed(fn, repeats):
    return _seconds_per_call(fn, repeats)


def summary(values):
    return {"median_ms": 1e3 * statistics.median(values), "min_ms": 1e3 * min(values),
            "max_ms": 1e3 * max(values), "samples_s": values}


def scratch(folder: Path) -> Path:
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "o@example.com"],
                 ["config", "user.name", "o"]):
        subprocess.run(["git", *args], cwd=folder, check=True)
    (folder / "quick.py").write_text("def value(n, params):\n    return [1.0] * n\n")
    subprocess.run(["git", "add", "."], cwd=folder, check=True)
    subprocess.run(["git", "commit", "-qm", "one"], cwd=folder, check=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out).resolve() if args.out else None
    found = {}
    p = plan("HEAD", ROOT)

    def add_remove():
        with worktree(p):
            pass
    found["worktree_add_remove_this_repo"] = summary(timed(add_remove, args.repeats))
    with tempfile.TemporaryDirectory() as tmp:
        repo = scratch(Path(tmp))
        import os
        os.chdir(repo)
        q = plan("HEAD", repo)
        doc = {"format": "ryot.criteria", "format_version": 1, "name": "o", "criteria": [
            {"id": "v", "provider": "quick:value", "across_commits": True, "unit": "x",
             "comparator": ">=", "threshold": 0.5, "description": "o"}]}
        c = parse_criteria(doc, "<o>").criteria[0]
        with worktree(q) as tree:
            def start_side():
                side = BaselineSide(q, tree)
                side.start()
                side.close()
            found["baseline_worker_start_and_move"] = summary(timed(start_side, args.repeats))
            side, candidate = BaselineSide(q, tree), Worker()
            side.start()
            for w in (side.worker, candidate):
                w.add_setup({"op": "import", "reference": "quick:value"}, 60, os.devnull)
            source = AcrossCommits(side.worker, candidate, lambda _: os.devnull)
            source.sample(c, 1, {"_offset": 1}, None)  # both started, no restart at round 1

            def restart_pair():  # round 4: rounds_per_process restarts both, warm-up round
                source.sample(c, 1, {"_offset": 4}, None)
            found["fresh_pair_of_processes_and_warmup_round"] = summary(
                timed(restart_pair, args.repeats))

            def one_round():
                source.sample(c, 1, {"_offset": 5}, None)
            found["one_round_instant_provider"] = summary(timed(one_round, 10 * args.repeats))
            side.close()
            candidate.close()
    found["cpu"] = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                         if line.startswith("model name")), "?")
    print(json.dumps({k: ({kk: round(vv, 2) for kk, vv in v.items() if kk != "samples_s"}
                          if isinstance(v, dict) else v) for k, v in found.items()}, indent=1))
    if out:
        out.write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
