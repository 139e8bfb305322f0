"""Public facade (the origin's name, kept by the contract): the optimization orchestrator.

>>> orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(48, 8),
...                                 RLVRConfig(4, 0.9, 100))
>>> orch.state.compression.block_size, orch.state.rlvr.kv_page_size   # resolved: 48->64, 100->128
(64, 128)
>>> orch.validate_safety_gates({"loss": 2.3, "grad_norm": 0.7, "compression_error": 0.01}).passed
True

The implementation lives in :mod:`ryot.core.orchestration` (``coordinator`` wires
``precedence``, ``gates``, ``adaptation`` and ``metadata``) and :mod:`ryot.core.config`.
Re-exports only; nothing inside ryot imports this module.
"""

from ryot.core.config import CompressionConfig, KernelConfig, OptimizationState, RLVRConfig
from ryot.core.orchestration.adaptation import MAX_PATHS
from ryot.core.orchestration.coordinator import (
    ChangeRecord,
    CompatibilityReport,
    OptimizationOrchestrator,
)
from ryot.core.orchestration.gates import GateReport, SafetyBounds, Violation
from ryot.core.orchestration.metadata import CheckpointMetadataError
from ryot.core.orchestration.precedence import (
    Adjustment,
    IncompatibleConfigError,
    ParameterPrecedenceResolver,
    Resolution,
)
from ryot.infra.moved import forwarding_getattr

__all__ = [
    "Adjustment", "ChangeRecord", "CheckpointMetadataError", "CompatibilityReport",
    "CompressionConfig", "GateReport", "IncompatibleConfigError", "KernelConfig", "MAX_PATHS",
    "OptimizationOrchestrator", "OptimizationState", "ParameterPrecedenceResolver", "RLVRConfig",
    "Resolution", "SafetyBounds", "Violation",
]

# names this module held before 0.2 that are not part of the contract
__getattr__ = forwarding_getattr(__name__, {
    "GATES": "ryot.core.orchestration.gates", "check_gates": "ryot.core.orchestration.gates",
    "as_float": "ryot.core.orchestration.gates", "propose": "ryot.core.orchestration.adaptation",
    "fingerprint": "ryot.infra.provenance",
})
