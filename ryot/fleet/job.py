"""What runs inside a fleet job, on the machine the scheduler picked: the ordinary
``ryot accept`` of the job's criteria, in the folder the fleet was started from.

The function is pickled by submitit and called in the job's Python; it returns the sealed
report (with that machine's fingerprint) or raises :class:`JobFailed` with one line saying
why, which the fleet shows as the job's reason. A signal from the scheduler (time limit,
``scancel``) reaches ``ryot accept`` too: it is a child in the job's process tree, and it is
stopped when this function is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

__all__ = ["JobFailed", "accept_job"]


class JobFailed(RuntimeError):
    """The job ran but returned no report."""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:500] if lines else "(no output)"


def accept_job(criteria: str, out: str, quick: bool, cwd: str, env: dict[str, str]) -> dict:
    """Run ``ryot accept --criteria CRITERIA --out OUT`` in ``cwd``; its report and exit code."""
    cmd = [sys.executable, "-m", "ryot.cli", "accept", "--criteria", criteria, "--out", out]
    if quick:
        cmd.append("--quick")
    child = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)

    def stop(signum, _frame):
        child.terminate()
        raise JobFailed(f"stopped by {signal.Signals(signum).name}")

    # SIGTERM: scancel, or Slurm at the time limit. (SIGUSR2, Slurm's warning before the time
    # limit, stays submitit's: it requeues a preempted job and ends a timed-out one.)
    before = {signal.SIGTERM: signal.signal(signal.SIGTERM, stop)}
    try:
        _, stderr = child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
        for signum, handler in before.items():
            signal.signal(signum, handler)
    report = Path(out) / "report.json"
    if not report.is_file():
        raise JobFailed(f"ryot accept exited {child.returncode} without a report: "
                        f"{_last_line(stderr)}")
    return {"exit_code": child.returncode, "report": json.loads(report.read_text("utf-8")),
            "host": os.uname().nodename}
