"""The optimized path's prompt pass: one forward over the prompt, the first token's logits and
the prompt's keys and values quantized into ryot's int8 paged KV cache.

:func:`prompt_pass` is the whole computation as one pure function: attention is causal SDPA over
the prompt's own keys and values (:class:`DensePrefill`: dense, nothing dequantized), only the
last position gets logits, and every layer's keys and values are quantized together
(:func:`ryot.core.kv.codes.quantize_prompt`). :func:`prefill` runs it and stores the codes in a
cache (:meth:`ryot.core.kv.cache.QuantizedKVCache.fill_quantized`: one copy per tensor kind).

On CPU the prompt pass is compiled (``torch.compile``, inductor with its C++ wrapper), once per
model, prompt shape and thread count, and used with the model's float32 weights: on the full
preset's model the compiled pass gives the first token faster than the baseline, where the eager
pass only draws level (figures, and the one-off compile seconds: docs/inference.md).
``RYOT_COMPILE_PREFILL=0`` turns it off; a compile that fails warns once and the eager pass
runs instead (:func:`status` says why). Compiling happens in :func:`prepare`, outside any timed
region — as a serving engine compiles at start-up.
"""

from __future__ import annotations

import time
import types
import warnings
import weakref
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kv.cache import optimize_kv_cache
from ryot.core.kv.codes import quantize_prompt
from ryot.infra.errors import ConfigError
from ryot.infra.switches import env_flag
from ryot.workload.infer.weights import weights_for
from ryot.workload.model import GPT

__all__ = [
    "COMPILE_OPTIONS", "SWITCH", "DensePrefill", "codes_of", "compile_seconds", "enabled",
    "new_cache", "prefill", "prepare", "prompt_pass", "release_cache", "status"
]

SWITCH = "RYOT_COMPILE_PREFILL"
# inductor's C++ wrapper (less Python per call); keys rounded to the cache's bfloat16 before
# they are quantized, as in eager (by default inductor drops a downcast an upcast follows, and
# the codes would differ from the eager path's and from ``append``'s); never frozen
# (``TORCHINDUCTOR_FREEZING=1`` would bake the weights in: parameters stay graph inputs, so a
# weights update is seen)
COMPILE_OPTIONS = {"cpp_wrapper": True, "emulate_precision_casts": True, "freezing": False}


class DensePrefill:
    """The cache protocol for a prompt's forward pass: attention is causal SDPA over the prompt's
    own keys and values (dense, in the compute dtype: nothing is dequantized); ``kv`` keeps them
    for the quantization that follows."""

    def __init__(self) -> None:
        self.kv: list[tuple[torch.Tensor, torch.Tensor]] = []

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        if layer != len(self.kv):
            raise ConfigError(
                f"prefill: layers must run in order, got {layer} after {len(self.kv)}")
        self.kv.append((k, v))

    def attend(self, layer: int, q: torch.Tensor) -> torch.Tensor:
        k, v = self.kv[layer]
        return F.scaled_dot_product_attention(q, k.to(q.dtype), v.to(q.dtype), is_causal=True)


def prompt_pass(net: GPT, tokens: torch.Tensor, group: int, value_group: int, bits: int,
                key_dtype: torch.dtype) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits of the prompt's last position, (batch, vocab), and its keys and values as the
    cache stores them (:func:`ryot.core.kv.codes.quantize_prompt`)."""
    view = DensePrefill()
    logits = net(tokens, cache=view, last_only=True)[0][:, -1]
    ks, vs = torch.stack([t for pair in zip(*view.kv, strict=True) for t in pair]).chunk(2)
    return logits, quantize_prompt(ks, vs, group=group, value_group=value_group, bits=bits,
                                   key_dtype=key_dtype)


# -- the cache pool ------------------------------------------------------------------------------
_COMPRESSION, _PAGES = CompressionConfig(16, 8), RLVRConfig(1, 1.0, 64)
_free_caches: dict[tuple, list] = {}  # (shape, device, codes) -> cleared caches to reuse


def _pool_key(cache) -> tuple:
    return (cache.num_layers, cache.num_heads, cache.head_dim, cache.max_tokens, cache.device,
            cache.group, cache.value_group, cache.bits, cache.page, cache.dtype)


def new_cache(cfg, device: torch.device):
    """The int8 paged cache generation uses (bfloat16 for the newest, unquantized keys): a
    released one of the same kind, cleared, if there is one — its pages are allocated once, as
    a serving engine preallocates its KV pool — else a new one."""
    head_dim, device = cfg.n_embd // cfg.n_head, torch.device(device or "cpu")  # as the cache's
    key = (cfg.n_layer, cfg.n_head, head_dim, cfg.block_size, device, _COMPRESSION.block_size,
           head_dim, _COMPRESSION.bits, _PAGES.kv_page_size, torch.bfloat16)
    free = _free_caches.get(key)
    if free:
        cache = free.pop()
        cache.clear()
        return cache
    return optimize_kv_cache(*key[:4], _COMPRESSION, _PAGES, device=device, dtype=torch.bfloat16)


def release_cache(cache) -> None:
    """Give a cache from :func:`new_cache` back for reuse (at most two are kept per kind; one
    released twice is kept once — two generations must never share a cache)."""
    free = _free_caches.setdefault(_pool_key(cache), [])
    if len(free) < 2 and not any(kept is cache for kept in free):
        free.append(cache)


def codes_of(cache) -> tuple:
    """The cache's code parameters, as :func:`prompt_pass` takes them after the tokens."""
    return cache.group, cache.value_group, cache.bits, cache.dtype


def prefill(net: GPT, tokens: torch.Tensor, device: torch.device, run: Callable = prompt_pass):
    """The optimized first pass: logits of the last position and the filled quantized cache.
    ``run``: :func:`prompt_pass` or its compiled form from :func:`prepare`."""
    cache = new_cache(net.config, device)
    logits, parts = run(net, tokens, *codes_of(cache))
    cache.fill_quantized(parts)
    return logits, cache


# -- compiling it --------------------------------------------------------------------------------
_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {key: callable}
_failure: list[str] = []  # why compiling failed (the first failure; later ones are not retried)
compile_seconds: dict[tuple, float] = {}  # (prompt shape, threads) -> seconds, for the evidence


def enabled(device: torch.device) -> bool:
    return device.type == "cpu" and env_flag(SWITCH, True) and not _failure


def status() -> str:
    """"compiled" when prompt passes on CPU are compiled, else why the eager pass runs."""
    if _failure:
        return f"eager (compiling failed: {_failure[0]})"
    return "compiled" if env_flag(SWITCH, True) else f"eager (turned off by {SWITCH}=0)"


def _own_code(fn: Callable) -> Callable:
    """``fn`` with a code object of its own. Dynamo keeps compiled entries per code object and
    stops compiling one after ``recompile_limit`` entries; one per (model, shape, threads) keeps
    a process that serves many models from silently falling back to eager."""
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)


def prepare(model: GPT, tokens: torch.Tensor) -> tuple[GPT, Callable]:
    """The weights and the prompt pass :func:`prefill` should run over ``tokens``' shape: on CPU
    (switch on) ``model`` itself (float32) and :func:`prompt_pass` compiled for it — compiled
    and run once here, on first use — else the eager pass over the weights
    :func:`.inference_weights.weights_for` picks."""
    device = tokens.device
    if not enabled(device):
        return weights_for(model, tokens.shape[1], device), prompt_pass
    key = (tuple(tokens.shape), torch.get_num_threads())  # inductor fixes the thread count
    per_model = _compiled.setdefault(model, {})
    if key not in per_model:
        with torch.no_grad():  # the eager pass first: bad input fails here, as it would uncompiled
            release_cache(prefill(model, tokens, device)[1])
        compiled = torch.compile(_own_code(prompt_pass), dynamic=False, fullgraph=True,
                                 options=COMPILE_OPTIONS)
        start = time.perf_counter()
        try:
            with torch.no_grad():
                release_cache(prefill(model, tokens, device, compiled)[1])
        except Exception as exc:  # noqa: BLE001 - the input ran eagerly: a compiler failure
            first_line = (str(exc).strip().splitlines() or ["(no message)"])[0]
            _failure.append(f"{type(exc).__name__}: {first_line[:300]}")
            warnings.warn(f"ryot: compiling the prompt pass failed, running it eagerly "
                          f"({_failure[0]}); {SWITCH}=0 skips the attempt", RuntimeWarning,
                          stacklevel=2)
            return weights_for(model, tokens.shape[1], device), prompt_pass
        compile_seconds[key] = time.perf_counter() - start
        per_model[key] = compiled
    return model, per_model[key]
