"""What the quantized KV cache costs and buys per context length, on the full preset's model shape.

Per context length ``c`` (an untrained model: timings do not depend on the weights' values), the
TTFT arms interleaved with each other and the decode arms with each other (one call of each per
round, the order rotated):

* time to first token over a ``c``-token prompt: the baseline (float32, plain attention), the
  optimized prompt pass as :func:`ryot.workload.infer.generate.generate` runs it (on CPU compiled,
  once per shape and thread count before timing: the compile seconds are stored), the eager
  prompt pass with the weights :func:`~ryot.workload.infer.generate.weights_for` picks and with the
  other dtype, and the optimized pass without storing its codes in the cache (what storing
  costs);
* per-token decode latency up to context ``c``: each call decodes the last ``DECODE_STEPS``
  tokens (one key group, so one of the steps quantizes a group), and its time is divided by
  that. The baseline re-runs the whole sequence each step; the optimized steps run one position
  over the int8 cache (a fresh cache per call, filled untimed); the same with the other weight
  dtype; the same steps over a dense cache in the decode weights' dtype;
* the int8 cache's bytes after the prompt against a dense bfloat16 cache of the same tokens.
"""

from __future__ import annotations

import os
from dataclasses import replace

import torch
import torch.nn.functional as F

from ryot.bench.rows import ratio_row, sample_row
from ryot.infra.provenance import fingerprint
from ryot.measure.timing import interleaved
from ryot.workload.infer import prefill as prefill_module
from ryot.workload.infer.prefill import (
    DensePrefill,
    codes_of,
    new_cache,
    prefill,
    prepare,
    prompt_pass,
    release_cache,
)
from ryot.workload.infer.weights import CPU_BF16_MIN_POSITIONS, inference_copy, weights_for
from ryot.workload.model import GPT
from ryot.workload.train.run_config import TrainConfig

__all__ = ["DECODE_STEPS", "format_table", "run"]

DECODE_STEPS = 16  # decode latency: the mean over one key group's steps (one of them quantizes it)


class _DenseCache:
    """A dense KV cache (per layer, keys and values concatenated) for one sequence."""

    def __init__(self, kv: list[tuple[torch.Tensor, torch.Tensor]], dtype: torch.dtype) -> None:
        self.kv = [(k.to(dtype), v.to(dtype)) for k, v in kv]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        pk, pv = self.kv[layer]
        self.kv[layer] = (torch.cat([pk, k.to(pk.dtype)], 2), torch.cat([pv, v.to(pv.dtype)], 2))

    def attend(self, layer: int, q: torch.Tensor) -> torch.Tensor:  # q: the newest position
        k, v = self.kv[layer]
        return F.scaled_dot_product_attention(q, k.to(q.dtype), v.to(q.dtype))


def _prompt_kv(net: GPT, tokens: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    view = DensePrefill()
    net(tokens, cache=view)
    return view.kv


def _ttft_arms(base: GPT, model: GPT, tokens: torch.Tensor) -> dict:
    device, c = tokens.device, tokens.shape[1]
    net, run = prepare(model, tokens)  # what generate runs: on CPU the compiled prompt pass
    eager, bf16 = weights_for(model, c, device), inference_copy(model)
    other = model if eager is bf16 else bf16
    probe = new_cache(model.config, device)
    codes = codes_of(probe)
    release_cache(probe)

    def first_token(net: GPT, run=prompt_pass) -> None:  # what generate times
        logits, cache = prefill(net, tokens, device, run)
        logits.argmax(-1)
        release_cache(cache)

    return {
        "ttft baseline": lambda: base(tokens)[0][:, -1].argmax(-1),
        "ttft optimized": lambda: first_token(net, run),
        "ttft optimized, eager": lambda: first_token(eager),
        "ttft optimized, eager, other dtype": lambda: first_token(other),
        "ttft optimized, no cache store": lambda: run(net, tokens, *codes)[0].argmax(-1),
    }


def _decode_arms(base: GPT, model: GPT, tokens: torch.Tensor, steps: int, calls: int) -> dict:
    """Each arm decodes the last ``steps`` tokens (teacher-forced: every arm sees the same ones)."""
    device, c = tokens.device, tokens.shape[1]
    head = tokens[:, :c - steps]
    decoder, bf16 = weights_for(model, 1, device), inference_copy(model)
    other = model if decoder is bf16 else bf16
    fill_net = weights_for(model, head.shape[1], device)
    fresh = lambda: iter([prefill(fill_net, head, device)[1] for _ in range(calls)])  # noqa: E731
    head_kv = _prompt_kv(fill_net, head)
    dense_dtype = next(decoder.parameters()).dtype

    def decode(net: GPT, caches) -> None:
        cache = next(caches)
        for pos in range(c - steps, c):
            net(tokens[:, pos:pos + 1], cache=cache, start=pos)[0][:, -1].argmax(-1)

    def rerun() -> None:
        for pos in range(c - steps, c):
            base(tokens[:, :pos + 1])[0][:, -1].argmax(-1)

    caches, other_caches = fresh(), fresh()
    dense = iter([_DenseCache(head_kv, dense_dtype) for _ in range(calls)])
    return {"decode baseline": rerun, "decode optimized": lambda: decode(decoder, caches),
            "decode optimized, other dtype": lambda: decode(other, other_caches),
            "decode dense cache": lambda: decode(decoder, dense)}


def _context_rows(where: str, times: dict, cache) -> list[dict]:
    """``where``: the rows' label prefix, e.g. "64 tokens, threads=2"."""
    rows = [sample_row(f"{where}: {name}", "s", samples) for name, samples in times.items()]
    for label, num, den in (
            ("TTFT speedup (baseline ÷ optimized)", "ttft baseline", "ttft optimized"),
            ("decode speedup (baseline ÷ optimized)", "decode baseline", "decode optimized"),
            ("decode int8 cache ÷ dense cache", "decode optimized", "decode dense cache")):
        rows.append(ratio_row(f"{where}: {label}", times[num], times[den]))
    saved = 1 - cache.nbytes / cache.dense_nbytes
    rows.append({"label": f"{where}: memory saved vs dense bfloat16", "unit": "fraction",
                 "median": saved, "ci95": [saved, saved], "samples": [saved],
                 "nbytes": cache.nbytes, "dense_nbytes": cache.dense_nbytes})
    return rows


def _measure(base: GPT, model: GPT, tokens: torch.Tensor, rounds: int) -> dict:
    """Seconds per call; decode arms per token. TTFT calls are short: they get 3x the rounds."""
    steps = min(DECODE_STEPS, tokens.shape[1] - 1)
    times = interleaved(_ttft_arms(base, model, tokens), rounds=3 * rounds, warmup=1)
    decode = interleaved(_decode_arms(base, model, tokens, steps, calls=rounds + 1),
                         rounds=rounds, warmup=1)
    times.update({name: [t / steps for t in samples] for name, samples in decode.items()})
    return times


@torch.no_grad()
def run(contexts: tuple[int, ...] = (16, 32, 64, 128), rounds: int = 10,
        threads: tuple[int, ...] | None = None, seed: int = 0) -> dict:
    """``threads``: torch's intra-op thread counts to measure at (default: 1 and the current)."""
    threads = threads or tuple(sorted({1, torch.get_num_threads()}))
    config = TrainConfig()  # the full preset's shape: 4 layers, 4 heads, 128 wide, context 128
    torch.manual_seed(seed)
    base = GPT(replace(config, mode="baseline").model_config()).eval()  # plain attention, float32
    model = GPT(replace(config, mode="optimized").model_config()).eval()
    model.load_state_dict(base.state_dict())
    data = torch.randint(0, base.config.vocab_size, (1, max(contexts)),
                         generator=torch.Generator().manual_seed(seed))
    rows, before, load = [], torch.get_num_threads(), [os.getloadavg()[0]]
    try:
        for n in threads:
            torch.set_num_threads(n)
            for c in contexts:
                tokens = data[:, :c]
                cache = prefill(weights_for(model, c, tokens.device), tokens, tokens.device)[1]
                times = _measure(base, model, tokens, rounds)
                rows += _context_rows(f"{c} tokens, threads={n}", times, cache)
    finally:
        torch.set_num_threads(before)
    load.append(os.getloadavg()[0])
    return {"benchmark": "inference", "contexts": list(contexts), "threads": list(threads),
            "rounds": rounds, "decode_steps": DECODE_STEPS,
            "cpu_bf16_min_positions_per_thread": CPU_BF16_MIN_POSITIONS,
            "prompt_pass": prefill_module.status(),
            "compile_seconds": {f"{shape[1]} tokens, threads={n}": round(s, 2)
                                for (shape, n), s in prefill_module.compile_seconds.items()},
            "load_average_1min_before_after": load, **fingerprint(), "rows": rows}


def format_table(result: dict) -> str:
    """One line per thread count and context: medians in ms (per token for decode), the TTFT
    speedup, what storing the quantized prompt in the cache costs, and the cache's bytes.
    "opt": what generate runs; "eager" and "other": the eager prompt pass with the weights
    ``weights_for`` picks and with the other dtype."""
    med = {r["label"]: r for r in result["rows"]}
    head = (f"{'threads':>7} {'context':>7} {'TTFT base':>9} {'opt':>6} {'eager':>6} {'other':>6} "
            f"{'speedup':>7} {'store':>6} {'decode base':>11} {'int8':>6} {'other':>6} "
            f"{'dense':>6} {'int8 KB':>8} {'bf16 KB':>8}")
    lines = [head + "   (ms; store = TTFT opt − the same prompt pass without storing its codes)"]
    for n in result["threads"]:
        for c in result["contexts"]:
            g = lambda name: med[f"{c} tokens, threads={n}: {name}"]["median"]  # noqa: E731
            ms = lambda name, width: f"{g(name) * 1e3:>{width}.3f}"  # noqa: E731
            mem = med[f"{c} tokens, threads={n}: memory saved vs dense bfloat16"]
            store = (g("ttft optimized") - g("ttft optimized, no cache store")) * 1e3
            lines.append(
                f"{n:>7} {c:>7} {ms('ttft baseline', 9)} {ms('ttft optimized', 6)} "
                f"{ms('ttft optimized, eager', 6)} {ms('ttft optimized, eager, other dtype', 6)} "
                f"{g('TTFT speedup (baseline ÷ optimized)'):>6.2f}x {store:>6.3f} "
                f"{ms('decode baseline', 11)} {ms('decode optimized', 6)} "
                f"{ms('decode optimized, other dtype', 6)} {ms('decode dense cache', 6)} "
                f"{mem['nbytes'] / 1024:>8.1f} {mem['dense_nbytes'] / 1024:>8.1f}")
    return "\n".join(lines)
