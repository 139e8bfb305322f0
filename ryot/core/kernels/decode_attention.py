"""Decode attention straight from a quantized, paged KV cache (no dequantized copy).

Cache layout, per layer (see :class:`ryot.inference_scaling.QuantizedKVCache`):

* ``k_codes``  (pages, H, page, D or D/2)  keys, quantized per channel over groups of G tokens
* ``k_scales`` (pages, H, page // G, D)    one scale per channel per token group (KIVI keys)
* ``v_codes``  (pages, H, page, D or D/2)  values, quantized per token over groups of GV channels
* ``v_scales`` (pages, H, page, D // GV)   (scales: bfloat16 or float32, widened as they load)
* ``k_residual`` (B, H, G, D)              keys of the newest, incomplete group, unquantized
* ``page_table`` (B, max_pages) int32      page ids of each sequence, in order

int4 codes are packed two per byte along D (channel 2i low nibble, 2i+1 high nibble, stored +8).
The kernel works on even and odd channels separately, which reads int8 and packed int4 alike.
"""

from __future__ import annotations

import math

import torch

__all__ = ["attention_reference", "decode_attention_triton"]

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover
    triton = tl = None


def attention_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Plain causal attention for the newest ``T`` queries over ``L`` keys, in float64.

    q: (B, H, T, D); k, v: (B, H, L, D). Query t sits at position ``L - T + t``.
    """
    q64, k64, v64 = q.double(), k.double(), v.double()
    T, L = q.shape[-2], k.shape[-2]
    scores = q64 @ k64.transpose(-1, -2) / math.sqrt(q.shape[-1])
    pos_q = torch.arange(L - T, L).unsqueeze(1)
    pos_k = torch.arange(L).unsqueeze(0)
    scores = scores.masked_fill(pos_k > pos_q, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v64


if triton is not None:

    @triton.jit
    def _load_pair(codes_ptr, row_off, half, PACKED: tl.constexpr):
        """Even- and odd-channel codes (float32) of rows ``row_off`` (tokens x D/2 pairs)."""
        if PACKED:
            byte = tl.load(codes_ptr + row_off[:, None] + half[None, :]).to(tl.int32)
            even = ((byte & 0xF) - 8).to(tl.float32)
            odd = (((byte >> 4) & 0xF) - 8).to(tl.float32)
        else:
            even = tl.load(codes_ptr + row_off[:, None] + 2 * half[None, :]).to(tl.float32)
            odd = tl.load(codes_ptr + row_off[:, None] + 2 * half[None, :] + 1).to(tl.float32)
        return even, odd

    @triton.jit
    def _decode_attention_kernel(
        q_ptr, out_ptr, kc_ptr, ks_ptr, vc_ptr, vs_ptr, kr_ptr, pt_ptr, lengths_ptr,
        T, H, max_pages, sm_scale,
        PAGE: tl.constexpr, G: tl.constexpr, D: tl.constexpr, GV: tl.constexpr,
        PACKED: tl.constexpr,
    ):
        pid = tl.program_id(0)  # one program per (b, h, t)
        t = pid % T
        h = (pid // T) % H
        b = pid // (T * H)
        L = tl.load(lengths_ptr + b)
        q_pos = L - T + t
        DS: tl.constexpr = D // 2 if PACKED else D  # stored bytes per token row
        HALF: tl.constexpr = D // 2
        half = tl.arange(0, HALF)
        tok = tl.arange(0, G)

        q_base = q_ptr + ((b * H + h) * T + t) * D
        q_even = tl.load(q_base + 2 * half).to(tl.float32)
        q_odd = tl.load(q_base + 2 * half + 1).to(tl.float32)

        m_i = float("-inf")
        l_i = 0.0
        acc_even = tl.zeros([HALF], dtype=tl.float32)
        acc_odd = tl.zeros([HALF], dtype=tl.float32)
        n_groups = tl.cdiv(L, G)
        n_full = L // G
        for g in range(0, n_groups):
            pos = g * G + tok
            page = tl.load(pt_ptr + b * max_pages + (g * G) // PAGE)
            slot_tok = (g * G) % PAGE + tok  # token rows inside the page
            page_head = page * H + h
            if g < n_full:  # quantized keys: per-channel scales of this group
                k_even, k_odd = _load_pair(kc_ptr, (page_head * PAGE + slot_tok) * DS, half, PACKED)
                ks_base = ks_ptr + (page_head * (PAGE // G) + (g * G) % PAGE // G) * D
                k_even = k_even * tl.load(ks_base + 2 * half).to(tl.float32)[None, :]
                k_odd = k_odd * tl.load(ks_base + 2 * half + 1).to(tl.float32)[None, :]
            else:  # the newest, incomplete group is kept unquantized
                kr_base = kr_ptr + ((b * H + h) * G + tok[:, None]) * D
                valid = (pos < L)[:, None]
                k_even = tl.load(kr_base + 2 * half[None, :], mask=valid,
                                 other=0.0).to(tl.float32)
                k_odd = tl.load(kr_base + 2 * half[None, :] + 1, mask=valid,
                                other=0.0).to(tl.float32)
            s = (tl.sum(k_even * q_even[None, :], axis=1) + tl.sum(k_odd * q_odd[None, :], axis=1))
            s = tl.where((pos <= q_pos) & (pos < L), s * sm_scale, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, axis=0))
            alpha = tl.exp(m_i - m_new)
            p = tl.exp(s - m_new)
            p = tl.where(pos <= q_pos, p, 0.0)

            live = (pos < L)[:, None]
            v_row = (page_head * PAGE + slot_tok) * DS
            if PACKED:
                byte = tl.load(vc_ptr + v_row[:, None] + half[None, :], mask=live,
                               other=0x88).to(tl.int32)
                v_even = ((byte & 0xF) - 8).to(tl.float32)
                v_odd = (((byte >> 4) & 0xF) - 8).to(tl.float32)
            else:
                v_even = tl.load(vc_ptr + v_row[:, None] + 2 * half[None, :], mask=live,
                                 other=0).to(tl.float32)
                v_odd = tl.load(vc_ptr + v_row[:, None] + 2 * half[None, :] + 1, mask=live,
                                other=0).to(tl.float32)
            vs_row = (page_head * PAGE + slot_tok) * (D // GV)
            v_even = v_even * tl.load(vs_ptr + vs_row[:, None] + (2 * half[None, :]) // GV,
                                      mask=live, other=0.0).to(tl.float32)
            v_odd = v_odd * tl.load(vs_ptr + vs_row[:, None] + (2 * half[None, :] + 1) // GV,
                                    mask=live, other=0.0).to(tl.float32)

            acc_even = acc_even * alpha + tl.sum(p[:, None] * v_even, axis=0)
            acc_odd = acc_odd * alpha + tl.sum(p[:, None] * v_odd, axis=0)
            l_i = l_i * alpha + tl.sum(p, axis=0)
            m_i = m_new

        out_base = out_ptr + ((b * H + h) * T + t) * D
        tl.store(out_base + 2 * half, acc_even / l_i)
        tl.store(out_base + 2 * half + 1, acc_odd / l_i)


def decode_attention_triton(q, k_codes, k_scales, v_codes, v_scales, k_residual, page_table,
                            lengths, *, page: int, group: int, value_group: int,
                            packed: bool) -> torch.Tensor:
    """Launch the kernel: q (B, H, T, D) -> float32 output of the same shape."""
    B, H, T, D = q.shape
    out = torch.empty((B, H, T, D), dtype=torch.float32, device=q.device)
    grid = (B * H * T,)
    _decode_attention_kernel[grid](
        q.contiguous(), out, k_codes, k_scales, v_codes, v_scales, k_residual.contiguous(),
        page_table, lengths, T, H, page_table.shape[1], 1.0 / math.sqrt(D),
        PAGE=page, G=group, D=D, GV=value_group, PACKED=packed)
    return out
