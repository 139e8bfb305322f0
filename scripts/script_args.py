"""Command-line arguments shared by the optimizer scripts (``optimizer_step_bench.py``,
``optimizer_step_parts.py``, ``adamw8bit_loop.py``). Only the standard library: a script parses
its arguments before it imports torch, so a usage error (exit 2) comes at once."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["positive_int", "rounds_and_out", "writable_file"]


def positive_int(text: str) -> int:
    """argparse type: an int >= 1 (else a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {text!r}")
    return value


def writable_file(text: str) -> Path:
    """argparse type: a file path whose folder exists (else a usage error, exit 2)."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {str(path.parent)!r} does not exist")
    return path


def rounds_and_out(doc: str, rounds: int, rounds_help: str,
                   argv: list[str] | None) -> argparse.Namespace:
    """``--rounds`` (default ``rounds``) and a required ``--out`` JSON file, parsed from
    ``argv``; the description is the first line of ``doc``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=positive_int, default=rounds,
                        help=f"{rounds_help} (default {rounds})")
    parser.add_argument("--out", type=writable_file, required=True,
                        help="the JSON file to write")
    return parser.parse_args(argv)
