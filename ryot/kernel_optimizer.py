"""Public facade (the origin's name, kept by the contract): hardware detection and measured
kernel tuning with an on-disk cache.

The implementation lives in :mod:`ryot.core.tuning` (tuning) and :mod:`ryot.infra.machine`
(detection). Re-exports only; nothing inside ryot imports this module.
"""

from ryot.core.tuning import cache_path, clear_memory_cache, detect_and_tune, tune
from ryot.infra.machine import HardwareProfile, detect
from ryot.infra.moved import forwarding_getattr

__all__ = ["HardwareProfile", "cache_path", "clear_memory_cache", "detect", "detect_and_tune",
           "tune"]

# names this module held before 0.2 that are not part of the contract
__getattr__ = forwarding_getattr(__name__, dict.fromkeys(
    ["SUPPORTED_OPS", "TOLERANCE", "CUDA_CANDIDATES", "CPU_TILES", "CPU_TILE_K", "cache_key",
     "matmul_tiled_torch"], "ryot.core.tuning"))
