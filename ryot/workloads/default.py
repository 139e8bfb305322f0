"""The default workload behind the origin report's 16 metrics, and their providers.

One process trains the baseline and the optimized model once per preset (``quick`` or
``full``) and keeps them; every provider then measures on them. Speed metrics interleave
baseline and optimized trials; memory is measured per run in isolated processes.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import torch

from ..isolation import current_rss_bytes, run_isolated
from ..train import TrainConfig, Trainer
from ..verification.errors import NotApplicable
from ..verification.samples import Samples, paired_proportions_from_items, proportion
from .data import eval_batches, splits
from .inference import generate


@dataclass(frozen=True)
class Preset:
    name: str
    train: TrainConfig
    eval_batches: int
    prompt_tokens: int
    new_tokens: int
    steps_per_round: int


PRESETS = {
    "quick": Preset("quick", TrainConfig(steps=60, batch_size=8, n_layer=2, n_head=2, n_embd=64,
                                         block_size=64, max_violations=10), eval_batches=8, prompt_tokens=32,
                    new_tokens=24, steps_per_round=2),
    "full": Preset("full", TrainConfig(steps=300, batch_size=16, n_layer=4, n_head=4, n_embd=128,
                                       block_size=128, max_violations=10), eval_batches=24, prompt_tokens=64,
                   new_tokens=48, steps_per_round=3),
}


def preset(params: dict) -> Preset:
    """The criteria file's own workload (a ``Preset`` from its ``"workload"`` factory), else the
    ``preset`` param, else ``quick`` under ``--quick`` and ``full`` otherwise."""
    user = params.get("_workload")
    if user is not None:
        if not isinstance(user, Preset):
            raise ValueError(f"the criteria file's workload factory returned {type(user).__name__}; "
                             "the built-in metrics need a ryot.workloads.default.Preset")
        PRESETS.setdefault(user.name, user)
        return user
    name = params.get("preset") or ("quick" if params.get("_quick") else "full")
    if name not in PRESETS:
        raise ValueError(f"unknown workload preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]


@cache
def trained(name: str, mode: str) -> Trainer:
    """Train once per (preset, mode) per process; errors (OOM, gate stops) propagate."""
    config = replace(PRESETS[name].train, mode=mode)
    with torch.enable_grad():  # callers may be inside no_grad (evaluation) on first use
        trainer = Trainer(config)
        trainer.run()
    return trainer


# -- training ----------------------------------------------------------------------------------
def training_speedup(n: int, params: dict) -> Samples:
    """Paired rounds: seconds for k baseline steps (numerator) and k optimized steps."""
    p = preset(params)
    base, opt = trained(p.name, "baseline"), trained(p.name, "optimized")
    num, den = [], []
    for i in range(n):
        arms = [(base, num), (opt, den)] if i % 2 == 0 else [(opt, den), (base, num)]
        for trainer, out in arms:
            start = time.perf_counter()
            for _ in range(p.steps_per_round):
                trainer.train_step()
            out.append(time.perf_counter() - start)
    return Samples("paired", numerator=num, denominator=den)


def convergence_divergence(n: int, params: dict) -> Samples:
    """Mean relative gap |L_opt − L_base| / L_base over the second half of training, after a
    10-step moving average of each curve (same seed, same batches)."""
    p = preset(params)
    lb, lo = trained(p.name, "baseline").result.losses, trained(p.name, "optimized").result.losses
    k = min(len(lb), len(lo))

    def smooth(xs):
        return [statistics.fmean(xs[max(0, i - 9):i + 1]) for i in range(len(xs))]

    sb, so = smooth(lb[:k]), smooth(lo[:k])
    gaps = [abs(a - b) / b for a, b in zip(so[k // 2:], sb[k // 2:], strict=True)]
    return Samples("exact", values=[statistics.fmean(gaps)],
                   details={"baseline_losses": lb[:k], "optimized_losses": lo[:k]})


def nonfinite_count(n: int, params: dict) -> Samples:
    p = preset(params)
    count = sum(1 for mode in ("baseline", "optimized") for r in trained(p.name, mode).result.records
                if not (math.isfinite(r.loss) and math.isfinite(r.grad_norm)))
    return Samples("exact", values=[float(count)])


def oom_count(n: int, params: dict) -> Samples:
    """Out-of-memory events while training both runs (an OOM would surface as an error)."""
    p = preset(params)
    count = 0
    for mode in ("baseline", "optimized"):
        try:
            trained(p.name, mode)
        except (torch.OutOfMemoryError, MemoryError):
            count += 1
    return Samples("exact", values=[float(count)])


# -- accuracy ----------------------------------------------------------------------------------
def _accuracy(p: Preset, mode: str) -> tuple[list[bool], list[bool]]:
    """Per held-out token: (top-1 correct, top-5 correct) of one trained model, computed once
    per process. The same tokens in the same order for every model, so models can be paired."""
    return _held_out_accuracy(p.name, mode)


@cache
@torch.no_grad()
def _held_out_accuracy(name: str, mode: str) -> tuple[list[bool], list[bool]]:
    p = PRESETS[name]
    trainer = trained(p.name, mode)
    model = trainer.raw_model.eval()
    _, held_out = splits()
    top1, top5 = [], []
    device = trainer.device
    ctx = torch.autocast(device.type, dtype=torch.bfloat16) if mode == "optimized" else torch.no_grad()
    with ctx:
        for x, y in eval_batches(held_out, p.train.block_size, p.eval_batches, p.train.batch_size):
            x, y = x.to(device), y.to(device)
            logits, _ = model(x)
            best5 = logits.float().topk(5, dim=-1).indices
            top1 += (best5[..., 0] == y).flatten().tolist()
            top5 += (best5 == y.unsqueeze(-1)).any(-1).flatten().tolist()
    model.train()
    return top1, top5


def accuracy_top1(n: int, params: dict) -> Samples:
    """k of n held-out tokens predicted exactly: a proportion with a Wilson interval."""
    top1 = _accuracy(preset(params), "optimized")[0]
    return proportion(sum(top1), len(top1))


def accuracy_top5(n: int, params: dict) -> Samples:
    top5 = _accuracy(preset(params), "optimized")[1]
    return proportion(sum(top5), len(top5))


def accuracy_retention(n: int, params: dict) -> Samples:
    """Optimized ÷ baseline top-1 accuracy on the same tokens: paired, bootstrap over tokens."""
    p = preset(params)
    return paired_proportions_from_items(_accuracy(p, "baseline")[0], _accuracy(p, "optimized")[0],
                                         statistic="ratio")


# -- inference ---------------------------------------------------------------------------------
def _prompts(p: Preset, n: int, offset: int) -> list[torch.Tensor]:
    _, held_out = splits()
    starts = [(offset + i) * 997 % (len(held_out) - p.prompt_tokens) for i in range(n)]
    return [held_out[s:s + p.prompt_tokens].unsqueeze(0) for s in starts]


def ttft_speedup(n: int, params: dict) -> Samples:
    """Paired: baseline TTFT (numerator) and optimized TTFT per prompt, interleaved."""
    p = preset(params)
    base, opt = trained(p.name, "baseline").raw_model, trained(p.name, "optimized").raw_model
    num, den = [], []
    for i, prompt in enumerate(_prompts(p, n, params.get("_offset", 0))):
        order = [(base, False, num), (opt, True, den)]
        for model, optimized, out in (order if i % 2 == 0 else order[::-1]):
            out.append(generate(model, prompt, 1, optimized)["ttft_s"])
    return Samples("paired", numerator=num, denominator=den)


def _optimized_generations(params: dict, n: int) -> list[dict]:
    p = preset(params)
    model = trained(p.name, "optimized").raw_model
    return [generate(model, prompt, p.new_tokens, True) for prompt in _prompts(p, n, params.get("_offset", 0))]


def ttft_ms(n: int, params: dict) -> Samples:
    return Samples("scalar", values=[g["ttft_s"] * 1e3 for g in _optimized_generations(params, n)])


def token_latency_ms(n: int, params: dict) -> Samples:
    """Per generation: the median per-token decode latency."""
    return Samples("scalar", values=[statistics.median(g["per_token_s"]) * 1e3
                                     for g in _optimized_generations(params, n)])


def decode_throughput(n: int, params: dict) -> Samples:
    """Per generation: decoded tokens ÷ decode seconds (after the first token)."""
    return Samples("scalar", values=[len(g["per_token_s"]) / sum(g["per_token_s"])
                                     for g in _optimized_generations(params, n)])


# -- memory (each run in its own process) ----------------------------------------------------
def _train_for_memory(config: TrainConfig) -> dict:
    before = current_rss_bytes()
    trainer = Trainer(config)
    result = trainer.run()
    return {"before": before, "rss": [r.rss_bytes for r in result.records]}


def _memory(p: Preset, mode: str) -> dict:
    config = replace(p.train, mode=mode, steps=min(p.train.steps, 40))
    out = run_isolated(_train_for_memory, config)
    return {**out.value, "peak": out.peak_rss_bytes}


def memory_reduction(n: int, params: dict) -> Samples:
    """Per pair of isolated runs (order alternating): 1 − (optimized ÷ baseline) of the memory
    training adds above its process's start."""
    p = preset(params)
    values, pairs = [], []
    for i in range(n):
        modes = ("baseline", "optimized") if (params.get("_offset", 0) + i) % 2 == 0 else ("optimized", "baseline")
        runs = {mode: _memory(p, mode) for mode in modes}
        added = {mode: run["peak"] - run["before"] for mode, run in runs.items()}
        values.append(1 - added["optimized"] / added["baseline"])
        pairs.append({"baseline_added_bytes": added["baseline"], "optimized_added_bytes": added["optimized"]})
    return Samples("scalar", values=values, details={"pairs": pairs})


def memory_stability(n: int, params: dict) -> Samples:
    """Per isolated optimized run: std ÷ mean of its per-step resident memory (after 5 steps)."""
    values = []
    for _ in range(n):
        rss = _memory(preset(params), "optimized")["rss"][5:]
        values.append(statistics.pstdev(rss) / statistics.fmean(rss))
    return Samples("scalar", values=values)


# -- quality -----------------------------------------------------------------------------------
def test_coverage(n: int, params: dict) -> Samples:
    """Line coverage of ryot/ from the fast test suite, run with pytest-cov in a subprocess."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "tests").is_dir():
        raise NotApplicable("the tests/ folder is not part of this installation")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-m", "not slow", "-p", "no:cacheprovider",
             "-n", "2", "tests", "--cov=ryot", f"--cov-report=json:{out}", "--no-header"],
            cwd=root, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"the test suite failed under coverage (exit {proc.returncode}): "
                               f"{proc.stdout[-500:]}")
        return Samples("exact", values=[json.loads(out.read_text())["totals"]["percent_covered"] / 100])


# -- overhead ----------------------------------------------------------------------------------
def overhead_fraction(n: int, params: dict) -> Samples:
    """(tuning + gradient compression + KV setup + orchestrator time) ÷ time the optimized run
    saved over the baseline, both over the same steps. Above 1: the optimizations cost more
    than they saved."""
    from .overhead import analyse, fraction_or_invalid

    analysis = analyse(preset(params))
    return Samples("exact", values=[fraction_or_invalid(analysis)], details=analysis)


def gpu_utilization(n: int, params: dict) -> Samples:
    """Mean NVML GPU utilization while the optimized model trains ``steps_per_round`` steps."""
    import threading

    import pynvml

    p = preset(params)
    trainer = trained(p.name, "optimized")
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(trainer.device.index or 0)
    values = []
    for _ in range(n):
        readings, done = [], threading.Event()

        def sample(readings=readings, done=done):
            while not done.wait(0.01):  # one reading every 10 ms until training stops
                readings.append(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu / 100)

        thread = threading.Thread(target=sample)
        thread.start()
        for _ in range(p.steps_per_round * 5):
            trainer.train_step()
        done.set()
        thread.join()
        values.append(statistics.fmean(readings) if readings else 0.0)
    return Samples("scalar", values=values)


PROVIDERS = {
    "gpu.utilization": gpu_utilization,
    "training.speedup": training_speedup,
    "inference.ttft_speedup": ttft_speedup,
    "inference.decode_throughput": decode_throughput,
    "inference.ttft_ms": ttft_ms,
    "inference.token_latency_ms": token_latency_ms,
    "accuracy.retention": accuracy_retention,
    "accuracy.top1": accuracy_top1,
    "accuracy.top5": accuracy_top5,
    "training.convergence_divergence": convergence_divergence,
    "memory.reduction": memory_reduction,
    "memory.stability": memory_stability,
    "quality.test_coverage": test_coverage,
    "run.oom_count": oom_count,
    "run.nonfinite_count": nonfinite_count,
    "overhead.fraction_of_savings": overhead_fraction,
}
