"""Safety gates over loss, gradient norm and compression error. All three are hard gates.

A gate passes only when its value is present, numeric, finite and inside its inclusive bounds.
Accepted numeric values: Python ints and floats, numpy scalars and one-element arrays, and
one-element torch tensors (read with ``.item()``). ``bool`` is not a number here.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ryot.infra.errors import ConfigError

__all__ = [
    "GATES", "GateReport", "NotNumeric", "SafetyBounds", "Violation", "as_float", "check_gate",
    "check_gates"
]

GATES = ("loss", "grad_norm", "compression_error")


@dataclass(frozen=True)
class SafetyBounds:
    """Inclusive bounds (origin figures). Compression error is bounded in ``[0, max]``."""

    loss: tuple[float, float] = (1e-8, 10.0)
    grad_norm: tuple[float, float] = (1e-6, 10.0)
    max_compression_error: float = 0.05

    def __post_init__(self) -> None:
        for name in ("loss", "grad_norm"):
            pair = getattr(self, name)
            if (not isinstance(pair, (tuple, list)) or len(pair) != 2
                    or not all(_is_real(v) and math.isfinite(v) for v in pair)
                    or pair[0] > pair[1]):
                raise ConfigError(f"SafetyBounds.{name} must be a pair (low, high) of finite "
                                 f"numbers with low <= high, got {pair!r}")
            object.__setattr__(self, name, (float(pair[0]), float(pair[1])))
        m = self.max_compression_error
        if not (_is_real(m) and math.isfinite(m) and m >= 0):
            raise ConfigError("SafetyBounds.max_compression_error must be a finite number >= 0, "
                              f"got {m!r}")
        object.__setattr__(self, "max_compression_error", float(m))

    def interval(self, gate: str) -> tuple[float, float]:
        if gate == "compression_error":
            return (0.0, self.max_compression_error)
        return getattr(self, gate)

    def to_dict(self) -> dict[str, Any]:
        return {"loss": list(self.loss), "grad_norm": list(self.grad_norm),
                "max_compression_error": self.max_compression_error}

    @classmethod
    def from_dict(cls, d: dict) -> SafetyBounds:
        if not isinstance(d, dict) or set(d) != {"loss", "grad_norm", "max_compression_error"}:
            raise ConfigError("SafetyBounds expects exactly the keys loss, grad_norm, "
                             f"max_compression_error, got {d!r}")
        return cls(loss=tuple(d["loss"]), grad_norm=tuple(d["grad_norm"]),
                   max_compression_error=d["max_compression_error"])


@dataclass(frozen=True)
class Violation:
    gate: str
    value: Any  # the float read, None when missing, or the repr of a non-numeric value
    bound: tuple[float, float]
    message: str


@dataclass(frozen=True)
class GateReport:
    passed: bool
    violations: tuple[Violation, ...]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class NotNumeric(Exception):
    """The value is not a real scalar (:func:`as_float` says why)."""


def as_float(value: Any) -> float:
    """Read a scalar as a Python float (huge ints become ±inf); raise NotNumeric otherwise."""
    if isinstance(value, float):
        return value
    if isinstance(value, bool):
        raise NotNumeric("a bool is not a number")
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise NotNumeric(f"a tensor with {value.numel()} elements is not a scalar")
        if value.dtype == torch.bool or value.is_complex():
            raise NotNumeric(f"a {value.dtype} tensor is not a real number")
        return float(value.detach().item())
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        if value.size != 1 or value.dtype.kind not in "iuf":
            raise NotNumeric(f"a numpy array of {value.size} {value.dtype} elements is not a "
                              "real scalar")
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise NotNumeric(f"{type(value).__name__} is not a real number")
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def check_gate(gate: str, value: Any, bound: tuple[float, float],
               present: bool = True) -> Violation | None:
    """The violation for one gate, or None when it passes."""
    if not present:
        return Violation(gate, None, bound, f"{gate} is missing")
    try:
        number = as_float(value)
    except NotNumeric as exc:
        return Violation(gate, repr(value), bound, f"{gate} is not numeric: {exc}")
    if math.isinf(number) and isinstance(value, numbers.Integral):
        return Violation(gate, number, bound,
                         f"{gate} is an integer too large for a float, outside "
                         f"[{bound[0]!r}, {bound[1]!r}]")
    if math.isnan(number) or math.isinf(number):
        return Violation(gate, number, bound, f"{gate} is not finite ({number})")
    low, high = bound
    if number < low or number > high:
        return Violation(gate, number, bound, f"{gate}={number!r} is outside [{low!r}, {high!r}]")
    return None


def check_gates(metrics: Mapping[str, Any], bounds: SafetyBounds) -> GateReport:
    """Check every gate; ``passed`` is True exactly when there is no violation."""
    if not isinstance(metrics, Mapping):
        raise TypeError("metrics must be a mapping of gate name to value, "
                        f"got {type(metrics).__name__}")
    violations = []
    for gate in GATES:
        violation = check_gate(gate, metrics.get(gate), bounds.interval(gate), gate in metrics)
        if violation is not None:
            violations.append(violation)
    return GateReport(passed=not violations, violations=tuple(violations))
