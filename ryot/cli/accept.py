"""``ryot accept``: measure every criterion, decide, write the report set."""

from __future__ import annotations

import argparse
import sys

from ryot.infra.errors import RyotError
from ryot.infra.interrupts import (
    Terminated,
    exit_code,
    signal_name,
    terminate_as_interrupt,
)
from ryot.verification.commits import MERGE_BASE

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser(
        "accept",
        help="measure every criterion, decide, write report.json/.md, junit.xml, plot.png",
        description="Measure every criterion of a criteria file, decide each, and write "
                    "report.json, report.md, junit.xml and plot.png into --out as one set.",
        epilog="Exit codes: 0 all PASS (NOT_APPLICABLE allowed), 1 any FAIL, 3 no FAIL but "
               "some INCONCLUSIVE/INVALID/ERROR, 2 bad input (before anything is measured when "
               "it is --out), 4 a ryot bug or finished results that could not be written (the "
               "rendered set is kept in a folder beside --out, named in the message), "
               "130 interrupted (SIGINT), 143 terminated (SIGTERM).")
    p.add_argument("--criteria", metavar="FILE",
                   help="criteria file (default: the repository's success_criteria.json)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/accept-<time>/)")
    p.add_argument("--quick", action="store_true", help="a quarter of each sample/time budget")
    p.add_argument("--baseline", metavar="REF", nargs="?", const=MERGE_BASE,
                   help="compare the criteria marked \"across_commits\" between the git commit "
                        "REF (checked out in a temporary worktree) and the working tree, in "
                        "interleaved rounds; without REF: the merge-base of HEAD and "
                        "$RYOT_BASE_BRANCH (default origin/main, else main)")
    p.add_argument("--commit", metavar="SHA",
                   help="the commit under test, when git's HEAD is not it (a CI's merge or "
                        "detached checkout; default: $RYOT_COMMIT, else HEAD)")
    p.add_argument("--history", metavar="DB",
                   help="add the report to this history database once it is written "
                        "(`ryot history`)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from ryot.infra.subject import check_commit
    from ryot.verification.engine import accept, summary_table

    commit = check_commit(args.commit, "--commit") if args.commit else None

    try:
        with terminate_as_interrupt():  # SIGTERM unwinds too: the baseline's worktree is removed
            report, written = accept(args.criteria, args.out, quick=args.quick,
                                     console=Console(file=sys.stderr), baseline=args.baseline,
                                     commit=commit)
    except FileNotFoundError as exc:
        raise RyotError(str(exc)) from None
    except Terminated as exc:
        print(f"ryot accept: interrupted ({signal_name(exc)})", file=sys.stderr)
        return exit_code(exc)
    if args.history:
        from ryot.history.store import add_after_run

        written = add_after_run(args.history, written)
    console = Console(file=sys.stdout)
    console.print(summary_table(report))
    for note in written.notes:
        console.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    folder = written.paths["report.json"].parent
    console.print(Text(f"report: {written.paths['report.json']}  (also "
                       f"{', '.join(n for n in written.paths if n != 'report.json')} in {folder})"),
                  soft_wrap=True)
    return report["summary"]["exit_code"]
