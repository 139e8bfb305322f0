"""``ryot verify`` of a fleet report: every part re-derived from its own samples (as ``ryot
verify`` does a single report), then the matrix, fleet verdicts and summary re-derived from the
parts and rules, then the seal."""

from __future__ import annotations

import hmac

from ryot.fleet.merge import FORMAT, FORMAT_VERSION, rederive
from ryot.infra.errors import ReportError
from ryot.infra.jsonio import body_of, sha256_of
from ryot.verification.report import hmac_of
from ryot.verification.verify import Mismatch, verify_report

__all__ = ["is_fleet_report", "verify_fleet"]


def is_fleet_report(doc: object) -> bool:
    return isinstance(doc, dict) and doc.get("format") == FORMAT


def _shape(report: dict) -> None:
    if report.get("format_version") != FORMAT_VERSION:
        raise ReportError(f"fleet report format_version {report.get('format_version')!r}: this "
                          f"ryot verifies {FORMAT_VERSION}")
    parts = report.get("parts")
    if not isinstance(parts, list) or not parts:
        raise ReportError("a fleet report needs a non-empty list of parts", pointer="/parts")
    for i, p in enumerate(parts):
        if not isinstance(p, dict) or p.get("status") not in ("done", "failed"):
            raise ReportError("expected a part with status 'done' or 'failed'",
                              pointer=f"/parts/{i}")
        if (p["status"] == "done") != isinstance(p.get("report"), dict):
            raise ReportError("a done part holds its report; a failed one none",
                              pointer=f"/parts/{i}/report")
    for key in ("rules", "matrix", "verdicts", "summary", "sha256"):
        if key not in report:
            raise ReportError(f"a fleet report needs {key!r}", pointer="")


def verify_fleet(report: dict, *, key: bytes | None = None) -> list[Mismatch]:
    """Every inconsistency found; empty when each part and the merge are what they say."""
    _shape(report)
    mismatches: list[Mismatch] = []
    for i, p in enumerate(report["parts"]):
        if p["status"] == "done":
            for m in verify_report(p["report"], key=key):
                mismatches.append(Mismatch(f"/parts/{i} ({p['kind']}) {m.where}", m.message))
    mismatches += [Mismatch("fleet", problem) for problem in rederive(report)]
    if sha256_of(body_of(report)) != report["sha256"] and not mismatches:
        mismatches.append(Mismatch("fleet", "the sha256 seal does not match the content"))
    if key is not None:
        if "hmac" not in report:
            mismatches.append(Mismatch("fleet", "no keyed seal (hmac), but a key was given"))
        elif not hmac.compare_digest(report["hmac"], hmac_of(report, key)):
            mismatches.append(Mismatch("fleet", "the keyed seal (hmac) does not match"))
    return mismatches
