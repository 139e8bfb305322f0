"""KV attend over the quantized cache against dense SDPA, and the memory it saves."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import CompressionConfig, RLVRConfig
from ..inference_scaling import optimize_kv_cache
from ..provenance import fingerprint
from ..timing import interleaved
from .rows import ratio_row, sample_row


def run(tokens: tuple[int, ...] = (1024, 2048, 4096, 8192), heads: int = 8, head_dim: int = 64,
        bits: int = 8, dtype: str = "bfloat16", rounds: int = 15) -> dict:
    torch_dtype = getattr(torch, dtype)
    rows = []
    for n in tokens:
        gen = torch.Generator().manual_seed(n)
        k = torch.randn(1, heads, n, head_dim, generator=gen).to(torch_dtype)
        v = torch.randn(1, heads, n, head_dim, generator=gen).to(torch_dtype)
        q = torch.randn(1, heads, 1, head_dim, generator=gen).to(torch_dtype)
        cache = optimize_kv_cache(1, heads, head_dim, n, CompressionConfig(64, bits),
                                  RLVRConfig(1, 1.0, 256), dtype=torch_dtype)
        cache.append(0, k, v)
        arms = {"dense SDPA": lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
                "quantized attend": lambda q=q, cache=cache: cache.attend(0, q)}
        times = interleaved(arms, rounds=rounds, warmup=2)
        rows.append(sample_row(f"{n} tokens: dense SDPA", "s", times["dense SDPA"]))
        rows.append(sample_row(f"{n} tokens: quantized attend", "s", times["quantized attend"]))
        rows.append(ratio_row(f"{n} tokens: attend ÷ dense SDPA", times["quantized attend"],
                              times["dense SDPA"]))
        saved = 1 - cache.nbytes / cache.dense_nbytes
        rows.append({"label": f"{n} tokens: memory saved vs dense {dtype}", "unit": "fraction",
                     "median": saved, "ci95": [saved, saved], "samples": [saved],
                     "nbytes": cache.nbytes, "dense_nbytes": cache.dense_nbytes})
    return {"benchmark": "kv", "bits": bits, "heads": heads, "head_dim": head_dim,
            "dtype": dtype, **fingerprint(), "rows": rows}
