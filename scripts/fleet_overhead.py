"""What submitting costs: seconds per job through ryot's fleet executor, on Slurm and locally.

Two figures per executor, each over --repeats runs taken in turn (slurm, local, slurm, ...):

* **a bare job**: submit a function that returns at once, until its result is back (submitit's
  pickling, sbatch, the scheduler's start, the job's Python start, the result's return);
* **a fleet run of one criterion**: `ryot fleet run` of a one-criterion synthetic file on one
  machine kind, minus `ryot accept` of the same file run directly (the fleet's own cost per
  job: the job's start, a second ryot process, the merge and its files).

    python tests/fleet/slurm_cluster.py          # a local single-node cluster (root)
    python scripts/fleet_overhead.py --out docs/data/fleet_overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ryot.fleet.executors import FINISHED, SubmititExecutor
from ryot.fleet.spec import MachineKind
from ryot.infra import machine_id

CRITERIA = {"format": "ryot.criteria", "format_version": 1, "name": "overhead",
            "criteria": [{"id": "x", "metric": "synthetic.scalar", "unit": "x",
                          "params": {"value": 2.0, "noise": 0.01}, "comparator": ">=",
                          "threshold": 1.0, "description": "x", "min_samples": 8,
                          "max_samples": 8}]}


def bare_job(executor: SubmititExecutor, kind: MachineKind) -> float:
    t0 = time.perf_counter()
    job = executor.submit(kind, kind.name, os.getpid)
    while job.phase() != FINISHED:
        time.sleep(0.05)
    outcome = job.outcome()
    assert outcome.failure is None, outcome.failure
    return time.perf_counter() - t0


def _timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=False, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    executors = ["local"] + (["slurm"] if shutil.which("sbatch") else [])
    figures: dict[str, dict] = {e: {"bare_job_s": [], "fleet_run_s": [], "accept_s": []}
                                for e in executors}
    ryot = [sys.executable, "-m", "ryot.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "c.json").write_text(json.dumps(CRITERIA))
        executor = SubmititExecutor(root / "jobs")
        for r in range(args.repeats):
            for name in executors:
                kind = MachineKind(name="kind-a", executor=name,
                                   slurm={"partition": "kind-a"} if name == "slurm" else {})
                (root / f"{name}.json").write_text(json.dumps(
                    {"format": "ryot.fleet", "format_version": 1, "machines": [
                        {"name": "kind-a", "executor": name,
                         **({"slurm": {"partition": "kind-a"}} if name == "slurm" else {})}]}))
                f = figures[name]
                f["bare_job_s"].append(bare_job(executor, kind))
                f["accept_s"].append(_timed([*ryot, "accept", "--criteria", "c.json", "--out",
                                             f"a-{name}-{r}"], root))
                f["fleet_run_s"].append(_timed([*ryot, "fleet", "run", "--criteria", "c.json",
                                                "--fleet", f"{name}.json", "--out",
                                                f"f-{name}-{r}"], root))
                print(f"{name}: bare job {f['bare_job_s'][-1]:.2f} s, accept "
                      f"{f['accept_s'][-1]:.2f} s, fleet run {f['fleet_run_s'][-1]:.2f} s",
                      flush=True)
    for f in figures.values():
        f["median_bare_job_s"] = statistics.median(f["bare_job_s"])
        f["median_fleet_minus_accept_s"] = statistics.median(
            a - b for a, b in zip(f["fleet_run_s"], f["accept_s"], strict=True))
    if args.out:
        Path(args.out).write_text(json.dumps(
            {"cpu": machine_id.facts()["cpu"], "cores": machine_id.facts()["cores"],
             "command": "python " + " ".join(sys.argv), "figures": figures}, indent=1) + "\n")
    for name, f in figures.items():
        print(f"{name}: median bare job {f['median_bare_job_s']:.2f} s; fleet run minus accept "
              f"{f['median_fleet_minus_accept_s']:.2f} s (paired, n={args.repeats})")


if __name__ == "__main__":
    main()
