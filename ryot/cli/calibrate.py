"""``ryot calibrate``: A/A runs (HEAD against HEAD) of the criteria compared across commits."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ryot.infra.errors import RyotError

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="A/A self-test: the false-alarm rate and minimum detectable effect of the "
             "criteria compared across commits, on this machine",
        description="Run every criterion marked \"across_commits\" RUNS times with HEAD on both "
                    "sides (a git worktree of HEAD against the clean working tree). A FAIL is a "
                    "false alarm: the table gives their rate with a 95%% interval, beside the "
                    "slowdown the criterion would catch 4 times in 5 (its minimum detectable "
                    "effect, from the spread of the A/A rounds).",
        epilog="Exit codes: 0 no false alarm, 1 at least one FAIL in an A/A run, 3 no FAIL "
               "but some run ERROR or INVALID (its rate then says less than it seems), 2 bad "
               "input (no git, uncommitted changes, no such criterion, --json unwritable), 130 "
               "interrupted, 143 terminated.")
    p.add_argument("--criteria", metavar="FILE",
                   help="criteria file (default: the repository's success_criteria.json)")
    p.add_argument("--runs", type=int, default=10, metavar="N",
                   help="A/A runs (default 10; 40 or more for a tight interval)")
    p.add_argument("--quick", action="store_true", help="a quarter of each sample/time budget")
    p.add_argument("--json", metavar="FILE", dest="json_out",
                   help="also write every run's verdict, estimate and rounds here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table
    from rich.text import Text

    from ryot.infra.atomic import write_text_atomic
    from ryot.infra.interrupts import Terminated, exit_code, signal_name, terminate_as_interrupt
    from ryot.verification.calibrate import POWER, calibrate
    from ryot.verification.criteria import load_criteria
    from ryot.verification.engine import default_criteria_path

    if args.runs < 1:
        raise RyotError(f"--runs {args.runs}: expected at least 1 run")
    criteria = load_criteria(args.criteria or default_criteria_path(), import_references=False)
    if args.json_out and not os.path.isdir(os.path.dirname(os.path.abspath(args.json_out))):
        raise RyotError(f"--json {args.json_out}: its folder does not exist")
    err = Console(file=sys.stderr)
    try:
        with terminate_as_interrupt(), Progress(TextColumn("A/A runs"), BarColumn(),
                                                MofNCompleteColumn(), console=err) as progress:
            task = progress.add_task("runs", total=args.runs)
            found = calibrate(criteria, args.runs, quick=args.quick,
                              on_run=lambda done: progress.update(task, completed=done))
    except Terminated as exc:
        print(f"ryot calibrate: interrupted ({signal_name(exc)})", file=sys.stderr)
        return exit_code(exc)
    table = Table(title=Text(f"A/A calibration: {criteria.name} ({args.runs} runs, HEAD vs HEAD)"))
    for col in ("criterion", "required", "PASS / INCONCLUSIVE / FAIL", "false alarms [95% CI]",
                f"detects ({POWER:.0%} power)"):
        table.add_column(col)
    for f in found:
        rate, low, high = f.false_alarm_rate()
        counts = " / ".join(str(f.statuses.count(s)) for s in ("PASS", "INCONCLUSIVE", "FAIL"))
        other = len(f.statuses) - sum(f.statuses.count(s) for s in ("PASS", "INCONCLUSIVE",
                                                                      "FAIL"))
        mde = f.mde()
        table.add_row(Text(f.criterion.id), Text(f.criterion.bounds_text()),
                      Text(counts + (f" (+{other} other)" if other else "")),
                      Text(f"{rate:.1%} [{low:.1%}, {high:.1%}]"),
                      Text("—" if mde != mde else f"a {mde:.1%} slowdown"))
    Console(file=sys.stdout).print(table)
    if args.json_out:
        write_text_atomic(args.json_out, json.dumps(
            {"runs": args.runs, "criteria_file": criteria.path,
             "criteria": [f.to_dict() for f in found]}, indent=1, allow_nan=True))
    if any(f.false_alarms() for f in found):
        return 1
    return 3 if any(f.broken() for f in found) else 0
