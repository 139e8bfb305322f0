"""The ``ryot`` command line.

Exit codes: 0 success · 1 a check failed · 2 bad input (never with a traceback) · 3 undecided.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__


class UserError(Exception):
    """A mistake in the user's input: printed as one message, exit code 2."""


def _cmd_info(args: argparse.Namespace) -> int:
    from .provenance import fingerprint

    print(json.dumps(fingerprint(), indent=2))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    result, path = bench.run(args.name, args.out)
    print(bench.format_rows(result))
    print(f"raw samples: {path}")
    return 0


def _cmd_checkpoint_check(args: argparse.Namespace) -> int:
    from .orchestrator import OptimizationOrchestrator

    try:
        orch = OptimizationOrchestrator.load_checkpoint_metadata(args.file)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"{args.file}: valid, sealed; state at epoch {orch.state.epoch}, step {orch.state.step}, "
          f"{len(orch.history)} recorded changes")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .bench import NAMES

    parser = argparse.ArgumentParser(
        prog="ryot", description="Measured, verifiable performance claims for LLM optimizations.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 undecided.")
    parser.add_argument("--version", action="version", version=f"ryot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="print ryot version, git commit and detected hardware")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("bench", help="run a micro-benchmark; raw samples go to --out")
    p.add_argument("name", choices=NAMES, help="orchestrator: per-step cost; compression: "
                   "encode+decode vs clone/naive/bitsandbytes; kv: attend vs SDPA; tune: "
                   "detect_and_tune cold and warm")
    p.add_argument("--out", default="results/bench", help="folder for the raw samples (JSON)")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("checkpoint", help="checkpoint metadata tools")
    csub = p.add_subparsers(dest="checkpoint_command", required=True, metavar="ACTION")
    c = csub.add_parser("check", help="validate a checkpoint metadata file (schema + sha256)")
    c.add_argument("file")
    c.set_defaults(func=_cmd_checkpoint_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"ryot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ryot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
