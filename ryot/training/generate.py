"""Generation with a trained model.

:func:`generate` times greedy decoding (time to first token, per-token latency):

* baseline: the float32 model with plain attention and no cache — each new token re-runs the
  whole sequence (what a naive loop does);
* optimized: bfloat16 autocast, SDPA, and ryot's quantized paged KV cache (int8), so each new
  token runs one position.

:func:`solve` is RLVR on one addition problem (:mod:`.arithmetic`):
:func:`ryot.inference_scaling.select_paths` samples up to ``num_paths`` answers, every path a
fork of the prompt's KV cache sequence (the prompt's pages are shared, not copied), and the
exact checker is the reward.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch

from ..config import CompressionConfig, RLVRConfig
from ..inference_scaling import PathResult, optimize_kv_cache, select_paths
from ..timing import synchronize
from .arithmetic import DIGITS, prompt, reward
from .model import GPT


def _autocast(optimized: bool, device: torch.device):
    return torch.autocast(device.type, dtype=torch.bfloat16) if optimized else nullcontext()


@torch.no_grad()
def generate(model: GPT, prompt: torch.Tensor, new_tokens: int, optimized: bool) -> dict:
    """Greedy generation; returns tokens, TTFT seconds and per-token seconds."""
    cfg = model.config
    device = next(model.parameters()).device
    model.eval()
    tokens = prompt.to(device)
    per_token = []
    with _autocast(optimized, device):
        synchronize(device)
        start = time.perf_counter()
        if optimized:
            cache = optimize_kv_cache(cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head,
                                      cfg.block_size, CompressionConfig(16, 8), RLVRConfig(1, 1.0, 64),
                                      device=device, dtype=torch.bfloat16)
            logits, _ = model(tokens, cache=cache)
        else:
            logits, _ = model(tokens[:, -cfg.block_size:])
        next_token = logits[:, -1].argmax(-1, keepdim=True)
        synchronize(device)
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
            synchronize(device)
            per_token.append(time.perf_counter() - t)
    model.train()
    return {"tokens": tokens.cpu(), "ttft_s": ttft, "per_token_s": per_token}


@torch.no_grad()
def solve(model, a: int, b: int, rlvr: RLVRConfig, *, temperature: float = 1.0, seed: int = 0,
          max_new: int = DIGITS + 2) -> PathResult:
    """RLVR on one problem: path 0 is greedy, later paths are sampled; stop at reward 1.0."""
    cfg = model.config
    device = next(model.parameters()).device
    model.eval()
    cache_ = optimize_kv_cache(cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head, cfg.block_size,
                               CompressionConfig(8, 8), RLVRConfig(1, 1.0, 32), device=device)
    tokens = torch.tensor([list(prompt(a, b).encode())], device=device)
    logits, _ = model(tokens, cache=cache_.sequences([0]))
    first = logits[0, -1].float()
    length = tokens.shape[1]

    def sample_path(_prompt, i: int) -> str:
        seq = cache_.fork(0)  # shares the prompt's pages
        view = cache_.sequences([seq])
        gen = torch.Generator().manual_seed(seed * 1000 + i)
        out, nxt_logits, pos = [], first, length
        for _ in range(max_new):
            if i == 0:
                token = int(nxt_logits.argmax())
            else:
                probs = torch.softmax(nxt_logits / temperature, dim=-1).cpu()
                token = int(torch.multinomial(probs, 1, generator=gen))
            out.append(token)
            if token == ord("\n") or pos >= cfg.block_size:
                break
            logits, _ = model(torch.tensor([[token]], device=device), cache=view, start=pos)
            nxt_logits, pos = logits[0, -1].float(), pos + 1
        return bytes(out).decode("utf-8", errors="replace")

    result = select_paths(sample_path, lambda text: reward(a, b, text), (a, b), rlvr)
    model.train()
    return result
