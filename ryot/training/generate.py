"""Generation with a trained model.

:func:`generate` times greedy decoding (time to first token, per-token latency):

* baseline: the float32 model with plain attention and no cache — each new token re-runs the
  whole sequence (what a naive loop does);
* optimized: the prompt's forward pass attends with SDPA over its own keys and values (dense,
  nothing dequantized), then fills ryot's quantized paged KV cache (int8) in one pass; each new
  token then runs one position over that cache. Weights are bfloat16 (cast, and on CPU packed
  for oneDNN, once per weights version: :func:`inference_copy`) where that pays: on CPU a forward
  over fewer than ``CPU_BF16_MIN_POSITIONS`` positions per thread — every decode step — runs the
  float32 weights, because oneDNN's bfloat16 GEMM has a fixed cost a few rows cannot amortize
  (docs/inference.md has the measurements).

:func:`solve` is RLVR on one addition problem (:mod:`.arithmetic`):
:func:`ryot.inference_scaling.select_paths` samples up to ``num_paths`` answers, every path a
fork of the prompt's KV cache sequence (the prompt's pages are shared, not copied), and the
exact checker is the reward.
"""

from __future__ import annotations

import copy
import time
import weakref

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import CompressionConfig, RLVRConfig
from ..inference_scaling import PathResult, optimize_kv_cache, select_paths
from ..timing import synchronize
from .arithmetic import DIGITS, prompt, reward
from .model import GPT


def _prepack(weight: torch.Tensor, bias: torch.Tensor | None):
    """oneDNN's packed form of a CPU bfloat16 weight (what torch.compile's freezing uses), which
    spares the GEMM re-packing the weight on every call; None where unavailable or not exact."""
    if weight.device.type != "cpu" or weight.dtype != torch.bfloat16:
        return None
    try:
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, None)
        x = torch.randn(2, 3, weight.shape[1], generator=torch.Generator().manual_seed(0))
        x = x.to(weight.dtype)
        same = torch.equal(_packed_linear(x, packed, bias), F.linear(x, weight, bias))
    except (AttributeError, RuntimeError):
        return None
    return packed if same else None


def _packed_linear(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None):
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


class _LowPrecisionLinear(nn.Module):
    """A linear layer whose weights were cast (and on CPU, packed) once: inputs go to the
    weights' dtype and the output stays there — what autocast computes, without casting the
    weights on every call."""

    def __init__(self, linear: nn.Linear, dtype: torch.dtype) -> None:
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach().to(dtype), requires_grad=False)
        bias = None if linear.bias is None else linear.bias.detach().to(dtype)
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.packed = _prepack(self.weight, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.weight.dtype)
        if self.packed is not None:
            return _packed_linear(x, self.packed, self.bias)
        return F.linear(x, self.weight, self.bias)


_copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weights_key(model: nn.Module, dtype: torch.dtype) -> tuple:
    """What identifies the weights: each parameter's storage and autograd version, and each one's
    norm (some updates bypass the version counter: ryot's native AdamW8bit writes through
    ``data_ptr``)."""
    params = [p.detach() for p in model.parameters()]
    norms = torch.stack(torch._foreach_norm(params)).tolist()
    return dtype, tuple((p.data_ptr(), p._version) for p in params), tuple(norms)


def inference_copy(model: GPT, dtype: torch.dtype = torch.bfloat16) -> GPT:
    """An eval-mode copy of ``model`` whose linear layers hold ``dtype`` weights (embeddings and
    layer norms stay float32, as under autocast). Made once per weights version and reused."""
    key = _weights_key(model, dtype)
    hit = _copies.get(model)
    if hit is not None and hit[0] == key:
        return hit[1]
    clone = copy.deepcopy(model).eval().requires_grad_(False)
    for p in clone.parameters():
        p.grad = None
    for name, module in list(clone.named_modules()):
        if type(module) is nn.Linear:
            parent, _, attr = name.rpartition(".")
            setattr(clone.get_submodule(parent), attr, _LowPrecisionLinear(module, dtype))
    _copies[model] = (key, clone)
    return clone


# On CPU, oneDNN's bfloat16 GEMM costs a fixed ~20 us per call that more threads do not split,
# while float32 GEMMs of a few rows split across threads; so a forward over fewer positions than
# this many per thread runs the float32 weights (measured: docs/inference.md).
CPU_BF16_MIN_POSITIONS = 32


def weights_for(model: GPT, positions: int, device: torch.device) -> GPT:
    """The weights the optimized path runs a forward over ``positions`` positions with."""
    if device.type == "cpu" and positions < CPU_BF16_MIN_POSITIONS * torch.get_num_threads():
        return model
    return inference_copy(model)


class DensePrefill:
    """The cache protocol for a prompt's forward pass: attention is causal SDPA over the prompt's
    own keys and values (dense, in the compute dtype: nothing is dequantized); ``kv`` keeps them
    for :meth:`ryot.kv_cache.QuantizedKVCache.fill`, which quantizes every layer in one pass."""

    def __init__(self) -> None:
        self.kv: list[tuple[torch.Tensor, torch.Tensor]] = []

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        if layer != len(self.kv):
            raise ValueError(f"prefill: layers must run in order, got {layer} after {len(self.kv)}")
        self.kv.append((k, v))

    def attend(self, layer: int, q: torch.Tensor) -> torch.Tensor:
        k, v = self.kv[layer]
        return F.scaled_dot_product_attention(q, k.to(q.dtype), v.to(q.dtype), is_causal=True)


_COMPRESSION, _PAGES = CompressionConfig(16, 8), RLVRConfig(1, 1.0, 64)
_free_caches: dict[tuple, list] = {}  # (shape, device) -> cleared caches to reuse


def new_cache(cfg, device: torch.device):
    """The int8 paged cache generation uses (bfloat16 for the newest, unquantized keys): a
    released one of the same shape, cleared, if there is one — its pages are allocated once, as
    a serving engine preallocates its KV pool — else a new one."""
    key = (cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head, cfg.block_size, str(device))
    free = _free_caches.get(key)
    if free:
        cache = free.pop()
        cache.clear()
        return cache
    return optimize_kv_cache(*key[:4], _COMPRESSION, _PAGES, device=device, dtype=torch.bfloat16)


def release_cache(cache) -> None:
    """Give a cache from :func:`new_cache` back for reuse (at most two are kept per shape)."""
    key = (cache.num_layers, cache.num_heads, cache.head_dim, cache.max_tokens, str(cache.device))
    free = _free_caches.setdefault(key, [])
    if len(free) < 2:
        free.append(cache)


def prefill(net: GPT, tokens: torch.Tensor, device: torch.device):
    """The optimized first pass (``net``: the weights :func:`weights_for` picks): logits of the
    last position and the filled quantized cache."""
    view = DensePrefill()
    logits = net(tokens, cache=view)[0][:, -1]
    cache = new_cache(net.config, device)
    cache.fill(view.kv)
    return logits, cache


@torch.no_grad()
def generate(model: GPT, prompt: torch.Tensor, new_tokens: int, optimized: bool) -> dict:
    """Greedy generation; returns tokens, TTFT seconds and per-token seconds.

    The optimized path's bfloat16 weights are made once per weights version, outside the timed
    region (as loading a bfloat16 checkpoint would be), and its cache's pages are allocated on
    first use and reused (:func:`new_cache`); everything else is timed: the prefill, taking and
    clearing the cache, filling it, and each decode step over it.
    """
    cfg = model.config
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    tokens = prompt.to(device)[:, -cfg.block_size:]
    first = weights_for(model, tokens.shape[1], device) if optimized else model
    decoder = weights_for(model, 1, device) if optimized else model
    per_token = []
    synchronize(device)
    start = time.perf_counter()
    if optimized:
        logits, cache = prefill(first, tokens, device)
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
