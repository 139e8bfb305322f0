"""Every metric ryot ships, each declared (a :class:`ryot.measure.metric.Metric`) beside its
sampler.

- ``synthetic.py`` — ``synthetic.*``: known true values and noise, for tests and
  ``ryot bench decisions``
- ``core.py`` — ``orchestrator.step_us``, ``compression.*``, ``kv.memory_saved``: the optimizer
  core, in seconds
- ``origin.py`` — the origin report's metrics, on the default workload (``workload.py``)
- ``overhead.py`` — ``overhead.fraction_of_savings``, and the analysis ``ryot overhead`` writes
- ``rlvr.py`` — ``rlvr.*``: path selection on the arithmetic task

Providers measure and return samples; they never decide (criteria do, in :mod:`ryot.verification`,
which loads this list and never the reverse: nothing here imports the engine).
"""

from __future__ import annotations

from ryot.measure.metric import Metric

__all__ = ["builtin_metrics"]


def builtin_metrics() -> list[Metric]:
    """Every built-in metric. Imports the provider modules (and torch with them) on first call."""
    from ryot.metrics import core, origin, overhead, rlvr, synthetic

    return [*synthetic.METRICS, *core.METRICS, *origin.METRICS, *overhead.METRICS, *rlvr.METRICS]
