"""``ryot compare A B``: what changed between two reports, as a table."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("compare", help="what changed between two reports")
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.set_defaults(func=run)


def _number(value: float | None) -> str:
    return f"{value:.4g}" if value is not None else "—"


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ryot.verification.compare import compare_reports, load_checked

    a, b = load_checked(args.a), load_checked(args.b)
    table = Table(title=Text(f"{args.a} → {args.b}"))
    for col in ("criterion", "metric", "verdict", "estimate", "change"):
        table.add_column(col)
    for c in compare_reports(a, b):
        change = f"{c.relative_change:+.1%}" if c.relative_change is not None else "—"
        verdict = c.status_a if c.kind == "same" else f"{c.status_a} → {c.status_b}"
        table.add_row(Text(c.id), Text(c.metric), Text(verdict),
                      Text(f"{_number(c.estimate_a)} → {_number(c.estimate_b)}"), Text(change))
    Console().print(table)
    return 0
