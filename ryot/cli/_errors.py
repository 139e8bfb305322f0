"""How a command ends on an exception that is not the user's mistake: exit 4, said plainly."""

from __future__ import annotations

import sys
import traceback

__all__ = ["BUG", "report_bug"]

BUG = 4  # never a verdict: exit codes 0/1/2/3 keep their meaning everywhere


def report_bug(prog: str) -> int:
    """Print the exception being handled as a ryot bug (a short line, then the traceback)."""
    print(f"{prog}: internal error — this is a ryot bug, not a mistake in your input; please "
          f"report it with the traceback below", file=sys.stderr)
    traceback.print_exc()
    return BUG
