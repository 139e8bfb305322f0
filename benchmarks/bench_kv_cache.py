"""optimize_kv_cache + append + attend, and the memory the cache saves."""

import torch

from ryot.inference_scaling import optimize_kv_cache
from ryot.orchestrator import CompressionConfig, RLVRConfig  # the contract's names

from .common import DEVICE, module, sync

HEADS, DIM = 8, 64


def _filled(tokens, bits):
    _measurements = module("ryot.metrics.measurements", "ryot.measurements")
    filled_kv_cache, random_kv = _measurements.filled_kv_cache, _measurements.random_kv

    return filled_kv_cache(*random_kv(tokens, HEADS, DIM, torch.bfloat16, device=DEVICE), bits)


class TimeKVCache:
    params = ([1024, 4096], [4, 8])
    param_names = ["tokens", "bits"]

    def setup(self, tokens, bits):
        self.cache = _filled(tokens, bits)
        self.q = torch.randn(1, HEADS, 1, DIM, device=DEVICE, dtype=torch.bfloat16)
        self.kv = torch.randn(1, HEADS, 64, DIM, device=DEVICE, dtype=torch.bfloat16)
        self.cache.attend(0, self.q)
        sync()

    def time_attend(self, tokens, bits):
        self.cache.attend(0, self.q)
        sync()

    def time_create_and_append_64(self, tokens, bits):
        cache = optimize_kv_cache(1, HEADS, DIM, tokens, CompressionConfig(64, bits),
                                  RLVRConfig(1, 1.0, 256), device=DEVICE, dtype=torch.bfloat16)
        cache.append(0, self.kv, self.kv)
        sync()


class TrackKVCache:
    params = [4, 8]
    param_names = ["bits"]

    def track_memory_saved_1k(self, bits):
        _measurements = module("ryot.metrics.measurements", "ryot.measurements")
        kv_memory_saved = _measurements.kv_memory_saved

        return kv_memory_saved(_filled(1024, bits))

    track_memory_saved_1k.unit = "fraction of dense bf16"
