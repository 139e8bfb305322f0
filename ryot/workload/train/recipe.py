"""The optimized run's recipe — activation checkpointing policy and attention — chosen by
measurement on the machine at hand, as the kernel tuner chooses tiles.

Candidates: checkpointing ``off``, ``selective`` (recompute the cheap ops, keep matmul and
attention outputs), ``half`` (recompute the first half of the blocks whole: half the extra
forward of ``blocks``, about half its saving) or ``blocks`` (recompute every block), each with
the attention kernels the device offers for training (``recompute`` and ``sdpa`` on CPU;
``sdpa`` on CUDA). For each:

* the bytes one step keeps for backward, on fake tensors (no data allocated): what autograd
  saves, counted — with checkpointing, what it saves outside the checkpoints (each checkpointed
  block's input, which the checkpoint saves through autograd, the embeddings, the head and loss,
  ``half``'s other blocks), and for ``selective`` the outputs of the ops it keeps inside the
  blocks, counted at the dispatcher (:data:`ryot.workload.model.KEPT_BY_SELECTIVE`);
* seconds per training step, from a short interleaved probe (a few steps of each candidate in
  rotated order, after warm-up) in a process of its own, so the probe's models never add to the
  memory of the run that asked.

The choice: of the candidates whose activation bytes fit the budget (``activation_budget_mb``;
none set: every candidate), the fastest by median — where several are within :data:`TIE` of the
fastest median, which a short probe on a busy machine cannot order (on the AMD EPYC measured,
selective and block checkpointing swapped places from one probe to the next), the one of them
that keeps least; when none fits, the one that keeps least.
``torch.compile`` is not a candidate: on the CPUs measured it did not pay and one compilation
costs more than the whole probe (``RYOT_COMPILE_MODEL=1`` still compiles the chosen recipe).

A decision is cached per machine fingerprint and run shape in ``$RYOT_CACHE_DIR/recipes`` (JSON,
validated on read; anything unreadable is measured again) and recorded with its measurements in
the orchestrator's history and the run's ``train_log.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import statistics
from dataclasses import dataclass, replace

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ryot.infra import switches
from ryot.infra.atomic import write_json_atomic
from ryot.infra.isolation import run_isolated
from ryot.infra.machine import detect
from ryot.measure.timing import interleaved
from ryot.workload.model import GPT, KEPT_BY_SELECTIVE
from ryot.workload.train.activation_memory import fake_state, saved_activation_bytes
from ryot.workload.train.run_config import TrainConfig

__all__ = ["FORMAT", "TIE", "Recipe", "candidates", "choose", "half_layers", "kept_bytes", "probe"]

FORMAT = "ryot.recipe/1"
TIE = 0.10  # probe medians within 10% of the fastest count as equally fast
RULE = 4  # of the choice, in the cache key: decisions made by an earlier rule are made again
CHECKPOINTING = ("off", "selective", "half", "blocks")


@dataclass(frozen=True)
class Recipe:
    checkpointing: str  # off | selective | half | blocks
    attention: str  # recompute | sdpa

    @property
    def label(self) -> str:
        return f"checkpointing {self.checkpointing}, {self.attention} attention"


def candidates(device_type: str) -> list[Recipe]:
    attentions = ("sdpa",) if device_type == "cuda" else ("recompute", "sdpa")
    return [Recipe(c, a) for c in CHECKPOINTING for a in attentions]


def apply(model: GPT, recipe: Recipe) -> None:
    """Make ``model`` follow ``recipe`` (its config is read on every forward)."""
    model.config.checkpoint_blocks = recipe.checkpointing != "off"
    selective = recipe.checkpointing == "selective"
    model.config.checkpoint_policy = "selective" if selective else "blocks"
    model.config.checkpoint_layers = (half_layers(model.config.n_layer)
                                      if recipe.checkpointing == "half" else None)
    model.config.attention = recipe.attention
    for block in model.blocks:
        block.attn.attention = recipe.attention


class _KeptOutputs(TorchDispatchMode):
    """Adds up the bytes of the outputs of the ops selective checkpointing keeps, while a block
    runs (``inside``, set by the blocks' forward hooks)."""

    def __init__(self) -> None:
        super().__init__()
        self.nbytes, self.inside = 0, False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        if self.inside and func in KEPT_BY_SELECTIVE:
            for t in out if isinstance(out, tuple) else (out,):
                if isinstance(t, torch.Tensor):
                    self.nbytes += t.untyped_storage().nbytes()
        return out


def half_layers(n_layer: int) -> int:
    """The blocks ``half`` checkpoints (the first ones): half of them, at least one."""
    return max(n_layer // 2, 1)


def kept_bytes(model: GPT, batch_size: int, checkpointing: str) -> int:
    """Bytes one optimized step keeps for backward under ``checkpointing``, on fake tensors."""
    if checkpointing == "off":
        return saved_activation_bytes(model, batch_size, autocast=True)
    c = model.config
    layers = half_layers(c.n_layer) if checkpointing == "half" else c.n_layer
    # what autograd keeps outside the checkpoints (the checkpointed blocks' inputs included:
    # the checkpoint saves them through autograd), counted
    kept = saved_activation_bytes(model, batch_size, autocast=True, checkpointed=layers)
    return kept + _kept_in_blocks(model, batch_size) if checkpointing == "selective" else kept


def _kept_in_blocks(model: GPT, batch_size: int) -> int:
    """The bytes of the outputs selective checkpointing keeps inside the blocks (fake tensors)."""
    c = model.config
    (mode, fakes), counter = fake_state(model), _KeptOutputs()
    device = next(model.parameters()).device

    def enter(*_) -> None:
        counter.inside = True

    def leave(*_) -> None:
        counter.inside = False

    hooks = [h for block in model.blocks for h in (block.register_forward_pre_hook(enter),
                                                   block.register_forward_hook(leave))]
    checkpoint_blocks, c.checkpoint_blocks = c.checkpoint_blocks, False
    try:
        with mode, torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
            idx = torch.zeros(batch_size, c.block_size, dtype=torch.long, device=device)
            with counter:
                torch.func.functional_call(model, fakes, (idx,))
    finally:
        c.checkpoint_blocks = checkpoint_blocks
        for h in hooks:
            h.remove()
    return counter.nbytes


def probe(config: TrainConfig, recipes: list[Recipe], trainer_class: type, rounds: int = 4,
          warmup: int = 2) -> dict[str, list[float]]:
    """Seconds per optimized training step of each recipe, interleaved (this process);
    ``trainer_class``: :class:`ryot.workload.train.loop.Trainer` (passed in: the loop imports
    this module)."""
    steppers = {}
    for recipe in recipes:
        trainer = trainer_class(replace(config, recipe="fixed"))
        apply(trainer.raw_model, recipe)
        steppers[recipe.label] = trainer.train_step
    return interleaved(steppers, rounds=rounds, warmup=warmup)


def _cache_path(config: TrainConfig, device_type: str):
    shape = {k: v for k, v in config.to_json().items()
             if k in ("batch_size", "n_layer", "n_head", "n_embd", "block_size",
                      "activation_budget_mb", "compression_bits", "compression_block",
                      "dataset")}
    key = json.dumps({"shape": shape, "device": device_type, "torch": torch.__version__,
                      "rule": RULE, "tie": TIE,
                      "machine": detect().to_dict(), "threads": torch.get_num_threads()},
                     sort_keys=True)
    return switches.cache_dir("recipes") / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


def _read_cached(path) -> dict | None:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text())
        names = {r.label: r for r in candidates("cuda") + candidates("cpu")}
        chosen = names.get(data.get("chosen")) if data.get("format") == FORMAT else None
        if chosen is not None and (data.get("checkpointing"), data.get("attention")) == (
                chosen.checkpointing, chosen.attention):
            return data
    return None


def choose(config: TrainConfig, model: GPT, trainer_class: type) -> dict:
    """The decision for ``config`` on this machine: ``chosen`` (a recipe label), ``reason`` and
    the measurements (``kept_bytes``, ``seconds``); cached (``cached``: True on a hit).
    ``trainer_class`` builds the probe's runs (see :func:`probe`)."""
    device_type = next(model.parameters()).device.type
    path = _cache_path(config, device_type)
    cached = _read_cached(path)
    if cached is not None:
        return {**cached, "cached": True}
    recipes = candidates(device_type)
    kept = {r.label: kept_bytes(model, config.batch_size, r.checkpointing) for r in recipes}
    budget = (None if config.activation_budget_mb is None
              else int(config.activation_budget_mb * 2**20))
    fitting = [r for r in recipes if budget is None or kept[r.label] <= budget]
    if not fitting:
        least = min(kept.values())
        fitting = [r for r in recipes if kept[r.label] == least]
    seconds = (run_isolated(probe, config, fitting, trainer_class).value if len(fitting) > 1
               else {})
    if seconds:
        medians = {r.label: statistics.median(seconds[r.label]) for r in fitting}
        fastest = min(medians.values())
        tied = [r for r in fitting if medians[r.label] <= fastest * (1 + TIE)]
        best = min(tied, key=lambda r: (kept[r.label], medians[r.label]))
        timing = (f"of {len(fitting)} by median step time, the {len(tied)} within {TIE:.0%} "
                  f"of the fastest tie and the one that keeps least wins: " + ", ".join(
                      f"{r.label} {medians[r.label] * 1e3:.1f} ms" for r in fitting))
    else:
        best, timing = fitting[0], "the only candidate left"
    fit = ("no budget" if budget is None else
           f"{sum(kept[r.label] <= budget for r in recipes)} of {len(recipes)} keep <= "
           f"{budget / 2**20:g} MiB for backward")
    decision = {"format": FORMAT, "chosen": best.label, "checkpointing": best.checkpointing,
                "attention": best.attention, "reason": f"{fit}; {timing}",
                "kept_bytes": kept, "seconds": seconds, "machine": detect().to_dict()}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, decision)
    return {**decision, "cached": False}
