"""detect_and_tune, cold (empty cache, fresh process state) and warm (cache hit)."""

from __future__ import annotations

import os
import tempfile
import time

import torch

from .. import kernel_optimizer as ko
from ..provenance import fingerprint
from ..timing import time_callable
from .rows import sample_row


def cold_tune_seconds(shape: tuple[int, int, int], repeats: int) -> list[float]:
    """Seconds of ``detect_and_tune`` with an empty cache, ``repeats`` times."""
    previous = os.environ.get("RYOT_CACHE_DIR")
    samples = []
    try:
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["RYOT_CACHE_DIR"] = tmp
                ko.clear_memory_cache()
                start = time.perf_counter()
                ko.detect_and_tune("matmul", shape, torch.float32)
                samples.append(time.perf_counter() - start)
    finally:
        _restore(previous)
    return samples


def _restore(previous: str | None) -> None:
    if previous is None:
        os.environ.pop("RYOT_CACHE_DIR", None)
    else:
        os.environ["RYOT_CACHE_DIR"] = previous
    ko.clear_memory_cache()


def run(shape: tuple[int, int, int] = (512, 512, 512), cold_samples: int = 5) -> dict:
    cold = cold_tune_seconds(shape, cold_samples)
    previous = os.environ.get("RYOT_CACHE_DIR")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["RYOT_CACHE_DIR"] = tmp
            ko.clear_memory_cache()
            ko.detect_and_tune("matmul", shape, torch.float32)
            ko.clear_memory_cache()
            start = time.perf_counter()
            ko.detect_and_tune("matmul", shape, torch.float32)  # first hit: reads the file
            first_hit = time.perf_counter() - start
            warm = time_callable(lambda: ko.detect_and_tune("matmul", shape, torch.float32),
                                 samples=21, min_sample_seconds=0.01)
    finally:
        _restore(previous)
    rows = [sample_row("detect_and_tune cold (times every candidate)", "s", cold),
            sample_row("detect_and_tune first hit (reads the cache file)", "ms", [first_hit * 1e3]),
            sample_row("detect_and_tune warm (in-memory hit)", "us",
                       [s * 1e6 for s in warm.seconds_per_call])]
    return {"benchmark": "tune", "shape": list(shape), **fingerprint(), "rows": rows}
