"""Per-step orchestrator cost: what a training loop pays each step for gates, adapt, snapshot."""

from __future__ import annotations

import itertools

from ..provenance import fingerprint
from ..timing import time_callable
from .rows import sample_row

HEALTHY = {"loss": 2.3, "grad_norm": 0.8, "compression_error": 0.012}


def run(samples: int = 31) -> dict:
    """Per-step orchestrator work: validate the gates, adapt, snapshot (one training step)."""
    from ..orchestrator import (
        CompressionConfig,
        KernelConfig,
        OptimizationOrchestrator,
        RLVRConfig,
    )

    orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 8),
                                    RLVRConfig(4, 0.9, 256))
    counter = itertools.count()

    def step() -> None:
        orch.validate_safety_gates(HEALTHY)
        orch.adapt_parameters(HEALTHY)
        orch.snapshot_configuration(0, next(counter))

    parts = {
        "step (gates + adapt + snapshot)": step,
        "validate_safety_gates": lambda: orch.validate_safety_gates(HEALTHY),
        "adapt_parameters": lambda: orch.adapt_parameters(HEALTHY),
        "snapshot_configuration": lambda: orch.snapshot_configuration(0, next(counter)),
        "get_checkpoint_metadata": orch.get_checkpoint_metadata,
    }
    rows = []
    for label, fn in parts.items():
        m = time_callable(fn, label=label, samples=samples, min_sample_seconds=0.02)
        rows.append(sample_row(label, "us/call", [s * 1e6 for s in m.seconds_per_call],
                               calls_per_sample=m.calls_per_sample))
    return {"benchmark": "orchestrator", **fingerprint(), "rows": rows}
