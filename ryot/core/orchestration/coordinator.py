"""The optimization orchestrator: precedence, safety gates, adaptation, checkpoint metadata.

>>> orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(48, 8),
...                                 RLVRConfig(4, 0.9, 100))
>>> orch.state.compression.block_size, orch.state.rlvr.kv_page_size   # resolved: 48->64, 100->128
(64, 128)
>>> orch.validate_safety_gates({"loss": 2.3, "grad_norm": 0.7, "compression_error": 0.01}).passed
True

The pieces live in their own modules (``config``, ``precedence``, ``gates``, ``adaptation``,
``checkpoint_metadata``); this module wires them together and re-exports the public names.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ryot.core.config import CompressionConfig, KernelConfig, OptimizationState, RLVRConfig
from ryot.core.orchestration import metadata as checkpoint_metadata
from ryot.core.orchestration.adaptation import MAX_PATHS, propose
from ryot.core.orchestration.gates import (
    GATES,
    GateReport,
    NotNumeric,
    SafetyBounds,
    Violation,
    as_float,
    check_gates,
)
from ryot.core.orchestration.metadata import CheckpointMetadataError
from ryot.core.orchestration.precedence import (
    Adjustment,
    IncompatibleConfigError,
    ParameterPrecedenceResolver,
    Resolution,
)
from ryot.infra.errors import ConfigError
from ryot.infra.provenance import fingerprint

__all__ = [
    "Adjustment", "ChangeRecord", "CheckpointMetadataError", "CompatibilityReport",
    "CompressionConfig", "GateReport", "IncompatibleConfigError", "KernelConfig", "MAX_PATHS",
    "OptimizationOrchestrator", "OptimizationState", "ParameterPrecedenceResolver", "RLVRConfig",
    "Resolution", "SafetyBounds", "Violation",
]


@dataclass(frozen=True)
class CompatibilityReport:
    ok: bool
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ChangeRecord:
    """One entry of the orchestrator's history: a parameter change at a point of the run."""

    epoch: int
    step: int
    param: str
    old: Any
    new: Any
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "step": self.step, "param": self.param,
                "old": self.old, "new": self.new, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict) -> ChangeRecord:
        return cls(**d)


def _finite_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The metrics worth keeping in a state: string keys, finite numeric values."""
    kept = {}
    for key, value in metrics.items():
        if isinstance(key, str):
            try:
                number = as_float(value)
            except NotNumeric:
                continue
            if math.isfinite(number):
                kept[key] = number
    return kept


class OptimizationOrchestrator:
    """Keeps kernel, compression and RLVR configs compatible and safe over a run.

    ``clock`` returns the timestamp stored in states (``time.time`` by default); pass a fixed
    one for fully reproducible states.
    """

    def __init__(self, kernel: KernelConfig, compression: CompressionConfig, rlvr: RLVRConfig,
                 bounds: SafetyBounds | None = None, *,
                 resolver: ParameterPrecedenceResolver | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.bounds = bounds if bounds is not None else SafetyBounds()
        self.resolver = resolver if resolver is not None else ParameterPrecedenceResolver()
        self.clock = clock
        resolution = self.resolver.resolve(kernel, compression, rlvr)
        self.resolver_adjustments: tuple[Adjustment, ...] = resolution.adjustments
        self.state = OptimizationState(resolution.kernel, resolution.compression,
                                       resolution.rlvr, epoch=0, step=0,
                                       timestamp=clock(), metrics={})
        self.history: list[ChangeRecord] = []
        self.kernel_stack: list[KernelConfig] = []  # earlier kernels, newest last
        self.gate_checks = 0
        self.gate_passes = 0
        self.gate_violations = dict.fromkeys(GATES, 0)

    # -- checks ---------------------------------------------------------------------------
    def validate_parameter_compatibility(self) -> CompatibilityReport:
        s = self.state
        problems = self.resolver.problems(s.kernel, s.compression, s.rlvr)
        return CompatibilityReport(ok=not problems, problems=problems)

    def validate_safety_gates(self, metrics: Mapping[str, Any]) -> GateReport:
        report = check_gates(metrics, self.bounds)
        self.gate_checks += 1
        self.gate_passes += report.passed
        for violation in report.violations:
            self.gate_violations[violation.gate] += 1
        return report

    # -- changes --------------------------------------------------------------------------
    def _record(self, param: str, old: Any, new: Any, reason: str) -> None:
        self.history.append(ChangeRecord(self.state.epoch, self.state.step, param, old, new,
                                         reason))

    def adapt_parameters(self, metrics: Mapping[str, Any]) -> OptimizationState:
        """Apply the rules of :mod:`ryot.core.orchestration.adaptation`; the new state is always
        compatible."""
        if not isinstance(metrics, Mapping):
            raise TypeError(f"metrics must be a mapping, got {type(metrics).__name__}")
        s = self.state
        previous = self.kernel_stack[-1] if self.kernel_stack else None
        proposal = propose(s.kernel, s.compression, s.rlvr, metrics, self.bounds,
                           self.resolver, previous)
        if proposal.reverted_kernel:
            self.kernel_stack.pop()
        for change in proposal.changes:
            self._record(change.param, change.old, change.new, change.reason)
        self.state = replace(s, kernel=proposal.kernel, compression=proposal.compression,
                             rlvr=proposal.rlvr, timestamp=self.clock(),
                             metrics=_finite_metrics(metrics))
        return self.state

    def propose_kernel(self, kernel: KernelConfig, reason: str = "tuned") -> OptimizationState:
        """Adopt a new (e.g. freshly tuned) kernel, keeping the old one for rule R3."""
        s = self.state
        if kernel == s.kernel:
            return s
        resolution = self.resolver.resolve(kernel, s.compression, s.rlvr)  # may raise
        self.kernel_stack.append(s.kernel)
        self._record("kernel", s.kernel.to_dict(), kernel.to_dict(), reason)
        for a in resolution.adjustments:
            self._record(a.param, a.old, a.new, f"{a.reason} (after new kernel)")
        self.state = replace(s, kernel=resolution.kernel, compression=resolution.compression,
                             rlvr=resolution.rlvr, timestamp=self.clock())
        return self.state

    def plan_activation_checkpointing(self, saved_bytes: int, budget_bytes: int) -> bool:
        """Activation checkpointing on when one step saves more activation bytes for backward
        than ``budget_bytes`` (measured:
        :func:`ryot.workload.train.activation_memory.saved_activation_bytes`), off otherwise; a
        change is recorded in the history (param ``activation_checkpointing``), so checkpoint
        metadata carries the decision and why."""
        for name, value in (("saved_bytes", saved_bytes), ("budget_bytes", budget_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"plan_activation_checkpointing: {name} must be an int >= 0, "
                                  f"got {value!r}")
        on = saved_bytes > budget_bytes
        self.set_activation_checkpointing(on, f"activations saved for backward "
                                              f"{saved_bytes / 2**20:.3g} MiB "
                                              f"{'>' if on else '<='} budget "
                                              f"{budget_bytes / 2**20:.3g} MiB")
        return on

    def set_activation_checkpointing(self, on: bool, reason: str) -> None:
        """Record a new activation checkpointing decision (nothing when it does not change)."""
        if not isinstance(on, bool):
            raise ConfigError(f"set_activation_checkpointing: on must be a bool, got {on!r}")
        if on != self.activation_checkpointing:
            self._record("activation_checkpointing", not on, on, reason)

    @property
    def activation_checkpointing(self) -> bool:
        """The latest recorded decision (False before any; only a JSON ``true`` counts as on)."""
        for record in reversed(self.history):
            if record.param == "activation_checkpointing":
                return record.new is True
        return False

    def snapshot_configuration(self, epoch: int, step: int) -> OptimizationState:
        """Move the state to ``(epoch, step)`` and return it."""
        self.state = replace(self.state, epoch=epoch, step=step, timestamp=self.clock())
        return self.state

    # -- checkpoint metadata --------------------------------------------------------------
    def get_checkpoint_metadata(self) -> dict[str, Any]:
        """JSON-serializable, schema-valid, sealed with a sha256 of its content."""
        meta = {
            "format": checkpoint_metadata.FORMAT,
            "format_version": checkpoint_metadata.FORMAT_VERSION,
            **fingerprint(),
            "state": self.state.to_dict(),
            "kernel_stack": [k.to_dict() for k in self.kernel_stack],
            "history": [c.to_dict() for c in self.history],
            "resolver": self.resolver.to_dict(),
            "resolver_adjustments": [a.to_dict() for a in self.resolver_adjustments],
            "bounds": self.bounds.to_dict(),
            "gate_statistics": {"checks": self.gate_checks, "passed": self.gate_passes,
                                "violations": dict(self.gate_violations)},
        }
        return checkpoint_metadata.seal(meta)

    def save_checkpoint_metadata(self, path) -> None:
        """Write :meth:`get_checkpoint_metadata` atomically to ``path``."""
        checkpoint_metadata.save(path, self.get_checkpoint_metadata())

    @classmethod
    def load_checkpoint_metadata(cls, path, **kwargs) -> OptimizationOrchestrator:
        return cls.from_checkpoint_metadata(checkpoint_metadata.load(path), **kwargs)

    @classmethod
    def from_checkpoint_metadata(cls, meta: Any, *, clock: Callable[[], float] = time.time,
                                 source: str = "checkpoint metadata") -> OptimizationOrchestrator:
        """Restore an orchestrator with equal state, history, bounds and statistics.

        Anything invalid raises :class:`CheckpointMetadataError` (a ``ValueError``).
        """
        checkpoint_metadata.check(meta, source)
        try:
            state = OptimizationState.from_dict(meta["state"])
            orch = cls.__new__(cls)
            orch.bounds = SafetyBounds.from_dict(meta["bounds"])
            orch.resolver = ParameterPrecedenceResolver(**meta["resolver"])
            orch.clock = clock
            orch.resolver_adjustments = tuple(Adjustment.from_dict(a)
                                              for a in meta["resolver_adjustments"])
            orch.history = [ChangeRecord.from_dict(c) for c in meta["history"]]
            orch.kernel_stack = [KernelConfig.from_dict(k) for k in meta["kernel_stack"]]
            stats = meta["gate_statistics"]
            orch.gate_checks, orch.gate_passes = stats["checks"], stats["passed"]
            orch.gate_violations = dict(stats["violations"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointMetadataError(f"{source}: {exc}") from None
        problems = orch.resolver.problems(state.kernel, state.compression, state.rlvr)
        if problems:
            raise CheckpointMetadataError(f"{source}: at /state: incompatible configs: "
                                          + "; ".join(problems))
        orch.state = state
        return orch

    def __repr__(self) -> str:
        return f"OptimizationOrchestrator(state={self.state!r})"
