"""``ryot checkpoint check FILE``: validate checkpoint metadata (schema + sha256)."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("checkpoint", help="checkpoint metadata tools")
    csub = p.add_subparsers(dest="checkpoint_command", required=True, metavar="ACTION")
    c = csub.add_parser("check", help="validate a checkpoint metadata file (schema + sha256)")
    c.add_argument("file")
    c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ryot.core.orchestration.coordinator import OptimizationOrchestrator

    orch = OptimizationOrchestrator.load_checkpoint_metadata(args.file)
    print(f"{args.file}: valid, sealed; state at epoch {orch.state.epoch}, step "
          f"{orch.state.step}, {len(orch.history)} recorded changes")
    return 0
