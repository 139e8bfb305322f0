"""``ryot history add | check | html``: a store of verified reports, change points, a page."""

from __future__ import annotations

import argparse
import sys

from ryot.infra.errors import RyotError

__all__ = ["register", "run_add", "run_check", "run_html"]

_DB_HELP = "the history database (default: results/history.sqlite)"


def register(sub) -> None:
    p = sub.add_parser(
        "history", help="store verified reports; find change points; write a dashboard",
        description="A history of sealed reports across commits and machines (SQLite).",
        epilog="Exit codes: 0 ok, 1 a refused report (add) or a change point against a "
               "criterion's wanted direction (check), 2 bad input (a locked or corrupt "
               "database, an unknown --since ref).")
    cmds = p.add_subparsers(dest="history_command", required=True, metavar="SUBCOMMAND")

    add = cmds.add_parser("add", help="verify reports and store them (a report added twice is "
                                      "stored once)")
    add.add_argument("reports", metavar="REPORT", nargs="+")
    add.add_argument("--db", metavar="PATH", default=None, help=_DB_HELP)
    add.add_argument("--key-file", metavar="FILE",
                     help="check keyed seals with this key (default: $RYOT_SEAL_KEY)")
    add.set_defaults(func=run_add)

    check = cmds.add_parser(
        "check", help="report change points; exit 1 when one goes against a criterion",
        description="Find change points in every criterion's series of estimates, one series "
                    "per machine fingerprint, and name the commit where each happened.")
    check.add_argument("--db", metavar="PATH", default=None, help=_DB_HELP)
    check.add_argument("--since", metavar="REF",
                       help="only change points at commits after REF (git rev-list REF..HEAD)")
    check.set_defaults(func=run_check)

    page = cmds.add_parser("html", help="write a self-contained dashboard (DIR/index.html)")
    page.add_argument("--db", metavar="PATH", default=None, help=_DB_HELP)
    page.add_argument("--out", metavar="DIR", required=True)
    page.add_argument("--title", default="ryot history")
    page.set_defaults(func=run_html)


def _db(args) -> str:
    from ryot.history.store import DEFAULT_DB

    return args.db or str(DEFAULT_DB)


def run_add(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from ryot.history.store import add_reports
    from ryot.verification.report import seal_key

    key = seal_key(args.key_file)
    with Progress(transient=True, console=None, disable=len(args.reports) < 20) as progress:
        task = progress.add_task("verifying", total=len(args.reports))
        added = add_reports(_db(args), args.reports, key=key,
                            on_each=lambda _: progress.advance(task))
    for _path, why in added.refused:
        print(f"ryot history: {why}", file=sys.stderr)
    print(f"{_db(args)}: {len(added.stored)} added, {len(added.duplicates)} already there, "
          f"{len(added.refused)} refused")
    return 1 if added.refused else 0


def run_check(args: argparse.Namespace) -> int:
    from ryot.history.check import commits_since, find
    from ryot.history.series import machines, read_series
    from ryot.history.store import connect

    since = commits_since(args.since) if args.since else None
    with connect(_db(args), create=False) as con:
        labels = {m: label for m, (label, _) in machines(con).items()}
        all_series = read_series(con)
    found = find(all_series, since)
    for f in found:
        print(f.describe(labels.get(f.series.machine, f.series.machine)))
    against = sum(f.against for f in found)
    points = sum(len(s.points) for s in all_series)
    print(f"{len(all_series)} series, {points} points: {len(found)} change points, "
          f"{against} against the wanted direction", file=sys.stderr)
    return 1 if against else 0


def run_html(args: argparse.Namespace) -> int:
    from ryot.history.check import find
    from ryot.history.dashboard import render, write_site
    from ryot.history.series import machines, read_series
    from ryot.history.store import connect, report_body

    with connect(_db(args), create=False) as con:
        labels = {m: label for m, (label, _) in machines(con).items()}
        all_series = read_series(con)
        bodies = [(sha, report_body(blob))
                  for sha, blob in con.execute("SELECT sha256, body FROM reports")]
    if not all_series:
        raise RyotError("no reports in the history yet", source=_db(args))
    page = render(all_series, find(all_series), labels, args.title)
    index = write_site(args.out, page, bodies)
    print(f"dashboard: {index} ({len(all_series)} series, {len(bodies)} reports)")
    return 0
