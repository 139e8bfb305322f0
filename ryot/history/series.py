"""Series out of the store: one per (machine fingerprint, criterion), in commit order.

Commit order is the commit time of the commit under test (reports without one fall back to
when they finished), then when the report finished: two runs of one commit are two points.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

__all__ = ["Point", "Series", "machines", "read_series"]


@dataclass(frozen=True)
class Point:
    report: str  # the report's sha256
    commit: str | None
    branch: str | None
    finished_at: str
    status: str
    estimate: float | None
    low: float | None
    high: float | None


@dataclass
class Series:
    machine: str  # fingerprint id
    criterion: str
    metric: str
    unit: str | None
    comparator: str
    threshold: float | None
    low_bound: float | None
    high_bound: float | None
    confidence: float | None
    points: list[Point] = field(default_factory=list)

    def wants(self) -> str:
        """``up``, ``down`` or ``inside`` (a ``between`` criterion)."""
        return {">=": "up", "<=": "down"}.get(self.comparator, "inside")


def machines(con: sqlite3.Connection) -> dict[str, tuple[str, dict]]:
    """Fingerprint id -> (label, facts) of every machine with reports."""
    return {row[0]: (row[1], json.loads(row[2]))
            for row in con.execute("SELECT id, label, facts FROM machines ORDER BY label, id")}


def read_series(con: sqlite3.Connection, machine: str | None = None,
                criterion: str | None = None) -> list[Series]:
    """Every series (or one machine's, one criterion's), its points in commit order. The last
    report's criterion gives the series' bound and direction."""
    query = (
        "SELECT p.machine_id, r.criterion_id, r.metric, r.unit, r.comparator, r.threshold, "
        "r.min, r.max, r.confidence, p.sha256, p.commit_sha, p.branch, p.finished_at, "
        "r.status, r.estimate, r.ci_low, r.ci_high FROM results r "
        "JOIN reports p ON p.id = r.report_id WHERE (? IS NULL OR p.machine_id = ?) "
        "AND (? IS NULL OR r.criterion_id = ?) "
        "ORDER BY p.machine_id, r.criterion_id, COALESCE(p.committed_at, p.finished_at), "
        "p.finished_at, p.id")
    out: dict[tuple[str, str], Series] = {}
    for row in con.execute(query, (machine, machine, criterion, criterion)):
        key = (row[0], row[1])
        s = Series(*row[:9])
        if key in out:
            old = out[key]
            s.points = old.points
        out[key] = s
        s.points.append(Point(*row[9:]))
    return list(out.values())
