import math

import numpy as np
import pytest
import torch

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    KernelConfig,
    OptimizationOrchestrator,
    RLVRConfig,
    SafetyBounds,
)

HEALTHY = {"loss": 2.0, "grad_norm": 1.0, "compression_error": 0.01}


@pytest.fixture
def orch():
    return OptimizationOrchestrator(KernelConfig(32, 32, 32), CompressionConfig(64, 8),
                                    RLVRConfig(2, 0.5, 128))


def test_healthy_metrics_pass(orch):
    assert orch.validate_safety_gates(HEALTHY).passed


@pytest.mark.parametrize("gate, value, fragment", [
    ("loss", math.nan, "not finite"),
    ("loss", 10.5, "outside"),
    ("loss", 0.0, "outside"),
    ("grad_norm", math.inf, "not finite"),
    ("grad_norm", 11, "outside"),
    ("grad_norm", 0.0, "outside"),
    ("compression_error", 0.0500001, "outside"),
    ("compression_error", -0.01, "outside"),
    ("compression_error", "0.01", "not numeric"),
    ("compression_error", None, "not numeric"),
    ("loss", True, "not numeric"),
    ("loss", torch.ones(3), "3 elements"),
    ("loss", torch.tensor(math.nan), "not finite"),
    ("loss", np.float32(np.inf), "not finite"),
    ("loss", 10**400, "outside"),
])
def test_each_gate_is_hard(orch, gate, value, fragment):
    report = orch.validate_safety_gates({**HEALTHY, gate: value})
    assert not report.passed
    assert [v.gate for v in report.violations] == [gate]
    assert fragment in report.violations[0].message


def test_missing_gate_is_a_violation(orch):
    report = orch.validate_safety_gates({"loss": 1.0, "grad_norm": 1.0})
    assert not report.passed
    assert report.violations[0].message == "compression_error is missing"
    assert report.violations[0].value is None


@pytest.mark.parametrize("value", [torch.tensor(2.0), torch.tensor([2.0], dtype=torch.bfloat16),
                                   np.float64(2.0), np.array(2.0), 2, 2.0])
def test_scalars_of_every_kind_are_read(orch, value):
    assert orch.validate_safety_gates({**HEALTHY, "loss": value}).passed


def test_bounds_are_inclusive(orch):
    assert orch.validate_safety_gates({"loss": 1e-8, "grad_norm": 10.0, "compression_error": 0.05}).passed
    assert orch.validate_safety_gates({"loss": 10.0, "grad_norm": 1e-6, "compression_error": 0.0}).passed


@pytest.mark.parametrize("kwargs", [{"loss": (2.0, 1.0)}, {"grad_norm": (0, math.inf)},
                                    {"max_compression_error": -1}, {"loss": (1,)}])
def test_invalid_bounds_are_refused(kwargs):
    with pytest.raises(ValueError, match="SafetyBounds"):
        SafetyBounds(**kwargs)


def test_non_mapping_metrics_raise_type_error(orch):
    with pytest.raises(TypeError, match="mapping"):
        orch.validate_safety_gates([("loss", 1.0)])
