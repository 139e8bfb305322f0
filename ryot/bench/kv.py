"""KV attend over the quantized cache against dense SDPA, and the memory it saves."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ryot.bench.rows import ratio_row, sample_row
from ryot.infra.provenance import fingerprint
from ryot.measure.timing import interleaved
from ryot.metrics.measurements import filled_kv_cache, kv_memory_saved, random_kv

__all__ = ["run"]


def run(tokens: tuple[int, ...] = (1024, 2048, 4096, 8192), heads: int = 8, head_dim: int = 64,
        bits: int = 8, dtype: str = "bfloat16", rounds: int = 15) -> dict:
    torch_dtype = getattr(torch, dtype)
    rows = []
    for n in tokens:
        k, v = random_kv(n, heads, head_dim, torch_dtype, seed=n)
        q = torch.randn(1, heads, 1, head_dim,
                        generator=torch.Generator().manual_seed(n + 1)).to(torch_dtype)
        cache = filled_kv_cache(k, v, bits)
        arms = {"dense SDPA": lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
                "quantized attend": lambda q=q, cache=cache: cache.attend(0, q)}
        times = interleaved(arms, rounds=rounds, warmup=2)
        rows.append(sample_row(f"{n} tokens: dense SDPA", "s", times["dense SDPA"]))
        rows.append(sample_row(f"{n} tokens: quantized attend", "s", times["quantized attend"]))
        rows.append(ratio_row(f"{n} tokens: attend ÷ dense SDPA", times["quantized attend"],
                              times["dense SDPA"]))
        saved = kv_memory_saved(cache)
        rows.append({"label": f"{n} tokens: memory saved vs dense {dtype}", "unit": "fraction",
                     "median": saved, "ci95": [saved, saved], "samples": [saved],
                     "nbytes": cache.nbytes, "dense_nbytes": cache.dense_nbytes})
    return {"benchmark": "kv", "bits": bits, "heads": heads, "head_dim": head_dim,
            "dtype": dtype, **fingerprint(), "rows": rows}
