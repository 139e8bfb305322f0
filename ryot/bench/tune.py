"""detect_and_tune, cold (empty cache, fresh process state) and warm (cache hit)."""

from __future__ import annotations

import time

import torch

from ryot.bench.rows import sample_row
from ryot.core import tuning as ko
from ryot.infra.provenance import fingerprint
from ryot.measure.timing import time_callable
from ryot.metrics.measurements import cold_tune_seconds, empty_tune_cache

__all__ = ["run"]


def run(shape: tuple[int, int, int] = (512, 512, 512), cold_samples: int = 5) -> dict:
    cold = cold_tune_seconds(shape, cold_samples)
    with empty_tune_cache():
        ko.detect_and_tune("matmul", shape, torch.float32)
        ko.clear_memory_cache()
        start = time.perf_counter()
        ko.detect_and_tune("matmul", shape, torch.float32)  # first hit: reads the file
        first_hit = time.perf_counter() - start
        warm = time_callable(lambda: ko.detect_and_tune("matmul", shape, torch.float32),
                             samples=21, min_sample_seconds=0.01)
    rows = [sample_row("detect_and_tune cold (times every candidate)", "s", cold),
            sample_row("detect_and_tune first hit (reads the cache file)", "ms", [first_hit * 1e3]),
            sample_row("detect_and_tune warm (in-memory hit)", "us",
                       [s * 1e6 for s in warm.seconds_per_call])]
    return {"benchmark": "tune", "shape": list(shape), **fingerprint(), "rows": rows}
