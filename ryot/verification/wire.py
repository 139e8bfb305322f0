"""Samples on their way from the worker process to the engine, checked when they arrive.

The worker sends what a provider returned as JSON (never pickle: unpickling runs code, and the
worker runs user code). :func:`to_wire` is the worker's side; :func:`from_wire` is the engine's
and trusts nothing: the kind must be known, every value a number (non-finite ones as the strings
``"nan"``, ``"inf"``, ``"-inf"``), ``warmup_reached`` a boolean, counts non-negative integers,
and ``details`` plain JSON (objects, arrays, strings, finite numbers, booleans, null) no deeper
than :data:`MAX_DEPTH`. Anything else is a :class:`WireError` naming the place, e.g.
``details/loss is NaN``, which the runner turns into that criterion's ERROR.
"""

from __future__ import annotations

import math
from typing import Any

from ryot.measure.samples import (
    KINDS,
    NON_FINITE,
    TABLE_CELLS,
    Samples,
    paired_proportions,
    proportion,
    to_json_number,
)
from ryot.verification.provider_call import ProviderFailure

__all__ = ["MAX_DEPTH", "WireError", "from_wire", "json_problem", "to_wire"]

MAX_DEPTH = 32
_SERIES = ("values", "numerator", "denominator", "baseline", "candidate")


class WireError(ProviderFailure):
    """What a provider returned cannot be recorded as evidence (not JSON, wrong types)."""


def json_problem(value: Any, where: str = "details", depth: int = 0) -> str | None:
    """Why ``value`` is not plain, finite JSON (the first place found), or None."""
    if depth > MAX_DEPTH:
        return f"{where} is nested deeper than {MAX_DEPTH} levels"
    if value is None or isinstance(value, (bool, str)):
        return None
    if isinstance(value, int):
        return None if abs(value) < 2 ** 63 else f"{where} is an integer outside 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is {value!r}: JSON has no {value!r}"
    if isinstance(value, list):
        for i, item in enumerate(value):
            problem = json_problem(item, f"{where}/{i}", depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has the key {key!r}, which is not a string"
            problem = json_problem(item, f"{where}/{key}", depth + 1)
            if problem:
                return problem
        return None
    return f"{where} is a {type(value).__name__}, which JSON cannot carry"


def to_wire(samples: Samples) -> dict[str, Any]:
    """The worker's side: what a provider returned (already coerced) as JSON data."""
    problem = json_problem(samples.details)
    if problem:
        raise WireError(f"the provider's samples cannot be recorded: {problem}")
    wire: dict[str, Any] = {"kind": samples.kind, "warmup_reached": samples.warmup_reached,
                            "details": samples.details, "counts": samples.counts,
                            "statistic": samples.statistic}
    for name in _SERIES:
        wire[name] = [to_json_number(v) for v in getattr(samples, name)]
    return wire


def _number(v: Any, where: str) -> float:
    if isinstance(v, str) and v in NON_FINITE:
        return NON_FINITE[v]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise WireError(f"{where} is {v!r}, not a number")


def from_wire(wire: Any) -> Samples:
    """The engine's side: Samples rebuilt from the worker's JSON, every field checked."""
    if not isinstance(wire, dict) or wire.get("kind") not in KINDS:
        kind = wire.get("kind") if isinstance(wire, dict) else wire
        raise WireError(f"unknown sample kind {kind!r}; expected one of {', '.join(KINDS)}")
    kind, warm = wire["kind"], wire.get("warmup_reached")
    if not isinstance(warm, bool):
        raise WireError(f"warmup_reached must be true or false, got {warm!r}")
    details = wire.get("details") or {}
    problem = json_problem(details) if isinstance(details, dict) else "details is not an object"
    if problem:
        raise WireError(f"the provider's samples cannot be recorded: {problem}")
    series = {}
    for name in _SERIES:
        raw = wire.get(name) or []
        if not isinstance(raw, list):
            raise WireError(f"{name} is not a list")
        series[name] = [_number(v, f"{name}[{i}]") for i, v in enumerate(raw)]
    counts = wire.get("counts") or {}
    try:
        if kind == "proportion":
            samples = proportion(counts["successes"], counts["trials"])
        elif kind == "paired_proportions":
            samples = paired_proportions(*(counts[c] for c in TABLE_CELLS),
                                         statistic=wire.get("statistic"))
        else:
            samples = None
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"{kind} counts are malformed: {exc}") from None
    if samples is not None:
        samples.details = details
        return samples
    if kind == "paired" and len(series["numerator"]) != len(series["denominator"]):
        raise WireError(f"paired samples need equal counts, got {len(series['numerator'])} and "
                        f"{len(series['denominator'])}")
    return Samples(kind, warmup_reached=warm, details=details, **series)
