"""Criteria files: load, validate (schema, then meaning), and resolve defaults.

Every error is a :class:`CriteriaError` naming the file, the JSON pointer of the offending value
and what was expected; the CLI turns it into exit code 2 without a traceback.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from ryot.infra.errors import CriteriaError
from ryot.infra.jsonio import StrictJSONError, read_strict_json
from ryot.infra.schemas import describe_parts, first_error
from ryot.verification import quarantine
from ryot.verification.family import criterion_confidence
from ryot.verification.statuses import bounds_text

__all__ = [
    "BUILTIN_DEFAULTS", "SCHEMA", "CriteriaFile", "Criterion", "load_criteria",
    "parse_criteria", "read_json"
]

SCHEMA = "criteria"
BUILTIN_DEFAULTS = {"confidence": 0.95, "min_samples": 12, "max_samples": 48,
                    "max_seconds": 120.0, "max_noise": 0.5}


@dataclass(frozen=True)
class Criterion:
    id: str
    metric: str
    unit: str
    comparator: str  # ">=", "<=" or "between"
    description: str
    threshold: float | None = None
    min: float | None = None
    max: float | None = None
    expected_min: float | None = None
    expected_max: float | None = None
    confidence: float = 0.95
    min_samples: int = 12
    max_samples: int = 48
    max_seconds: float = 120.0
    max_noise: float = 0.5
    estimand: str = "typical"  # "typical": a typical trial (pseudo-median); "mean": time average
    timeout_seconds: float | None = None  # hard limit while providers run (see provider_call)
    requires: tuple[str, ...] = ()
    provider: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None
    across_commits: bool = False  # the provider runs on two commits (ryot accept --baseline)
    rounds_per_process: int = 4  # across commits: fresh worker processes every this many rounds
    quarantine: dict[str, str] | None = None  # {"reason", "until"}: see .quarantine

    def bounds_text(self) -> str:
        return bounds_text(self.comparator, self.threshold, self.min, self.max)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["requires"] = list(self.requires)
        if not self.across_commits:
            del d["across_commits"], d["rounds_per_process"]
        return {k: v for k, v in d.items() if v is not None}


@dataclass(frozen=True)
class CriteriaFile:
    path: str
    sha256: str
    name: str
    criteria: tuple[Criterion, ...]
    description: str = ""
    workload: str | None = None
    family_confidence: float | None = None  # Holm over all criteria (ryot.verification.family)
    quarantine_horizon_days: int = 90  # how far a quarantine may reach (.quarantine)


def read_json(path: str | os.PathLike[str], error=CriteriaError) -> tuple[Any, bytes]:
    """Strict JSON from a UTF-8 file (see :mod:`ryot.infra.jsonio`); errors raise ``error`` (a
    CriteriaError carries the file as its ``source``)."""
    try:
        return read_strict_json(path)
    except StrictJSONError as exc:
        if error is CriteriaError:
            raise CriteriaError(exc.message, source=exc.path, pointer=exc.pointer) from None
        raise error(str(exc)) from None


def load_criteria(path: str | os.PathLike[str], registry=None, *,
                  import_references: bool = True) -> CriteriaFile:
    """Read and check a criteria file; ``import_references=False`` checks provider and
    workload references without importing (running) their modules."""
    doc, raw = read_json(path)
    return parse_criteria(doc, str(path), hashlib.sha256(raw).hexdigest(), registry,
                          import_references=import_references)


def _check_reference(reference: str, source: str, pointer: str, import_references: bool) -> None:
    from ryot.verification.references import load, locate

    try:
        load(reference) if import_references else locate(reference)
    except ValueError as exc:
        raise CriteriaError(f"cannot load {reference!r}: {exc}", source=source,
                            pointer=pointer) from None


def parse_criteria(doc: Any, source: str, sha256: str = "", registry=None, *,
                   import_references: bool = True) -> CriteriaFile:
    from ryot.verification.registry import default_registry

    registry = registry if registry is not None else default_registry()
    try:
        error = first_error(SCHEMA, doc)
    except RecursionError:
        raise CriteriaError("nested too deeply", source=source) from None
    if error is not None:
        pointer, message = describe_parts(error)
        raise CriteriaError(message, source=source, pointer=pointer)
    defaults = {**BUILTIN_DEFAULTS, **doc.get("defaults", {})}
    family = doc.get("family_confidence")
    if family is not None:  # every criterion starts at the family's Bonferroni share
        _check_family(doc, source)
        defaults["confidence"] = criterion_confidence(family, len(doc["criteria"]))
        if not defaults["confidence"] < 1.0:
            raise CriteriaError(f"{family!r} over {len(doc['criteria'])} criteria leaves each "
                                "a confidence that rounds to 1: use a lower family_confidence",
                                source=source, pointer="/family_confidence")
    criteria, seen = [], {}
    horizon = doc.get("quarantine_horizon_days", quarantine.HORIZON_DAYS)
    for i, entry in enumerate(doc["criteria"]):
        at = f"/criteria/{i}"
        if entry["id"] in seen:
            raise CriteriaError(f"duplicate id {entry['id']!r} "
                                f"(also at /criteria/{seen[entry['id']]})",
                                source=source, pointer=f"{at}/id")
        seen[entry["id"]] = i
        merged = {**defaults, **entry}
        merged.setdefault("metric", entry["id"])  # a provider-only criterion names its metric by id
        _check_meaning(merged, source, at)
        if "provider" in entry:
            _check_reference(entry["provider"], source, f"{at}/provider", import_references)
        elif entry["metric"] not in registry:
            raise CriteriaError(f"unknown metric {entry['metric']!r}; registered: "
                                + ", ".join(sorted(registry.names())), source=source,
                                pointer=f"{at}/metric")
        merged["requires"] = tuple(merged.get("requires", ()))
        if "quarantine" in entry:
            quarantine.check(entry["quarantine"], source=source, pointer=f"{at}/quarantine",
                             horizon_days=horizon, on=quarantine.today())
        criteria.append(Criterion(**merged))
    if "workload" in doc:
        _check_reference(doc["workload"], source, "/workload", import_references)
    return CriteriaFile(path=source, sha256=sha256, name=doc.get("name", os.path.basename(source)),
                        criteria=tuple(criteria), description=doc.get("description", ""),
                        workload=doc.get("workload"), family_confidence=family,
                        quarantine_horizon_days=horizon)


def _check_family(doc: dict, source: str) -> None:
    """With family_confidence no confidence of one's own: the family sets every criterion's."""
    places = [("/defaults/confidence", doc.get("defaults", {}))]
    places += [(f"/criteria/{i}/confidence", e) for i, e in enumerate(doc["criteria"])]
    for pointer, where in places:
        if "confidence" in where:
            raise CriteriaError("a file with family_confidence gives no confidence of its own: "
                                "each criterion's comes from the family (Holm over all "
                                "criteria); remove this or family_confidence",
                                source=source, pointer=pointer)


def _check_meaning(c: dict, source: str, at: str) -> None:
    """What the schema cannot say: bounds that fit the comparator and each other."""
    def problem(key: str, message: str) -> CriteriaError:
        return CriteriaError(message, source=source, pointer=f"{at}/{key}")

    if c["comparator"] == "between":
        if "threshold" in c:
            raise problem("threshold", "'between' takes min and max, not threshold")
        if c["min"] > c["max"]:
            raise problem("min", f"min ({c['min']}) is greater than max ({c['max']})")
    else:
        for key in ("min", "max"):
            if key in c:
                raise problem(key, f"comparator {c['comparator']!r} takes threshold, not {key} "
                                   "(use 'between' for a range)")
    if "expected_min" in c and "expected_max" in c and c["expected_min"] > c["expected_max"]:
        raise problem("expected_min", f"expected_min ({c['expected_min']}) is greater than "
                                      f"expected_max ({c['expected_max']})")
    if c.get("across_commits") and "provider" not in c:
        raise problem("across_commits", "a criterion compared across commits names a scalar "
                                        "provider (\"module:function\" in the repository) to run "
                                        "on both commits")
    if c["min_samples"] > c["max_samples"]:
        raise problem("min_samples", f"min_samples ({c['min_samples']}) is greater than "
                                     f"max_samples ({c['max_samples']})")
