"""encode+decode against torch.clone, a naive torch quantizer and bitsandbytes (same run)."""

from __future__ import annotations

import torch

from ..config import CompressionConfig
from ..provenance import fingerprint
from ..semantic_compression import decode, encode, reconstruction_error
from ..timing import interleaved
from ..timing import steady_allocator as timing_steady_allocator
from .rows import ratio_row, sample_row


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
    n = megabytes * (1 << 20) // 4
    x = torch.randn(n, generator=torch.Generator().manual_seed(0))
    cfg = CompressionConfig(block, 8)
    arms = {
        "clone": lambda: x.clone(),
        "ryot int8 (auto backend)": lambda: decode(encode(x, cfg)),
        "naive torch int8 (eager)": lambda: decode(encode(x, cfg, backend="eager"),
                                                   backend="eager"),
    }
    errors = {"ryot int8 (auto backend)": reconstruction_error(x, decode(encode(x, cfg))),
              "naive torch int8 (eager)": reconstruction_error(
                  x, decode(encode(x, cfg, backend="eager"), backend="eager"))}
    bnb, why_not = _bitsandbytes()
    if bnb is not None:
        def bnb_round_trip():
            q, state = bnb.quantize_blockwise(x, blocksize=block)
            return bnb.dequantize_blockwise(q, state)
        arms["bitsandbytes quantize/dequantize_blockwise"] = bnb_round_trip
        errors["bitsandbytes quantize/dequantize_blockwise"] = reconstruction_error(x, bnb_round_trip())
    times = interleaved(arms, rounds=rounds, warmup=2, rewarm=True)
    rows = [sample_row(f"{name}: seconds per round trip", "s", t) for name, t in times.items()]
    for name in arms:
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
            err = reconstruction_error(sweep, decode(encode(sweep, CompressionConfig(size, bits))))
            rows.append({"label": f"int{bits} block {size}: relative error (4M values)",
                         "unit": "‖x−x̂‖/‖x‖", "median": err, "ci95": [err, err], "samples": [err]})
    return {"benchmark": "compression", "tensor": f"{megabytes} MB float32 N(0,1)",
            "block_size": block, "allocator": allocator, **fingerprint(), "rows": rows}
