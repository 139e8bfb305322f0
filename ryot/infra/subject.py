"""The commit under test: the repository a run measures (the working directory's checkout).

Not ryot's own commit (``provenance.git_commit`` is the checkout ryot is installed from). CI
systems that check out a detached or merged commit name the one to record with ``--commit`` or
the ``RYOT_COMMIT`` environment variable (and ``RYOT_BRANCH``); otherwise git is asked.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from ryot.infra.errors import ConfigError

__all__ = ["BRANCH_ENV", "COMMIT_ENV", "check_commit", "subject"]

COMMIT_ENV, BRANCH_ENV = "RYOT_COMMIT", "RYOT_BRANCH"
_HEX = re.compile(r"[0-9a-fA-F]{7,64}")


def check_commit(value: str, source: str) -> str:
    """``value`` as a commit id (7 to 64 hex digits), or a ConfigError naming ``source``."""
    value = value.strip()
    if not _HEX.fullmatch(value):
        raise ConfigError(f"expected a commit id (7 to 64 hex digits), got {value!r}",
                          source=source)
    return value.lower()


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def subject(commit: str | None = None, cwd: str | os.PathLike[str] | None = None) -> dict:
    """``{"commit", "branch", "dirty", "committed_at", "repository", "source"}`` of the run.

    ``commit`` (``--commit``) or ``$RYOT_COMMIT`` overrides git's HEAD; ``dirty`` is then
    unknown (None) unless it names HEAD itself. Outside a repository, and without an override,
    every field is None and ``source`` is ``"none"``."""
    folder = Path(cwd or os.getcwd())
    source = "--commit" if commit else COMMIT_ENV if os.environ.get(COMMIT_ENV) else "git"
    given = commit or os.environ.get(COMMIT_ENV)
    if given:
        given = check_commit(given, source)
    head = _git(["rev-parse", "HEAD"], folder)
    sha = given or head
    if sha is None:
        return {"commit": None, "branch": os.environ.get(BRANCH_ENV) or None, "dirty": None,
                "committed_at": None, "repository": None, "source": "none"}
    full = _git(["rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}"], folder) if given else sha
    sha = full or sha
    branch = os.environ.get(BRANCH_ENV) or None
    if branch is None and sha == head:
        name = _git(["rev-parse", "--abbrev-ref", "HEAD"], folder)
        branch = name if name and name != "HEAD" else None
    dirty = None
    if sha == head:
        status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
        dirty = bool(status) if status is not None else None
    top = _git(["rev-parse", "--show-toplevel"], folder) if head else None
    return {"commit": sha, "branch": branch, "dirty": dirty,
            "committed_at": _git(["show", "-s", "--format=%cI", sha], folder) if full else None,
            "repository": Path(top).name if top else None, "source": source}
