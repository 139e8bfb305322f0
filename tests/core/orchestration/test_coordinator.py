"""ryot.core.orchestration.coordinator: the orchestrator's own decisions (activation
checkpointing from a memory budget)."""

import pytest

from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig
from ryot.core.orchestration.coordinator import OptimizationOrchestrator

MiB = 2**20


def _orchestrator():
    return OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 8),
                                    RLVRConfig(4, 1.0, 256), clock=lambda: 0.0)


def test_the_orchestrator_decides_and_records_why():
    orch = _orchestrator()
    assert orch.activation_checkpointing is False
    assert orch.plan_activation_checkpointing(10 * MiB, 16 * MiB) is False
    assert orch.history == []  # no change: nothing recorded
    assert orch.plan_activation_checkpointing(41 * MiB, 32 * MiB) is True
    record = orch.history[-1]
    assert (record.param, record.old, record.new) == ("activation_checkpointing", False, True)
    assert record.reason == "activations saved for backward 41 MiB > budget 32 MiB"
    assert orch.plan_activation_checkpointing(41 * MiB, 32 * MiB) is True and len(orch.history) == 1
    restored = OptimizationOrchestrator.from_checkpoint_metadata(orch.get_checkpoint_metadata())
    assert restored.activation_checkpointing is True
    assert restored.plan_activation_checkpointing(41 * MiB, 64 * MiB) is False
    assert restored.history[-1].reason == "activations saved for backward 41 MiB <= budget 64 MiB"
    with pytest.raises(ValueError, match="saved_bytes must be an int >= 0"):
        orch.plan_activation_checkpointing(-1, 0)
    with pytest.raises(ValueError, match="budget_bytes must be an int >= 0"):
        orch.plan_activation_checkpointing(0, 1.5)
