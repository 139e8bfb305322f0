"""One test per adaptation rule (documented in ryot/core/orchestration/adaptation.py), plus
determinism."""

import math

import pytest

from ryot.core.orchestration.coordinator import (
    MAX_PATHS,
    CompressionConfig,
    KernelConfig,
    OptimizationOrchestrator,
    ParameterPrecedenceResolver,
    RLVRConfig,
)


def make(bits=8, block=128, tile_k=32, paths=4, page=256, threshold=0.9, resolver=None):
    return OptimizationOrchestrator(KernelConfig(64, 64, tile_k), CompressionConfig(block, bits),
                                    RLVRConfig(paths, threshold, page), resolver=resolver,
                                    clock=lambda: 42.0)


def changes(orch):
    return [(c.param, c.old, c.new) for c in orch.history]


def test_r1_near_the_bound_moves_4_bits_to_8():
    orch = make(bits=4)
    orch.adapt_parameters({"compression_error": 0.041})  # >= 0.8 * 0.05
    assert orch.state.compression.bits == 8
    assert changes(orch) == [("compression.bits", 4, 8)]
    assert orch.history[0].reason.startswith("R1")


def test_r1_at_8_bits_halves_the_block_keeping_tile_multiples():
    orch = make(bits=8, block=96, tile_k=32, page=192)
    orch.adapt_parameters({"compression_error": 0.045})
    assert orch.state.compression.block_size == 32  # 96 // 2 = 48 -> down to a multiple of 32
    assert orch.validate_parameter_compatibility().ok


def test_r1_does_nothing_below_the_threshold_or_at_the_floor():
    orch = make(bits=8, block=32, tile_k=32)
    orch.adapt_parameters({"compression_error": 0.039})
    orch.adapt_parameters({"compression_error": 0.049})  # already 8 bits, smallest block
    assert orch.history == []


def test_r1_uses_the_tighter_of_config_and_gate_bounds():
    orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 4, 0.01),
                                    RLVRConfig(4, 0.9, 256))
    orch.adapt_parameters({"compression_error": 0.009})
    assert orch.state.compression.bits == 8


def test_r1_treats_non_finite_error_as_over_the_bound():
    orch = make(bits=4)
    orch.adapt_parameters({"compression_error": math.nan})
    assert orch.state.compression.bits == 8


@pytest.mark.parametrize("metrics", [{"loss": math.nan}, {"grad_norm": 50.0}, {"loss": 11.0}])
def test_r2_instability_under_4_bits_moves_to_8(metrics):
    orch = make(bits=4)
    orch.adapt_parameters(metrics)
    assert changes(orch) == [("compression.bits", 4, 8)]
    assert orch.history[0].reason.startswith("R2")


def test_r3_reverts_a_kernel_that_is_not_faster():
    orch = make()
    old = orch.state.kernel
    orch.propose_kernel(KernelConfig(128, 128, 64), reason="tuned")
    assert orch.state.kernel.tile_k == 64
    orch.adapt_parameters({"kernel_speedup": 0.93})
    assert orch.state.kernel == old
    assert orch.kernel_stack == []
    assert orch.history[-1].reason.startswith("R3")
    orch.adapt_parameters({"kernel_speedup": 0.5})  # nothing earlier to go back to
    assert orch.state.kernel == old


def test_r3_keeps_a_faster_kernel():
    orch = make()
    orch.propose_kernel(KernelConfig(128, 128, 64))
    orch.adapt_parameters({"kernel_speedup": 1.2})
    assert orch.state.kernel.tile_k == 64


def test_r4_widens_a_search_that_used_every_path_without_success():
    orch = make(paths=4, threshold=0.9)
    orch.adapt_parameters({"rlvr_best_reward": 0.5, "rlvr_paths_used": 4})
    assert orch.state.rlvr.num_paths == 8
    orch.adapt_parameters({"rlvr_best_reward": 0.95, "rlvr_paths_used": 8})
    assert orch.state.rlvr.num_paths == 8


def test_r4_stops_at_max_paths():
    orch = make(paths=MAX_PATHS)
    orch.adapt_parameters({"rlvr_best_reward": 0.0, "rlvr_paths_used": MAX_PATHS})
    assert orch.state.rlvr.num_paths == MAX_PATHS


def test_changes_are_re_resolved_and_recorded():
    # block 96 -> 32 would leave page 96*3=288 valid (288 % 32 == 0); use page 96 * 1 with tile 32
    orch = make(bits=8, block=96, tile_k=32, page=96)
    orch.adapt_parameters({"compression_error": 0.049})
    assert orch.state.compression.block_size == 32
    assert orch.state.rlvr.kv_page_size == 96  # 96 % 32 == 0: untouched
    orch2 = make(bits=8, block=192, tile_k=64, page=192)
    orch2.adapt_parameters({"compression_error": 0.049})
    assert orch2.state.compression.block_size == 64
    assert orch2.validate_parameter_compatibility().ok


def test_a_change_that_cannot_be_made_compatible_is_dropped():
    resolver = ParameterPrecedenceResolver(max_block_size=4096, max_kv_page_size=192)
    orch = make(bits=8, block=192, tile_k=64, page=192, resolver=resolver)
    before = orch.state
    orch.adapt_parameters({"compression_error": 0.049})  # 192 -> 64 is compatible (192 % 64 == 0)
    assert orch.state.compression.block_size == 64
    assert orch.state != before


def test_adaptation_is_deterministic():
    metrics = {"compression_error": 0.045, "loss": 12.0, "rlvr_best_reward": 0.1,
               "rlvr_paths_used": 4}
    a, b = make(bits=4), make(bits=4)
    assert a.adapt_parameters(metrics) == b.adapt_parameters(metrics)
    assert a.history == b.history


def test_state_keeps_only_finite_numeric_metrics():
    orch = make()
    state = orch.adapt_parameters({"loss": 2.0, "grad_norm": math.nan, "note": "x", "acc": 0.5})
    assert state.metrics == {"loss": 2.0, "acc": 0.5}
