"""The two commits of an A/B across commits: which they are, and a git worktree of the baseline.

``ryot accept --baseline REF`` compares the code of REF (checked out into a temporary git
worktree) with the working tree the run starts in. :func:`plan` resolves both sides before
anything is measured and refuses clearly (:class:`BaselineError`, exit 2) when there is no git,
no repository, no such commit, or a shallow clone that lacks it. :func:`worktree` checks REF
out and removes the worktree however the block ends (an exception, Ctrl-C, SIGTERM turned into
an exception by the CLI); a run killed outright leaves a folder that the next run removes
(:func:`remove_stale`).

``--baseline`` without a value means the merge-base of HEAD with the branch named by
``RYOT_BASE_BRANCH`` (default ``origin/main``, else ``main``): what a pull request is compared
against.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ryot.infra.errors import RyotError

__all__ = ["MERGE_BASE", "BaselineError", "Commit", "Plan", "plan", "remove_stale",
           "report_problems", "worktree"]

MERGE_BASE = "merge-base"  # what ``--baseline`` with no value stands for
_PREFIX = "ryot-baseline-"
_OWNER = "owner.pid"
_GIT_TIMEOUT_S = 600


class BaselineError(RyotError):
    """The baseline commit cannot be used (no git, no repository, no such commit)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, source="--baseline")


@dataclass(frozen=True)
class Commit:
    """One side of the comparison: the ref it was named by, its sha, and (for the working
    tree) whether it holds uncommitted changes."""
    ref: str
    sha: str
    dirty: bool = False

    def label(self) -> str:
        return f"{self.ref} ({self.sha[:7]}{', with uncommitted changes' if self.dirty else ''})"

    def to_dict(self) -> dict:
        return {"ref": self.ref, "sha": self.sha, "dirty": self.dirty}


@dataclass(frozen=True)
class Plan:
    """What will be compared: the repository's top folder and the two commits."""
    root: Path
    baseline: Commit
    candidate: Commit

    def to_dict(self) -> dict:
        return {"baseline": self.baseline.to_dict(), "candidate": self.candidate.to_dict()}

    def describe(self) -> str:
        return f"{self.candidate.label()} vs {self.baseline.label()}"


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    if shutil.which("git") is None:
        raise BaselineError("git is not installed (an A/B across commits needs it)")
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=_GIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BaselineError(f"`git {' '.join(args)}` did not finish within {_GIT_TIMEOUT_S} s "
                            "(a large checkout, or a slow hook?)") from None
    except OSError as exc:
        raise BaselineError(f"could not run git in {cwd}: {exc.strerror or exc}") from None
    if check and done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, args, done.stdout, done.stderr)
    return done.stdout.strip() if done.returncode == 0 else ""


def _root(cwd: Path) -> Path:
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel"))
    except subprocess.CalledProcessError:
        raise BaselineError(f"{cwd} is not inside a git repository") from None


def _shallow_hint(root: Path) -> str:
    if _git(root, "rev-parse", "--is-shallow-repository", check=False) == "true":
        return ("; this clone is shallow, so older commits are missing: fetch the history "
                "(`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)")
    return ""


def _sha(root: Path, ref: str) -> str:
    if not ref or ref.startswith("-"):
        raise BaselineError(f"{ref!r} is not a git ref (a ref never starts with '-')")
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if not sha:
        raise BaselineError(f"no commit named {ref!r} in {root}{_shallow_hint(root)}")
    return sha


def _base_branch(root: Path) -> str:
    named = os.environ.get("RYOT_BASE_BRANCH")
    if named:
        return named
    for branch in ("origin/main", "main"):
        if _git(root, "rev-parse", "--verify", "--quiet", branch, check=False):
            return branch
    raise BaselineError("--baseline without a ref compares with the merge-base of HEAD and "
                        "RYOT_BASE_BRANCH (default origin/main, else main); neither exists here")


def plan(ref: str, cwd: str | os.PathLike[str] | None = None) -> Plan:
    """Both sides of ``--baseline REF`` (``MERGE_BASE``: the merge-base, see the module)."""
    root = _root(Path(cwd or os.getcwd()).resolve())
    if ref == MERGE_BASE:
        branch = _base_branch(root)
        base = _git(root, "merge-base", _sha(root, "HEAD"), _sha(root, branch), check=False)
        if not base:
            raise BaselineError(f"HEAD and {branch} have no merge-base{_shallow_hint(root)}")
        baseline = Commit(f"merge-base of HEAD and {branch}", base)
    else:
        baseline = Commit(ref, _sha(root, ref))
    head = _sha(root, "HEAD")
    branch = _git(root, "symbolic-ref", "--short", "-q", "HEAD", check=False) or "HEAD"
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no", check=False))
    return Plan(root, baseline, Commit(branch, head, dirty))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(root: Path) -> list[Path]:
    """Remove the worktrees of ryot runs that were killed outright (their owner has ended)."""
    removed = []
    for line in _git(root, "worktree", "list", "--porcelain", check=False).splitlines():
        path = Path(line.removeprefix("worktree ")) if line.startswith("worktree ") else None
        if path is None or not path.parent.name.startswith(_PREFIX):
            continue
        try:
            owner = int((path.parent / _OWNER).read_text())
        except (OSError, ValueError):  # not ours to judge (another user's run, say)
            continue
        if owner > 0 and not _alive(owner):
            _remove(root, path)
            removed.append(path)
    return removed


def _remove(root: Path, tree: Path) -> None:
    """Remove one of ryot's worktrees: git's entry (``--force`` twice: also when locked, as an
    interrupted ``worktree add`` leaves it) and the folder."""
    _git(root, "worktree", "remove", "--force", "--force", str(tree), check=False)
    shutil.rmtree(tree.parent, ignore_errors=True)


@contextlib.contextmanager
def worktree(p: Plan) -> Iterator[Path]:
    """The baseline commit checked out (detached) in a temporary folder, removed afterwards."""
    remove_stale(p.root)
    try:
        folder = Path(tempfile.mkdtemp(prefix=_PREFIX)).resolve()
        (folder / _OWNER).write_text(str(os.getpid()))
    except OSError as exc:
        raise BaselineError(f"cannot make a folder for the baseline's worktree in "
                            f"{tempfile.gettempdir()}: {exc.strerror or exc}") from None
    tree = folder / "tree"
    try:
        _git(p.root, "worktree", "add", "--detach", "--quiet", str(tree), p.baseline.sha)
    except subprocess.CalledProcessError as exc:
        _remove(p.root, tree)
        raise BaselineError(f"could not check out {p.baseline.label()}: "
                            f"{exc.stderr.strip()}") from None
    except BaseException:  # Ctrl-C, SIGTERM, a time-out while checking out
        _remove(p.root, tree)
        raise
    try:
        yield tree
    finally:
        _remove(p.root, tree)


def report_problems(report: dict) -> list[tuple[str, str]]:
    """(where, problem) for a report whose recorded commits do not fit its results: a criterion
    measured across commits needs both commits and paired samples; a criterion NOT_APPLICABLE
    for want of ``--baseline`` cannot sit beside recorded commits; commits need such a
    criterion; the baseline is a commit, never a dirty tree."""
    commits = report.get("commits")
    problems = []
    across = [r for r in report["results"] if r["criterion"].get("across_commits")]
    for r in across:
        where = f"{r['metric']} ({r['id']})"
        samples = r.get("samples")
        if samples is not None and commits is None:
            problems.append((where, "measured across commits, but the report records no "
                                    "commits (/commits)"))
        if samples is not None and samples.get("kind") != "paired":
            problems.append((where, f"measured across commits as {samples.get('kind')} "
                                    "samples; rounds across commits are paired"))
        if commits is not None and r["status"] == "NOT_APPLICABLE" and "--baseline" in r["reason"]:
            problems.append((where, "NOT_APPLICABLE for want of --baseline, but the report "
                                    "records the commits of a --baseline run"))
    if commits is not None and not across:
        problems.append(("report", "records commits (/commits) but no criterion is compared "
                                   "across commits"))
    if commits is not None and commits["baseline"]["dirty"]:
        problems.append(("report", "the baseline at /commits/baseline is marked dirty: it is "
                                   "always a commit checked out clean"))
    return problems
