"""Per-step orchestrator cost: what a training loop pays each step for gates, adapt, snapshot."""

from __future__ import annotations

from ryot.bench.rows import sample_row
from ryot.infra.provenance import fingerprint
from ryot.metrics.measurements import orchestrator_calls, orchestrator_seconds

__all__ = ["run"]


def run(samples: int = 31) -> dict:
    """The whole step and each of its parts
    (see :func:`ryot.metrics.measurements.orchestrator_calls`)."""
    parts = orchestrator_seconds(samples, parts=tuple(orchestrator_calls()))
    rows = [sample_row(label, "us/call", [s * 1e6 for s in m.seconds_per_call],
                       calls_per_sample=m.calls_per_sample) for label, m in parts.items()]
    return {"benchmark": "orchestrator", **fingerprint(), "rows": rows}
