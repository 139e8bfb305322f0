"""The KV cache's codes as plain tensor functions (no cache state): quantizing groups, packing
int4 pairs, a whole prompt's keys and values at once, and dequantizing pages.

:mod:`ryot.core.kv.cache` stores what these return; the optimized prefill
(:mod:`ryot.workload.infer.prefill`) may run :func:`quantize_prompt` inside a compiled graph, so
every function here is pure torch on its arguments.
"""

from __future__ import annotations

import torch

from ryot.core.kernels import quantize as qk

__all__ = [
    "SCALE_DTYPE", "dequantize_pages", "load_codes", "quantize_groups", "quantize_keys",
    "quantize_prompt", "quantize_values", "round_up_bfloat16", "store_codes"
]

# Scales are stored in bfloat16 (float32's range, 8 bits of mantissa): half the bytes of float32,
# which at 64 channels or tokens per group is 3% of a dense bfloat16 cache saved.
SCALE_DTYPE = torch.bfloat16


def round_up_bfloat16(x: torch.Tensor) -> torch.Tensor:
    """Non-negative float32 ``x`` rounded *up* to the next bfloat16 (exact ones unchanged),
    returned as bfloat16: a scale that is never below absmax / qmax, so no code is clipped.
    (Adds 0xFFFF to the bits, then clears the 16 low ones; inf stays inf, NaN stays NaN.)"""
    bits = x.to(torch.float32).view(torch.int32)
    up = torch.where((bits & 0x7FFFFFFF) < 0x7F800000, (bits + 0xFFFF) & ~0xFFFF, bits)  # inf, NaN
    return up.view(torch.float32).to(SCALE_DTYPE)


def quantize_groups(x: torch.Tensor, dim: int, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Absmax-quantize groups that run along ``dim`` (round to nearest, ties to even): int8 codes
    shaped like ``x`` and bfloat16 scales with ``dim`` dropped — no copy moves the groups to rows.
    The scale is absmax / qmax rounded up to bfloat16 (:func:`round_up_bfloat16`), and the codes
    are computed against that stored scale, so a value's error stays within half a step.

    Ties to even, not the block compressor's half up (:mod:`ryot.core.kernels.quantize` says
    why the two differ): these codes are only ever computed by torch."""
    x = x.to(torch.float32)
    scale = round_up_bfloat16(x.abs().amax(dim=dim, keepdim=True).div_(qk.qmax(bits)))
    wide = scale.to(torch.float32)  # the stored scale itself, however small: the bound holds
    divisor = torch.where(wide == 0, 1.0, wide)  # an all-zero group: zero codes
    codes = (x / divisor).round_().to(torch.int8)
    return codes, scale.squeeze(dim)


def store_codes(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """Pack along the last dim for 4 bits (pairs of channels), keep int8 otherwise."""
    return codes if bits == 8 else qk.pack_int4(codes.reshape(-1)).view(*codes.shape[:-1],
                                                                        codes.shape[-1] // 2)


def load_codes(stored: torch.Tensor, bits: int) -> torch.Tensor:
    return stored if bits == 8 else qk.unpack_int4(stored.reshape(-1)).view(*stored.shape[:-1],
                                                                            stored.shape[-1] * 2)


def quantize_values(v: torch.Tensor, value_group: int,
                    bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., n, D) -> stored codes and scales (..., n, D // value_group): per token."""
    codes, scales = quantize_groups(v.unflatten(-1, (-1, value_group)), -1, bits)
    return store_codes(codes.flatten(-2), bits), scales


def quantize_keys(keys: torch.Tensor, group: int, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole key groups (..., m * G, D) -> stored codes and scales (..., m, D), per channel."""
    codes, scales = quantize_groups(keys.unflatten(-2, (-1, group)), -2, bits)
    return store_codes(codes.flatten(-3, -2), bits), scales


def quantize_prompt(ks: torch.Tensor, vs: torch.Tensor, *, group: int, value_group: int,
                    bits: int, key_dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """A prompt's keys and values, every layer stacked — (layers, batch, H, n, D) each — as the
    cache stores them: ``v_codes``/``v_scales`` per token, ``k_codes``/``k_scales`` for the
    complete key groups, and ``k_residual``, the newest keys (fewer than ``group``) kept
    unquantized in ``key_dtype``. Keys are rounded to ``key_dtype`` before they are quantized,
    as :meth:`ryot.core.kv.cache.QuantizedKVCache.append` does."""
    ks = ks.to(key_dtype)
    full = ks.shape[3] // group * group
    parts = dict(zip(("v_codes", "v_scales"), quantize_values(vs, value_group, bits), strict=True))
    parts.update(zip(("k_codes", "k_scales"), quantize_keys(ks[..., :full, :], group, bits),
                     strict=True))
    parts["k_residual"] = ks[..., full:, :]
    return parts


def dequantize_pages(k_codes, k_scales, v_codes, v_scales, group: int, value_group: int,
                     packed: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(pages, H, P, ·) codes and scales -> float32 keys and values, (H, pages * P, D) each.
    Scales broadcast over their groups (no repeated scale tensors are built); bfloat16 scales
    are widened to float32 first, so every product is int8 × float32."""
    if packed:
        k_codes, v_codes = load_codes(k_codes, 4), load_codes(v_codes, 4)
    p, H, P, D = k_codes.shape
    k_scales, v_scales = k_scales.to(torch.float32), v_scales.to(torch.float32)
    keys = k_codes.view(p, H, P // group, group, D) * k_scales.unsqueeze(3)  # int8 * float32
    values = v_codes.view(p, H, P, D // value_group, value_group) * v_scales.unsqueeze(4)
    keys = keys.view(p, H, P, D).transpose(0, 1).reshape(H, p * P, D)
    values = values.view(p, H, P, D).transpose(0, 1).reshape(H, p * P, D)
    return keys, values
