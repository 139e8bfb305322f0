"""Generation with a trained model.

:func:`generate` times greedy decoding (time to first token, per-token latency):

* baseline: the float32 model with plain attention and no cache — each new token re-runs the
  whole sequence (what a naive loop does);
* optimized: the prompt pass (:mod:`.prefill`: SDPA over the prompt's own keys and values, the
  last position's logits, every layer's keys and values quantized into ryot's int8 paged KV
  cache; compiled on CPU) gives the first token; each new token then runs one position over
  that cache. Eager forwards run bfloat16 weights (cast, and on CPU packed for oneDNN, once per
  weights version: :func:`inference_copy`) where that pays: on CPU a forward over fewer than
  ``CPU_BF16_MIN_POSITIONS`` positions per thread — every decode step — runs the float32
  weights, because oneDNN's bfloat16 GEMM has a fixed cost a few rows cannot amortize
  (docs/inference.md has the measurements).

:func:`solve` is RLVR on one addition problem (:mod:`.arithmetic`):
:func:`ryot.inference_scaling.select_paths` samples up to ``num_paths`` answers, every path a
fork of the prompt's KV cache sequence (the prompt's pages are shared, not copied), and the
exact checker is the reward.
"""

from __future__ import annotations

import time

import torch

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kv.cache import optimize_kv_cache
from ryot.core.path_selection import PathResult, select_paths
from ryot.measure.timing import synchronize
from ryot.workload.arithmetic import DIGITS, prompt, reward
from ryot.workload.infer.prefill import (
    prefill,
    prepare,
    prompt_pass,
    release_cache,
)
from ryot.workload.infer.weights import weights_for
from ryot.workload.model import GPT

__all__ = ["generate", "solve"]


@torch.no_grad()
def generate(model: GPT, prompt: torch.Tensor, new_tokens: int, optimized: bool) -> dict:
    """Greedy generation; returns tokens, TTFT seconds, per-token seconds and how the prompt
    pass ran (``prompt_pass``: "compiled", "eager", or None for the baseline).

    Outside the timed region, once: the optimized path's bfloat16 weights (per weights version,
    as loading a bfloat16 checkpoint would be), compiling its prompt pass (per model and prompt
    shape, as a server compiles at start-up: :func:`.prefill.prepare`), and its cache's pages
    (allocated on first use and reused: :func:`new_cache`). Everything else is timed: the
    prompt pass, taking and clearing the cache, filling it, and each decode step over it.
    """
    cfg = model.config
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    tokens = prompt.to(device)[:, -cfg.block_size:]
    first, run = prepare(model, tokens) if optimized else (model, None)
    decoder = weights_for(model, 1, device) if optimized else model
    per_token = []
    synchronize(device)
    start = time.perf_counter()
    if optimized:
        logits, cache = prefill(first, tokens, device, run)
    else:
        logits = first(tokens)[0][:, -1]
    next_token = logits.argmax(-1, keepdim=True)
    synchronize(device)
    ttft = time.perf_counter() - start
    tokens = torch.cat([tokens, next_token], dim=1)
    for _ in range(new_tokens - 1):
        if tokens.shape[1] >= cfg.block_size:
            break
        t = time.perf_counter()
        if optimized:
            logits = decoder(tokens[:, -1:], cache=cache, start=tokens.shape[1] - 1)[0][:, -1]
        else:
            logits = decoder(tokens)[0][:, -1]
        next_token = logits.argmax(-1, keepdim=True)
        tokens = torch.cat([tokens, next_token], dim=1)
        synchronize(device)
        per_token.append(time.perf_counter() - t)
    if optimized:
        release_cache(cache)
    model.train(was_training)
    how = None if run is None else ("compiled" if run is not prompt_pass else "eager")
    return {"tokens": tokens.cpu(), "ttft_s": ttft, "per_token_s": per_token, "prompt_pass": how}


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
