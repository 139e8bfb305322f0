"""The 8-bit *dynamic* (non-linear) code of bitsandbytes, block-wise: what 8-bit optimizer states
use.

A linear absmax int8 code (:mod:`ryot.core.quant.blockwise`) spaces its 255 levels evenly over
``[-absmax, absmax]``, so values far below the block's absmax all land on a handful of levels;
Adam's second moment spans many decades inside one block, and a linear code loses its small
values. The dynamic code (Dettmers 2016, "8-Bit Approximations for Parallelism in Deep
Learning"; bitsandbytes' ``create_dynamic_map``) spends its levels per decade instead: for
``i = 0..6`` it holds ``2**i`` (signed) or ``2**(i+1)`` (unsigned) evenly spaced fractions of
the decade ``[0.1, 1] * 10**(i-6)`` — a dynamic exponent (how many leading zeros) followed by a
linear fraction that gets the bits the exponent leaves. With ``0`` and ``1.0`` that is exactly
256 sorted levels in ``[-1, 1]`` (signed) or ``[0, 1]`` (unsigned).

Block-wise quantization, as bitsandbytes' ``quantize_blockwise``: the flattened tensor is cut
into blocks of ``block_size`` values (the last one zero-padded), each block is divided by its
absmax (a float32 scale per block) and every normalized value is mapped to the *nearest* level;
dequantization is a table lookup times the block's scale.

Nearest level, fast: the plain reference :func:`nearest_codes_reference` is a binary search over
the 255 midpoints (``torch.bucketize``). :func:`nearest_codes` instead looks up the upper 16 bits
of each float32 (its bfloat16 bucket) in a 65536-entry table built once from ``bucketize`` itself:
every bucket holds at most one midpoint (bfloat16's relative spacing, 2**-8, is finer than the
code's, >= 0.5%: checked when the table is built), so the code is the bucket's lower code plus one
comparison. Same codes as the reference, bit for bit, and faster (figures: docs/benchmarks.md,
"8-bit optimizer states").

>>> import torch
>>> x = torch.randn(1000, generator=torch.Generator().manual_seed(0))
>>> q = quantize_blockwise(x, block_size=256)
>>> q.codes.dtype, q.codes.numel(), q.absmax.numel(), q.nbytes      # 4 blocks: 1024 + 4 * 4 bytes
(torch.uint8, 1024, 4, 1040)
>>> errors = blockwise_errors(x, dequantize_blockwise(q))
>>> errors["mean_abs"] < 0.011 and errors["mean_rel"] < 0.018
True
"""

from __future__ import annotations

import array
import bisect
import math
import struct
from dataclasses import dataclass
from functools import cache

import torch
import torch.nn.functional as F

from ryot.infra.errors import ConfigError

__all__ = [
    "MAX_BLOCK_SIZE", "MIN_BLOCK_SIZE", "REL_EPS", "SUPPORTED_DTYPES", "DynamicQuantized",
    "blockwise_errors", "bucket_tables", "check_block_size", "code_tables", "decode_blocks",
    "dequantize_blockwise", "dynamic_map", "encode_blocks", "midpoint_values", "nearest_codes",
    "nearest_codes_reference", "quantize_blockwise", "zero_code"
]

SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
MIN_BLOCK_SIZE = 16
MAX_BLOCK_SIZE = 1 << 16
REL_EPS = 1e-8


def _decade_fractions(count: int) -> list[float]:
    """Midpoints of ``count`` equal intervals of [0.1, 1], computed in float32 as bitsandbytes
    does."""
    bounds = torch.linspace(0.1, 1.0, count + 1, dtype=torch.float32)
    return ((bounds[:-1] + bounds[1:]) / 2.0).tolist()


@cache
def _map(signed: bool) -> tuple[float, ...]:
    exponent_bits, non_sign_bits = 7, 7
    values: list[float] = []
    for i in range(exponent_bits):
        count = (2 ** (i + non_sign_bits - exponent_bits) if signed
                 else 2 ** (i + non_sign_bits - exponent_bits + 1))
        decade = 10.0 ** (i - (exponent_bits - 1))
        fractions = _decade_fractions(count)
        values += [decade * f for f in fractions]
        if signed:
            values += [-decade * f for f in fractions]
    values += [0.0, 1.0]
    if len(values) != 256:  # pragma: no cover - construction invariant
        raise AssertionError(f"dynamic map has {len(values)} levels, not 256")
    return tuple(sorted(values))


def zero_code(signed: bool) -> int:
    """The code of the level 0.0 (what all-zero blocks encode to)."""
    return _map(bool(signed)).index(0.0)


def dynamic_map(signed: bool = True) -> torch.Tensor:
    """The 256 sorted float32 levels of the 8-bit dynamic code (a fresh tensor)."""
    return torch.tensor(_map(bool(signed)), dtype=torch.float32)


@cache
def code_tables(signed: bool, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The 256 levels of the code and the 255 midpoints between them, on ``device``."""
    midpoints = torch.tensor(midpoint_values(signed), dtype=torch.float32, device=device)
    return dynamic_map(signed).to(device), midpoints


@cache
def bucket_tables(signed: bool, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Per bfloat16 bucket (upper 16 bits of a float32): the code of its lowest value (uint8) and
    the midpoint above which the code is one higher (+inf: no midpoint inside the bucket).

    Built in plain Python (``bisect`` on the exact float32 midpoints: the count of midpoints below
    a value, which is ``torch.bucketize``'s answer), so building it runs no tensor kernels.
    """
    midpoints = midpoint_values(signed)
    low_codes, above = bytearray(1 << 16), [math.inf] * (1 << 16)
    for high in range(1 << 16):
        first, last = _float32(high << 16), _float32((high << 16) | 0xFFFF)
        ends = (last, first) if high >= 1 << 15 else (first, last)
        if not all(math.isfinite(e) for e in ends):
            continue  # NaN/inf buckets never occur
        low, top = (bisect.bisect_left(midpoints, min(max(e, -1.0), 1.0)) for e in ends)
        if top - low > 1:  # pragma: no cover - construction invariant
            raise AssertionError("a bfloat16 bucket holds two midpoints of the dynamic code")
        low_codes[high] = low
        if top > low:
            above[high] = midpoints[low]
    return (torch.frombuffer(low_codes, dtype=torch.uint8).clone().to(device),
            torch.tensor(above, dtype=torch.float32, device=device))


@cache
def midpoint_values(signed: bool) -> tuple[float, ...]:
    """The 255 midpoints between levels, as float32 values (what ``code_tables`` computes)."""
    levels = array.array("f", _map(signed))
    return tuple(array.array("f", [(a + b) / 2
                                   for a, b in zip(levels[1:], levels[:-1], strict=True)]))


def _float32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def nearest_codes_reference(normalized: torch.Tensor, signed: bool) -> torch.Tensor:
    """The index of the nearest level of each value in [-1, 1] (ties go down): binary search."""
    _, midpoints = code_tables(signed, normalized.device)
    return torch.bucketize(normalized, midpoints).to(torch.uint8)


def nearest_codes(normalized: torch.Tensor, signed: bool) -> torch.Tensor:
    """Same as :func:`nearest_codes_reference` for float32 values in [-1, 1], by table lookup."""
    low_code, above = bucket_tables(signed, normalized.device)
    flat = normalized.reshape(-1)
    bucket = flat.view(torch.int32).bitwise_right_shift(16).bitwise_and_(0xFFFF)
    codes = low_code.index_select(0, bucket).add_(flat.gt(above.index_select(0, bucket)))
    return codes.view(normalized.shape)


@dataclass(frozen=True)
class DynamicQuantized:
    """uint8 codes (padded to whole blocks), one float32 absmax per block, and what decodes them."""

    codes: torch.Tensor
    absmax: torch.Tensor
    shape: torch.Size
    dtype: torch.dtype
    block_size: int
    signed: bool

    @property
    def numel(self) -> int:
        return self.shape.numel()

    @property
    def nbytes(self) -> int:
        """Every byte stored: codes and scales."""
        return self.codes.nbytes + self.absmax.nbytes


def check_block_size(block_size: object, name: str = "block_size") -> int:
    """``block_size`` as an int, or ValueError naming ``name``: a power of two in [16, 65536]."""
    if isinstance(block_size, bool) or not isinstance(block_size, int):
        raise ConfigError(f"{name} must be an int, got {type(block_size).__name__}")
    if not MIN_BLOCK_SIZE <= block_size <= MAX_BLOCK_SIZE or block_size & (block_size - 1):
        raise ConfigError(f"{name} must be a power of two from {MIN_BLOCK_SIZE} to "
                         f"{MAX_BLOCK_SIZE}, got {block_size}")
    return block_size


def encode_blocks(flat: torch.Tensor, block_size: int,
                  signed: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes (uint8, padded) and per-block absmax (float32) of finite flat values — no checks."""
    n = flat.numel()
    nblocks = -(-n // block_size)
    flat = flat.to(torch.float32)
    if n != nblocks * block_size:
        flat = F.pad(flat, (0, nblocks * block_size - n))
    blocks = flat.view(nblocks, block_size)
    absmax = blocks.abs().amax(dim=1)
    safe = torch.where(absmax > 0, absmax, 1.0)
    normalized = (blocks / safe.unsqueeze(1)).clamp_(-1.0 if signed else 0.0, 1.0)
    return nearest_codes(normalized, signed).view(-1), absmax


def decode_blocks(codes: torch.Tensor, absmax: torch.Tensor, block_size: int,
                  signed: bool) -> torch.Tensor:
    """All padded values (float32): the level of each code times its block's absmax."""
    levels, _ = code_tables(signed, codes.device)
    values = levels.index_select(0, codes.int()).view(absmax.numel(), block_size)
    return values.mul_(absmax.unsqueeze(1)).view(-1)


def quantize_blockwise(x: torch.Tensor, block_size: int = 256, *,
                       signed: bool = True) -> DynamicQuantized:
    """Quantize ``x`` block-wise with the dynamic code (``signed=False`` needs ``x >= 0``)."""
    if not isinstance(x, torch.Tensor):
        raise ConfigError(f"x must be a torch.Tensor, got {type(x).__name__}")
    block_size = check_block_size(block_size)
    if not isinstance(signed, bool):
        raise ConfigError(f"signed must be a bool, got {type(signed).__name__}")
    if x.dtype not in SUPPORTED_DTYPES:
        raise ConfigError(f"x must be floating point ({', '.join(map(str, SUPPORTED_DTYPES))}), "
                          f"got {x.dtype}")
    if x.numel() == 0:
        raise ConfigError("x is empty: nothing to quantize")
    flat = x.detach().reshape(-1)
    if not torch.isfinite(flat).all():
        raise ConfigError("x holds NaN or infinite values")
    if not signed and bool((flat < 0).any()):
        raise ConfigError("x has negative values: the unsigned code (signed=False) holds only "
                          "[0, 1]")
    codes, absmax = encode_blocks(flat, block_size, signed)
    return DynamicQuantized(codes, absmax, x.shape, x.dtype, block_size, signed)


def dequantize_blockwise(q: DynamicQuantized) -> torch.Tensor:
    """Reconstruct a tensor of the original shape and dtype."""
    if not isinstance(q, DynamicQuantized):
        raise ConfigError("dequantize_blockwise expects a DynamicQuantized, "
                          f"got {type(q).__name__}")
    flat = decode_blocks(q.codes, q.absmax, q.block_size, q.signed)[: q.numel]
    return flat.to(q.dtype).view(q.shape)


def blockwise_errors(x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """bitsandbytes' accuracy figures for a reconstruction ``y`` of ``x`` (float64).

    ``mean_abs`` = mean ``|x - y|``; ``mean_rel`` = mean ``|x - y| / |x + 1e-8|`` — exactly the
    ``reldiff = diff / torch.abs(A1.float() + 1e-8)`` of bitsandbytes'
    ``test_dynamic_blockwise_quantization`` (the 1e-8 is added to x inside the absolute value).
    Its bar on N(0,1) 1024x1024: ``mean_abs < 0.011`` and ``mean_rel < 0.018``.
    """
    if x.shape != y.shape:
        raise ConfigError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    x64, y64 = x.detach().to(torch.float64), y.detach().to(torch.float64)
    diff = (x64 - y64).abs()
    return {"mean_abs": diff.mean().item(),
            "mean_rel": (diff / (x64 + REL_EPS).abs()).mean().item()}
