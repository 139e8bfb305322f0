"""``ryot history check``: change points against the direction each criterion wants."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from ryot.history.changes import Change, find_changes
from ryot.history.series import Point, Series
from ryot.history.store import HistoryError

__all__ = ["Found", "commits_since", "find"]


@dataclass(frozen=True)
class Found:
    series: Series
    change: Change
    before: Point  # the last point before the change
    at: Point  # the first point after it
    against: bool  # against the direction the criterion wants

    def describe(self, machine_label: str) -> str:
        c = self.change
        verb = "rose" if c.relative > 0 else "fell"
        low, high = sorted((abs(c.low), abs(c.high))) if c.low * c.high > 0 else (0.0, 0.0)
        where = _short(self.at.commit) or self.at.finished_at
        before = _short(self.before.commit) or self.before.finished_at
        tag = "REGRESSION" if self.against else "improvement"
        return (f"{tag}: `{self.series.criterion}` {verb} {abs(c.relative):.1%} "
                f"[{low:.1%}, {high:.1%}] at commit {where} (between {before} and {where}) "
                f"on {machine_label}: {c.before:.4g} -> {c.after:.4g}")


def _short(commit: str | None) -> str | None:
    return commit[:10] if commit else None


def _against(s: Series, c: Change) -> bool:
    wants = s.wants()
    if wants == "up":
        return c.relative < 0
    if wants == "down":
        return c.relative > 0
    lo, hi = s.low_bound, s.high_bound
    if lo is None or hi is None:
        return True
    centre = (lo + hi) / 2
    return abs(c.after - centre) > abs(c.before - centre)


def commits_since(ref: str, cwd: str | None = None) -> set[str]:
    """The commits after ``ref`` up to HEAD (``git rev-list REF..HEAD``), HEAD's repository."""
    if ref.startswith("-"):
        raise HistoryError(f"expected a git ref, got {ref!r}", source="--since")
    try:
        out = subprocess.run(["git", "rev-list", f"{ref}..HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise HistoryError(f"cannot run git: {exc}", source="--since") from None
    if out.returncode != 0:
        raise HistoryError(f"git cannot resolve {ref!r}: {out.stderr.strip()[:200]}",
                           source="--since")
    return set(out.stdout.split())


def find(all_series: list[Series], since: set[str] | None = None) -> list[Found]:
    """Every change point in every series (only at the commits in ``since`` when given)."""
    found = []
    for s in all_series:
        points = [p for p in s.points if p.estimate is not None]
        if len(points) < 4:
            continue
        changes = find_changes([p.estimate for p in points], [p.low for p in points],
                               [p.high for p in points],
                               run_confidence=s.confidence or 0.95)
        for c in changes:
            at, before = points[c.index], points[c.index - 1]
            if since is not None and at.commit not in since:
                continue
            found.append(Found(s, c, before, at, _against(s, c)))
    return found
