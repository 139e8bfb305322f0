"""The orchestrator's configuration: frozen dataclasses that refuse invalid values.

Every invalid field raises ``ValueError`` naming the class and the field. ``to_dict`` /
``from_dict`` round-trip exactly through JSON.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from ryot.infra.errors import ConfigError

__all__ = ["CompressionConfig", "KernelConfig", "OptimizationState", "RLVRConfig"]


def _fail(owner: str, name: str, value: Any, expected: str) -> None:
    raise ConfigError(f"{owner}.{name} must be {expected}, got {value!r}")


def _check_int(owner: str, name: str, value: Any, *, minimum: int = 1, power_of_two=False) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(owner, name, value, "an int")
    if value < minimum:
        _fail(owner, name, value, f"an int >= {minimum}")
    if power_of_two and value & (value - 1):
        _fail(owner, name, value, "a power of two")


def _check_float(owner: str, name: str, value: Any, lo: float, hi: float, *, lo_open=False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(owner, name, value, "a real number")
    v = float(value)
    if not math.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
        interval = f"{'(' if lo_open else '['}{lo}, {hi}]"
        _fail(owner, name, value, f"a finite number in {interval}")


def _from_dict(cls, d: Any):
    """Build ``cls`` from a dict with exactly its field names; a clear ValueError otherwise."""
    if not isinstance(d, dict):
        raise ConfigError(f"{cls.__name__} expects an object, got {type(d).__name__}")
    names = {f.name for f in fields(cls)}
    required = {f.name for f in fields(cls)
                if f.default is MISSING and f.default_factory is MISSING}
    unknown, missing = set(d) - names, required - set(d)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
    if missing:
        raise ConfigError(f"{cls.__name__}: missing field(s) {sorted(missing)}")
    return cls(**d)


class _FlatConfig:
    """``to_dict`` / ``from_dict`` for configs whose fields are all plain JSON values."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict):
        return _from_dict(cls, d)


@dataclass(frozen=True)
class KernelConfig(_FlatConfig):
    """A tiled-kernel launch configuration (Triton's BLOCK_M/N/K, warps, pipeline stages)."""

    tile_m: int
    tile_n: int
    tile_k: int
    num_warps: int = 4
    num_stages: int = 2

    def __post_init__(self) -> None:
        for name in ("tile_m", "tile_n", "tile_k", "num_warps"):
            _check_int("KernelConfig", name, getattr(self, name), power_of_two=True)
        _check_int("KernelConfig", "num_stages", self.num_stages)


@dataclass(frozen=True)
class CompressionConfig(_FlatConfig):
    """Block-wise absmax quantization: one scale per ``block_size`` values, ``bits`` per code."""

    block_size: int
    bits: int
    error_bound: float = 0.05

    def __post_init__(self) -> None:
        _check_int("CompressionConfig", "block_size", self.block_size)
        if isinstance(self.bits, bool) or self.bits not in (4, 8):
            _fail("CompressionConfig", "bits", self.bits, "4 or 8")
        _check_float("CompressionConfig", "error_bound", self.error_bound, 0.0, 1.0, lo_open=True)
        object.__setattr__(self, "error_bound", float(self.error_bound))


@dataclass(frozen=True)
class RLVRConfig(_FlatConfig):
    """RLVR path selection: how many candidate paths, when to stop, KV-cache page size (tokens)."""

    num_paths: int
    path_selection_threshold: float
    kv_page_size: int

    def __post_init__(self) -> None:
        _check_int("RLVRConfig", "num_paths", self.num_paths)
        _check_float("RLVRConfig", "path_selection_threshold", self.path_selection_threshold,
                     0.0, 1.0)
        object.__setattr__(self, "path_selection_threshold", float(self.path_selection_threshold))
        _check_int("RLVRConfig", "kv_page_size", self.kv_page_size)


@dataclass(frozen=True)
class OptimizationState:
    """Everything needed to reproduce the optimizer's choices at one point of a run."""

    kernel: KernelConfig
    compression: CompressionConfig
    rlvr: RLVRConfig
    epoch: int
    step: int
    timestamp: float
    metrics: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, cls in (("kernel", KernelConfig), ("compression", CompressionConfig),
                          ("rlvr", RLVRConfig)):
            if not isinstance(getattr(self, name), cls):
                _fail("OptimizationState", name, getattr(self, name), f"a {cls.__name__}")
        _check_int("OptimizationState", "epoch", self.epoch, minimum=0)
        _check_int("OptimizationState", "step", self.step, minimum=0)
        _check_float("OptimizationState", "timestamp", self.timestamp, 0.0, math.inf)
        object.__setattr__(self, "timestamp", float(self.timestamp))
        if not isinstance(self.metrics, dict):
            _fail("OptimizationState", "metrics", self.metrics, "a dict of str to float")
        clean: dict[str, float] = {}
        for key, value in self.metrics.items():
            if not isinstance(key, str):
                _fail("OptimizationState", "metrics", key, "keyed by str")
            _check_float("OptimizationState", f"metrics[{key!r}]", value, -math.inf, math.inf)
            clean[key] = float(value)
        object.__setattr__(self, "metrics", clean)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel.to_dict(),
            "compression": self.compression.to_dict(),
            "rlvr": self.rlvr.to_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "timestamp": self.timestamp,
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_dict(cls, d: dict) -> OptimizationState:
        if not isinstance(d, dict):
            raise ConfigError(f"OptimizationState expects an object, got {type(d).__name__}")
        d = dict(d)
        for name, sub in (("kernel", KernelConfig), ("compression", CompressionConfig),
                          ("rlvr", RLVRConfig)):
            if name in d:
                d[name] = sub.from_dict(d[name])
        return _from_dict(cls, d)
