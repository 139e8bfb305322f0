"""Block-wise absmax quantization: int8 codes, or int4 codes packed two per byte.

For each block of ``block`` consecutive values (the last block zero-padded)::

    scale = absmax / qmax                      qmax = 127 (8 bits) or 7 (4 bits)
    code  = clamp(floor(x * (qmax / absmax) + 0.5), -qmax, qmax)      (0 when absmax == 0)
    x'    = code * scale

int4 codes are stored as ``code + 8`` (1..15) in nibbles: element ``2i`` in the low nibble of
byte ``i``, element ``2i + 1`` in the high one. The torch reference and the Triton kernels do the
same float32 operations in the same order (no FMA contraction), so their codes are bit-identical.

Rounding: ties toward +infinity (``floor(v + 0.5)``, "half up"), because it is
one ``floor`` in Triton and in torch alike, so kernel and reference agree bit for bit. The KV
cache's codes (:mod:`ryot.core.kv.codes`) round half to even instead: they are computed by torch
only (eager, or compiled with the same rounding), never by a Triton kernel, and torch's
``round`` is half-to-even. The two rules differ only on exact ties (x·qmax/absmax an odd
multiple of 0.5), by one code step; each cache and compressor is internally consistent.
"""

from __future__ import annotations

import torch

__all__ = [
    "QMAX", "dequantize_blocks", "dequantize_triton", "pack_int4", "qmax",
    "quantize_blocks", "quantize_triton", "unpack_int4"
]

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - non-Linux platforms
    triton = tl = None

QMAX = {8: 127, 4: 7}


def qmax(bits: int) -> int:
    return QMAX[bits]


# -- torch reference ---------------------------------------------------------------------------
def quantize_blocks(blocks: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``blocks`` (nblocks, block) float32 -> (int8 codes of the same shape, float32 scales)."""
    q = float(qmax(bits))
    absmax = blocks.abs().amax(dim=1, keepdim=True)
    # a true division: ``q / tensor`` would compute ``reciprocal(tensor) * q``, which rounds
    # differently from the kernel's ``q / absmax``
    inv = torch.where(absmax > 0, torch.full_like(absmax, q) / absmax, torch.zeros_like(absmax))
    codes = torch.floor(blocks * inv + 0.5).clamp_(-q, q).to(torch.int8)
    return codes, (absmax / q).squeeze(1)


def dequantize_blocks(codes: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`quantize_blocks` (float32)."""
    return codes.to(torch.float32) * scales.unsqueeze(1)


def pack_int4(codes: torch.Tensor) -> torch.Tensor:
    """int8 codes in [-7, 7] (even count) -> uint8, two per byte."""
    nibbles = (codes.reshape(-1, 2).to(torch.int16) + 8).to(torch.uint8)
    return nibbles[:, 0] | (nibbles[:, 1] << 4)


def unpack_int4(packed: torch.Tensor) -> torch.Tensor:
    lo = (packed & 0xF).to(torch.int8) - 8
    hi = (packed >> 4).to(torch.int8) - 8
    return torch.stack((lo, hi), dim=1).reshape(-1)


# -- Triton kernels ----------------------------------------------------------------------------
if triton is not None:

    @triton.jit
    def _quantize_kernel(x_ptr, codes_ptr, scales_ptr, n, nblocks, QMAXF: tl.constexpr,
                         BLOCK: tl.constexpr, BLOCK_P2: tl.constexpr, ROWS: tl.constexpr):
        """Each program quantizes ROWS blocks; reads x once, writes int8 codes and scales."""
        rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
        cols = tl.arange(0, BLOCK_P2)
        offs = rows[:, None] * BLOCK + cols[None, :]
        valid = (rows[:, None] < nblocks) & (cols[None, :] < BLOCK)
        x = tl.load(x_ptr + offs, mask=valid & (offs < n), other=0.0).to(tl.float32)
        absmax = tl.max(tl.abs(x), axis=1)
        inv = tl.where(absmax > 0, QMAXF / absmax, 0.0)
        code = tl.floor(x * inv[:, None] + 0.5)
        code = tl.minimum(tl.maximum(code, -QMAXF), QMAXF)
        tl.store(codes_ptr + offs, code.to(tl.int8), mask=valid)
        tl.store(scales_ptr + rows, absmax / QMAXF, mask=rows < nblocks)

    @triton.jit
    def _dequantize_kernel(codes_ptr, scales_ptr, out_ptr, n, BLOCK: tl.constexpr,
                           PACKED: tl.constexpr, TILE: tl.constexpr):
        offs = tl.program_id(0) * TILE + tl.arange(0, TILE)
        mask = offs < n
        if PACKED:
            byte = tl.load(codes_ptr + offs // 2, mask=mask, other=0).to(tl.int32)
            nibble = tl.where((offs % 2) == 0, byte & 0xF, (byte >> 4) & 0xF)
            code = (nibble - 8).to(tl.float32)
        else:
            code = tl.load(codes_ptr + offs, mask=mask, other=0).to(tl.float32)
        scale = tl.load(scales_ptr + offs // BLOCK, mask=mask, other=0.0)
        tl.store(out_ptr + offs, code * scale, mask=mask)

    @triton.jit
    def _pack_int4_kernel(codes_ptr, packed_ptr, npairs, TILE: tl.constexpr):
        i = tl.program_id(0) * TILE + tl.arange(0, TILE)
        mask = i < npairs
        lo = tl.load(codes_ptr + 2 * i, mask=mask, other=0).to(tl.int32) + 8
        hi = tl.load(codes_ptr + 2 * i + 1, mask=mask, other=0).to(tl.int32) + 8
        tl.store(packed_ptr + i, (lo | (hi << 4)).to(tl.uint8), mask=mask)


def _next_pow2(v: int) -> int:
    return 1 << (v - 1).bit_length()


def quantize_triton(flat: torch.Tensor, block: int, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Triton version of pad + :func:`quantize_blocks` (+ :func:`pack_int4` for 4 bits).

    ``flat`` is 1-D, any float dtype. Returns (codes, scales) exactly as the torch path does.
    """
    n = flat.numel()
    nblocks = -(-n // block)
    padded = nblocks * block + (nblocks * block) % 2 * (bits == 4)
    codes = torch.zeros(padded, dtype=torch.int8, device=flat.device)
    scales = torch.empty(nblocks, dtype=torch.float32, device=flat.device)
    block_p2 = _next_pow2(block)
    rows = max(1, min(64, 4096 // block_p2))
    grid = (triton.cdiv(nblocks, rows),)
    _quantize_kernel[grid](flat, codes, scales, n, nblocks, QMAXF=float(qmax(bits)), BLOCK=block,
                           BLOCK_P2=block_p2, ROWS=rows, enable_fp_fusion=False)
    if bits == 4:
        packed = torch.empty(padded // 2, dtype=torch.uint8, device=flat.device)
        tile = 1024
        _pack_int4_kernel[(triton.cdiv(padded // 2, tile),)](codes, packed, padded // 2, TILE=tile)
        codes = packed
    return codes, scales


def dequantize_triton(codes: torch.Tensor, scales: torch.Tensor, n: int, block: int,
                      bits: int) -> torch.Tensor:
    """Triton version of unpack + :func:`dequantize_blocks`, trimmed to ``n`` float32 values."""
    out = torch.empty(n, dtype=torch.float32, device=codes.device)
    tile = 1024
    _dequantize_kernel[(triton.cdiv(n, tile),)](codes, scales, out, n, BLOCK=block,
                                                PACKED=bits == 4, TILE=tile)
    return out
