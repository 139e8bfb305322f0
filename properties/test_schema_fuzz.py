"""Any JSON given to from_checkpoint_metadata is restored or rejected with a clear ValueError."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ryot.core.orchestration import metadata as checkpoint_metadata
from ryot.core.orchestration.coordinator import (
    CheckpointMetadataError,
    CompressionConfig,
    KernelConfig,
    OptimizationOrchestrator,
    RLVRConfig,
)

from .strategies import json_paths, json_values, mutated


def _valid_metadata() -> dict:
    orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(48, 4),
                                    RLVRConfig(4, 0.9, 100), clock=lambda: 1.0)
    orch.adapt_parameters({"compression_error": 0.049, "loss": 2.0})
    orch.snapshot_configuration(1, 10)
    return orch.get_checkpoint_metadata()


VALID = _valid_metadata()


def _restore_or_reject(doc):
    try:
        restored = OptimizationOrchestrator.from_checkpoint_metadata(doc)
    except CheckpointMetadataError as exc:
        assert str(exc).startswith("checkpoint metadata:"), str(exc)
        return None
    # anything accepted must itself produce metadata that round-trips
    again = restored.get_checkpoint_metadata()
    assert OptimizationOrchestrator.from_checkpoint_metadata(again).state == restored.state
    return restored


@given(json_values)
def test_random_json_is_restored_or_rejected(doc):
    _restore_or_reject(doc)


ALL_PATHS = [p for p in json_paths(VALID) if p]


@given(st.sampled_from(ALL_PATHS), json_values, st.booleans(), st.booleans())
def test_mutated_metadata_is_restored_or_rejected(path, value, delete, reseal):
    doc = mutated(VALID, path, value, delete)
    if reseal:  # get past the seal so the schema and the config checks are exercised
        doc = checkpoint_metadata.seal(doc)
    restored = _restore_or_reject(doc)
    if not reseal and doc != VALID and path[-1] != "sha256":
        assert restored is None, "an edit without a new seal must be detected"
