"""Quarantine: a flaky criterion is measured and reported, but does not set the exit code until
a date, without a code change (``"quarantine": {"reason": "...", "until": "2027-01-31"}`` on a
criterion in the criteria file).

The date is a calendar day in UTC, inclusive: on ``until`` the criterion is still quarantined,
the day after it counts again and the run says so. A quarantine may reach at most
``quarantine_horizon_days`` (default 90) past the day the file is loaded, so none is forever.
``ryot verify`` recomputes from the report's own start date whether each was in force and what
the exit code is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone

from ryot.infra.errors import CriteriaError
from ryot.verification.statuses import STATUSES, exit_code

__all__ = ["HORIZON_DAYS", "active", "check", "counted_exit_code", "ended", "quarantine_problems",
           "run_day", "today"]

HORIZON_DAYS = 90
MAX_HORIZON_DAYS = 3650  # the schema's bound


def today() -> date:
    """Today in UTC (tests freeze it)."""
    return datetime.now(timezone.utc).date()


def _until(q: Mapping) -> date:
    return date.fromisoformat(q["until"])


def check(q: Mapping, *, source: str, pointer: str, horizon_days: int, on: date) -> None:
    """A CriteriaError unless ``until`` is a real day at most ``horizon_days`` after ``on``."""
    try:
        until = _until(q)
    except ValueError:
        raise CriteriaError(f"expected a date YYYY-MM-DD, got {q['until']!r}", source=source,
                            pointer=f"{pointer}/until") from None
    if until > on + timedelta(days=horizon_days):
        raise CriteriaError(f"{until} is more than {horizon_days} days after today ({on}): a "
                            "quarantine ends within quarantine_horizon_days (default "
                            f"{HORIZON_DAYS})", source=source, pointer=f"{pointer}/until")


def run_day(started_at: str) -> date:
    """The UTC day a run started (a report's ``started_at``; a time without a zone is read as
    UTC, so the day is the same on every machine that verifies it)."""
    moment = datetime.fromisoformat(started_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).date()


def active(q: Mapping | None, on: date) -> bool:
    return q is not None and on <= _until(q)


def ended(q: Mapping | None, on: date) -> bool:
    return q is not None and on > _until(q)


def counted_exit_code(results: Iterable[Mapping]) -> int:
    """The exit code of the results not quarantined (``quarantined`` true) on their run's day."""
    counted = [r for r in results if not r.get("quarantined")]
    return exit_code({s: sum(r["status"] == s for r in counted) for s in STATUSES})


def quarantine_problems(report: dict) -> list[tuple[str, str]]:
    """Each quarantine was in force exactly when its day had not passed on the run's UTC day,
    and reached no further than the file's horizon from it."""
    problems: list[tuple[str, str]] = []
    if not any("quarantine" in r["criterion"] or "quarantined" in r for r in report["results"]):
        return problems
    try:
        day = run_day(report["started_at"])
    except (ValueError, TypeError):
        return [("report", f"started_at {report['started_at']!r} is not a time")]
    horizon = report["criteria_file"].get("quarantine_horizon_days", HORIZON_DAYS)
    if not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON_DAYS:
        return [("report", f"criteria_file.quarantine_horizon_days {horizon!r}: expected 1 to "
                           f"{MAX_HORIZON_DAYS}")]
    for r in report["results"]:
        q = r["criterion"].get("quarantine")
        where = f"{r['metric']} ({r['id']})"
        if q is not None and not (isinstance(q, dict) and isinstance(q.get("until"), str)
                                  and isinstance(q.get("reason"), str) and q["reason"]):
            problems.append((where, "criterion.quarantine is not {\"reason\", \"until\"}"))
            continue
        if q is None:
            if "quarantined" in r:
                problems.append((where, "marked quarantined without a quarantine"))
            continue
        try:
            until = date.fromisoformat(q["until"])
        except (ValueError, TypeError, KeyError):
            problems.append((where, f"quarantine until {q.get('until')!r} is not a day"))
            continue
        if until > day + timedelta(days=horizon):
            problems.append((where, f"quarantine until {until} reaches more than {horizon} "
                                    f"days past the run ({day})"))
        if r.get("quarantined") is not active(q, day):
            state = "in force" if active(q, day) else "over"
            problems.append((where, f"quarantined is {r.get('quarantined')!r}, but on {day} a "
                                    f"quarantine until {until} is {state}"))
    return problems
