import json
import math

import pytest

from ryot.core.orchestration.coordinator import (
    CompressionConfig,
    KernelConfig,
    OptimizationState,
    RLVRConfig,
)


@pytest.mark.parametrize("make, field", [
    (lambda: KernelConfig(0, 32, 32), "tile_m"),
    (lambda: KernelConfig(32, 48, 32), "tile_n"),
    (lambda: KernelConfig(32, 32, -32), "tile_k"),
    (lambda: KernelConfig(32, 32, 32.0), "tile_k"),
    (lambda: KernelConfig(32, 32, True), "tile_k"),
    (lambda: KernelConfig(32, 32, 32, num_warps=3), "num_warps"),
    (lambda: KernelConfig(32, 32, 32, num_stages=0), "num_stages"),
    (lambda: CompressionConfig(0, 8), "block_size"),
    (lambda: CompressionConfig(64, 2), "bits"),
    (lambda: CompressionConfig(64, True), "bits"),
    (lambda: CompressionConfig(64, 8, 0.0), "error_bound"),
    (lambda: CompressionConfig(64, 8, math.nan), "error_bound"),
    (lambda: CompressionConfig(64, 8, 1.5), "error_bound"),
    (lambda: RLVRConfig(0, 0.5, 64), "num_paths"),
    (lambda: RLVRConfig(2, -0.1, 64), "path_selection_threshold"),
    (lambda: RLVRConfig(2, 1.01, 64), "path_selection_threshold"),
    (lambda: RLVRConfig(2, "0.5", 64), "path_selection_threshold"),
    (lambda: RLVRConfig(2, 0.5, 0), "kv_page_size"),
])
def test_invalid_fields_raise_value_error_naming_the_field(make, field):
    with pytest.raises(ValueError, match=rf"\.{field} must be"):
        make()


def test_boundary_values_are_accepted():
    assert RLVRConfig(1, 0.0, 1).path_selection_threshold == 0.0
    assert RLVRConfig(1, 1, 1).path_selection_threshold == 1.0
    assert CompressionConfig(1, 4, 1.0).error_bound == 1.0
    assert KernelConfig(1, 1, 1, num_warps=1, num_stages=1).tile_k == 1


def test_configs_are_frozen():
    k = KernelConfig(32, 32, 32)
    with pytest.raises(AttributeError):
        k.tile_k = 64


def test_state_round_trips_exactly_through_json():
    state = OptimizationState(KernelConfig(64, 32, 16), CompressionConfig(64, 4, 0.03),
                              RLVRConfig(8, 0.75, 256), epoch=2, step=1234,
                              timestamp=1795878609.398069, metrics={"loss": 0.1 + 0.2})
    again = OptimizationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert again.metrics["loss"] == 0.1 + 0.2


@pytest.mark.parametrize("bad, message", [
    ({"tile_m": 32, "tile_n": 32}, "missing field"),
    ({"tile_m": 32, "tile_n": 32, "tile_k": 32, "colour": 1}, "unknown field"),
    ([32, 32, 32], "expects an object"),
])
def test_from_dict_rejects_malformed_input(bad, message):
    with pytest.raises(ValueError, match=message):
        KernelConfig.from_dict(bad)


def test_state_rejects_non_finite_metrics_and_negative_steps():
    args = (KernelConfig(32, 32, 32), CompressionConfig(64, 8), RLVRConfig(1, 0.5, 64))
    with pytest.raises(ValueError, match="metrics"):
        OptimizationState(*args, epoch=0, step=0, timestamp=1.0, metrics={"loss": math.inf})
    with pytest.raises(ValueError, match="step"):
        OptimizationState(*args, epoch=0, step=-1, timestamp=1.0)
