"""Metrics that ship with ryot.

* ``synthetic.*`` — providers with a known true value and noise, for tests and for measuring
  the engine's own decision quality (``ryot bench decisions``);
* cheap real measurements of ryot's optimizer core (seconds, not minutes);
* the origin report's metrics, measured on the embedded default workload
  (:mod:`ryot.workloads.default`; ``gpu.utilization`` needs CUDA and NVML).

Samplers receive ``params`` with ``_offset`` (samples taken so far) added by the runner, so a
seeded provider draws fresh samples on every call and the whole run is reproducible.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from ..provider import Metric, NotApplicable
from ..samples import Samples
from ..timing import interleaved
from .metrics import Registry


def _rng(params: dict) -> np.random.Generator:
    return np.random.default_rng([int(params.get("seed", 0)), int(params.get("_offset", 0))])


# -- synthetic -------------------------------------------------------------------------------
def synthetic_ratio(n: int, params: dict) -> Samples:
    """Paired trials whose ratio of population medians is ``true_ratio``.

    Each arm is lognormal with sigma ``noise``; a per-round drift (sigma ``drift``) multiplies
    both arms of a round, as machine load does.
    """
    rng = _rng(params)
    ratio, noise, drift = params.get("true_ratio", 1.0), params.get("noise", 0.05), params.get("drift", 0.0)
    shared = np.exp(rng.normal(0.0, drift, n))
    denominator = shared * np.exp(rng.normal(0.0, noise, n))
    numerator = shared * ratio * np.exp(rng.normal(0.0, noise, n))
    return Samples("paired", numerator=numerator.tolist(), denominator=denominator.tolist())


def synthetic_scalar(n: int, params: dict) -> Samples:
    """``value * (1 + noise * N(0, 1))``: median ``value``."""
    rng = _rng(params)
    value, noise = params.get("value", 1.0), params.get("noise", 0.05)
    return Samples("scalar", values=(value * (1 + noise * rng.standard_normal(n))).tolist())


def synthetic_exact(n: int, params: dict) -> Samples:
    return Samples("exact", values=[float(params.get("value", 0.0))])


def synthetic_cold(n: int, params: dict) -> Samples:
    """Samples taken before the measured system warmed up (an INVALID verdict)."""
    samples = synthetic_scalar(n, params)
    samples.warmup_reached = False
    return samples


def synthetic_error(n: int, params: dict) -> Samples:
    raise RuntimeError(params.get("message", "synthetic provider failure"))


def synthetic_not_applicable(n: int, params: dict) -> Samples:
    raise NotApplicable(params.get("reason", "synthetic: not applicable here"))


# -- cheap real measurements of the optimizer core --------------------------------------------
def orchestrator_step_us(n: int, params: dict) -> Samples:
    """Microseconds per training step spent in gates + adapt + snapshot (mean of 2000 steps)."""
    from ..orchestrator import CompressionConfig, KernelConfig, OptimizationOrchestrator, RLVRConfig

    orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 8),
                                    RLVRConfig(4, 0.9, 256))
    metrics = {"loss": 2.3, "grad_norm": 0.8, "compression_error": 0.012}
    steps, counter, values = int(params.get("steps", 2000)), itertools.count(), []
    for _ in range(n + (1 if params.get("_offset", 0) == 0 else 0)):  # first call warms up
        start = time.perf_counter()
        for _ in range(steps):
            orch.validate_safety_gates(metrics)
            orch.adapt_parameters(metrics)
            orch.snapshot_configuration(0, next(counter))
        values.append((time.perf_counter() - start) / steps * 1e6)
    return Samples("scalar", values=values[-n:])


def _normal_tensor(params: dict):
    import torch

    numel = int(params.get("megabytes", 16) * (1 << 20) // 4)
    return torch.randn(numel, generator=torch.Generator().manual_seed(int(params.get("seed", 0))))


def compression_roundtrip_vs_clone(n: int, params: dict) -> Samples:
    """Paired: seconds for encode+decode (numerator) and for ``clone`` (denominator)."""
    from ..config import CompressionConfig
    from ..semantic_compression import decode, encode

    x = _normal_tensor(params)
    cfg = CompressionConfig(int(params.get("block_size", 64)), int(params.get("bits", 8)))
    times = interleaved({"ours": lambda: decode(encode(x, cfg)), "clone": x.clone},
                        rounds=n, warmup=1, rewarm=True)
    num, den = times["ours"], times["clone"]
    return Samples("paired", numerator=num, denominator=den)


def compression_relative_error(n: int, params: dict) -> Samples:
    from ..config import CompressionConfig
    from ..semantic_compression import decode, encode, reconstruction_error

    x = _normal_tensor(params)
    cfg = CompressionConfig(int(params.get("block_size", 64)), int(params.get("bits", 8)))
    return Samples("exact", values=[reconstruction_error(x, decode(encode(x, cfg)))])


def kv_memory_saved(n: int, params: dict) -> Samples:
    """1 − nbytes ÷ dense_nbytes after filling the cache with ``tokens`` random tokens."""
    import torch

    from ..config import CompressionConfig, RLVRConfig
    from ..inference_scaling import optimize_kv_cache

    tokens, heads, dim = int(params.get("tokens", 1024)), int(params.get("heads", 8)), int(params.get("head_dim", 64))
    dtype = getattr(torch, params.get("dtype", "bfloat16"))
    cache = optimize_kv_cache(1, heads, dim, tokens, CompressionConfig(64, int(params.get("bits", 8))),
                              RLVRConfig(1, 1.0, 256), dtype=dtype)
    cache.append(0, torch.randn(1, heads, tokens, dim).to(dtype), torch.randn(1, heads, tokens, dim).to(dtype))
    return Samples("exact", values=[1 - cache.nbytes / cache.dense_nbytes])


# -- the origin report's metrics, measured on ryot.workloads.default --------------------------
ORIGIN_METRICS = {
    "training.speedup": ("paired", "x", "optimized ÷ baseline training tokens/s"),
    "inference.ttft_speedup": ("paired", "x", "baseline ÷ optimized time to first token"),
    "inference.decode_throughput": ("scalar", "tokens/s", "decode throughput of the optimized path"),
    "inference.ttft_ms": ("scalar", "ms", "time to first token of the optimized path"),
    "inference.token_latency_ms": ("scalar", "ms", "per-token decode latency of the optimized path"),
    "accuracy.retention": ("paired_proportions", "ratio", "optimized ÷ baseline held-out top-1 accuracy, same tokens"),
    "accuracy.top1": ("proportion", "fraction", "held-out next-token top-1 accuracy"),
    "accuracy.top5": ("proportion", "fraction", "held-out next-token top-5 accuracy"),
    "training.convergence_divergence": ("exact", "ratio", "relative gap of optimized vs baseline loss curves"),
    "memory.reduction": ("scalar", "fraction", "1 − optimized ÷ baseline peak memory (isolated runs)"),
    "memory.stability": ("scalar", "ratio", "std ÷ mean of per-step memory (isolated runs)"),
    "quality.test_coverage": ("exact", "fraction", "pytest-cov line coverage of ryot/"),
    "gpu.utilization": ("scalar", "fraction", "mean GPU utilization sampled with NVML"),
    "run.oom_count": ("exact", "count", "out-of-memory events across all runs"),
    "run.nonfinite_count": ("exact", "count", "NaN/Inf losses or gradients across all runs"),
    "overhead.fraction_of_savings": ("exact", "ratio", "optimizer overhead time ÷ time saved"),
}


def _workload(name: str, module: str = "default"):
    """The provider in ``ryot.workloads.<module>``, imported on first use."""
    def sampler(n: int, params: dict) -> Samples:
        from importlib import import_module

        return import_module(f"ryot.workloads.{module}").PROVIDERS[name](n, params)
    return sampler


RLVR_METRICS = {
    "rlvr.greedy_accuracy": ("proportion", "fraction", "held-out additions solved by greedy decoding alone"),
    "rlvr.selected_accuracy": ("proportion", "fraction", "held-out additions solved by RLVR path selection"),
    "rlvr.accuracy_gain": ("paired_proportions", "fraction", "RLVR accuracy minus greedy accuracy, same problems"),
    "rlvr.paths_used": ("exact", "paths", "mean paths sampled per problem before a verified answer"),
}


def register_all(registry: Registry) -> None:
    for name, kind, unit, sampler, doc in [
        ("synthetic.ratio", "paired", "x", synthetic_ratio, synthetic_ratio.__doc__),
        ("synthetic.scalar", "scalar", "", synthetic_scalar, synthetic_scalar.__doc__),
        ("synthetic.exact", "exact", "", synthetic_exact, "a fixed value"),
        ("synthetic.cold", "scalar", "", synthetic_cold, synthetic_cold.__doc__),
        ("synthetic.error", "scalar", "", synthetic_error, "always raises"),
        ("synthetic.not_applicable", "scalar", "", synthetic_not_applicable, "always NOT_APPLICABLE"),
        ("orchestrator.step_us", "scalar", "us", orchestrator_step_us, orchestrator_step_us.__doc__),
        ("compression.roundtrip_vs_clone", "paired", "x", compression_roundtrip_vs_clone,
         compression_roundtrip_vs_clone.__doc__),
        ("compression.relative_error", "exact", "ratio", compression_relative_error,
         "‖x − decode(encode(x))‖ ÷ ‖x‖ on N(0,1) data"),
        ("kv.memory_saved", "exact", "fraction", kv_memory_saved, kv_memory_saved.__doc__),
    ]:
        registry.register(Metric(name, kind, unit, (doc or "").strip().splitlines()[0], sampler))
    for name, (kind, unit, doc) in ORIGIN_METRICS.items():
        requires = ("cuda", "nvml") if name == "gpu.utilization" else ()
        registry.register(Metric(name, kind, unit, doc, _workload(name), requires))
    for name, (kind, unit, doc) in RLVR_METRICS.items():
        registry.register(Metric(name, kind, unit, doc, _workload(name, "arithmetic")))
