"""The default workload the origin metrics measure: a small GPT trained from scratch on text
every machine has (:mod:`ryot.workload.train`), baseline and optimized.

A :class:`Preset` is a value: the training configuration plus the sizes the metrics measure
with. :data:`QUICK` and :data:`FULL` are built in; a criteria file's ``"workload"`` factory may
return its own, and every provider receives it as ``params["_workload"]``. Trained models are
kept once per process, keyed by the training configuration's value, never by a preset's name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TypeVar

import torch

from ryot.infra.errors import ConfigError
from ryot.workload.train.loop import Trainer
from ryot.workload.train.run_config import TrainConfig

__all__ = [
    "FULL", "PRESETS", "QUICK", "T", "Preset", "builtin", "preset", "trained",
    "user_preset", "value_key"
]

T = TypeVar("T")


@dataclass(frozen=True)
class Preset:
    name: str
    train: TrainConfig
    eval_batches: int  # held-out batches for the accuracy metrics
    prompt_tokens: int  # prompt length for the inference metrics
    new_tokens: int  # tokens generated per prompt
    steps_per_round: int  # training steps per arm per round of training.speedup

    def config(self, mode: str) -> TrainConfig:
        """The training configuration in ``mode`` (baseline | optimized)."""
        return replace(self.train, mode=mode)


# A memory budget for the optimized arm's activations: one step of the full preset keeps 41.2 MiB
# for its backward pass (quick: 3.2 MiB; ryot.workload.train.activation_memory measures it), over
# the budget, so checkpointing is needed. Which policy (selective or whole blocks) and which
# attention: the measured recipe (ryot.workload.train.recipe) — the fastest candidate on this
# machine that keeps within the budget, recorded with its measurements (docs/benchmarks.md).
QUICK = Preset("quick", TrainConfig(steps=60, batch_size=8, n_layer=2, n_head=2, n_embd=64,
                                    block_size=64, max_violations=10, activation_budget_mb=2.0,
                                    recipe="measured"),
               eval_batches=8, prompt_tokens=32, new_tokens=24, steps_per_round=2)
FULL = Preset("full", TrainConfig(steps=300, batch_size=16, n_layer=4, n_head=4, n_embd=128,
                                  block_size=128, max_violations=10, activation_budget_mb=32.0,
                                  recipe="measured"),
              eval_batches=24, prompt_tokens=64, new_tokens=48, steps_per_round=3)
PRESETS = MappingProxyType({"quick": QUICK, "full": FULL})  # the built-in ones, read-only


def preset(params: dict) -> Preset:
    """The criteria file's own workload (a ``Preset`` from its ``"workload"`` factory), else the
    built-in preset the ``preset`` param names, else ``quick`` under ``--quick`` and ``full``."""
    user = user_preset(params)
    return user if user is not None else builtin(params, PRESETS)


def user_preset(params: dict) -> Preset | None:
    """The ``Preset`` the criteria file's ``"workload"`` factory returned, or None."""
    user = params.get("_workload")
    if user is not None and not isinstance(user, Preset):
        raise ConfigError(f"the criteria file's workload factory returned {type(user).__name__}; "
                          "the built-in metrics need a ryot.workload.presets.Preset")
    return user


def builtin(params: dict, choices: Mapping[str, T]) -> T:
    """The one preset selection: ``choices[name]`` for the ``preset`` param, else ``quick``
    under ``--quick`` and ``full``."""
    name = params.get("preset") or ("quick" if params.get("_quick") else "full")
    if name not in choices:
        raise ConfigError(f"unknown workload preset {name!r}; known: {', '.join(choices)}")
    return choices[name]


def value_key(config: TrainConfig) -> str:
    """A configuration's value as text: equal configurations, equal keys."""
    return json.dumps(config.to_json(), sort_keys=True)


_trained: dict[str, Trainer] = {}


def trained(config: TrainConfig) -> Trainer:
    """Train ``config`` once per process; errors (out of memory, gate stops) propagate."""
    key = value_key(config)
    if key not in _trained:
        with torch.enable_grad():  # callers may be inside no_grad (evaluation) on first use
            trainer = Trainer(config)
            trainer.run()
        _trained[key] = trainer
    return _trained[key]
