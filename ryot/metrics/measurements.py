"""One implementation of each measurement of the optimizer core.

The metric providers (:mod:`ryot.metrics.core`, :mod:`ryot.metrics.overhead`), ``ryot bench``
(:mod:`ryot.bench`) and the asv benchmarks (``benchmarks/``) all call these functions, so they
cannot disagree about what is measured or how. Each returns raw numbers (seconds, fractions);
none summarizes or decides.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import torch

from ryot.core import tuning as ko
from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig
from ryot.core.kv.cache import QuantizedKVCache, optimize_kv_cache
from ryot.core.orchestration.coordinator import OptimizationOrchestrator
from ryot.core.quant.blockwise import decode, encode, reconstruction_error
from ryot.infra.isolation import current_rss_bytes, file_backed_bytes, peak_rss_bytes
from ryot.measure.timing import Measurement, interleaved, time_callable

__all__ = [
    "HEALTHY", "STEP", "cold_tune_seconds", "compression_relative_error",
    "compression_roundtrip_vs_clone", "empty_tune_cache", "filled_kv_cache",
    "kv_memory_saved", "normal_tensor", "orchestrator_calls", "orchestrator_seconds",
    "random_kv", "rss_before_training", "training_memory", "training_memory_added"
]

# -- the orchestrator's per-step cost ------------------------------------------------------------
# a step that passes the gates
HEALTHY = {"loss": 2.3, "grad_norm": 0.8, "compression_error": 0.012}
STEP = "step (gates + adapt + snapshot)"


def orchestrator_calls() -> dict[str, Callable[[], object]]:
    """A fresh orchestrator's per-step work as callables: ``STEP`` (what a training loop pays
    every step: validate the gates, adapt, snapshot) and each of its parts."""
    orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 8),
                                    RLVRConfig(4, 0.9, 256))
    steps = itertools.count()

    def step() -> None:
        orch.validate_safety_gates(HEALTHY)
        orch.adapt_parameters(HEALTHY)
        orch.snapshot_configuration(0, next(steps))

    return {
        STEP: step,
        "validate_safety_gates": lambda: orch.validate_safety_gates(HEALTHY),
        "adapt_parameters": lambda: orch.adapt_parameters(HEALTHY),
        "snapshot_configuration": lambda: orch.snapshot_configuration(0, next(steps)),
        "get_checkpoint_metadata": orch.get_checkpoint_metadata,
    }


def orchestrator_seconds(samples: int, parts: tuple[str, ...] = (STEP,),
                         min_sample_seconds: float = 0.04) -> dict[str, Measurement]:
    """Seconds per call of each of ``parts`` (names from :func:`orchestrator_calls`): each
    sample is the mean of back-to-back calls lasting at least ``min_sample_seconds``. One more
    sample is taken first and dropped: the first tens of milliseconds of calls run slower."""
    calls, out = orchestrator_calls(), {}
    for part in parts:
        m = time_callable(calls[part], label=part, samples=samples + 1,
                          min_sample_seconds=min_sample_seconds)
        out[part] = replace(m, seconds_per_call=m.seconds_per_call[1:])
    return out


# -- the compression round trip --------------------------------------------------------------
def normal_tensor(megabytes: float, seed: int = 0) -> torch.Tensor:
    """``megabytes`` MiB of float32 N(0, 1) values; the same values for the same seed."""
    numel = int(megabytes * (1 << 20) // 4)
    return torch.randn(numel, generator=torch.Generator().manual_seed(seed))


def compression_roundtrip_vs_clone(x: torch.Tensor, config: CompressionConfig, rounds: int, *,
                                   warmup: int = 1,
                                   others: dict[str, Callable[[], object]] | None = None,
                                   ) -> dict[str, list[float]]:
    """Seconds per call of ``decode(encode(x))`` (``"roundtrip"``) and of ``x.clone()``
    (``"clone"``), plus any ``others`` arms, over ``rounds`` rounds.

    Interleaved (:func:`ryot.measure.timing.interleaved`): one call of every arm per round in
    rotated order, each re-warmed right before it is timed, so neither arm gains from running
    second.
    """
    arms = {"roundtrip": lambda: decode(encode(x, config)), "clone": x.clone, **(others or {})}
    return interleaved(arms, rounds=rounds, warmup=warmup, rewarm=True)


def compression_relative_error(x: torch.Tensor, config: CompressionConfig) -> float:
    """``‖x − decode(encode(x))‖₂ / ‖x‖₂``."""
    return reconstruction_error(x, decode(encode(x, config)))


# -- the quantized KV cache ------------------------------------------------------------------
def random_kv(tokens: int, heads: int, head_dim: int, dtype: torch.dtype = torch.bfloat16, *,
              device: str | torch.device | None = None,
              seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Keys and values for one layer, shaped ``(1, heads, tokens, head_dim)``, seeded."""
    gen = torch.Generator().manual_seed(seed)
    k, v = (torch.randn(1, heads, tokens, head_dim, generator=gen).to(device=device, dtype=dtype)
            for _ in range(2))
    return k, v


def filled_kv_cache(k: torch.Tensor, v: torch.Tensor, bits: int = 8) -> QuantizedKVCache:
    """A one-layer quantized cache (block 64, page 256) holding ``k`` and ``v``."""
    _, heads, tokens, head_dim = k.shape
    cache = optimize_kv_cache(1, heads, head_dim, tokens, CompressionConfig(64, bits),
                              RLVRConfig(1, 1.0, 256), device=k.device, dtype=k.dtype)
    cache.append(0, k, v)
    return cache


def kv_memory_saved(cache: QuantizedKVCache) -> float:
    """``1 − nbytes ÷ dense_nbytes``: the share of a dense cache's bytes the quantized one saves
    (scales included)."""
    return 1 - cache.nbytes / cache.dense_nbytes


# -- tuning ------------------------------------------------------------------------------------
@contextmanager
def empty_tune_cache() -> Iterator[Path]:
    """``RYOT_CACHE_DIR`` pointed at a new, empty folder and the in-memory tuning cache cleared,
    for the duration; both restored afterwards."""
    previous = os.environ.get("RYOT_CACHE_DIR")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["RYOT_CACHE_DIR"] = tmp
            ko.clear_memory_cache()
            yield Path(tmp)
    finally:
        if previous is None:
            os.environ.pop("RYOT_CACHE_DIR", None)
        else:
            os.environ["RYOT_CACHE_DIR"] = previous
        ko.clear_memory_cache()


def cold_tune_seconds(shape: tuple[int, int, int], repeats: int) -> list[float]:
    """Seconds of a cold ``detect_and_tune("matmul", shape)`` (empty cache), ``repeats`` times."""
    samples = []
    for _ in range(repeats):
        with empty_tune_cache():
            start = time.perf_counter()
            ko.detect_and_tune("matmul", shape, torch.float32)
            samples.append(time.perf_counter() - start)
    return samples


# -- memory that training adds -------------------------------------------------------------------
def rss_before_training() -> int:
    """Resident bytes of this (fresh) process before a training arm starts, read after the
    imports every arm needs — creating any torch optimizer lazily imports ``torch._dynamo``,
    memory that is not training's (figures: docs/benchmarks.md). Training's added memory is
    ``peak_rss_bytes()`` after it minus this (``ryot.infra.isolation``; one arm per process:
    ``run_isolated``)."""
    import torch._dynamo  # noqa: F401
    import torch.optim  # noqa: F401

    return current_rss_bytes()


def training_memory(before: int, file_before: int) -> dict:
    """After a training arm in its own process: its peak resident bytes and the file-backed
    bytes then, beside ``before`` (:func:`rss_before_training`) and ``file_before``
    (:func:`~ryot.infra.isolation.file_backed_bytes` read right after it)."""
    return {"before": before, "peak": peak_rss_bytes(), "file_before": file_before,
            "file_after": file_backed_bytes()}


def training_memory_added(m: dict) -> int:
    """Bytes a training arm added at its peak, less the library code and files it mapped:
    ``peak − before − (file_after − file_before)``. While file-backed pages stay resident once
    touched (no memory pressure reclaiming them, no mapping closed), ``file_after`` is at least
    what was mapped at the peak and the figure at most the peak of what training allocated —
    exact when the mapping had settled by the peak; a peak inside the first step, while code is
    still being mapped, can read low by what that step mapped after it (the memory criteria
    record the pages mapped after the first step, and the raw figure beside this one). Without
    it, one arm read 175 MiB added in one virtual environment and 199 MiB in a freshly
    installed one, the difference all file-backed (docs/benchmarks.md)."""
    return m["peak"] - m["before"] - (m["file_after"] - m["file_before"])
