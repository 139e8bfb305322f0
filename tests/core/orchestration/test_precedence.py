import pytest

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    IncompatibleConfigError,
    KernelConfig,
    ParameterPrecedenceResolver,
    RLVRConfig,
)


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
        resolver.resolve(KernelConfig(64, 64, 512), CompressionConfig(4097, 8), RLVRConfig(1, 0.5, 64))
    with pytest.raises(IncompatibleConfigError, match="max_kv_page_size=65536"):
        resolver.resolve(KernelConfig(64, 64, 1), CompressionConfig(4095, 8), RLVRConfig(1, 0.5, 65535))
    assert issubclass(IncompatibleConfigError, ValueError)


@pytest.mark.parametrize("kwargs", [{"max_block_size": 0}, {"max_kv_page_size": 2.5}])
def test_resolver_bounds_are_validated(kwargs):
    with pytest.raises(ValueError, match="must be an int >= 1"):
        ParameterPrecedenceResolver(**kwargs)
