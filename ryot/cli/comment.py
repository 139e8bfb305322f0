"""``ryot comment`` (a pull-request comment) and ``ryot export`` (other dashboards' formats)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "run_comment", "run_export"]


def register(sub) -> None:
    c = sub.add_parser("comment", help="a compact Markdown pull-request comment of a report",
                       description="Print a pull-request comment: a line per criterion "
                                   "(failures first), the change against --baseline-report, a "
                                   "link to the full report; under GitHub's 65,536 characters "
                                   "(the rest collapsed). Post it with `gh pr comment N "
                                   "--body-file -`.",
                       epilog="Exit codes: 0 written, 2 an unreadable report.")
    c.add_argument("report", metavar="REPORT")
    c.add_argument("--baseline-report", metavar="OLD", help="an older report to compare with")
    c.add_argument("--link", metavar="URL", help="where the full report.md is (a CI artifact)")
    c.set_defaults(func=run_comment)
    e = sub.add_parser("export", help="a report's estimates for github-action-benchmark or "
                                      "Bencher",
                       description="Write a report's estimates (with their intervals) in the "
                                   "format of another dashboard.",
                       epilog="Exit codes: 0 written, 2 an unreadable report or bad option.")
    e.add_argument("report", metavar="REPORT")
    e.add_argument("--format", required=True, choices=("github-action-benchmark", "bencher"))
    e.add_argument("--wanted", choices=("higher", "lower"),
                   help="github-action-benchmark: keep the criteria that want higher (>=) or "
                        "lower (<=) values (its tool is customBiggerIsBetter or "
                        "customSmallerIsBetter for a whole file)")
    e.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    e.set_defaults(func=run_export)


def _load(path: str) -> dict:
    """A report that its schema accepts (exit 2 naming the place otherwise)."""
    from ryot.infra.errors import ReportError
    from ryot.infra.schemas import describe, first_error
    from ryot.verification.report import SCHEMA
    from ryot.verification.verify import load_report

    report = load_report(path)
    error = first_error(SCHEMA, report)
    if error is not None:
        raise ReportError(f"not a valid report: {describe(error)}", source=path)
    return report


def run_comment(args: argparse.Namespace) -> int:
    from ryot.verification.writers.comment import render_comment

    old = _load(args.baseline_report) if args.baseline_report else None
    sys.stdout.write(render_comment(_load(args.report), old, args.link))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ryot.infra.atomic import write_text_atomic
    from ryot.infra.errors import RyotError
    from ryot.verification.writers.export import export

    if args.wanted and args.format != "github-action-benchmark":
        raise RyotError("--wanted applies to --format github-action-benchmark", source="--wanted")
    doc, left_out = export(_load(args.report), args.format, args.wanted)
    for why in left_out:
        print(f"ryot export: left out {why}", file=sys.stderr)
    out = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    if args.output:
        write_text_atomic(args.output, out)
    else:
        sys.stdout.write(out)
    return 0
