"""encode / decode time, peak memory of a large encode, and measured ratios worth tracking."""

import statistics

import torch

from ryot.orchestrator import CompressionConfig  # the contract's name
from ryot.semantic_compression import decode, encode

from .common import DEVICE, module, sync


class TimeEncodeDecode:
    params = ([1 << 16, 1 << 20, 1 << 22], [4, 8])
    param_names = ["numel", "bits"]

    def setup(self, numel, bits):
        self.x = torch.randn(numel, generator=torch.Generator().manual_seed(0)).to(DEVICE)
        self.cfg = CompressionConfig(64, bits)
        self.c = encode(self.x, self.cfg)  # also compiles the CPU fast path for large sizes
        decode(self.c)
        sync()

    def time_encode(self, numel, bits):
        encode(self.x, self.cfg)
        sync()

    def time_decode(self, numel, bits):
        decode(self.c)
        sync()


class PeakmemEncode:
    def setup(self):
        self.x = torch.randn(16 << 20)  # 64 MB of float32
        self.cfg = CompressionConfig(64, 8)

    def peakmem_encode_64mb(self):
        encode(self.x, self.cfg)


class TrackCompression:
    params = [4, 8]
    param_names = ["bits"]

    def setup(self, bits):
        self.x = torch.randn(1 << 22, generator=torch.Generator().manual_seed(0))
        self.cfg = CompressionConfig(64, bits)
        decode(encode(self.x, self.cfg))

    def track_reconstruction_error(self, bits):
        _measurements = module("ryot.metrics.measurements", "ryot.measurements")
        compression_relative_error = _measurements.compression_relative_error

        return compression_relative_error(self.x, self.cfg)

    track_reconstruction_error.unit = "relative L2 error"

    def track_roundtrip_vs_clone(self, bits):
        """Median over 9 interleaved rounds of (encode+decode time) ÷ (clone time)."""
        _measurements = module("ryot.metrics.measurements", "ryot.measurements")
        compression_roundtrip_vs_clone = _measurements.compression_roundtrip_vs_clone

        times = compression_roundtrip_vs_clone(self.x, self.cfg, rounds=9)
        return statistics.median(
            a / b for a, b in zip(times["roundtrip"], times["clone"], strict=True))

    track_roundtrip_vs_clone.unit = "x clone time"
