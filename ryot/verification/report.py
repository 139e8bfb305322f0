"""The report: everything ``verify`` needs, sealed with sha256 per result and as a whole.

The sha256 seals catch edits that were not resealed. Anyone can recompute a sha256, so a CI that
must detect resealed forgeries sets a secret key (``RYOT_SEAL_KEY`` or ``--key-file``): the
report then also carries an HMAC-SHA256 of its content that only the key holder can produce.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import platform
from datetime import date, datetime, timezone
from importlib import metadata
from typing import Any

from ryot.infra.errors import ConfigError
from ryot.infra.jsonio import body_of, canonical, seal
from ryot.infra.machine_id import fingerprint as machine_fingerprint
from ryot.infra.provenance import fingerprint
from ryot.infra.subject import subject
from ryot.stats import sequential
from ryot.verification import quarantine
from ryot.verification.criteria import CriteriaFile
from ryot.verification.estimates import METHODS, METHODS_MEAN, RESAMPLES, SEED
from ryot.verification.runner import CriterionResult
from ryot.verification.statuses import NOT_APPLICABLE, PASS, STATUSES, exit_code  # noqa: F401 - re-exported

__all__ = [
    "SCHEMA", "SEAL_KEY_ENV", "build", "environment", "hmac_of", "keyed_seal", "method",
    "now", "result_entry", "seal_key"
]

FORMAT, FORMAT_VERSION = "ryot.report", 2
SCHEMA = "report"
SEAL_KEY_ENV = "RYOT_SEAL_KEY"


def hmac_of(report: dict, key: bytes) -> str:
    return hmac.new(key, canonical(body_of(report)), hashlib.sha256).hexdigest()


def keyed_seal(report: dict, key: bytes) -> dict:
    """The report with an HMAC-SHA256 of its content under ``key``."""
    return {**report, "hmac": hmac_of(report, key)}


def seal_key(key_file: str | os.PathLike[str] | None = None) -> bytes | None:
    """The secret key from ``key_file`` or the RYOT_SEAL_KEY environment variable, or None.

    A key is bytes, read the same way from both: the raw bytes (never decoded, so any bytes
    work, UTF-8 or not), surrounding ASCII whitespace stripped. An empty key file, or one that
    cannot be read, is a ConfigError; an empty RYOT_SEAL_KEY means no key."""
    if key_file is not None:
        try:
            with open(key_file, "rb") as handle:
                key = handle.read().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the key file: {exc.strerror or exc}",
                              source=str(key_file)) from None
        if not key:
            raise ConfigError("the key file is empty", source=str(key_file))
        return key
    if os.supports_bytes_environ:
        env = os.environb.get(SEAL_KEY_ENV.encode(), b"")
    else:  # Windows: the str value, as the bytes the file system encoding gives it
        env = os.fsencode(os.environ.get(SEAL_KEY_ENV, ""))
    return env.strip() or None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment(commit: str | None = None) -> dict[str, Any]:
    """Where the report was made: ryot's own version and commit (``git_commit``), the commit
    under test (``subject``: :func:`ryot.infra.subject.subject`, ``commit`` overriding git),
    the machine's fingerprint (``machine``) and the hardware and package versions."""
    return {**fingerprint(), "subject": subject(commit), "machine": machine_fingerprint(),
            "python": platform.python_version(), "torch": _version("torch"),
            "triton": _version("triton"), "numpy": _version("numpy"),
            "platform": platform.platform()}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def method(c, kind: str | None, look_confidence: float | None, looks: list[int]) -> dict[str, Any]:
    """How a result was computed: everything here is derived from the criterion and the
    sample kind (``ryot verify`` recomputes it rather than trusting it)."""
    methods = METHODS_MEAN if c.estimand == "mean" and kind in METHODS_MEAN else METHODS
    statistic, interval = methods.get(kind, ("none", "none"))
    return {"statistic": statistic, "interval": interval, "resamples": RESAMPLES, "seed": SEED,
            "confidence": c.confidence, "confidence_per_look": look_confidence,
            "looks": list(looks),
            "schedule": sequential.look_schedule(c.min_samples, c.max_samples),
            "error_spending": "O'Brien-Fleming-type (Lan-DeMets), union bound over looks"}


def result_entry(m: CriterionResult, family: dict | None = None,
                 day: date | None = None) -> dict[str, Any]:
    """One result, sealed; ``family``: its Holm step (``method.family``) in a family report;
    ``day``: the run's UTC day, which decides whether a quarantine is in force."""
    c, v = m.criterion, m.verdict
    entry: dict[str, Any] = {
        "id": c.id, "metric": c.metric, "criterion": c.to_dict(), "status": v.status,
        "reason": v.reason, "suspicious": v.suspicious,
        "statistics": v.statistics.to_dict() if v.statistics else None,
        "method": method(c, m.samples.kind if m.samples else None, m.look_confidence, m.looks),
        "samples": m.samples.to_dict() if m.samples else None,
        "more_samples_hint": v.more_samples_hint,
        "elapsed_s": m.elapsed_s,
    }
    if c.quarantine is not None:
        entry["quarantined"] = quarantine.active(c.quarantine, day or quarantine.today())
    if m.error:
        entry["error_traceback"] = m.error
    if family is not None:
        entry["method"]["family"] = family
    return seal(entry)


def build(criteria: CriteriaFile, measurements: list[CriterionResult], *, started_at: str,
          finished_at: str, quick: bool,
          provider_output: dict[str, str] | None = None,
          key: bytes | None = None, family=None,
          commits: dict[str, Any] | None = None,
          commit: str | None = None) -> dict[str, Any]:
    """The sealed report; ``provider_output`` (criterion id -> the tail of what its provider
    printed) is kept only when something was printed. With a ``key`` (default: RYOT_SEAL_KEY)
    the report also carries a keyed HMAC seal. ``family`` (a :class:`.family.Family`, with
    ``measurements`` already re-decided by it) adds the family and each result's step;
    ``commits`` (an A/B across commits: :meth:`.commits.Plan.to_dict`) the two commits;
    ``commit`` names the commit under test when git's HEAD is not it (``--commit``)."""
    any_quarantine = any(c.quarantine for c in criteria.criteria)
    day = quarantine.run_day(started_at) if any_quarantine else None
    quarantined_file = ({"quarantine_horizon_days": criteria.quarantine_horizon_days}
                        if any_quarantine else {})
    results = [result_entry(m, family.entry(i) if family is not None else None, day)
               for i, m in enumerate(measurements)]
    counts = {s: sum(r["status"] == s for r in results) for s in STATUSES}
    extra = {"provider_output": dict(provider_output)} if provider_output else {}
    if family is not None:
        extra["family"] = family.to_dict()
    if commits is not None:
        extra["commits"] = commits
    key = key if key is not None else seal_key()
    report = seal({
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "criteria_file": {"path": criteria.path, "sha256": criteria.sha256, "name": criteria.name,
                          **quarantined_file},
        "environment": environment(commit),
        "started_at": started_at, "finished_at": finished_at, "quick": quick,
        "results": results,
        "summary": {"counts": counts, "exit_code": quarantine.counted_exit_code(results),
                    "passed": counts[PASS], "not_applicable": counts[NOT_APPLICABLE]},
        **extra,
    })
    return keyed_seal(report, key) if key else report
