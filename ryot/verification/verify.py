"""``ryot verify``: recompute every statistic and verdict of a report from its raw samples."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..schemas import first_error, json_pointer
from .criteria import Criterion, read_json
from .errors import ReportError
from .report import FORMAT, SCHEMA, exit_code, sha256_of
from .samples import Samples, from_json_number
from .verdicts import (
    ERROR,
    INVALID,
    NOT_APPLICABLE,
    STATUSES,
    compute_statistics,
    decide,
    suspicion,
)


@dataclass(frozen=True)
class Mismatch:
    where: str  # the result's metric and id, or "report"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def load_report(path: str | os.PathLike[str]) -> dict:
    report, _ = read_json(path, error=ReportError)
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        raise ReportError(f"{path}: not a ryot report (expected \"format\": \"{FORMAT}\")")
    return report


def _close(a, b) -> bool:
    a, b = from_json_number(a), from_json_number(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _check_result(r: dict) -> list[str]:
    problems = []
    body = {k: v for k, v in r.items() if k != "sha256"}
    if sha256_of(body) != r["sha256"]:
        problems.append("its sha256 does not match its content (the entry was edited)")
    if r["status"] in (NOT_APPLICABLE, ERROR) or r["samples"] is None:
        if r["status"] not in (NOT_APPLICABLE, ERROR, INVALID):
            problems.append(f"status {r['status']} without samples")
        return problems
    try:
        fields = {k: v for k, v in r["criterion"].items() if k in Criterion.__dataclass_fields__}
        fields["requires"] = tuple(fields.get("requires", ()))
        criterion = Criterion(**fields)
        samples = Samples.from_dict(r["samples"])
    except (TypeError, KeyError, ValueError) as exc:
        return problems + [f"unreadable criterion or samples ({exc})"]
    method = r["method"]
    confidence = method["confidence_per_look"] or criterion.confidence
    if samples.count != (method["looks"][-1] if method["looks"] else samples.count):
        problems.append(f"{samples.count} samples stored but the last look saw {method['looks'][-1]}")
    stats = r["statistics"]
    if stats is not None:
        try:
            again = compute_statistics(samples, confidence, resamples=method["resamples"],
                                       seed=method["seed"])
        except (ValueError, ZeroDivisionError) as exc:
            return problems + [f"statistics cannot be recomputed ({exc})"]
        for key, value in again.to_dict().items():
            if not _close(stats[key], value):
                problems.append(f"statistics.{key} is {stats[key]} but the samples give {value}")
    verdict = decide(criterion, samples, confidence, budget_spent=True)
    expected = verdict.status
    if expected != r["status"]:
        problems.append(f"status is {r['status']} but the samples give {expected}")
    if verdict.statistics and suspicion(criterion, verdict.statistics.estimate) != r["suspicious"]:
        problems.append("the SUSPICIOUS flag does not match the samples")
    return problems


def verify_report(report: dict) -> list[Mismatch]:
    """Every inconsistency found; empty when the report is exactly what its samples say."""
    error = first_error(SCHEMA, report)
    if error is not None:
        pointer = json_pointer(error)
        where = "report"
        parts = pointer.split("/")
        if len(parts) > 2 and parts[1] == "results" and parts[2].isdigit():
            r = report["results"][int(parts[2])]
            where = f"{r.get('metric', '?')} ({r.get('id', '?')})" if isinstance(r, dict) else where
        return [Mismatch(where, f"invalid at {pointer or '/'}: {error.message}")]
    mismatches = []
    for r in report["results"]:
        for problem in _check_result(r):
            mismatches.append(Mismatch(f"{r['metric']} ({r['id']})", problem))
    counts = {s: sum(r["status"] == s for r in report["results"]) for s in STATUSES}
    if report["summary"]["counts"] != counts:
        mismatches.append(Mismatch("report", f"summary counts {report['summary']['counts']} "
                                             f"do not match the results {counts}"))
    if report["summary"]["exit_code"] != exit_code(counts):
        mismatches.append(Mismatch("report", "summary exit_code does not match the results"))
    body = {k: v for k, v in report.items() if k != "sha256"}
    if sha256_of(body) != report["sha256"] and not mismatches:
        mismatches.append(Mismatch("report", "the report's sha256 does not match its content "
                                             "(its header or summary was edited)"))
    return mismatches
