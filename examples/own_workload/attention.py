"""A user's own workload, the smallest honest example: is PyTorch's fused attention
(``scaled_dot_product_attention``) faster than attention written out by hand, on this machine?

A provider is ``provider(n, params) -> samples``; ``ryot.paired_trials`` does the timing (warm-up,
interleaved A/B rounds, CUDA synchronization on a GPU).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

import ryot


def _qkv(params: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shape = (params.get("batch", 4), params.get("heads", 8), params.get("tokens", 256),
             params.get("head_dim", 64))
    return tuple(torch.randn(shape, generator=g) for _ in range(3))


def by_hand(q, k, v):
    """Causal attention written out: scores, mask, softmax, weighted sum."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    return scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v


def fused(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def speedup(n: int, params: dict):
    """Seconds by hand ÷ seconds fused, n interleaved pairs."""
    q, k, v = _qkv(params)
    return ryot.paired_trials(lambda: by_hand(q, k, v), lambda: fused(q, k, v), n, warmup=2)


def max_abs_difference(n: int, params: dict) -> float:
    """The two implementations must agree: the largest elementwise difference."""
    q, k, v = _qkv(params)
    return float((by_hand(q, k, v) - fused(q, k, v)).abs().max())


def by_hand_seconds(n: int, params: dict) -> list[float]:
    """n timings (seconds) of ``by_hand``: a scalar provider for an A/B across commits
    (examples/ci/), where the code *as it is in each checkout* is what is timed."""
    import time

    q, k, v = _qkv(params)
    for _ in range(2):  # warm-up: allocator, kernels chosen
        by_hand(q, k, v)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        by_hand(q, k, v)
        times.append(time.perf_counter() - start)
    return times
