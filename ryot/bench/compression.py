"""encode+decode against torch.clone, a naive torch quantizer and bitsandbytes (same run)."""

from __future__ import annotations

from ryot.bench.rows import ratio_row, sample_row
from ryot.core.config import CompressionConfig
from ryot.core.quant.blockwise import decode, encode, reconstruction_error
from ryot.infra.provenance import fingerprint
from ryot.measure.timing import steady_allocator as timing_steady_allocator
from ryot.metrics.measurements import (
    compression_relative_error,
    compression_roundtrip_vs_clone,
    normal_tensor,
)

__all__ = ["run"]


def _bitsandbytes():
    try:
        import bitsandbytes.functional as bnb
    except Exception as exc:  # noqa: BLE001 - not installed, or no CPU backend
        return None, f"bitsandbytes unavailable: {type(exc).__name__}: {exc}"
    return bnb, None


def run(megabytes: int = 64, block: int = 64, rounds: int = 15,
        steady_allocator: bool = False) -> dict:
    """``steady_allocator``: time with glibc told to reuse freed memory (see docs/benchmarks.md:
    the default allocator makes every 64 MB allocation page-fault, which dominates ``clone``)."""
    allocator = "default glibc (large blocks mmap'ed and page-faulted per call)"
    if steady_allocator:
        allocator = ("steady: freed memory reused (mallopt)" if timing_steady_allocator()
                     else "default (mallopt unavailable)")
    x = normal_tensor(megabytes)
    cfg = CompressionConfig(block, 8)
    ours, naive = "ryot int8 (auto backend)", "naive torch int8 (eager)"
    others = {naive: lambda: decode(encode(x, cfg, backend="eager"), backend="eager")}
    errors = {ours: compression_relative_error(x, cfg),
              naive: reconstruction_error(
                  x, decode(encode(x, cfg, backend="eager"), backend="eager"))}
    bnb, why_not = _bitsandbytes()
    if bnb is not None:
        def bnb_round_trip():
            q, state = bnb.quantize_blockwise(x, blocksize=block)
            return bnb.dequantize_blockwise(q, state)
        others["bitsandbytes quantize/dequantize_blockwise"] = bnb_round_trip
        errors["bitsandbytes quantize/dequantize_blockwise"] = reconstruction_error(
            x, bnb_round_trip())
    times = compression_roundtrip_vs_clone(x, cfg, rounds, warmup=2, others=others)
    times = {(ours if name == "roundtrip" else name): t for name, t in times.items()}
    rows = [sample_row(f"{name}: seconds per round trip", "s", t) for name, t in times.items()]
    for name in times:
        if name != "clone":
            rows.append(ratio_row(f"{name} ÷ clone", times[name], times["clone"],
                                  relative_error=errors[name]))
    if bnb is None:
        rows.append({"label": "bitsandbytes ÷ clone", "median": None, "reason": why_not})
    for name, err in errors.items():
        rows.append({"label": f"{name}: relative error", "unit": "‖x−x̂‖/‖x‖", "median": err,
                     "ci95": [err, err], "samples": [err]})
    sweep = x[: 1 << 22]
    for bits in (8, 4):
        for size in (32, 64, 128, 256):
            err = compression_relative_error(sweep, CompressionConfig(size, bits))
            rows.append({"label": f"int{bits} block {size}: relative error (4M values)",
                         "unit": "‖x−x̂‖/‖x‖", "median": err, "ci95": [err, err], "samples": [err]})
    return {"benchmark": "compression", "tensor": f"{megabytes} MB float32 N(0,1)",
            "block_size": block, "allocator": allocator, **fingerprint(), "rows": rows}
