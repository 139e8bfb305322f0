"""The configuration of one training run: a plain dataclass, validated on creation."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from ryot.infra.errors import ConfigError
from ryot.workload.model import GPTConfig

__all__ = ["TrainConfig", "TrainConfigError"]

SEED_LIMIT = 2**63  # torch seeds are 64-bit; every rank adds 1000 * rank to the seed


class TrainConfigError(ConfigError):
    """A :class:`TrainConfig` field refused; ``field`` names it (the CLI maps it to its flag)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass
class TrainConfig:
    """One run: mode, sizes, optimizer, checkpoints, gates; an invalid value raises
    :class:`TrainConfigError` (a ValueError) naming the field and what was expected."""

    mode: str = "baseline"  # baseline | optimized
    steps: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    grad_clip: float = 1.0  # applied after the gate has seen the unclipped norm
    seed: int = 0
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 128
    compression_bits: int = 8
    compression_block: int = 64
    checkpoint_every: int = 0  # 0: no checkpoints
    keep_checkpoints: int = 3  # the newest K checkpoints are kept; 0: keep all
    max_violations: int = 3
    inject_nan_at: tuple[int, ...] = ()  # fault injection for tests: these steps' loss is NaN
    dataset: str = "pydoc"  # pydoc | arithmetic
    grad_norm_gate: float = 10.0  # upper bound of the gradient-norm gate (origin figure: 10)
    activation_checkpointing: bool = False  # optimized mode: recompute block activations
    # optimized mode: the orchestrator turns activation checkpointing on when one step saves more
    # activation bytes for backward than this many MiB (measured at the start); None: no budget
    activation_budget_mb: float | None = None
    # optimized mode: "fixed" follows the two fields above; "measured" lets short probes on this
    # machine choose checkpointing policy and attention within the budget (.recipe; cached)
    recipe: str = "fixed"

    def __post_init__(self) -> None:
        if self.mode not in ("baseline", "optimized"):
            raise TrainConfigError("mode", "TrainConfig.mode must be 'baseline' or 'optimized', "
                                   f"got {self.mode!r}")
        for name in ("steps", "batch_size", "n_layer", "n_head", "n_embd", "block_size",
                     "max_violations", "compression_block"):
            _check_int(name, getattr(self, name), 1)
        for name in ("checkpoint_every", "keep_checkpoints", "seed"):
            _check_int(name, getattr(self, name), 0)
        if self.seed >= SEED_LIMIT:
            raise TrainConfigError("seed", f"TrainConfig.seed must be an int < 2**63, "
                                   f"got {self.seed!r}")
        for name in ("lr", "grad_clip", "grad_norm_gate"):
            _check_positive(name, getattr(self, name))
        if self.n_embd % self.n_head:
            raise TrainConfigError("n_embd", f"TrainConfig.n_embd={self.n_embd} must be a "
                                   f"multiple of n_head={self.n_head}")
        if not isinstance(self.activation_checkpointing, bool):
            raise TrainConfigError("activation_checkpointing", "TrainConfig.activation_"
                                   f"checkpointing must be a bool, got "
                                   f"{self.activation_checkpointing!r}")
        budget = self.activation_budget_mb
        if budget is not None and (not _is_number(budget) or not 0 <= budget < math.inf):
            raise TrainConfigError("activation_budget_mb", "TrainConfig.activation_budget_mb must "
                                   f"be None or a finite number of MiB >= 0, got {budget!r}")
        if self.recipe not in ("fixed", "measured"):
            raise TrainConfigError("recipe", "TrainConfig.recipe must be 'fixed' or 'measured', "
                                   f"got {self.recipe!r}")
        self.inject_nan_at = tuple(self.inject_nan_at)
        for step in self.inject_nan_at:  # steps count from 1
            _check_int("inject_nan_at", step, 1)

    @property
    def optimized(self) -> bool:
        return self.mode == "optimized"

    def model_config(self, device_type: str = "cpu") -> GPTConfig:
        """The model: plain attention for the baseline; the optimized mode's fastest attention
        for the device (``recompute`` on CPU, fused ``sdpa`` on CUDA: see ``.attention``)."""
        attention = "plain"
        if self.optimized:
            attention = "sdpa" if device_type == "cuda" else "recompute"
        return GPTConfig(block_size=self.block_size, n_layer=self.n_layer, n_head=self.n_head,
                         n_embd=self.n_embd, attention=attention,
                         checkpoint_blocks=self.optimized and self.activation_checkpointing)

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values (tuples become lists)."""
        return json.loads(json.dumps(asdict(self), allow_nan=False))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TrainConfigError(name, f"TrainConfig.{name} must be an int >= {minimum}, "
                               f"got {value!r}")


def _check_positive(name: str, value: Any) -> None:
    """A finite number > 0 (NaN and inf are refused)."""
    if not _is_number(value) or not 0 < value < math.inf:
        raise TrainConfigError(name, f"TrainConfig.{name} must be a finite number > 0, "
                               f"got {value!r}")
