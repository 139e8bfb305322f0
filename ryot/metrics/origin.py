"""The origin report's metrics, measured on the default workload (:mod:`.workload`).

One process trains the baseline and the optimized model once per training configuration and
keeps them; every provider then measures on them. Speed metrics interleave baseline and
optimized trials; memory is measured per run in isolated processes. The sixteenth origin
metric, ``overhead.fraction_of_savings``, lives in :mod:`.overhead`.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from ryot.infra.isolation import file_backed_bytes, run_isolated
from ryot.measure.metric import Metric, NotApplicable
from ryot.measure.samples import Samples, paired_proportions_from_items, proportion
from ryot.measure.timing import paired_trials, rotated
from ryot.metrics.measurements import (
    rss_before_training,
    training_memory,
    training_memory_added,
)
from ryot.workload.data import dataset_splits, eval_batches
from ryot.workload.infer.generate import generate
from ryot.workload.presets import Preset, preset, trained, value_key
from ryot.workload.train.loop import Trainer
from ryot.workload.train.run_config import TrainConfig

__all__ = [
    "METRICS", "WARMUP_GENERATIONS", "accuracy_retention", "accuracy_top1", "accuracy_top5",
    "convergence_divergence", "decode_throughput", "gpu_utilization", "memory_reduction",
    "memory_runs", "memory_stability", "nonfinite_count", "oom_count", "test_coverage",
    "token_latency_ms", "training_speedup", "ttft_ms", "ttft_speedup"
]


# -- training ----------------------------------------------------------------------------------
def training_speedup(n: int, params: dict) -> Samples:
    """Paired rounds: seconds per step over ``steps_per_round`` baseline steps (numerator) and
    as many optimized steps (denominator), in rotated order (:func:`ryot.paired_trials`)."""
    p = preset(params)
    base, opt = trained(p.config("baseline")), trained(p.config("optimized"))
    return paired_trials(base.train_step, opt.train_step, n, warmup=0, device=opt.device,
                         calls=p.steps_per_round)


def convergence_divergence(n: int, params: dict) -> Samples:
    """Mean relative gap |L_opt − L_base| / L_base over the second half of training, after a
    10-step moving average of each curve (same seed, same batches)."""
    p = preset(params)
    lb, lo = (trained(p.config("baseline")).result.losses,
              trained(p.config("optimized")).result.losses)
    k = min(len(lb), len(lo))

    def smooth(xs):
        return [statistics.fmean(xs[max(0, i - 9):i + 1]) for i in range(len(xs))]

    sb, so = smooth(lb[:k]), smooth(lo[:k])
    gaps = [abs(a - b) / b for a, b in zip(so[k // 2:], sb[k // 2:], strict=True)]
    return Samples("exact", values=[statistics.fmean(gaps)],
                   details={"baseline_losses": lb[:k], "optimized_losses": lo[:k]})


def nonfinite_count(n: int, params: dict) -> Samples:
    p = preset(params)
    count = sum(1 for mode in ("baseline", "optimized")
                for r in trained(p.config(mode)).result.records
                if not (math.isfinite(r.loss) and math.isfinite(r.grad_norm)))
    return Samples("exact", values=[float(count)])


def oom_count(n: int, params: dict) -> Samples:
    """Out-of-memory events while training both runs (an OOM would surface as an error)."""
    p = preset(params)
    count = 0
    for mode in ("baseline", "optimized"):
        try:
            trained(p.config(mode))
        except (torch.OutOfMemoryError, MemoryError):
            count += 1
    return Samples("exact", values=[float(count)])


# -- accuracy ----------------------------------------------------------------------------------
_accuracy_cache: dict[tuple[str, int], tuple[list[bool], list[bool]]] = {}


def _accuracy(p: Preset, mode: str) -> tuple[list[bool], list[bool]]:
    """Per held-out token: (top-1 correct, top-5 correct) of one trained model, computed once
    per process. The same tokens in the same order for every model, so models can be paired."""
    config = p.config(mode)
    key = (value_key(config), p.eval_batches)
    if key not in _accuracy_cache:
        _accuracy_cache[key] = _held_out_accuracy(trained(config), p.eval_batches)
    return _accuracy_cache[key]


@torch.no_grad()
def _held_out_accuracy(trainer: Trainer, batches: int) -> tuple[list[bool], list[bool]]:
    config = trainer.config
    model = trainer.raw_model.eval()
    _, held_out = dataset_splits(config.dataset)
    top1, top5 = [], []
    device = trainer.device
    ctx = torch.autocast(device.type, dtype=torch.bfloat16) if config.optimized else torch.no_grad()
    with ctx:
        for x, y in eval_batches(held_out, config.block_size, batches, config.batch_size):
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
    _, held_out = dataset_splits(p.train.dataset)
    starts = [(offset + i) * 997 % (len(held_out) - p.prompt_tokens) for i in range(n)]
    return [held_out[s:s + p.prompt_tokens].unsqueeze(0) for s in starts]


WARMUP_GENERATIONS = 3  # per model, untimed, before a batch of timed ones


def _warm_up(model, prompt: torch.Tensor, optimized: bool, new_tokens: int = 1) -> None:
    """Untimed generations first: the optimized path compiles its prompt pass on the first one
    (seconds of CPU whose after-effects would otherwise land on the first timed trials), and
    every path's first calls (prompt pass and, with ``new_tokens`` > 1, decode steps) pay
    allocator and kernel-selection costs."""
    for _ in range(WARMUP_GENERATIONS):
        generate(model, prompt, new_tokens, optimized)


def ttft_speedup(n: int, params: dict) -> Samples:
    """Paired: baseline TTFT (numerator) and optimized TTFT per prompt, interleaved."""
    p = preset(params)
    base, opt = trained(p.config("baseline")).raw_model, trained(p.config("optimized")).raw_model
    prompts = _prompts(p, n, params.get("_offset", 0))
    for model, optimized in ((base, False), (opt, True)) if prompts else ():
        _warm_up(model, prompts[0], optimized)
    models = {"baseline": base, "optimized": opt}
    ttft = rotated(models, len(prompts), lambda name, r: generate(
        models[name], prompts[r], 1, name == "optimized")["ttft_s"])
    return Samples("paired", numerator=ttft["baseline"], denominator=ttft["optimized"])


def _optimized_generations(params: dict, n: int) -> list[dict]:
    p = preset(params)
    model = trained(p.config("optimized")).raw_model
    prompts = _prompts(p, n, params.get("_offset", 0))
    if prompts:
        _warm_up(model, prompts[0], True, p.new_tokens)
    return [generate(model, prompt, p.new_tokens, True) for prompt in prompts]


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
    """In a fresh process: memory before training
    (:func:`ryot.metrics.measurements.rss_before_training`), after each step, and at the end
    (:func:`ryot.metrics.measurements.training_memory`); ``files``: the file-backed bytes after
    each step (how far the libraries' mapping had settled)."""
    before = rss_before_training()
    file_before = file_backed_bytes()
    files: list[int] = []
    result = Trainer(config, progress=lambda record: files.append(file_backed_bytes())).run()
    return {**training_memory(before, file_before), "rss": [r.rss_bytes for r in result.records],
            "files": files}


def _memory(p: Preset, mode: str) -> dict:
    config = replace(p.config(mode), steps=min(p.train.steps, 40))
    return run_isolated(_train_for_memory, config).value


_memory_runs: dict[tuple, dict[int, dict]] = {}  # (run configuration, mode) -> index -> run


def _runs(p: Preset, mode: str) -> dict[int, dict]:
    return _memory_runs.setdefault((value_key(p.config(mode)), mode), {})


def memory_runs(p: Preset, wanted: list[tuple[str, int]]) -> list[dict]:
    """The isolated runs ``(mode, index)`` (an index per sample, from 0 per mode), measured
    where missing, one at a time in index order, which of baseline and optimized goes first
    alternating with the index (drift hits both arms alike). Each run is
    trained once per process and serves every memory criterion that asks for it —
    ``memory.reduction``'s optimized arm and ``memory.stability`` read the same runs (each
    sample names its run)."""
    missing = sorted({(mode, index) for mode, index in wanted if index not in _runs(p, mode)},
                     key=lambda w: (w[1], (w[0] == "baseline") == (w[1] % 2 == 1)))
    for mode, index in missing:
        _runs(p, mode)[index] = {**_memory(p, mode), "run": f"{mode}-{index}"}
    return [_runs(p, mode)[index] for mode, index in wanted]


def memory_reduction(n: int, params: dict) -> Samples:
    """Per pair of isolated runs (one after the other): 1 − (optimized ÷ baseline) of the peak
    memory training adds above its process's memory after the common imports, less the library
    code it maps (:func:`ryot.metrics.measurements.training_memory_added`; each pair records
    the file-backed bytes left out, and how many were mapped after the first step)."""
    p, offset = preset(params), params.get("_offset", 0)
    indices = range(offset, offset + n)
    runs = memory_runs(p, [(mode, i) for i in indices for mode in ("baseline", "optimized")])
    pairs = [{"baseline_added_bytes": training_memory_added(b),
              "optimized_added_bytes": training_memory_added(o),
              "baseline_file_bytes": b["file_after"] - b["file_before"],
              "optimized_file_bytes": o["file_after"] - o["file_before"],
              "baseline_raw_added_bytes": b["peak"] - b["before"],
              "optimized_raw_added_bytes": o["peak"] - o["before"],
              "file_bytes_after_first_step": [r["files"][-1] - r["files"][0] if r["files"]
                                              else 0 for r in (b, o)],
              "runs": [b["run"], o["run"]]}
             for b, o in zip(runs[::2], runs[1::2], strict=True)]
    values = [1 - pair["optimized_added_bytes"] / pair["baseline_added_bytes"] for pair in pairs]
    return Samples("scalar", values=values, details={"pairs": pairs})


def memory_stability(n: int, params: dict) -> Samples:
    """Per isolated optimized run: std ÷ mean of its per-step resident memory (after 5 steps).
    The runs are :func:`memory_runs`': those ``memory.reduction`` measured first, then new
    ones."""
    p, offset = preset(params), params.get("_offset", 0)
    runs = memory_runs(p, [("optimized", i) for i in range(offset, offset + n)])
    values = [statistics.pstdev(run["rss"][5:]) / statistics.fmean(run["rss"][5:]) for run in runs]
    return Samples("scalar", values=values, details={"runs": [run["run"] for run in runs]})


# -- quality -----------------------------------------------------------------------------------
COVERAGE_SELECTION = "not slow and not slurm and not e2e"  # the unit tests (tests/conftest.py)


def test_coverage(n: int, params: dict) -> Samples:
    """Line coverage of ryot/ by the unit tests (``-m "not slow and not slurm and not e2e"``),
    run with pytest-cov in a subprocess, Python subprocesses measured too (coverage's
    ``patch = subprocess``). The end-to-end modules are left out for time: what they add can
    only raise the figure, so this is a lower bound of the whole suite's coverage."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "tests").is_dir():
        raise NotApplicable("the tests/ folder is not part of this installation")
    with tempfile.TemporaryDirectory() as tmp:
        out, rc = Path(tmp) / "coverage.json", Path(tmp) / "coveragerc"
        rc.write_text("[run]\npatch = subprocess\n")
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-m", COVERAGE_SELECTION,
             "-p", "no:cacheprovider", "-n", "2", "tests", "--cov=ryot", f"--cov-config={rc}",
             f"--cov-report=json:{out}", "--no-header"],
            cwd=root, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"the test suite failed under coverage (exit {proc.returncode}): "
                               f"{proc.stdout[-500:]}")
        totals = json.loads(out.read_text())["totals"]
        summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        return Samples("exact", values=[totals["percent_covered"] / 100], details={
            "selection": COVERAGE_SELECTION, "pytest_summary": summary,
            "covered_lines": totals["covered_lines"], "statements": totals["num_statements"],
            "seconds": round(time.perf_counter() - started, 1)})


def gpu_utilization(n: int, params: dict) -> Samples:
    """Mean NVML GPU utilization while the optimized model trains ``steps_per_round`` steps."""
    import threading

    import pynvml

    p = preset(params)
    trainer = trained(p.config("optimized"))
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


METRICS = (
    Metric("training.speedup", "paired", "x", "optimized ÷ baseline training tokens/s",
           training_speedup),
    Metric("training.convergence_divergence", "exact", "ratio",
           "relative gap of optimized vs baseline loss curves", convergence_divergence),
    Metric("run.nonfinite_count", "exact", "count", "NaN/Inf losses or gradients across all runs",
           nonfinite_count),
    Metric("run.oom_count", "exact", "count", "out-of-memory events across all runs", oom_count),
    Metric("accuracy.top1", "proportion", "fraction", "held-out next-token top-1 accuracy",
           accuracy_top1),
    Metric("accuracy.top5", "proportion", "fraction", "held-out next-token top-5 accuracy",
           accuracy_top5),
    Metric("accuracy.retention", "paired_proportions", "ratio",
           "optimized ÷ baseline held-out top-1 accuracy, same tokens", accuracy_retention),
    Metric("inference.ttft_speedup", "paired", "x", "baseline ÷ optimized time to first token",
           ttft_speedup),
    Metric("inference.ttft_ms", "scalar", "ms", "time to first token of the optimized path",
           ttft_ms),
    Metric("inference.token_latency_ms", "scalar", "ms",
           "per-token decode latency of the optimized path", token_latency_ms),
    Metric("inference.decode_throughput", "scalar", "tokens/s",
           "decode throughput of the optimized path", decode_throughput),
    Metric("memory.reduction", "scalar", "fraction",
           "1 − optimized ÷ baseline peak memory (isolated runs)", memory_reduction),
    Metric("memory.stability", "scalar", "ratio", "std ÷ mean of per-step memory (isolated runs)",
           memory_stability),
    Metric("quality.test_coverage", "exact", "fraction",
           "pytest-cov line coverage of ryot/ by the unit tests (a lower bound of the suite's)",
           test_coverage),
    Metric("gpu.utilization", "scalar", "fraction", "mean GPU utilization sampled with NVML",
           gpu_utilization, requires=("cuda", "nvml")),
)
