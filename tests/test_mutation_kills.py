"""Behaviour the mutation run (``nox -s mutation``, issue #13) found untested in the safety gates,
the precedence resolver and the quantizer's torch reference. Each test states a promise; the
mutants it kills are what a wrong implementation of that promise would look like."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    KernelConfig,
    ParameterPrecedenceResolver,
    RLVRConfig,
)
from ryot.core.orchestration.gates import SafetyBounds, as_float, check_gate, check_gates
from ryot.core.orchestration.precedence import Adjustment

BOUND = (1e-8, 10.0)


# -- safety gates ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value, message", [
    (True, "loss is not numeric: a bool is not a number"),
    (torch.tensor(True), "loss is not numeric: a torch.bool tensor is not a real number"),
    (torch.tensor(1 + 1j), "loss is not numeric: a torch.complex64 tensor is not a real number"),
    (np.ones(3), "loss is not numeric: a numpy array of 3 float64 elements is not a real scalar"),
    (np.array([True]), "loss is not numeric: a numpy array of 1 bool elements is not a real scalar"),
    ("0.5", "loss is not numeric: str is not a real number"),
    (None, "loss is not numeric: NoneType is not a real number"),
])
def test_a_non_numeric_gate_value_is_named_with_what_it_is(value, message):
    """The violation says what was passed instead of a number and keeps its repr."""
    v = check_gate("loss", value, BOUND)
    assert v.message == message
    assert v.value == repr(value)


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


def test_huge_integers_read_as_infinities_of_their_sign():
    assert as_float(10**400) == math.inf
    assert as_float(-10**400) == -math.inf
    assert as_float(np.array([[7]])) == 7.0 and isinstance(as_float(np.array([[7]])), float)


def test_a_present_value_inside_its_bounds_passes_by_default():
    assert check_gate("loss", 1.0, BOUND) is None
    assert check_gate("loss", 1.0, BOUND, present=False).message == "loss is missing"


def test_a_non_mapping_is_refused_naming_its_type():
    with pytest.raises(TypeError, match="got list$"):
        check_gates([("loss", 1.0)], SafetyBounds())


@pytest.mark.parametrize("kwargs", [{"loss": ("a", 1.0)}, {"grad_norm": (True, 2.0)},
                                    {"max_compression_error": True},
                                    {"max_compression_error": "0.1"}])
def test_bounds_must_be_real_numbers_not_bools_or_strings(kwargs):
    with pytest.raises(ValueError, match="SafetyBounds"):
        SafetyBounds(**kwargs)


def test_bounds_are_normalised_to_floats_and_round_trip():
    """Whether a user writes 1 or 1.0, the recorded bounds (checkpoint metadata) are the same."""
    ints = SafetyBounds(loss=(1, 10), grad_norm=(0, 5), max_compression_error=1)
    floats = SafetyBounds(loss=(1.0, 10.0), grad_norm=(0.0, 5.0), max_compression_error=1.0)
    assert json.dumps(ints.to_dict()) == json.dumps(floats.to_dict())
    assert ints.to_dict() == {"loss": [1.0, 10.0], "grad_norm": [0.0, 5.0],
                              "max_compression_error": 1.0}
    assert SafetyBounds.from_dict(json.loads(json.dumps(ints.to_dict()))) == floats
    assert ints.interval("compression_error") == (0.0, 1.0)


@pytest.mark.parametrize("d", [{"loss": [0, 1], "grad_norm": [0, 1]},
                               {"loss": [0, 1], "grad_norm": [0, 1], "max_compression_error": 0.1,
                                "extra": 1},
                               [("loss", [0, 1])]])
def test_bounds_from_a_dict_need_exactly_the_three_keys(d):
    with pytest.raises(ValueError, match="^SafetyBounds expects exactly the keys loss, grad_norm, max_compression_error"):
        SafetyBounds.from_dict(d)


# -- precedence -------------------------------------------------------------------------------------
def test_resolver_defaults_and_round_trip_of_what_it_records():
    resolver = ParameterPrecedenceResolver()
    assert resolver.to_dict() == {"max_block_size": 4096, "max_kv_page_size": 65536}
    assert repr(resolver) == "ParameterPrecedenceResolver(**{'max_block_size': 4096, 'max_kv_page_size': 65536})"
    assert resolver == ParameterPrecedenceResolver(**resolver.to_dict())
    assert resolver != ParameterPrecedenceResolver(max_block_size=2048)
    assert resolver != {"max_block_size": 4096, "max_kv_page_size": 65536}
    res = resolver.resolve(KernelConfig(64, 64, 32), CompressionConfig(48, 8), RLVRConfig(4, 0.9, 100))
    recorded = json.loads(json.dumps([a.to_dict() for a in res.adjustments]))
    assert recorded[0] == {"param": "compression.block_size", "old": 48, "new": 64,
                           "reason": "raised to the nearest multiple of kernel.tile_k=32"}
    assert tuple(Adjustment.from_dict(d) for d in recorded) == res.adjustments


@pytest.mark.parametrize("kwargs, message", [
    ({"max_block_size": 0}, "ParameterPrecedenceResolver.max_block_size must be an int >= 1, got 0"),
    ({"max_kv_page_size": True}, "ParameterPrecedenceResolver.max_kv_page_size must be an int >= 1, got True"),
])
def test_resolver_bounds_errors_name_the_bound(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message.replace('.', '[.]')}$"):
        ParameterPrecedenceResolver(**kwargs)


def test_problems_are_described_in_words():
    problems = ParameterPrecedenceResolver().problems(
        KernelConfig(64, 64, 32), CompressionConfig(48, 8), RLVRConfig(4, 0.9, 100))
    assert problems == ("compression.block_size=48 is not a multiple of kernel.tile_k=32",
                        "rlvr.kv_page_size=100 is not a multiple of compression.block_size=48")


def test_a_value_raised_exactly_to_its_bound_is_allowed():
    resolver = ParameterPrecedenceResolver(max_block_size=64, max_kv_page_size=128)
    res = resolver.resolve(KernelConfig(64, 64, 32), CompressionConfig(48, 8), RLVRConfig(4, 0.9, 100))
    assert (res.compression.block_size, res.rlvr.kv_page_size) == (64, 128)
