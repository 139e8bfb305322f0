"""The ``ryot`` command line: one module per command, each with ``register(subparsers)``.

Exit codes: 0 success · 1 a check failed · 2 bad input (a :class:`~ryot.infra.errors.RyotError`,
one line, never a traceback) · 3 undecided · 4 a ryot bug (any other exception: a short line
and the traceback) or finished results that could not be written (a
:class:`~ryot.infra.errors.PublishError`: one line naming the file and the folder where the
rendered set was kept) · 130 interrupted.

Output never fails on its encoding: stdout and stderr write what they cannot encode (a name
with "é" under ``PYTHONIOENCODING=ascii``, a lone surrogate) as a backslash escape.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ryot.cli import (
    accept,
    bench,
    calibrate,
    checkpoint,
    comment,
    compare,
    criteria,
    fleet,
    history,
    info,
    overhead,
    verify,
)
from ryot.cli._errors import BUG, UNWRITTEN, report_bug, report_unwritten
from ryot.infra.errors import PublishError, RyotError
from ryot.infra.version import __version__

__all__ = ["BUG", "UNWRITTEN", "build_parser", "main", "report_bug"]

_COMMANDS = (accept, calibrate, verify, compare, comment, history, fleet, criteria, overhead)
_LATER = (info, bench, checkpoint)  # after `train` in --help, as before


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ryot", description="Measured, verifiable performance claims for LLM optimizations.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 undecided, 4 a ryot bug "
               "or results that could not be written, 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"ryot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(sub)
    sub.add_parser("train", help="train the embedded model, baseline or optimized "
                                 "(`ryot train --help`)")
    for command in _LATER:
        command.register(sub)
    return parser


def _escape_what_cannot_be_encoded() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (or closed): as is
            pass


def main(argv: Sequence[str] | None = None) -> int:
    _escape_what_cannot_be_encoded()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # its own parser: every option after `train` is the trainer's
        from ryot.cli.train import main as train_main

        return train_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RyotError as exc:
        print(f"ryot: error: {exc}", file=sys.stderr)
        return 2
    except PublishError as exc:  # measured, decided, kept elsewhere: not a bug, not a verdict
        return report_unwritten("ryot", exc)
    except KeyboardInterrupt:
        print("ryot: interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - anything else is our bug: say so, keep the traceback
        return report_bug("ryot")

