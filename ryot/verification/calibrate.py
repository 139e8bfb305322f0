"""The A/A guard of an A/B across commits: how often would this criterion cry wolf here?

``ryot calibrate`` runs every criterion marked ``across_commits`` several times with the same
commit (HEAD) on both sides — a git worktree of HEAD against a clean working tree — and counts
the verdicts. A FAIL in an A/A run is a false alarm, so its rate (with a Clopper–Pearson
interval over the runs) is the criterion's false-positive rate on this machine; PASS is what an
A/A run should decide for a threshold below 1 (``>= 0.97``, say), INCONCLUSIVE what it decides
for ``>= 1.0`` (the data cannot tell a ratio of 1 from one just below).

Beside it, the **minimum detectable effect**: the slowdown the criterion would FAIL four times in
five, read off the intervals these A/A runs actually had. With ``h`` the median half-width of
their intervals on the log scale (ryot's own intervals: order statistics, dependence and all)
and ``c`` the confidence, a true log ratio ``−d`` gives an upper bound near ``−d + e + h``, where
the estimate's error ``e`` has a standard deviation of about ``h / z_{(1+c)/2}``; it falls below
the threshold with probability 0.8 when ``d = h (1 + z_{0.8} / z_{(1+c)/2})``. Intervals that
cover more than their confidence make this an overstatement, never an understatement;
``tests/verification/test_calibrate.py`` measures the detection rate on simulated rounds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from ryot.stats.proportions import proportion_interval
from ryot.verification.across import BaselineSide
from ryot.verification.commits import BaselineError, Plan, plan, worktree
from ryot.verification.criteria import CriteriaFile, Criterion
from ryot.verification.evaluate import run

__all__ = ["POWER", "Calibration", "calibrate", "log_half_width", "minimum_detectable_effect"]

POWER = 0.8


def minimum_detectable_effect(half_widths: list[float], confidence: float,
                              power: float = POWER) -> float:
    """The relative slowdown detected with probability ``power``, from the A/A runs' interval
    half-widths on the log scale (see the module); nan without any."""
    widths = [h for h in half_widths if math.isfinite(h)]
    if not widths:
        return math.nan
    z = statistics.NormalDist().inv_cdf
    h = statistics.median(widths)
    return 1.0 - math.exp(-h * (1 + z(power) / z((1 + confidence) / 2)))


def log_half_width(estimate: float | None, low: float | None, high: float | None) -> float:
    """Half the width of an interval on the log scale (nan where there is none)."""
    if not (estimate and low and high) or min(estimate, low, high) <= 0:
        return math.nan
    return (math.log(high) - math.log(low)) / 2


@dataclass
class Calibration:
    """One criterion's A/A runs: each run's verdict and estimate, the pooled log ratios."""
    criterion: Criterion
    statuses: list[str] = field(default_factory=list)
    estimates: list[float] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    half_widths: list[float] = field(default_factory=list)
    log_ratios: list[float] = field(default_factory=list)

    def false_alarms(self) -> int:
        return self.statuses.count("FAIL")

    def broken(self) -> int:
        """Runs that measured nothing usable (ERROR, INVALID): the rate cannot count them."""
        return sum(s in ("ERROR", "INVALID") for s in self.statuses)

    def false_alarm_rate(self) -> tuple[float, float, float]:
        """FAILs / runs with its 95% Clopper–Pearson interval."""
        i = proportion_interval(self.false_alarms(), len(self.statuses), 0.95)
        return i.estimate, i.low, i.high

    def mde(self) -> float:
        return minimum_detectable_effect(self.half_widths, self.criterion.confidence)

    def to_dict(self) -> dict:
        rate, low, high = self.false_alarm_rate()
        return {"id": self.criterion.id, "runs": len(self.statuses), "statuses": self.statuses,
                "estimates": self.estimates, "rounds": self.rounds,
                "false_alarm_rate": [rate, low, high], "minimum_detectable_effect": self.mde(),
                "half_widths": self.half_widths,
                "log_ratios": self.log_ratios}


def _aa_plan() -> Plan:
    p = plan("HEAD")
    if p.candidate.dirty:
        raise BaselineError("the working tree has uncommitted changes: an A/A run would compare "
                            "them with HEAD; commit or stash them first")
    return p


def calibrate(criteria: CriteriaFile, runs: int, *, quick: bool = False,
              on_run: Callable[[int], None] | None = None) -> list[Calibration]:
    """``runs`` A/A runs of the criteria marked across_commits (HEAD on both sides)."""
    chosen = tuple(c for c in criteria.criteria if c.across_commits)
    if not chosen:
        raise BaselineError('no criterion in the file has "across_commits": true')
    subset = CriteriaFile(criteria.path, criteria.sha256, criteria.name, chosen,
                          criteria.description, criteria.workload, criteria.family_confidence)
    found = {c.id: Calibration(c) for c in chosen}
    p = _aa_plan()
    with worktree(p) as tree:
        for i in range(runs):
            side = BaselineSide(p, tree)
            try:
                report = run(subset, quick=quick, baseline=side)
            finally:
                side.close()
            for r in report["results"]:
                _record(found[r["id"]], r)
            if on_run:
                on_run(i + 1)
    return list(found.values())


def _record(into: Calibration, result: dict) -> None:
    into.statuses.append(result["status"])
    stats, samples = result.get("statistics"), result.get("samples")
    into.estimates.append(stats["estimate"] if stats else math.nan)
    if stats:
        into.half_widths.append(log_half_width(stats["estimate"], stats.get("ci_low"),
                                               stats.get("ci_high")))
    if samples and samples.get("kind") == "paired":
        pairs = [(a, b) for a, b in zip(samples["numerator"], samples["denominator"],
                                        strict=True) if a > 0 and b > 0]
        into.rounds.append(len(pairs))
        into.log_ratios += [math.log(a / b) for a, b in pairs]
