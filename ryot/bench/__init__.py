"""``ryot bench NAME``: micro-benchmarks whose raw samples are written beside their summary.

Its job: figures for people (docs/benchmarks.md), one JSON file of raw samples per run. The
asv suite in ``benchmarks/`` has the other job, tracking regressions commit by commit; both call
the same measurement functions (:mod:`ryot.metrics.measurements`), so they measure the same thing.

Each benchmark returns ``{"benchmark": ..., <provenance>, "rows": [...]}``; a row holds a label,
unit, median, 95% bootstrap interval and every raw sample. Ratios come from A/B trials run
interleaved (one of each per round), so drift hits both arms alike.
"""

from __future__ import annotations

import os
from pathlib import Path

from ryot.infra.atomic import write_json_atomic

__all__ = ["NAMES", "format_rows", "run"]


def _registry():
    from ryot.bench import compression, decisions, inference, proportions, regimes, training
    from ryot.bench import kv as kv_cache
    from ryot.bench import orchestrator_step as orchestrator
    from ryot.bench import tune as tuning

    return {
        "orchestrator": orchestrator.run,
        "compression": compression.run,
        "kv": kv_cache.run,
        "tune": tuning.run,
        "decisions": decisions.run,
        "inference": inference.run,
        "training": training.run,
        "proportions": proportions.run,
        "regimes": regimes.run,
    }


NAMES = ("orchestrator", "compression", "kv", "tune", "decisions", "inference", "training",
         "proportions", "regimes")


def run(name: str, out_dir: str | os.PathLike[str] = "results/bench",
        **options) -> tuple[dict, Path]:
    result = _registry()[name](**options)
    path = write_json_atomic(Path(out_dir) / f"{name}.json", result)
    return result, path


def format_rows(result: dict) -> str:
    if result["benchmark"] == "decisions" and "regimes" not in result:
        from ryot.bench.decisions import format_table

        return format_table(result)
    if result["benchmark"] == "inference":
        from ryot.bench.inference import format_table

        return format_table(result)
    if result["benchmark"] in ("decisions", "regimes") and "regimes" in result:
        from ryot.bench import decisions, regimes

        head = decisions.format_table(result) + "\n\n" if result.get("rows") else ""
        return head + regimes.format_table(result["regimes"])
    if result["benchmark"] == "proportions":
        from ryot.bench.proportions import format_table

        return format_table(result)
    lines = [f"{'what':<46} {'median':>12} {'95% CI':>26}  unit"]
    for r in result["rows"]:
        if r.get("median") is None:
            lines.append(f"{r['label']:<46} {'n/a':>12} {'':>26}  {r.get('reason', '')}")
            continue
        lo, hi = r["ci95"]
        lines.append(f"{r['label']:<46} {r['median']:>12.4g} "
                     f"{f'[{lo:.4g}, {hi:.4g}]':>26}  {r['unit']}")
    return "\n".join(lines)
