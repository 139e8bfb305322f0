"""Properties of ParameterPrecedenceResolver: what a wrong resolver would break."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ryot.core.orchestration.coordinator import IncompatibleConfigError, ParameterPrecedenceResolver

from .strategies import compressions, kernels, rlvrs

resolvers = st.builds(ParameterPrecedenceResolver, max_block_size=st.integers(1, 8192),
                      max_kv_page_size=st.integers(1, 131072))


def _ceil_to(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _expected(resolver, kernel, compression, rlvr):
    """An independent oracle: the resolved (block, page), or None when infeasible."""
    block = compression.block_size
    if block % kernel.tile_k:
        block = _ceil_to(block, kernel.tile_k)
        if block > resolver.max_block_size:
            return None
    page = rlvr.kv_page_size
    if page % block:
        page = _ceil_to(page, block)
        if page > resolver.max_kv_page_size:
            return None
    return block, page


@given(resolvers, kernels, compressions, rlvrs)
def test_resolution_is_compatible_minimal_and_respects_precedence(resolver, kernel, compression,
                                                                  rlvr):
    expected = _expected(resolver, kernel, compression, rlvr)
    assume(expected is not None)
    res = resolver.resolve(kernel, compression, rlvr)
    assert resolver.problems(res.kernel, res.compression, res.rlvr) == ()
    # the highest-priority parameter is never touched
    assert res.kernel == kernel
    # minimal: exactly the nearest valid multiple at or above the input
    assert (res.compression.block_size, res.rlvr.kv_page_size) == expected
    assert 0 <= res.compression.block_size - compression.block_size < kernel.tile_k
    assert 0 <= res.rlvr.kv_page_size - rlvr.kv_page_size < res.compression.block_size
    # nothing else changes
    assert (res.compression.bits, res.compression.error_bound) == (compression.bits,
                                                                   compression.error_bound)
    assert (res.rlvr.num_paths, res.rlvr.path_selection_threshold) == (
        rlvr.num_paths, rlvr.path_selection_threshold)


@given(resolvers, kernels, compressions, rlvrs)
def test_valid_values_are_never_touched(resolver, kernel, compression, rlvr):
    assume(_expected(resolver, kernel, compression, rlvr) is not None)
    res = resolver.resolve(kernel, compression, rlvr)
    if compression.block_size % kernel.tile_k == 0:
        assert res.compression == compression
    if rlvr.kv_page_size % res.compression.block_size == 0:
        assert res.rlvr == rlvr
    params = {a.param for a in res.adjustments}
    assert params <= {"compression.block_size", "rlvr.kv_page_size"}
    for a in res.adjustments:
        assert a.new > a.old and a.reason


@given(resolvers, kernels, compressions, rlvrs)
def test_resolution_is_idempotent(resolver, kernel, compression, rlvr):
    assume(_expected(resolver, kernel, compression, rlvr) is not None)
    once = resolver.resolve(kernel, compression, rlvr)
    twice = resolver.resolve(once.kernel, once.compression, once.rlvr)
    assert twice.adjustments == ()
    assert (twice.kernel, twice.compression, twice.rlvr) == (once.kernel, once.compression,
                                                             once.rlvr)


@given(resolvers, kernels, compressions, rlvrs)
def test_infeasible_chains_raise_the_documented_error(resolver, kernel, compression, rlvr):
    assume(_expected(resolver, kernel, compression, rlvr) is None)
    with pytest.raises(IncompatibleConfigError, match="exceeds max_"):
        resolver.resolve(kernel, compression, rlvr)
