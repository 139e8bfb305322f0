"""``ryot compare A B``: what changed between two reports, as a table."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("compare", help="what changed between two reports",
                       description="Both reports are verified first. Reports from different "
                                   "machine fingerprints are refused (exit 2) unless "
                                   "--across-machines: their numbers differ by machine too.")
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("--across-machines", action="store_true",
                   help="compare reports made on different machines anyway (the table says so)")
    p.set_defaults(func=run)


def _number(value: float | None) -> str:
    return f"{value:.4g}" if value is not None else "—"


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ryot.infra.errors import RyotError
    from ryot.verification.compare import compare_reports, load_checked, machine_difference

    a, b = load_checked(args.a), load_checked(args.b)
    differ = machine_difference(a, b)
    if differ and not args.across_machines:
        raise RyotError(f"{differ}; pass --across-machines to compare them anyway",
                        source=f"{args.a}, {args.b}")
    title = f"{args.a} → {args.b}" + (f"\n(across machines: {differ})" if differ else "")
    table = Table(title=Text(title))
    for col in ("criterion", "metric", "verdict", "estimate", "change"):
        table.add_column(col)
    for c in compare_reports(a, b):
        change = f"{c.relative_change:+.1%}" if c.relative_change is not None else "—"
        verdict = c.status_a if c.kind == "same" else f"{c.status_a} → {c.status_b}"
        table.add_row(Text(c.id), Text(c.metric), Text(verdict),
                      Text(f"{_number(c.estimate_a)} → {_number(c.estimate_b)}"), Text(change))
    Console().print(table)
    return 0
