"""Every public name of ../shared/CONTRACT.md stays importable, and the facades are thin:
they hand out the implementation's own objects."""

from __future__ import annotations

import importlib

import pytest

CONTRACT = {
    "ryot.orchestrator": ["KernelConfig", "CompressionConfig", "RLVRConfig", "OptimizationState",
                          "ParameterPrecedenceResolver", "Resolution", "Adjustment",
                          "IncompatibleConfigError", "SafetyBounds", "OptimizationOrchestrator",
                          "CompatibilityReport", "GateReport", "Violation"],
    "ryot.kernel_optimizer": ["detect", "tune", "detect_and_tune", "HardwareProfile"],
    "ryot.semantic_compression": ["encode", "decode", "reconstruction_error", "CompressedTensor"],
    "ryot.inference_scaling": ["optimize_kv_cache", "QuantizedKVCache", "select_paths",
                               "PathResult"],
    "ryot": ["evaluate"],
}


@pytest.mark.parametrize("module, names", sorted(CONTRACT.items()))
def test_contract_names_are_importable(module, names):
    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing, f"{module} lacks {missing}"


@pytest.mark.parametrize("facade, implementation, names", [
    ("ryot.semantic_compression", "ryot.core.quant.blockwise",
     ["encode", "decode", "reconstruction_error", "CompressedTensor"]),
    ("ryot.inference_scaling", "ryot.core.kv.cache", ["optimize_kv_cache", "QuantizedKVCache"]),
    ("ryot.inference_scaling", "ryot.core.path_selection", ["select_paths", "PathResult"]),
])
def test_facades_re_export_the_implementation(facade, implementation, names):
    f, i = importlib.import_module(facade), importlib.import_module(implementation)
    for name in names:
        assert getattr(f, name) is getattr(i, name)


def test_a_kv_cache_refuses_pages_that_split_a_key_group():
    from ryot.inference_scaling import optimize_kv_cache
    from ryot.orchestrator import CompressionConfig, RLVRConfig

    with pytest.raises(ValueError,
                       match="kv_page_size=96 is not a multiple of compression.block_size=64"):
        optimize_kv_cache(1, 2, 8, 128, CompressionConfig(64, 8), RLVRConfig(2, 1.0, 96))
