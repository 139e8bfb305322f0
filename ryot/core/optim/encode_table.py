"""The table the C loop's vector encoders read (``code_t`` in ``ryot/core/native/adamw8bit.c``):
the dynamic code's nearest-level encode in one gather from about 2-4 KiB, which the L1 cache
keeps beside the data it streams.

A normalized value ``n`` (in [-1, 1]) encodes as the count of the code's midpoints below it.
Its float32 bits name its bucket: the binade (exponent) and the top ``k`` bits of the mantissa,
where ``k`` is the fewest bits that leave at most one midpoint in every bucket of that binade —
0 for the sparse small binades, up to 7 near 1.0 (``BINADES`` binades from 2**-31 up; everything
smaller shares the lowest one, which holds no midpoint). Per bucket one int32 entry,
``low | key << 8``: the code of the bucket's lowest value and the bucket's midpoint as the
mantissa bits below the bucket's own (in value order: flipped for negative values, whose bits
order against their values), or all ones where no midpoint lies inside. Then

    code = low + (rest > key),   rest = the value's mantissa bits below its bucket's (flipped)

which is exactly the count of midpoints below ``n``. Per binade one uint32, ``offset | shift <<
16``: where its buckets start among one sign's entries, and ``23 - k``. Positive values' entries
come first, then negative ones' (both codes: -0.0 is negative).

The AVX-512 VBMI encoder reads the same buckets as bytes (``planes``, its layout in
``ryot/core/native/adamw8bit_avx512vbmi.h``): each bucket's low code (the entries' low byte; the
unsigned code's negative buckets left out: after its clamp at 0 the only negative value is -0.0,
code 0 like +0.0), padded to ``LOW_CODES`` bytes, then the byte planes of the 256 levels and of
the 255 midpoints with +inf above the last code: it encodes as ``low + (n > mid[low])``.

Built in plain Python from the exact float32 midpoints; the tests compare every ISA's encoder
with the binary search at every midpoint, the floats beside them and every bucket's ends.
"""

from __future__ import annotations

import bisect
import math
import struct
from functools import cache

import torch

from ryot.core.quant.dynamic_code import dynamic_map, midpoint_values

__all__ = ["BINADES", "LOW_CODES", "LOWEST_EXPONENT", "EncodeTable", "byte_planes",
           "encode_table"]

BINADES = 32  # float32 exponents LOWEST_EXPONENT .. 127 (the binade of 1.0)
LOWEST_EXPONENT = 127 - BINADES + 1
MANTISSA_BITS = 23
MAX_BUCKET_BITS = 7  # the bfloat16 buckets of bucket_tables: always at most one midpoint
LOW_CODES = 512  # the VBMI encoder's 9-bit bucket index: low codes it can hold


class EncodeTable:
    """One code's table: ``entries`` (int32, 2 x ``width``), ``binades`` (int32, BINADES) and the
    VBMI encoder's ``planes`` (uint8)."""

    def __init__(self, entries: list[int], binades: list[int], width: int,
                 planes: torch.Tensor) -> None:
        self.entries = torch.tensor(entries, dtype=torch.int32)
        self.binades = torch.tensor(binades, dtype=torch.int32)
        self.width = width
        self.planes = planes


def byte_planes(values: list[float]) -> torch.Tensor:
    """256 float32 values as four planes of 256 bytes: plane ``b`` holds byte ``b`` (little
    end first) of every value."""
    if len(values) != 256:
        raise ValueError(f"a byte-plane table holds 256 values, got {len(values)}")
    as_bytes = torch.tensor(values, dtype=torch.float32).view(torch.uint8).view(256, 4)
    return as_bytes.t().contiguous().flatten()


def _planes(entries: list[int], width: int, signed: bool) -> torch.Tensor:
    lows = [e & 0xFF for e in entries[: 2 * width if signed else width]]
    if len(lows) > LOW_CODES:  # pragma: no cover - 452 and 448 buckets for the two codes
        raise AssertionError(f"{len(lows)} buckets: more than the VBMI encoder's {LOW_CODES}")
    lows += [0] * (LOW_CODES - len(lows))
    mids = [*midpoint_values(signed), math.inf]
    return torch.cat([torch.tensor(lows, dtype=torch.uint8),
                      byte_planes(dynamic_map(signed).tolist()), byte_planes(mids)])


def _float(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _bucket_ends(exponent: int, bits: int, j: int, negative: bool) -> tuple[float, float]:
    """The lowest and highest value (in value order) of bucket ``j`` of a binade."""
    shift = MANTISSA_BITS - bits
    first = (exponent << MANTISSA_BITS) | (j << shift)
    last = first | ((1 << shift) - 1)
    if exponent == LOWEST_EXPONENT:  # it also stands for every smaller magnitude, down to 0
        first = 0
    low, high = _float(first), _float(last)
    return (-high, -low) if negative else (low, high)


def _entries(midpoints: tuple[float, ...], exponent: int, bits: int) -> list[list[int]] | None:
    """Per sign, the binade's entries with ``bits`` mantissa bits per bucket; None when a bucket
    would hold two midpoints."""
    def count(x: float) -> int:  # the code of x: midpoints below it (x clamped to [-1, 1])
        return bisect.bisect_left(midpoints, min(max(x, -1.0), 1.0))

    mask = (1 << (MANTISSA_BITS - bits)) - 1
    halves = []
    for negative in (False, True):
        half = []
        for j in range(1 << bits):
            first, last = _bucket_ends(exponent, bits, j, negative)
            low, top = count(first), count(last)
            if top - low > 1:
                return None
            key = mask  # no midpoint inside: rest > key never holds
            if top > low:
                rest = struct.unpack("<I", struct.pack("<f", midpoints[low]))[0] & mask
                key = rest ^ mask if negative else rest
            half.append(low | key << 8)
        halves.append(half)
    return halves


@cache
def encode_table(signed: bool) -> EncodeTable:
    """The table of the signed (exp_avg) or unsigned (exp_avg_sq) dynamic code."""
    midpoints = midpoint_values(signed)
    halves: list[list[int]] = [[], []]
    binades = []
    for exponent in range(LOWEST_EXPONENT, 128):
        most = 0 if exponent in (LOWEST_EXPONENT, 127) else MAX_BUCKET_BITS
        for bits in range(most + 1):
            entries = _entries(midpoints, exponent, bits)
            if entries is not None:
                break
        else:  # pragma: no cover - the bfloat16 buckets (7 bits) hold at most one midpoint
            raise AssertionError(f"binade 2**{exponent - 127}: no bucket width separates the "
                                 "midpoints")
        if exponent == LOWEST_EXPONENT and any(e >> 8 != (1 << MANTISSA_BITS) - 1
                                               for half in entries for e in half):
            raise AssertionError("a midpoint below 2**-31: smaller magnitudes would not all "
                                 "encode alike")  # pragma: no cover - the smallest is ~1e-7
        binades.append(len(halves[0]) | (MANTISSA_BITS - bits) << 16)
        for half, new in zip(halves, entries, strict=True):
            half.extend(new)
    width = len(halves[0])
    entries = halves[0] + halves[1]
    return EncodeTable(entries, binades, width, _planes(entries, width, signed))
