"""``ryot fleet run``: one job per machine kind (or kind × shard), each the ordinary ``ryot
accept`` on its machine; live progress per job; retries; one merged, sealed fleet report.

A job that fails or does not finish (time limit, ``scancel``, node failure) is submitted again
up to its kind's ``retries``; after that its criteria are ERROR with the scheduler's reason and
the other kinds' results are kept. Ctrl-C (or SIGTERM) cancels every job this run submitted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ryot.fleet import merge
from ryot.fleet.executors import FINISHED, Executor, Job, Outcome, SubmititExecutor
from ryot.fleet.job import accept_job
from ryot.fleet.render import render_fleet_files
from ryot.fleet.spec import FleetFile, JobPlan, load_fleet, plan
from ryot.infra.jsonio import read_strict_json
from ryot.verification.report import keyed_seal, now, seal_key

__all__ = ["FleetRun", "default_out_dir", "run_fleet"]


def default_out_dir() -> Path:
    return Path("results") / datetime.now().strftime("fleet-%Y%m%d-%H%M%S")


@dataclass
class _Tracked:
    plan: JobPlan
    criteria_path: str
    attempt: int = 0
    job: Job | None = None
    phase: str = ""
    part: dict | None = None
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class FleetRun:
    report: dict
    paths: dict[str, Path]


def _criteria_for(job: JobPlan, doc: dict, source: Path, out: Path, all_ids: list[str]) -> str:
    """The criteria file a job runs: the user's own when it runs them all, else a subset
    written beside the fleet report (same name, defaults and workload; its own sha256)."""
    if list(job.criteria) == all_ids:
        return str(source.resolve())
    subset = {**doc, "criteria": [c for c in doc["criteria"] if c["id"] in job.criteria]}
    path = out / "criteria" / f"{job.label}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(subset, indent=1), encoding="utf-8")
    return str(path)


class _Progress:
    """One line per job each time its state changes (readable in a terminal and a CI log)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.t0 = stream, time.monotonic()

    def say(self, t: _Tracked, what: str) -> None:
        job = f"job {t.job.job_id}" if t.job else "no job"
        tries = f", try {t.attempt}" if t.attempt > 1 else ""
        print(f"[{time.monotonic() - self.t0:6.1f}s] {t.plan.label}: {what} ({job}{tries})",
              file=self.stream, flush=True)


def _submit(t: _Tracked, executor: Executor, out: Path, quick: bool, progress: _Progress) -> None:
    t.attempt += 1
    folder = out / "parts" / t.plan.label / f"try-{t.attempt}"
    t.job = executor.submit(t.plan.kind, t.plan.label, accept_job, t.criteria_path,
                            str(folder), quick, os.getcwd(), {})
    t.phase = "submitted"
    progress.say(t, "submitted")


def _finish(t: _Tracked, executor: Executor, out: Path, quick: bool,
            progress: _Progress) -> None:
    outcome = _checked(t.job.outcome(), t.plan)
    p = t.plan
    if outcome.failure is None:
        value = outcome.value
        t.part = merge.part(p.kind.name, value["report"], shard=p.shard, shards=p.shards,
                            attempts=t.attempt, job_id=t.job.job_id)
        counts = value["report"]["summary"]["counts"]
        progress.say(t, "done: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
        return
    what = "did not finish" if outcome.uncompleted else "failed"
    if t.attempt <= p.kind.retries:
        progress.say(t, f"{what}: {outcome.failure}; submitting again")
        _submit(t, executor, out, quick, progress)
        return
    t.part = merge.failed_part(p.kind.name, list(p.criteria), f"{what}: {outcome.failure}",
                               shard=p.shard, shards=p.shards, attempts=t.attempt,
                               job_id=t.job.job_id)
    progress.say(t, f"{what}: {outcome.failure}")


def _checked(outcome: Outcome, plan: JobPlan) -> Outcome:
    """A returned report counts only when ``ryot verify`` finds it consistent and it holds the
    criteria the job was given (code in the job cannot hand back another verdict)."""
    from ryot.verification.verify import verify_report

    if outcome.failure is not None:
        return outcome
    report = (outcome.value or {}).get("report") if isinstance(outcome.value, dict) else None
    if not isinstance(report, dict):
        return Outcome(failure="the job returned no report")
    try:
        problems = [str(m) for m in verify_report(report, key=seal_key())]
    except (KeyError, TypeError, ValueError) as exc:
        problems = [f"{type(exc).__name__}: {exc}"]
    if not problems and [r["id"] for r in report["results"]] != list(plan.criteria):
        problems = [f"it holds {[r['id'] for r in report['results']]}, not the criteria "
                    f"{list(plan.criteria)} the job ran"]
    if problems:
        return Outcome(failure=f"the returned report does not verify: {problems[0]}")
    return outcome


def _cancel(tracked: list[_Tracked], progress: _Progress) -> None:
    for t in tracked:
        if t.part is None and t.job is not None:
            t.job.cancel()
            progress.say(t, "cancelled")


def _drive(tracked: list[_Tracked], executor: Executor, out: Path, quick: bool,
           progress: _Progress, poll_s: float) -> None:
    for t in tracked:
        _submit(t, executor, out, quick, progress)
    while any(t.part is None for t in tracked):
        for t in tracked:
            if t.part is not None:
                continue
            phase = t.job.phase()
            if phase != t.phase and phase != FINISHED:
                t.phase = phase
                progress.say(t, phase)
            if phase == FINISHED:
                _finish(t, executor, out, quick, progress)
        time.sleep(poll_s)


def run_fleet(criteria: str, fleet_path: str, out: str | None = None, *, quick: bool = False,
              local: bool = False, executor: Executor | None = None, poll_s: float = 1.0,
              stream: TextIO | None = None) -> FleetRun:
    """Run the criteria file on every machine kind of the fleet file and merge the verdicts."""
    from ryot.infra.interrupts import terminate_as_interrupt
    from ryot.verification.criteria import load_criteria
    from ryot.verification.outdir import claimed
    from ryot.verification.writers.publish import publish

    fleet: FleetFile = load_fleet(fleet_path)
    cf = load_criteria(criteria, import_references=False)
    doc, _ = read_strict_json(criteria)
    ids = [c.id for c in cf.criteria]
    jobs = plan(fleet, ids, whole_file=cf.family_confidence is not None)
    if local:
        jobs = [dataclasses.replace(j, kind=dataclasses.replace(
            j.kind, executor="local", slurm={},
            time_limit_min=j.kind.time_limit_min or j.kind.slurm.get("time_limit_min")))
            for j in jobs]
    key = seal_key()
    with claimed(out or default_out_dir(), "fleet output folder") as folder:
        executor = executor or SubmititExecutor(folder / "jobs")
        tracked = [_Tracked(j, _criteria_for(j, doc, Path(criteria), folder, ids)) for j in jobs]
        progress = _Progress(stream or sys.stderr)
        started = now()
        try:
            with terminate_as_interrupt():
                _drive(tracked, executor, folder, quick, progress, poll_s)
        except KeyboardInterrupt:
            _cancel(tracked, progress)
            raise
        report = merge.build([t.part for t in tracked], rules=fleet.rules,
                             fleet={"path": fleet.path, "sha256": fleet.sha256,
                                    "name": fleet.name},
                             started_at=started, finished_at=now())
        if key:
            report = keyed_seal(report, key)
        paths = publish(render_fleet_files(report), folder)
    return FleetRun(report, paths)
