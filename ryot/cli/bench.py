"""``ryot bench NAME``: a micro-benchmark whose raw samples are written beside its summary."""

from __future__ import annotations

import argparse

from ryot.infra.errors import RyotError

__all__ = ["register", "run"]


def register(sub) -> None:
    from ryot.bench import NAMES

    p = sub.add_parser("bench", help="run a micro-benchmark; raw samples go to --out")
    p.add_argument("name", choices=NAMES, help="orchestrator: per-step cost; compression: "
                   "encode+decode vs clone/naive/bitsandbytes; kv: attend and a decode step "
                   "vs dense SDPA; tune: "
                   "detect_and_tune cold and warm; decisions: the engine's wrong-verdict rate; "
                   "inference: TTFT, decode and the int8 KV cache's bytes per context length; "
                   "training: ryot's optimized step and memory against stock PyTorch (eager, "
                   "compiled); proportions: exact coverage of the proportion intervals and the "
                   "wrong-verdict rate of paired comparisons; regimes: quantized, dependent, "
                   "near-zero, periodic and proportion regimes with coverage (also part of "
                   "decisions)")
    p.add_argument("--out", default="results/bench", help="folder for the raw samples (JSON)")
    p.add_argument("--steady-allocator", action="store_true",
                   help="compression only: reuse freed memory instead of page-faulting every "
                        "large allocation (see docs/benchmarks.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ryot import bench

    options = {"steady_allocator": True} if args.steady_allocator else {}
    if args.steady_allocator and args.name != "compression":
        raise RyotError("--steady-allocator applies to `ryot bench compression` only")
    result, path = bench.run(args.name, args.out, **options)
    print(bench.format_rows(result))
    print(f"raw samples: {path}")
    return 0
