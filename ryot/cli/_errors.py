"""How a command ends on an exception that is not the user's mistake: exit 4, said plainly.

Two kinds: a ryot bug (a short line and the traceback) and finished results that could not be
written (a :class:`~ryot.infra.errors.PublishError`: one line naming the file, the OS error and
the folder the rendered set was kept in, no traceback). Neither is ever a verdict.
"""

from __future__ import annotations

import sys
import traceback

from ryot.infra.errors import PublishError

__all__ = ["BUG", "UNWRITTEN", "report_bug", "report_unwritten"]

BUG = 4  # never a verdict: exit codes 0/1/2/3 keep their meaning everywhere
UNWRITTEN = 4  # results measured but not written: not a verdict, not bad input


def report_bug(prog: str) -> int:
    """Print the exception being handled as a ryot bug (a short line, then the traceback)."""
    print(f"{prog}: internal error — this is a ryot bug, not a mistake in your input; please "
          f"report it with the traceback below", file=sys.stderr)
    traceback.print_exc()
    return BUG


def report_unwritten(prog: str, exc: PublishError) -> int:
    """Print why the finished results are not where they were asked for, and where they are."""
    print(f"{prog}: error: {exc.message}", file=sys.stderr)
    return UNWRITTEN
