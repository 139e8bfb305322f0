"""Public facade (the origin's name, kept by the contract): inference-time scaling.

* :mod:`ryot.core.kv.cache` — the paged, block-quantized KV cache (``optimize_kv_cache`` builds
  one);
* :mod:`ryot.core.path_selection` — RLVR path selection (``select_paths``).

Re-exports only; nothing inside ryot imports this module.
"""

from ryot.core.kv.cache import (
    COMPILE_MIN_TOKENS,
    QuantizedKVCache,
    SequenceView,
    optimize_kv_cache,
)
from ryot.core.path_selection import PathResult, select_paths

__all__ = ["COMPILE_MIN_TOKENS", "PathResult", "QuantizedKVCache", "SequenceView",
           "optimize_kv_cache", "select_paths"]
