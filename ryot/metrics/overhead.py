"""The overhead analysis the origin only claimed, measured: numbers only.

Overhead: the work the optimizations add — a cold ``detect_and_tune``, quantizing optimizer states
every step, setting up a quantized KV cache, the orchestrator's per-step gates/adapt/snapshot.
Time saved: the baseline run's total step time minus the optimized run's, over the same steps.
:func:`analyse` reports both and their ratio; ``ryot overhead`` writes it. Whether the ratio is
good enough is a criterion's decision (``overhead_gate`` in success_criteria.json judges the
``overhead.fraction_of_savings`` metric below against the origin's 0.3), never this module's.
"""

from __future__ import annotations

import statistics
import time

import torch

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kv.cache import optimize_kv_cache
from ryot.measure.metric import InvalidMeasurement, Metric
from ryot.measure.samples import Samples
from ryot.metrics.measurements import cold_tune_seconds
from ryot.workload.presets import Preset, preset, trained

__all__ = [
    "METRICS", "SCHEMA", "analyse", "fraction_or_invalid", "overhead_fraction",
    "render_markdown"
]

SCHEMA = "overhead_analysis"


def _seconds_per_call(fn, repeats: int = 5) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def analyse(p: Preset) -> dict:
    """Every component with its raw samples, the totals and the fraction of the time saved
    (``None``, with the reason, when the optimizations saved no time)."""
    base, opt = trained(p.config("baseline")), trained(p.config("optimized"))
    cfg = opt.raw_model.config
    steps = min(len(base.result.records), len(opt.result.records))
    base_records, opt_records = base.result.records[:steps], opt.result.records[:steps]
    tune = cold_tune_seconds((cfg.n_embd, 4 * cfg.n_embd, cfg.n_embd), repeats=3)
    kv = _seconds_per_call(lambda: optimize_kv_cache(
        cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head, cfg.block_size, CompressionConfig(16, 8),
        RLVRConfig(1, 1.0, 64), dtype=torch.bfloat16))
    components = {
        "kernel_optimizer.detect_and_tune (cold, once per run)": {
            "seconds": statistics.median(tune), "samples_s": tune, "count": 1},
        "optim8bit: 8-bit optimizer-state decode + encode (every step)": {
            "seconds": sum(r.compression_s for r in opt_records),
            "samples_s": [r.compression_s for r in opt_records], "count": steps},
        "inference_scaling.optimize_kv_cache (once per generation)": {
            "seconds": statistics.median(kv), "samples_s": kv, "count": 1},
        "orchestrator gates + adapt + snapshot (every step)": {
            "seconds": sum(r.orchestrator_s for r in opt_records),
            "samples_s": [r.orchestrator_s for r in opt_records], "count": steps},
    }
    overhead = sum(c["seconds"] for c in components.values())
    base_total = sum(r.seconds for r in base_records)
    opt_total = sum(r.seconds for r in opt_records)
    saved = base_total - opt_total
    analysis = {
        "preset": p.name, "steps": steps, "components": components,
        "overhead_seconds": overhead, "baseline_seconds": base_total,
        "optimized_seconds": opt_total, "saved_seconds": saved,
        "baseline_step_s": [r.seconds for r in base_records],
        "optimized_step_s": [r.seconds for r in opt_records],
    }
    if saved <= 0:
        analysis["fraction_of_savings"] = None
        analysis["reason"] = (
            f"the optimized run saved no time ({opt_total:.3f} s vs baseline {base_total:.3f} s "
            f"over {steps} steps), so overhead as a share of the savings is undefined; overhead "
            f"itself was {overhead:.3f} s")
    else:
        analysis["fraction_of_savings"] = overhead / saved
        analysis["reason"] = (f"overhead {overhead:.3f} s ÷ saved {saved:.3f} s = "
                              f"{overhead / saved:.3f}")
    return analysis


def fraction_or_invalid(analysis: dict) -> float:
    """The fraction; InvalidMeasurement when it is undefined (nothing saved): no decision can
    rest on it."""
    if analysis["fraction_of_savings"] is None:
        raise InvalidMeasurement(analysis["reason"])
    return analysis["fraction_of_savings"]


def render_markdown(analysis: dict) -> str:
    lines = [f"# Overhead analysis ({analysis['preset']} preset, {analysis['steps']} steps)", "",
             "| component | seconds | calls |", "|---|---|---|"]
    for name, c in analysis["components"].items():
        lines.append(f"| {name} | {c['seconds']:.4f} | {c['count']} |")
    lines += [f"| **total overhead** | **{analysis['overhead_seconds']:.4f}** | |", "",
              f"Baseline steps: {analysis['baseline_seconds']:.3f} s · optimized steps: "
              f"{analysis['optimized_seconds']:.3f} s · saved: "
              f"{analysis['saved_seconds']:.3f} s", "",
              f"**Overhead ÷ time saved:** {analysis['reason']}", ""]
    return "\n".join(lines)


def overhead_fraction(n: int, params: dict) -> Samples:
    """(tuning + optimizer-state quantization + KV setup + orchestrator time) ÷ time the optimized
    run saved over the baseline, both over the same steps. Above 1: the optimizations cost more
    than they saved."""
    analysis = analyse(preset(params))
    return Samples("exact", values=[fraction_or_invalid(analysis)], details=analysis)


METRICS = (
    Metric("overhead.fraction_of_savings", "exact", "ratio", "optimizer overhead time ÷ time saved",
           overhead_fraction),
)
