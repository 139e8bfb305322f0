"""Everything ryot knows about a verdict's status, in one table.

Every writer (terminal, report.md, junit.xml, plot.png) and the exit code read this table, so a
status looks and counts the same everywhere. The statuses themselves:

PASS            the whole confidence interval satisfies the criterion
FAIL            the whole interval violates it
INCONCLUSIVE    the interval straddles a bound after the sample budget is spent
INVALID         the samples cannot support a decision
NOT_APPLICABLE  a requirement is unmet (never counted as PASS)
ERROR           the provider raised or timed out
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["STATUSES", "TABLE", "Status", "bounds_of", "bounds_text", "exit_code"]

PASS, FAIL, INCONCLUSIVE, INVALID = "PASS", "FAIL", "INCONCLUSIVE", "INVALID"
NOT_APPLICABLE, ERROR = "NOT_APPLICABLE", "ERROR"


@dataclass(frozen=True)
class Status:
    name: str
    exit_code: int      # what this status alone makes `ryot accept` exit with (the worst wins)
    junit: str | None   # JUnit element: "failure", "error", "skipped", or None (a passed case)
    style: str          # rich style on the terminal
    colour: str         # plot colour
    icon: str           # report.md


TABLE: dict[str, Status] = {s.name: s for s in (
    Status(PASS, 0, None, "green", "#2e7d32", "✅"),
    Status(FAIL, 1, "failure", "red", "#c62828", "❌"),
    Status(INCONCLUSIVE, 3, "error", "yellow", "#f9a825", "❔"),
    Status(INVALID, 3, "error", "magenta", "#6d4c41", "⚠️"),
    Status(NOT_APPLICABLE, 0, "skipped", "dim", "#9e9e9e", "➖"),
    Status(ERROR, 3, "error", "bold red", "#6a1b9a", "💥"),
)}
STATUSES = tuple(TABLE)


def exit_code(counts: Mapping[str, int]) -> int:
    """0 all PASS (NOT_APPLICABLE allowed) · 1 any FAIL · 3 anything else undecided."""
    present = [TABLE[s].exit_code for s, n in counts.items() if n and s in TABLE]
    if 1 in present:
        return 1
    return 3 if 3 in present else 0


def bounds_text(comparator: str, threshold: float | None = None, low: float | None = None,
                high: float | None = None) -> str:
    """A criterion's bounds in words: ">= 3", "between 0.1 and 0.2"."""
    if comparator == "between":
        return f"between {low:g} and {high:g}"
    return f"{comparator} {threshold:g}"


def bounds_of(criterion: Mapping) -> str:
    """:func:`bounds_text` of a criterion as a report stores it (a dict)."""
    return bounds_text(criterion["comparator"], criterion.get("threshold"), criterion.get("min"),
                       criterion.get("max"))
