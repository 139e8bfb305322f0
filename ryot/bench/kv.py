"""KV attend over the quantized cache against dense SDPA, a whole decode step over each, and the
memory the quantized cache saves.

Per context length, interleaved (one call of each per round, the order rotated):

* ``dense SDPA`` / ``quantized attend``: one query position attending to the context — SDPA over
  dense keys and values in ``dtype``, and the cache's ``attend`` (on CPU the C loop that reads
  the int8 codes in place, see :mod:`ryot.core.kv.native_attend`);
* ``dense decode step`` / ``int8 decode step``: what one layer of a decode step does with its
  cache — store the new token's key and value, then attend: a preallocated dense cache written
  at the next slot (no copy of the past), and the quantized cache's ``append`` + ``attend``.
  Every call adds one token to both, so both grow alike over the rounds.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ryot.bench.rows import ratio_row, sample_row
from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kv.cache import QuantizedKVCache, optimize_kv_cache
from ryot.core.kv.native_attend import why_not
from ryot.infra.provenance import fingerprint
from ryot.measure.timing import interleaved
from ryot.metrics.measurements import filled_kv_cache, kv_memory_saved, random_kv

__all__ = ["run"]


class _DenseDecode:
    """A dense one-layer cache with room for ``extra`` more tokens: a decode step writes the next
    slot and attends to everything so far."""

    def __init__(self, k: torch.Tensor, v: torch.Tensor, extra: int) -> None:
        self.n = k.shape[2]
        self.k = torch.cat([k, k.new_zeros(*k.shape[:2], extra, k.shape[3])], 2)
        self.v = torch.cat([v, v.new_zeros(*v.shape[:2], extra, v.shape[3])], 2)

    def step(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        self.k[:, :, self.n:self.n + 1], self.v[:, :, self.n:self.n + 1] = k, v
        self.n += 1
        return F.scaled_dot_product_attention(q, self.k[:, :, :self.n], self.v[:, :, :self.n])


def _quantized_decode(k: torch.Tensor, v: torch.Tensor, bits: int,
                      extra: int) -> QuantizedKVCache:
    """:func:`filled_kv_cache`'s cache with room for ``extra`` more tokens."""
    _, heads, n, head_dim = k.shape
    cache = optimize_kv_cache(1, heads, head_dim, n + extra, CompressionConfig(64, bits),
                              RLVRConfig(1, 1.0, 256), dtype=k.dtype)
    cache.append(0, k, v)
    return cache


def _int8_step(cache: QuantizedKVCache, q, k, v) -> torch.Tensor:
    cache.append(0, k, v)
    return cache.attend(0, q)


def run(tokens: tuple[int, ...] = (1024, 2048, 4096, 8192), heads: int = 8, head_dim: int = 64,
        bits: int = 8, dtype: str = "bfloat16", rounds: int = 15) -> dict:
    torch_dtype = getattr(torch, dtype)
    rows = []
    for n in tokens:
        k, v = random_kv(n, heads, head_dim, torch_dtype, seed=n)
        q = torch.randn(1, heads, 1, head_dim,
                        generator=torch.Generator().manual_seed(n + 1)).to(torch_dtype)
        cache = filled_kv_cache(k, v, bits)
        new_k, new_v = (t[:, :, :1].clone() for t in (k, v))
        dense, stepped = _DenseDecode(k, v, rounds + 8), _quantized_decode(k, v, bits, rounds + 8)
        arms = {"dense SDPA": lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
                "quantized attend": lambda q=q, cache=cache: cache.attend(0, q),
                "dense decode step": lambda q=q, d=dense: d.step(q, new_k, new_v),
                "int8 decode step": lambda q=q, c=stepped: _int8_step(c, q, new_k, new_v)}
        times = interleaved(arms, rounds=rounds, warmup=2)
        for name in arms:
            rows.append(sample_row(f"{n} tokens: {name}", "s", times[name]))
        rows.append(ratio_row(f"{n} tokens: attend ÷ dense SDPA", times["quantized attend"],
                              times["dense SDPA"]))
        rows.append(ratio_row(f"{n} tokens: int8 decode step ÷ dense decode step",
                              times["int8 decode step"], times["dense decode step"]))
        saved = kv_memory_saved(cache)
        rows.append({"label": f"{n} tokens: memory saved vs dense {dtype}", "unit": "fraction",
                     "median": saved, "ci95": [saved, saved], "samples": [saved],
                     "nbytes": cache.nbytes, "dense_nbytes": cache.dense_nbytes})
    probe = filled_kv_cache(*random_kv(64, heads, head_dim, torch_dtype, seed=0), bits)
    path = why_not(probe, torch.zeros(1, heads, 1, head_dim)) or "native (int8 codes read in place)"
    return {"benchmark": "kv", "bits": bits, "heads": heads, "head_dim": head_dim,
            "dtype": dtype, "attend_path": path, **fingerprint(), "rows": rows}
