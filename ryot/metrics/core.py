"""Cheap real measurements of ryot's optimizer core (seconds, not minutes).

Each sampler turns one function of :mod:`ryot.metrics.measurements` into samples; ``ryot bench`` and
the asv benchmarks call the same functions.
"""

from __future__ import annotations

import torch

from ryot.core.config import CompressionConfig
from ryot.measure.metric import Metric
from ryot.measure.samples import Samples
from ryot.metrics import measurements

__all__ = [
    "METRICS", "kv_memory_saved", "orchestrator_step_us", "relative_error",
    "roundtrip_vs_clone"
]


def orchestrator_step_us(n: int, params: dict) -> Samples:
    """Microseconds per training step spent in gates + adapt + snapshot (each sample: the mean
    over at least 40 ms of back-to-back steps)."""
    step = measurements.orchestrator_seconds(n)[measurements.STEP]
    return Samples("scalar", values=[s * 1e6 for s in step.seconds_per_call])


def _tensor_and_config(params: dict) -> tuple[torch.Tensor, CompressionConfig]:
    x = measurements.normal_tensor(params.get("megabytes", 16), int(params.get("seed", 0)))
    return x, CompressionConfig(int(params.get("block_size", 64)), int(params.get("bits", 8)))


def roundtrip_vs_clone(n: int, params: dict) -> Samples:
    """Paired: seconds for encode+decode (numerator) and for ``clone`` (denominator)."""
    times = measurements.compression_roundtrip_vs_clone(*_tensor_and_config(params), rounds=n)
    return Samples("paired", numerator=times["roundtrip"], denominator=times["clone"])


def relative_error(n: int, params: dict) -> Samples:
    return Samples("exact", values=[
        measurements.compression_relative_error(*_tensor_and_config(params))])


def kv_memory_saved(n: int, params: dict) -> Samples:
    """1 − nbytes ÷ dense_nbytes after filling the cache with ``tokens`` random tokens."""
    k, v = measurements.random_kv(int(params.get("tokens", 1024)), int(params.get("heads", 8)),
                                  int(params.get("head_dim", 64)),
                                  getattr(torch, params.get("dtype", "bfloat16")))
    cache = measurements.filled_kv_cache(k, v, int(params.get("bits", 8)))
    return Samples("exact", values=[measurements.kv_memory_saved(cache)])


METRICS = (
    Metric("orchestrator.step_us", "scalar", "us",
           "Microseconds per training step spent in gates + adapt + snapshot",
           orchestrator_step_us),
    Metric("compression.roundtrip_vs_clone", "paired", "x",
           "Paired: seconds for encode+decode (numerator) and for ``clone`` (denominator).",
           roundtrip_vs_clone),
    Metric("compression.relative_error", "exact", "ratio",
           "‖x − decode(encode(x))‖ ÷ ‖x‖ on N(0,1) data", relative_error),
    Metric("kv.memory_saved", "exact", "fraction",
           "1 − nbytes ÷ dense_nbytes after filling the cache with ``tokens`` random tokens.",
           kv_memory_saved),
)
