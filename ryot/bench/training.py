"""``ryot bench training``: ryot's optimized training step against stock PyTorch, same model.

Arms, all on the same model shape, seed and batches, each a whole training step (forward,
backward, gradient clipping, optimizer step):

* ``baseline`` — ryot's baseline run (float32, eager, plain attention, AdamW);
* ``stock eager`` — what a user gets from stock PyTorch without ryot: SDPA, bf16 autocast,
  ``torch.optim.AdamW(fused=True)``;
* ``stock compiled`` — the same under ``torch.compile`` (inductor; compiled before timing);
* ``ryot`` — ryot's optimized run: recompute attention, bf16 autocast, AdamW8bit, and the
  orchestrator's gates, adaptation and snapshot every step (its own cost included);
* ``ryot + checkpointing`` — the same with activation checkpointing of whole blocks (less
  memory, one more forward pass per step);
* ``ryot recipe`` — the default workload's optimized arm: the recipe measured on this machine
  within the preset's activation budget (:mod:`ryot.workload.train.recipe`: checkpointing
  policy and attention);
* ``ryot compiled`` — ``ryot`` under ``torch.compile`` (what ``RYOT_COMPILE_MODEL=1`` does).

Step times are interleaved (one round = ``steps_per_round`` steps of every arm, order rotated)
after ``warmup`` steps each. Peak memory: each arm trains ``memory_steps`` steps in a fresh
process (:func:`ryot.infra.isolation.run_isolated`); the figure is the peak resident memory
added above the process's memory right after its imports (the same imports for every arm,
torch.optim and its lazily imported torch._dynamo included, so only training's own memory is
compared).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import torch

from ryot.bench.rows import ratio_row, sample_row
from ryot.infra.isolation import run_isolated
from ryot.infra.provenance import fingerprint
from ryot.measure.timing import interleaved
from ryot.metrics.measurements import rss_before_training, training_memory, training_memory_added
from ryot.workload.data import BatchSampler, dataset_splits
from ryot.workload.model import GPT
from ryot.workload.presets import FULL, Preset
from ryot.workload.train.loop import Trainer
from ryot.workload.train.run_config import TrainConfig

__all__ = ["ARMS", "run"]

ARMS = ("baseline", "stock eager", "stock compiled", "ryot", "ryot + checkpointing",
        "ryot recipe", "ryot compiled")


def _stock_step(config: TrainConfig, compiled: bool) -> Callable[[], float]:
    """A stock PyTorch training step on ryot's model with SDPA; returns the loss."""
    torch.manual_seed(config.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = GPT(replace(config.model_config(device.type), attention="sdpa",
                        checkpoint_blocks=False)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0, fused=True)
    train, _ = dataset_splits(config.dataset)
    sampler = BatchSampler(train, config.batch_size, config.block_size, seed=config.seed)
    forward = torch.compile(model) if compiled else model

    def step() -> float:
        x, y = (t.to(device) for t in sampler.next())
        with torch.autocast(device.type, dtype=torch.bfloat16):
            _, loss = forward(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())  # reading the loss waits for the device

    return step


def _arm(name: str, train: TrainConfig) -> Callable[[], object]:
    if name == "baseline":
        return Trainer(replace(train, mode="baseline")).train_step
    if name == "ryot recipe":
        return Trainer(replace(train, mode="optimized", recipe="measured")).train_step
    if name.startswith("ryot"):
        trainer = Trainer(replace(train, mode="optimized", activation_budget_mb=None,
                                  recipe="fixed",
                                  activation_checkpointing=name.endswith("checkpointing")))
        if name.endswith("compiled"):
            trainer.compile()
        return trainer.train_step
    return _stock_step(replace(train, mode="optimized"), compiled=name == "stock compiled")


def _peak_added_bytes(name: str, train: TrainConfig, steps: int) -> int:
    """What the acceptance run's memory.reduction counts: the peak less the library code mapped
    (:func:`ryot.metrics.measurements.training_memory_added`)."""
    from ryot.infra.isolation import file_backed_bytes

    before = rss_before_training()  # the same imports for every arm before the first reading
    file_before = file_backed_bytes()
    step = _arm(name, train)
    for _ in range(steps):
        step()
    return training_memory_added(training_memory(before, file_before))


def _optimizer_steps(model: GPT, rounds: int) -> dict[str, list[float]]:
    """Seconds per ``optimizer.step()`` over ``model``'s parameters (fixed random gradients),
    interleaved: torch's fused and foreach AdamW, AdamW8bit with the C loop (at the best ISA
    this CPU runs and each lower one) and with its torch reference (``RYOT_NATIVE=0``)."""
    from ryot.core import native
    from ryot.core.optim.adamw8bit import AdamW8bit
    from ryot.measure.timing import interleaved

    gen = torch.Generator().manual_seed(0)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=gen)
    params = list(model.parameters())
    optimizers = {"torch AdamW (fused)": torch.optim.AdamW(params, weight_decay=0.0, fused=True),
                  "torch AdamW (foreach)": torch.optim.AdamW(params, weight_decay=0.0,
                                                             foreach=True),
                  "AdamW8bit": AdamW8bit(params, weight_decay=0.0, block_size=64)}
    if native.library("adamw8bit") is not None:
        best = native.isa("adamw8bit")
        optimizers["AdamW8bit"].native_isa = best
        optimizers[f"AdamW8bit (C loop, {best})"] = optimizers.pop("AdamW8bit")
        for lower in ("avx512", "avx2", "portable"):
            if lower != best and native.ISAS.index(lower) < native.ISAS.index(best):
                opt = AdamW8bit(params, weight_decay=0.0, block_size=64)
                opt.native_isa = lower
                optimizers[f"AdamW8bit (C loop, {lower})"] = opt
        reference = AdamW8bit(params, weight_decay=0.0, block_size=64)
        reference.use_native = False
        optimizers["AdamW8bit (torch reference, as with RYOT_NATIVE=0)"] = reference
    arms = {name: opt.step for name, opt in optimizers.items()}
    with torch.no_grad():
        return interleaved(arms, rounds=rounds, warmup=3)


def run(rounds: int = 15, steps_per_round: int = 3, warmup: int = 6, memory_steps: int = 20,
        memory_repeats: int = 2, preset: Preset = FULL, arms: tuple[str, ...] = ARMS) -> dict:
    train = preset.train
    steppers = {name: _arm(name, train) for name in arms}
    compile_s = {}
    for name, step in steppers.items():
        start = time.perf_counter()
        for _ in range(warmup):
            step()
        compile_s[name] = time.perf_counter() - start
    times = interleaved(steppers, rounds, warmup=0, calls=steps_per_round)
    rows = [sample_row(f"{name}: seconds per training step", "s", times[name],
                       warmup_seconds=compile_s[name]) for name in arms]
    for name in arms:
        if name != "baseline":
            rows.append(ratio_row(f"speedup of {name} over baseline", times["baseline"],
                                  times[name]))
    for ours in (a for a in arms if a.startswith("ryot")):
        for name in ("stock eager", "stock compiled"):
            if name in arms:
                rows.append(ratio_row(f"speedup of {ours} over {name}", times[name], times[ours]))
    memory = {name: [] for name in arms}
    for _ in range(memory_repeats):
        for name in arms:
            memory[name].append(
                run_isolated(_peak_added_bytes, name, train, memory_steps).value / 2**20)
    rows += [sample_row(f"{name}: peak memory added by training", "MiB", memory[name])
             for name in arms]
    steps = _optimizer_steps(GPT(train.model_config()), rounds * 2)
    rows += [sample_row(f"optimizer step, {name}", "s", t) for name, t in steps.items()]
    for name in arms:
        if name != "baseline":
            reductions = [1 - o / b for o, b in zip(memory[name], memory["baseline"], strict=True)]
            rows.append(sample_row(f"memory reduction of {name} vs baseline", "fraction",
                                   reductions))
    measured = getattr(steppers.get("ryot recipe"), "__self__", None)
    return {"benchmark": "training", "preset": preset.name, "model": train.to_json(),
            "recipe": measured.result.recipe if measured is not None else None,
            "rounds": rounds, "steps_per_round": steps_per_round, "warmup_steps": warmup,
            "memory_steps": memory_steps, **fingerprint(), "rows": rows}
