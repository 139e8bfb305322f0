"""Properties of the safety gates: passed exactly when every value is present, finite, in bounds."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    KernelConfig,
    OptimizationOrchestrator,
    RLVRConfig,
    SafetyBounds,
)

from .strategies import gate_values

GATES = ("loss", "grad_norm", "compression_error")
MISSING = object()


def oracle_value(value):
    """Independent reading of a gate value: a float, or None when it is not a real scalar."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dtype == torch.bool or value.is_complex():
            return None
        return float(value.reshape(()).double())
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "iuf":
            return None
        return float(value.reshape(()))
    if not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def oracle_passes(value, low, high) -> bool:
    if value is MISSING:
        return False
    v = oracle_value(value)
    return v is not None and math.isfinite(v) and low <= v <= high


def make_orchestrator(bounds=None):
    return OptimizationOrchestrator(KernelConfig(32, 32, 32), CompressionConfig(64, 8),
                                    RLVRConfig(2, 0.5, 128), bounds or SafetyBounds())


@given(st.fixed_dictionaries({g: st.one_of(st.just(MISSING), gate_values) for g in GATES}))
def test_passed_exactly_when_all_values_valid(values):
    orch = make_orchestrator()
    metrics = {k: v for k, v in values.items() if v is not MISSING}
    report = orch.validate_safety_gates(metrics)
    expected = {g: oracle_passes(values[g], *orch.bounds.interval(g)) for g in GATES}
    assert {v.gate for v in report.violations} == {g for g, ok in expected.items() if not ok}
    assert report.passed == all(expected.values()) == (not report.violations)
    for v in report.violations:
        assert v.message and v.gate in v.message and v.bound == orch.bounds.interval(v.gate)


@given(st.sampled_from(GATES), st.sampled_from(["low", "high"]),
       st.sampled_from([float, np.float64, lambda x: torch.tensor(x, dtype=torch.float64)]))
def test_bounds_are_inclusive_and_one_ulp_outside_fails(gate, side, wrap):
    orch = make_orchestrator()
    low, high = orch.bounds.interval(gate)
    edge = low if side == "low" else high
    outside = np.nextafter(edge, -math.inf if side == "low" else math.inf)
    healthy = {"loss": 1.0, "grad_norm": 1.0, "compression_error": 0.01}
    assert orch.validate_safety_gates({**healthy, gate: wrap(edge)}).passed
    report = orch.validate_safety_gates({**healthy, gate: wrap(float(outside))})
    assert not report.passed and [v.gate for v in report.violations] == [gate]


@given(st.floats(0, 5), st.floats(0, 5), st.floats(0, 5), st.floats(0, 5), st.floats(0, 1),
       st.dictionaries(st.sampled_from(GATES), gate_values))
def test_custom_bounds_are_honoured(a, b, c, d, e, values):
    bounds = SafetyBounds(loss=(min(a, b), max(a, b)), grad_norm=(min(c, d), max(c, d)),
                          max_compression_error=e)
    report = make_orchestrator(bounds).validate_safety_gates(values)
    expected = all(oracle_passes(values.get(g, MISSING), *bounds.interval(g)) for g in GATES)
    assert report.passed == expected


@given(st.lists(st.dictionaries(st.sampled_from(GATES), gate_values), max_size=8))
def test_gate_statistics_count_every_check(reports):
    orch = make_orchestrator()
    results = [orch.validate_safety_gates(m) for m in reports]
    stats = orch.get_checkpoint_metadata()["gate_statistics"]
    assert stats["checks"] == len(reports)
    assert stats["passed"] == sum(r.passed for r in results)
    for g in GATES:
        assert stats["violations"][g] == sum(any(v.gate == g for v in r.violations)
                                             for r in results)
