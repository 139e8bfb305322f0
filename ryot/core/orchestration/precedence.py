"""Parameter precedence: kernel tile -> compression block -> RLVR KV page.

The rules (from the contract):

* ``compression.block_size % kernel.tile_k == 0`` — a quantization block covers whole K tiles,
  so a tiled kernel never straddles two scales inside one tile;
* ``rlvr.kv_page_size % compression.block_size == 0`` — a KV page holds whole blocks.

A higher-priority value is never changed. A lower-priority value that breaks a rule is raised to
the nearest valid multiple (the smallest change that satisfies it); a valid value is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig
from ryot.infra.errors import ConfigError

__all__ = ["Adjustment", "IncompatibleConfigError", "ParameterPrecedenceResolver", "Resolution"]


class IncompatibleConfigError(ConfigError):
    """No value inside the resolver's bounds satisfies the precedence chain."""


@dataclass(frozen=True)
class Adjustment:
    """One change the resolver (or the adaptation rules) made, and why."""

    param: str
    old: Any
    new: Any
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"param": self.param, "old": self.old, "new": self.new, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict) -> Adjustment:
        return cls(param=d["param"], old=d["old"], new=d["new"], reason=d["reason"])


@dataclass(frozen=True)
class Resolution:
    kernel: KernelConfig
    compression: CompressionConfig
    rlvr: RLVRConfig
    adjustments: tuple[Adjustment, ...]


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


class ParameterPrecedenceResolver:
    """Resolve the chain inside bounds: ``block_size <= max_block_size``,
    ``kv_page_size <= max_kv_page_size``."""

    def __init__(self, max_block_size: int = 4096, max_kv_page_size: int = 65536) -> None:
        for name, value in (("max_block_size", max_block_size),
                            ("max_kv_page_size", max_kv_page_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ParameterPrecedenceResolver.{name} must be an int >= 1, "
                                  f"got {value!r}")
        self.max_block_size = max_block_size
        self.max_kv_page_size = max_kv_page_size

    def to_dict(self) -> dict[str, int]:
        return {"max_block_size": self.max_block_size, "max_kv_page_size": self.max_kv_page_size}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParameterPrecedenceResolver) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"ParameterPrecedenceResolver(**{self.to_dict()})"

    def problems(self, kernel: KernelConfig, compression: CompressionConfig,
                 rlvr: RLVRConfig) -> tuple[str, ...]:
        """Every broken rule, in words; empty when the three configs are compatible."""
        found = []
        if compression.block_size % kernel.tile_k:
            found.append(f"compression.block_size={compression.block_size} is not a multiple "
                         f"of kernel.tile_k={kernel.tile_k}")
        if rlvr.kv_page_size % compression.block_size:
            found.append(f"rlvr.kv_page_size={rlvr.kv_page_size} is not a multiple "
                         f"of compression.block_size={compression.block_size}")
        return tuple(found)

    def resolve(self, kernel: KernelConfig, compression: CompressionConfig,
                rlvr: RLVRConfig) -> Resolution:
        adjustments: list[Adjustment] = []

        block = compression.block_size
        if block % kernel.tile_k:
            new_block = _round_up(block, kernel.tile_k)
            if new_block > self.max_block_size:
                raise IncompatibleConfigError(
                    f"compression.block_size={block} must be a multiple of kernel.tile_k="
                    f"{kernel.tile_k}; the nearest, {new_block}, exceeds max_block_size="
                    f"{self.max_block_size}")
            adjustments.append(Adjustment(
                "compression.block_size", block, new_block,
                f"raised to the nearest multiple of kernel.tile_k={kernel.tile_k}"))
            compression = replace(compression, block_size=new_block)

        page = rlvr.kv_page_size
        if page % compression.block_size:
            new_page = _round_up(page, compression.block_size)
            if new_page > self.max_kv_page_size:
                raise IncompatibleConfigError(
                    f"rlvr.kv_page_size={page} must be a multiple of compression.block_size="
                    f"{compression.block_size}; the nearest, {new_page}, exceeds "
                    f"max_kv_page_size={self.max_kv_page_size}")
            adjustments.append(Adjustment(
                "rlvr.kv_page_size", page, new_page,
                "raised to the nearest multiple of "
                f"compression.block_size={compression.block_size}"))
            rlvr = replace(rlvr, kv_page_size=new_page)

        return Resolution(kernel, compression, rlvr, tuple(adjustments))
