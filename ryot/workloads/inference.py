"""Generation for the inference metrics: time to first token and per-token decode latency.

* baseline: the float32 model with plain attention and no cache — each new token re-runs the
  whole sequence (what a naive loop does);
* optimized: bfloat16 autocast, SDPA, and ryot's quantized paged KV cache (int8), so each new
  token runs one position.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch

from ..config import CompressionConfig, RLVRConfig
from ..inference_scaling import optimize_kv_cache
from .model import GPT


def _autocast(optimized: bool, device: torch.device):
    return torch.autocast(device.type, dtype=torch.bfloat16) if optimized else nullcontext()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def generate(model: GPT, prompt: torch.Tensor, new_tokens: int, optimized: bool) -> dict:
    """Greedy generation; returns tokens, TTFT seconds and per-token seconds."""
    cfg = model.config
    device = next(model.parameters()).device
    model.eval()
    tokens = prompt.to(device)
    per_token = []
    with _autocast(optimized, device):
        _sync(device)
        start = time.perf_counter()
        if optimized:
            cache = optimize_kv_cache(cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head,
                                      cfg.block_size, CompressionConfig(16, 8), RLVRConfig(1, 1.0, 64),
                                      device=device, dtype=torch.bfloat16)
            logits, _ = model(tokens, cache=cache)
        else:
            logits, _ = model(tokens[:, -cfg.block_size:])
        next_token = logits[:, -1].argmax(-1, keepdim=True)
        _sync(device)
        ttft = time.perf_counter() - start
        tokens = torch.cat([tokens, next_token], dim=1)
        for _ in range(new_tokens - 1):
            if tokens.shape[1] >= cfg.block_size:
                break
            t = time.perf_counter()
            if optimized:
                logits, _ = model(tokens[:, -1:], cache=cache, start=tokens.shape[1] - 1)
            else:
                logits, _ = model(tokens)
            next_token = logits[:, -1].argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, next_token], dim=1)
            _sync(device)
            per_token.append(time.perf_counter() - t)
    model.train()
    return {"tokens": tokens.cpu(), "ttft_s": ttft, "per_token_s": per_token}
