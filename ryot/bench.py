"""Micro-benchmarks whose raw samples are written beside their summary (``ryot bench``)."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from .atomic import write_json_atomic
from .provenance import fingerprint
from .stats import bootstrap_median, relative_spread
from .timing import time_callable

HEALTHY = {"loss": 2.3, "grad_norm": 0.8, "compression_error": 0.012}


def orchestrator_step(samples: int = 31) -> dict:
    """Per-step orchestrator work: validate the gates, adapt, snapshot (one training step)."""
    from .orchestrator import (
        CompressionConfig,
        KernelConfig,
        OptimizationOrchestrator,
        RLVRConfig,
    )

    orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 8),
                                    RLVRConfig(4, 0.9, 256))
    counter = itertools.count()

    def step() -> None:
        orch.validate_safety_gates(HEALTHY)
        orch.adapt_parameters(HEALTHY)
        orch.snapshot_configuration(0, next(counter))

    parts = {
        "step (gates + adapt + snapshot)": step,
        "validate_safety_gates": lambda: orch.validate_safety_gates(HEALTHY),
        "adapt_parameters": lambda: orch.adapt_parameters(HEALTHY),
        "snapshot_configuration": lambda: orch.snapshot_configuration(0, next(counter)),
        "get_checkpoint_metadata": orch.get_checkpoint_metadata,
    }
    rows = []
    for label, fn in parts.items():
        m = time_callable(fn, label=label, samples=samples, min_sample_seconds=0.02)
        us = [s * 1e6 for s in m.seconds_per_call]
        ci = bootstrap_median(us)
        rows.append({"label": label, "unit": "us/call", "median": ci.estimate,
                     "ci95": [ci.low, ci.high], "relative_spread": relative_spread(us),
                     "calls_per_sample": m.calls_per_sample, "samples": us})
    return {"benchmark": "orchestrator_step", **fingerprint(), "rows": rows}


BENCHMARKS = {"orchestrator": orchestrator_step}


def run(name: str, out_dir: str | os.PathLike[str] = "results/bench") -> tuple[dict, Path]:
    result = BENCHMARKS[name]()
    path = write_json_atomic(Path(out_dir) / f"{name}.json", result)
    return result, path


def format_rows(result: dict) -> str:
    lines = [f"{'what':<34} {'median':>10} {'95% CI':>22}  unit"]
    for r in result["rows"]:
        lo, hi = r["ci95"]
        lines.append(f"{r['label']:<34} {r['median']:>10.2f} {f'[{lo:.2f}, {hi:.2f}]':>22}  {r['unit']}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    res, _ = run("orchestrator")
    print(json.dumps(res["rows"][0]["median"]))
