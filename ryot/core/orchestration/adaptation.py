"""Deterministic adaptation rules: how the optimizer reacts to what a run measured.

The rules, applied in this order to one ``metrics`` mapping (each may fire at most once):

R1 compression near its bound
    ``compression_error`` >= 80% of the tighter of ``compression.error_bound`` and the gate's
    ``max_compression_error`` (or not finite): use 8 bits if at 4; otherwise halve
    ``block_size`` (kept a multiple of ``kernel.tile_k``). Nothing to do at 8 bits and the
    smallest block.
R2 unstable training under 4-bit compression
    ``loss`` or ``grad_norm`` present and outside its gate (or not finite) while ``bits == 4``,
    and R1 did not already move to 8 bits: use 8 bits.
R3 a tuned kernel that is not faster
    ``kernel_speedup`` (tuned time ÷ previous time, inverted: > 1 is faster) below 1.0 and a
    previous kernel config exists: go back to it.
R4 RLVR search too narrow
    ``rlvr_best_reward`` below ``path_selection_threshold`` although ``rlvr_paths_used`` reached
    ``num_paths``: double ``num_paths`` (at most ``MAX_PATHS``).

The result is always passed through the precedence resolver; a rule whose change cannot be made
compatible inside the resolver's bounds is dropped (and said so in the returned notes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig
from ryot.core.orchestration.gates import NotNumeric, SafetyBounds, as_float
from ryot.core.orchestration.precedence import (
    Adjustment,
    IncompatibleConfigError,
    ParameterPrecedenceResolver,
)

__all__ = ["MAX_PATHS", "NEAR_BOUND_FRACTION", "Proposal", "propose", "read_metric"]

NEAR_BOUND_FRACTION = 0.8
MAX_PATHS = 64


@dataclass(frozen=True)
class Proposal:
    kernel: KernelConfig
    compression: CompressionConfig
    rlvr: RLVRConfig
    changes: tuple[Adjustment, ...]
    reverted_kernel: bool  # R3 fired: the caller pops its kernel stack
    dropped: tuple[str, ...]  # rules whose change could not be made compatible


def read_metric(metrics: Mapping[str, Any], key: str) -> float | None:
    """The metric as a float (possibly non-finite), or None when absent or not numeric."""
    if key not in metrics:
        return None
    try:
        return as_float(metrics[key])
    except NotNumeric:
        return None


def _outside(value: float | None, interval: tuple[float, float]) -> bool:
    return value is not None and (not math.isfinite(value)
                                  or not interval[0] <= value <= interval[1])


def _halved_block(compression: CompressionConfig, tile_k: int) -> int:
    return max(tile_k, (compression.block_size // 2) // tile_k * tile_k)


def propose(kernel: KernelConfig, compression: CompressionConfig, rlvr: RLVRConfig,
            metrics: Mapping[str, Any], bounds: SafetyBounds,
            resolver: ParameterPrecedenceResolver,
            previous_kernel: KernelConfig | None) -> Proposal:
    """Apply R1–R4 to the current configs; return compatible configs and every change."""
    changes: list[Adjustment] = []
    dropped: list[str] = []
    reverted = False

    def attempt(rule: str, k: KernelConfig, c: CompressionConfig, r: RLVRConfig,
                change: Adjustment) -> bool:
        nonlocal kernel, compression, rlvr
        try:
            resolution = resolver.resolve(k, c, r)
        except IncompatibleConfigError as exc:
            dropped.append(f"{rule}: {exc}")
            return False
        kernel, compression, rlvr = resolution.kernel, resolution.compression, resolution.rlvr
        changes.append(change)
        changes.extend(replace(a, reason=f"{a.reason} (after {rule})")
                       for a in resolution.adjustments)
        return True

    error = read_metric(metrics, "compression_error")
    limit = min(compression.error_bound, bounds.max_compression_error)
    if error is not None and (not math.isfinite(error) or error >= NEAR_BOUND_FRACTION * limit):
        why = (f"R1: compression_error={error!r} is at or above {NEAR_BOUND_FRACTION:.0%} "
               f"of {limit!r}")
        if compression.bits == 4:
            attempt("R1", kernel, replace(compression, bits=8), rlvr,
                    Adjustment("compression.bits", 4, 8, why))
        elif compression.block_size > kernel.tile_k:
            new_block = _halved_block(compression, kernel.tile_k)
            attempt("R1", kernel, replace(compression, block_size=new_block), rlvr,
                    Adjustment("compression.block_size", compression.block_size, new_block, why))

    if compression.bits == 4:
        for gate in ("loss", "grad_norm"):
            value = read_metric(metrics, gate)
            if _outside(value, bounds.interval(gate)):
                attempt("R2", kernel, replace(compression, bits=8), rlvr, Adjustment(
                    "compression.bits", 4, 8,
                    f"R2: {gate}={value!r} left its gate while gradients were 4-bit compressed"))
                break

    speedup = read_metric(metrics, "kernel_speedup")
    if speedup is not None and math.isfinite(speedup) and speedup < 1.0 and previous_kernel:
        reverted = attempt("R3", previous_kernel, compression, rlvr, Adjustment(
            "kernel", kernel.to_dict(), previous_kernel.to_dict(),
            f"R3: kernel_speedup={speedup!r} < 1.0, the tuned kernel is not faster"))

    best = read_metric(metrics, "rlvr_best_reward")
    used = read_metric(metrics, "rlvr_paths_used")
    if (best is not None and used is not None and math.isfinite(best) and math.isfinite(used)
            and best < rlvr.path_selection_threshold and used >= rlvr.num_paths
            and rlvr.num_paths < MAX_PATHS):
        new_paths = min(MAX_PATHS, rlvr.num_paths * 2)
        attempt("R4", kernel, compression, replace(rlvr, num_paths=new_paths), Adjustment(
            "rlvr.num_paths", rlvr.num_paths, new_paths,
            f"R4: best reward {best!r} < threshold {rlvr.path_selection_threshold!r} "
            f"after all {rlvr.num_paths} paths"))

    return Proposal(kernel, compression, rlvr, tuple(changes), reverted, tuple(dropped))
