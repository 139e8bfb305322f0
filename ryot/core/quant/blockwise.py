"""Block-wise absmax quantization of tensors: int8 or packed int4, one float32 scale per block.

(The public facade :mod:`ryot.semantic_compression` — the origin's name — re-exports this.)

>>> import torch
>>> from ryot.orchestrator import CompressionConfig
>>> x = torch.randn(1000, generator=torch.Generator().manual_seed(0))
>>> c = encode(x, CompressionConfig(block_size=64, bits=8))
>>> c.nbytes                       # 1024 int8 codes (padded to whole blocks) + 16 float32 scales
1088
>>> reconstruction_error(x, decode(c)) < 0.01
True

Backends: Triton kernels for CUDA tensors (and under ``TRITON_INTERPRET=1``); on CPU, torch
(compiled with ``torch.compile`` for tensors of at least ``COMPILE_MIN_NUMEL`` elements).
All backends produce bit-identical codes and scales.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ryot.core.config import CompressionConfig
from ryot.core.fast_paths import maybe_compiled
from ryot.core.kernels import quantize as qk
from ryot.core.kernels import use_triton
from ryot.infra.errors import ConfigError

__all__ = [
    "BACKENDS", "COMPILE_MIN_NUMEL", "SUPPORTED_DTYPES", "CompressedTensor", "decode",
    "encode", "norm_ratio", "reconstruction_error"
]

SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
COMPILE_MIN_NUMEL = 1 << 20


@dataclass(frozen=True)
class CompressedTensor:
    """Codes (int8, or uint8 holding two int4 codes), per-block float32 scales, and metadata."""

    codes: torch.Tensor
    scales: torch.Tensor
    shape: torch.Size
    dtype: torch.dtype
    config: CompressionConfig

    @property
    def numel(self) -> int:
        return self.shape.numel()

    @property
    def nbytes(self) -> int:
        """Every byte stored: codes and scales."""
        return self.codes.nbytes + self.scales.nbytes

    @property
    def device(self) -> torch.device:
        return self.codes.device


def _encode_torch(flat: torch.Tensor, block: int, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = flat.numel()
    nblocks = -(-n // block)
    blocks = F.pad(flat.to(torch.float32), (0, nblocks * block - n)).view(nblocks, block)
    codes, scales = qk.quantize_blocks(blocks, bits)
    codes = codes.view(-1)
    if bits == 4:
        if codes.numel() % 2:
            codes = F.pad(codes, (0, 1))
        codes = qk.pack_int4(codes)
    return codes, scales


def _decode_torch(codes: torch.Tensor, scales: torch.Tensor, block: int, bits: int) -> torch.Tensor:
    """All padded values (float32); the caller trims the padding with a free view."""
    if bits == 4:
        codes = qk.unpack_int4(codes)
    nblocks = scales.numel()
    if codes.numel() != nblocks * block:  # int4 with an odd number of codes
        codes = codes[: nblocks * block]
    return qk.dequantize_blocks(codes.view(nblocks, block), scales).view(-1)


def _check_input(x: object, config: object) -> None:
    if not isinstance(x, torch.Tensor):
        raise ConfigError(f"encode expects a torch.Tensor, got {type(x).__name__}")
    if not isinstance(config, CompressionConfig):
        raise ConfigError(f"encode expects a CompressionConfig, got {type(config).__name__}")
    if x.dtype not in SUPPORTED_DTYPES:
        names = ", ".join(str(d).removeprefix("torch.") for d in SUPPORTED_DTYPES)
        raise ConfigError(f"encode: unsupported dtype {x.dtype}; supported: {names}")
    if x.numel() == 0:
        raise ConfigError(f"encode: the tensor is empty (shape {tuple(x.shape)})")
    if config.bits not in qk.QMAX:
        raise ConfigError(f"encode: bits must be 4 or 8, got {config.bits!r}")
    if config.block_size < 1:
        raise ConfigError(f"encode: block_size must be >= 1, got {config.block_size!r}")


BACKENDS = ("auto", "triton", "compiled", "eager")


def _backend(requested: str, device, numel: int) -> str:
    if requested not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {requested!r}")
    if requested != "auto":
        return requested
    if use_triton(device):
        return "triton"
    return "compiled" if numel >= COMPILE_MIN_NUMEL else "eager"


def encode(x: torch.Tensor, config: CompressionConfig, *,
           backend: str = "auto") -> CompressedTensor:
    """Compress ``x`` block-wise over its flattened values (one scale per block).

    ``backend``: ``auto`` (Triton on CUDA; on CPU compiled torch for large tensors, else eager),
    or force ``triton`` / ``compiled`` / ``eager``.
    """
    _check_input(x, config)
    flat = x.detach().reshape(-1)
    block, bits = config.block_size, config.bits
    chosen = _backend(backend, flat.device, flat.numel())
    if chosen == "triton":
        if not torch.isfinite(flat).all():
            raise ConfigError("encode: the tensor holds NaN or infinite values")
        codes, scales = qk.quantize_triton(flat.contiguous(), block, bits)
    elif chosen == "compiled":
        codes, scales = maybe_compiled(_encode_torch, flat, block, bits)
    else:
        codes, scales = _encode_torch(flat, block, bits)
    # absmax propagates NaN/inf, so non-finite input shows in the (small) scale tensor
    if not torch.isfinite(scales).all():
        raise ConfigError("encode: the tensor holds NaN or infinite values")
    return CompressedTensor(codes, scales, x.shape, x.dtype, config)


def decode(c: CompressedTensor, *, backend: str = "auto") -> torch.Tensor:
    """Reconstruct a tensor of the original shape and dtype."""
    if not isinstance(c, CompressedTensor):
        raise ConfigError(f"decode expects a CompressedTensor, got {type(c).__name__}")
    n, block, bits = c.numel, c.config.block_size, c.config.bits
    chosen = _backend(backend, c.device, n)
    if chosen == "triton":
        flat = qk.dequantize_triton(c.codes, c.scales, n, block, bits)
    elif chosen == "compiled":
        flat = maybe_compiled(_decode_torch, c.codes, c.scales, block, bits)[:n]
    else:
        flat = _decode_torch(c.codes, c.scales, block, bits)[:n]
    return flat.to(c.dtype).view(c.shape)


def reconstruction_error(x: torch.Tensor, y: torch.Tensor) -> float:
    """``‖x − y‖₂ / ‖x‖₂`` in float64 (0 when both are zero, inf when only x is)."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ConfigError("reconstruction_error expects two tensors")
    if x.shape != y.shape:
        raise ConfigError(f"reconstruction_error: shapes differ, {tuple(x.shape)} vs "
                          f"{tuple(y.shape)}")
    x64, y64 = x.detach().to(torch.float64), y.detach().to(torch.float64)
    return norm_ratio(torch.linalg.vector_norm(x64 - y64).item(),
                      torch.linalg.vector_norm(x64).item())


def norm_ratio(error_norm: float, norm: float) -> float:
    """``‖x − y‖ / ‖x‖`` from the two norms, the one rule ryot uses: 0 when both are zero, inf
    when only ``‖x‖`` is (nothing to lose, yet something changed)."""
    if norm == 0:
        return 0.0 if error_norm == 0 else math.inf
    return error_norm / norm
