from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    KernelConfig,
    OptimizationOrchestrator,
    RLVRConfig,
)
from ryot.core.orchestration.gates import SafetyBounds, as_float, check_gate, check_gates

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
    assert orch.validate_safety_gates({"loss": 1e-8, "grad_norm": 10.0,
                                       "compression_error": 0.05}).passed
    assert orch.validate_safety_gates({"loss": 10.0, "grad_norm": 1e-6,
                                       "compression_error": 0.0}).passed


@pytest.mark.parametrize("kwargs", [{"loss": (2.0, 1.0)}, {"grad_norm": (0, math.inf)},
                                    {"max_compression_error": -1}, {"loss": (1,)}])
def test_invalid_bounds_are_refused(kwargs):
    with pytest.raises(ValueError, match="SafetyBounds"):
        SafetyBounds(**kwargs)


def test_non_mapping_metrics_raise_type_error(orch):
    with pytest.raises(TypeError, match="mapping"):
        orch.validate_safety_gates([("loss", 1.0)])


# -- found untested by the mutation run (``nox -s mutation``, issue #13) ---------------------------
# Each test states a promise; the mutants it kills are what a wrong implementation of that
# promise would look like.
BOUND = (1e-8, 10.0)


@pytest.mark.mutation
@pytest.mark.parametrize("value, message", [
    (True, "loss is not numeric: a bool is not a number"),
    (torch.tensor(True), "loss is not numeric: a torch.bool tensor is not a real number"),
    (torch.tensor(1 + 1j), "loss is not numeric: a torch.complex64 tensor is not a real number"),
    (np.ones(3), "loss is not numeric: a numpy array of 3 float64 elements is not a real scalar"),
    (np.array([True]),
     "loss is not numeric: a numpy array of 1 bool elements is not a real scalar"),
    ("0.5", "loss is not numeric: str is not a real number"),
    (None, "loss is not numeric: NoneType is not a real number"),
])
def test_a_non_numeric_gate_value_is_named_with_what_it_is(value, message):
    """The violation says what was passed instead of a number and keeps its repr."""
    v = check_gate("loss", value, BOUND)
    assert v.message == message
    assert v.value == repr(value)


@pytest.mark.mutation
@pytest.mark.parametrize("value, read, message", [
    (10**400, math.inf, "loss is an integer too large for a float, outside [1e-08, 10.0]"),
    (-10**400, -math.inf, "loss is an integer too large for a float, outside [1e-08, 10.0]"),
    (math.nan, None, "loss is not finite (nan)"),
    (-math.inf, -math.inf, "loss is not finite (-inf)"),
    (10.5, 10.5, "loss=10.5 is outside [1e-08, 10.0]"),
    (np.float32(0.0), 0.0, "loss=0.0 is outside [1e-08, 10.0]"),
])
def test_a_violation_records_the_number_read_and_the_bound(value, read, message):
    v = check_gate("loss", value, BOUND)
    assert v.gate == "loss" and v.bound == BOUND and v.message == message
    assert math.isnan(v.value) if read is None else v.value == read


@pytest.mark.mutation
def test_huge_integers_read_as_infinities_of_their_sign():
    assert as_float(10**400) == math.inf
    assert as_float(-10**400) == -math.inf
    assert as_float(np.array([[7]])) == 7.0 and isinstance(as_float(np.array([[7]])), float)


@pytest.mark.mutation
def test_a_present_value_inside_its_bounds_passes_by_default():
    assert check_gate("loss", 1.0, BOUND) is None
    assert check_gate("loss", 1.0, BOUND, present=False).message == "loss is missing"


@pytest.mark.mutation
def test_a_non_mapping_is_refused_naming_its_type():
    with pytest.raises(TypeError, match="got list$"):
        check_gates([("loss", 1.0)], SafetyBounds())


@pytest.mark.mutation
@pytest.mark.parametrize("kwargs", [{"loss": ("a", 1.0)}, {"grad_norm": (True, 2.0)},
                                    {"max_compression_error": True},
                                    {"max_compression_error": "0.1"}])
def test_bounds_must_be_real_numbers_not_bools_or_strings(kwargs):
    with pytest.raises(ValueError, match="SafetyBounds"):
        SafetyBounds(**kwargs)


@pytest.mark.mutation
def test_bounds_are_normalised_to_floats_and_round_trip():
    """Whether a user writes 1 or 1.0, the recorded bounds (checkpoint metadata) are the same."""
    ints = SafetyBounds(loss=(1, 10), grad_norm=(0, 5), max_compression_error=1)
    floats = SafetyBounds(loss=(1.0, 10.0), grad_norm=(0.0, 5.0), max_compression_error=1.0)
    assert json.dumps(ints.to_dict()) == json.dumps(floats.to_dict())
    assert ints.to_dict() == {"loss": [1.0, 10.0], "grad_norm": [0.0, 5.0],
                              "max_compression_error": 1.0}
    assert SafetyBounds.from_dict(json.loads(json.dumps(ints.to_dict()))) == floats
    assert ints.interval("compression_error") == (0.0, 1.0)


@pytest.mark.mutation
@pytest.mark.parametrize("d", [{"loss": [0, 1], "grad_norm": [0, 1]},
                               {"loss": [0, 1], "grad_norm": [0, 1], "max_compression_error": 0.1,
                                "extra": 1},
                               [("loss", [0, 1])]])
def test_bounds_from_a_dict_need_exactly_the_three_keys(d):
    with pytest.raises(ValueError, match="^SafetyBounds expects exactly the keys loss, grad_norm, "
                                         "max_compression_error"):
        SafetyBounds.from_dict(d)
