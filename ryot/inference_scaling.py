"""Public facade (the origin's name, kept by the contract): inference-time scaling.

* :mod:`ryot.kv_cache` — the paged, block-quantized KV cache (``optimize_kv_cache`` builds one);
* :mod:`ryot.path_selection` — RLVR path selection (``select_paths``).
"""

from .kv_cache import (  # noqa: F401 - the public names of ../shared/CONTRACT.md
    COMPILE_MIN_TOKENS,
    QuantizedKVCache,
    SequenceView,
    optimize_kv_cache,
)
from .path_selection import PathResult, select_paths  # noqa: F401
