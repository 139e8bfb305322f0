"""The report: everything ``verify`` needs, sealed with sha256 per result and as a whole."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from ..provenance import fingerprint
from .criteria import CriteriaFile
from .runner import Measurement
from .verdicts import (
    ERROR,
    FAIL,
    INCONCLUSIVE,
    INVALID,
    NOT_APPLICABLE,
    PASS,
    RESAMPLES,
    SEED,
    STATUSES,
)

FORMAT, FORMAT_VERSION = "ryot.report", 1
SCHEMA = "report"


def sha256_of(obj: Any) -> str:
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def seal(d: dict) -> dict:
    body = {k: v for k, v in d.items() if k != "sha256"}
    return {**body, "sha256": sha256_of(body)}


def exit_code(counts: dict[str, int]) -> int:
    """0 all PASS (NOT_APPLICABLE allowed) · 1 any FAIL · 3 anything else undecided."""
    if counts.get(FAIL):
        return 1
    if counts.get(INCONCLUSIVE) or counts.get(INVALID) or counts.get(ERROR):
        return 3
    return 0


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    return {**fingerprint(), "python": platform.python_version(), "torch": _version("torch"),
            "triton": _version("triton"), "numpy": _version("numpy"),
            "platform": platform.platform()}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def result_entry(m: Measurement) -> dict[str, Any]:
    c, v = m.criterion, m.verdict
    entry: dict[str, Any] = {
        "id": c.id, "metric": c.metric, "criterion": c.to_dict(), "status": v.status,
        "reason": v.reason, "suspicious": v.suspicious,
        "statistics": v.statistics.to_dict() if v.statistics else None,
        "method": {
            "statistic": ("ratio of medians" if m.samples and m.samples.kind == "paired"
                          else "exact value" if m.samples and m.samples.kind == "exact" else "median"),
            "interval": "percentile bootstrap" + (", paired" if m.samples and m.samples.kind == "paired" else ""),
            "resamples": RESAMPLES, "seed": SEED, "confidence": c.confidence,
            "confidence_per_look": m.look_confidence, "looks": list(m.looks),
        },
        "samples": m.samples.to_dict() if m.samples else None,
        "more_samples_hint": v.more_samples_hint,
        "elapsed_s": m.elapsed_s,
    }
    if m.error:
        entry["error_traceback"] = m.error
    return seal(entry)


def build(criteria: CriteriaFile, measurements: list[Measurement], *, started_at: str,
          finished_at: str, quick: bool,
          provider_output: dict[str, str] | None = None) -> dict[str, Any]:
    """The sealed report; ``provider_output`` (criterion id -> the tail of what its provider
    printed) is kept only when something was printed."""
    results = [result_entry(m) for m in measurements]
    counts = {s: sum(r["status"] == s for r in results) for s in STATUSES}
    extra = {"provider_output": dict(provider_output)} if provider_output else {}
    return seal({
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "criteria_file": {"path": criteria.path, "sha256": criteria.sha256, "name": criteria.name},
        "environment": environment(),
        "started_at": started_at, "finished_at": finished_at, "quick": quick,
        "results": results,
        "summary": {"counts": counts, "exit_code": exit_code(counts),
                    "passed": counts[PASS], "not_applicable": counts[NOT_APPLICABLE]},
        **extra,
    })
