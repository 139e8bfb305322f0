from __future__ import annotations

import json

import pytest

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    IncompatibleConfigError,
    KernelConfig,
    ParameterPrecedenceResolver,
    RLVRConfig,
)
from ryot.core.orchestration.precedence import Adjustment


def test_chain_is_resolved_with_recorded_reasons():
    res = ParameterPrecedenceResolver().resolve(
        KernelConfig(64, 64, 32), CompressionConfig(48, 8), RLVRConfig(4, 0.9, 100))
    assert res.compression.block_size == 64
    assert res.rlvr.kv_page_size == 128
    assert [(a.param, a.old, a.new) for a in res.adjustments] == [
        ("compression.block_size", 48, 64), ("rlvr.kv_page_size", 100, 128)]
    assert "tile_k=32" in res.adjustments[0].reason
    assert "block_size=64" in res.adjustments[1].reason


def test_compatible_input_is_returned_untouched():
    k, c, r = KernelConfig(64, 64, 32), CompressionConfig(64, 8), RLVRConfig(4, 0.9, 256)
    res = ParameterPrecedenceResolver().resolve(k, c, r)
    assert (res.kernel, res.compression, res.rlvr, res.adjustments) == (k, c, r, ())


def test_bounds_make_a_chain_infeasible():
    resolver = ParameterPrecedenceResolver(max_block_size=4096, max_kv_page_size=65536)
    with pytest.raises(IncompatibleConfigError, match="max_block_size=4096"):
        resolver.resolve(KernelConfig(64, 64, 512), CompressionConfig(4097, 8),
                         RLVRConfig(1, 0.5, 64))
    with pytest.raises(IncompatibleConfigError, match="max_kv_page_size=65536"):
        resolver.resolve(KernelConfig(64, 64, 1), CompressionConfig(4095, 8),
                         RLVRConfig(1, 0.5, 65535))
    assert issubclass(IncompatibleConfigError, ValueError)


@pytest.mark.parametrize("kwargs", [{"max_block_size": 0}, {"max_kv_page_size": 2.5}])
def test_resolver_bounds_are_validated(kwargs):
    with pytest.raises(ValueError, match="must be an int >= 1"):
        ParameterPrecedenceResolver(**kwargs)


# -- found untested by the mutation run (``nox -s mutation``, issue #13) ---------------------------
# Each test states a promise; the mutants it kills are what a wrong implementation of that
# promise would look like.
@pytest.mark.mutation
def test_resolver_defaults_and_round_trip_of_what_it_records():
    resolver = ParameterPrecedenceResolver()
    assert resolver.to_dict() == {"max_block_size": 4096, "max_kv_page_size": 65536}
    assert repr(resolver) == ("ParameterPrecedenceResolver(**{'max_block_size': 4096, "
                              "'max_kv_page_size': 65536})")
    assert resolver == ParameterPrecedenceResolver(**resolver.to_dict())
    assert resolver != ParameterPrecedenceResolver(max_block_size=2048)
    assert resolver != {"max_block_size": 4096, "max_kv_page_size": 65536}
    res = resolver.resolve(KernelConfig(64, 64, 32), CompressionConfig(48, 8),
                           RLVRConfig(4, 0.9, 100))
    recorded = json.loads(json.dumps([a.to_dict() for a in res.adjustments]))
    assert recorded[0] == {"param": "compression.block_size", "old": 48, "new": 64,
                           "reason": "raised to the nearest multiple of kernel.tile_k=32"}
    assert tuple(Adjustment.from_dict(d) for d in recorded) == res.adjustments


@pytest.mark.mutation
@pytest.mark.parametrize("kwargs, message", [
    ({"max_block_size": 0},
     "ParameterPrecedenceResolver.max_block_size must be an int >= 1, got 0"),
    ({"max_kv_page_size": True},
     "ParameterPrecedenceResolver.max_kv_page_size must be an int >= 1, got True"),
])
def test_resolver_bounds_errors_name_the_bound(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message.replace('.', '[.]')}$"):
        ParameterPrecedenceResolver(**kwargs)


@pytest.mark.mutation
def test_problems_are_described_in_words():
    problems = ParameterPrecedenceResolver().problems(
        KernelConfig(64, 64, 32), CompressionConfig(48, 8), RLVRConfig(4, 0.9, 100))
    assert problems == ("compression.block_size=48 is not a multiple of kernel.tile_k=32",
                        "rlvr.kv_page_size=100 is not a multiple of compression.block_size=48")


@pytest.mark.mutation
def test_a_value_raised_exactly_to_its_bound_is_allowed():
    resolver = ParameterPrecedenceResolver(max_block_size=64, max_kv_page_size=128)
    res = resolver.resolve(KernelConfig(64, 64, 32), CompressionConfig(48, 8),
                           RLVRConfig(4, 0.9, 100))
    assert (res.compression.block_size, res.rlvr.kv_page_size) == (64, 128)
