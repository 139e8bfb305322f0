"""Where a result came from: ryot version, git commit, hardware. Read once per process."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from ryot.infra.machine import detect
from ryot.infra.version import __version__

__all__ = ["fingerprint", "git_commit"]


@cache
def git_commit() -> str | None:
    """HEAD of the repository ryot runs from, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
            capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def fingerprint() -> dict:
    """ryot version, git commit, hardware profile."""
    return {"ryot_version": __version__, "git_commit": git_commit(), "hardware": detect().to_dict()}
