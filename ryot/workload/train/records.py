"""What a run records: one :class:`StepRecord` per step, and the :class:`TrainResult`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ryot.measure.samples import from_json_number, to_json_number
from ryot.workload.train.run_config import TrainConfig

__all__ = ["StepRecord", "TrainResult"]


@dataclass
class StepRecord:
    step: int
    loss: float
    grad_norm: float
    compression_error: float
    seconds: float
    tokens: int
    rss_bytes: int
    applied: bool
    compression_s: float = 0.0  # time spent quantizing optimizer states this step (optimized mode)
    orchestrator_s: float = 0.0  # time spent in gates + adapt + snapshot this step
    rolled_back: bool = False  # applied, then undone by a rollback to an earlier checkpoint

    def to_dict(self) -> dict[str, Any]:
        """Strict JSON: a non-finite loss or norm (a violating step) is written as "nan"/"inf"."""
        return {k: (to_json_number(v) if isinstance(v, float) else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StepRecord:
        floats = {f.name for f in fields(cls) if f.type == "float"}
        return cls(**{k: (from_json_number(v) if k in floats else v) for k, v in d.items()})


@dataclass
class TrainResult:
    config: TrainConfig
    records: list[StepRecord] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    peak_rss_bytes: int = 0
    status: str = "running"  # completed | stopped | interrupted | failed
    reason: str | None = None  # why a run that did not complete ended
    recipe: dict | None = None  # the measured recipe decision (ryot.workload.train.recipe)

    @property
    def losses(self) -> list[float]:
        """The loss curve: applied steps that no rollback undid."""
        return [r.loss for r in self.records if r.applied and not r.rolled_back]

    def tokens_per_second(self, skip: int = 3) -> list[float]:
        """Per-step throughput, without the first ``skip`` (warm-up) steps."""
        return [r.tokens / r.seconds for r in self.records[skip:] if r.applied]

    def to_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "config": self.config.to_json(),
                "records": [r.to_dict() for r in self.records],
                "violations": self.violations, "peak_rss_bytes": self.peak_rss_bytes,
                **({"recipe": self.recipe} if self.recipe is not None else {})}
