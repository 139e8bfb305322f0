"""Causal self-attention three ways, with one plain reference beside the fast ones.

* :func:`plain_attention` — softmax(QKᵀ/√d + causal mask)·V, every intermediate kept for the
  backward pass (the baseline; also the reference the others are tested against);
* ``sdpa`` — ``torch.nn.functional.scaled_dot_product_attention`` (fused "flash" kernels);
* :func:`recompute_attention` — ryot's: the fused SDPA forward, which keeps nothing of size T×T,
  and a backward that *recomputes* the attention probabilities with plain batched matmuls.

Why the third: on CPU, PyTorch's flash-attention backward walks the sequence in small tiles and
is slow for short contexts — on the default model (context 128, head size 32) it costs more than
plain attention's whole forward + backward (figures: docs/benchmarks.md). Recomputing keeps
flash's memory (only Q, K, V are saved) at about plain attention's speed. On CUDA the flash
backward is fast, so the model uses ``sdpa`` there.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ryot.infra.errors import ConfigError

__all__ = ["MODES", "causal_attention", "plain_attention", "recompute_attention"]

MODES = ("plain", "sdpa", "recompute")


def plain_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal attention over ``(batch, heads, T, head_dim)`` in the inputs' dtype (the softmax
    kernel accumulates low-precision inputs in float32)."""
    T, S = q.size(-2), k.size(-2)
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
    causal = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(S - T)
    return scores.masked_fill(~causal, float("-inf")).softmax(dim=-1) @ v


class _RecomputeAttention(torch.autograd.Function):
    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu")
    def forward(ctx, q, k, v):  # noqa: ANN001, ANN205 - autograd.Function signature
        ctx.save_for_backward(q, k, v)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    @staticmethod
    @torch.autograd.function.once_differentiable  # a second derivative would be silently wrong
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad_out):  # noqa: ANN001, ANN205
        q, k, v = (t.detach().requires_grad_(True) for t in ctx.saved_tensors)
        with torch.enable_grad():
            out = plain_attention(q, k, v)
        return torch.autograd.grad(out, (q, k, v), grad_out)


def recompute_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal self-attention (queries and keys the same length): fused forward, backward by
    recomputing plain attention (see above)."""
    if q.size(-2) != k.size(-2):
        raise ConfigError(f"recompute attention is self-attention: {q.size(-2)} queries but "
                         f"{k.size(-2)} keys (use plain_attention for a query block over a "
                         f"longer cache)")
    return _RecomputeAttention.apply(q, k, v)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mode: str) -> torch.Tensor:
    """Dispatch on ``mode`` (one of :data:`MODES`)."""
    if mode == "sdpa":
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if mode == "recompute":
        return recompute_attention(q, k, v)
    return plain_attention(q, k, v)
