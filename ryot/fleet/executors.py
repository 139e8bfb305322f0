"""Where jobs run: a small interface, and its one backend, submitit (Slurm or local processes).

A backend is an :class:`Executor` whose ``submit`` returns a :class:`Job`; that is all the
fleet runner uses, so a second backend (Kubernetes Indexed Jobs, Ray) is one class here
(docs/fleet.md says what each would need). :class:`SubmititExecutor` submits a ``"slurm"``
machine kind with sbatch and runs a ``"local"`` one as a process on this machine.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ryot.fleet.spec import FleetError, MachineKind

__all__ = ["Executor", "Job", "Outcome", "SubmititExecutor"]

PENDING, RUNNING, FINISHED = "pending", "running", "finished"
_SLURM_REASON = re.compile(r"\*\*\* (.*?) \*\*\*")


@dataclass(frozen=True)
class Outcome:
    value: Any = None  # what the job's function returned
    failure: str | None = None  # why it returned nothing (one line)
    uncompleted: bool = False  # killed (time limit, scancel, node failure), not failed


class Job(Protocol):
    job_id: str

    def phase(self) -> str:
        """pending, running or finished."""

    def outcome(self) -> Outcome:
        """The result once finished."""

    def cancel(self) -> None: ...


class Executor(Protocol):
    def submit(self, kind: MachineKind, name: str, fn, *args) -> Job: ...


_EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Failed)\w*: ")


def _one_line(text: str) -> str:
    """The line that says why: the last ``SomeError: message`` of a traceback, else the first."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    named = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return (named[-1] if named else lines[0] if lines else "(no reason given)")[:500]


class _SubmititJob:
    def __init__(self, job, slurm: bool) -> None:
        self._job, self._slurm = job, slurm
        self.job_id = str(job.job_id)

    def phase(self) -> str:
        if self._slurm:
            try:
                state = subprocess.run(["squeue", "-h", "-j", self.job_id, "-o", "%T"],
                                       capture_output=True, text=True, timeout=30).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                state = ""
            if state in ("PENDING", "CONFIGURING", "REQUEUED", "RESIZING", "SUSPENDED"):
                return PENDING
            return RUNNING if state else FINISHED  # squeue lists no finished job
        return FINISHED if self._job.done() else RUNNING

    def _scheduler_reason(self) -> str | None:
        try:
            text = Path(self._job.paths.stderr).read_text(errors="replace")
        except OSError:
            return None
        found = _SLURM_REASON.findall(text)
        return found[-1] if found else None

    def outcome(self, wait_s: float = 30.0) -> Outcome:
        from submitit.core.utils import FailedJobError, UncompletedJobError

        deadline = time.monotonic() + wait_s  # the queue can drop a job before its result lands
        while not Path(self._job.paths.result_pickle).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        try:
            return Outcome(value=self._job.result())
        except (UncompletedJobError, FailedJobError) as exc:
            why = self._scheduler_reason() or _one_line(exc)
            if "timed-out" in why:  # submitit ended it at Slurm's warning before the limit
                return Outcome(failure=f"time limit reached ({why})", uncompleted=True)
            return Outcome(failure=why, uncompleted=isinstance(exc, UncompletedJobError)
                           or "CANCELLED" in why)

    def cancel(self) -> None:
        self._job.cancel(check=False)


class SubmititExecutor:
    """Jobs through submitit; job files (scripts, pickles, logs) under ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        logging.getLogger("submitit").setLevel(logging.ERROR)  # "sacct failed" without slurmdbd

    def submit(self, kind: MachineKind, name: str, fn, *args) -> Job:
        import submitit

        slurm = kind.executor == "slurm"
        if slurm and not shutil.which("sbatch"):
            raise FleetError(f"machine kind {kind.name!r} runs on Slurm, but sbatch is not on "
                             "PATH (run with --local to run every kind here)",
                             pointer=f"/machines/{kind.index}/executor")
        ex = submitit.AutoExecutor(folder=self.folder / name / "%j",
                                   cluster="slurm" if slurm else "local")
        params: dict[str, Any] = {"name": f"ryot-{name}"}
        s = kind.slurm
        if slurm:
            params.update({f"slurm_{k}": s[k] for k in ("partition", "constraint", "gres",
                                                        "account", "qos") if k in s})
            params.update({k: s[k] for k in ("cpus_per_task", "mem_gb") if k in s})
            params["timeout_min"] = s.get("time_limit_min", 60)
        else:
            params["timeout_min"] = kind.time_limit_min or 24 * 60
        ex.update_parameters(**params)
        return _SubmititJob(ex.submit(fn, *args), slurm)
