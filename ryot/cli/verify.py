"""``ryot verify``: recompute a report's statistics and verdicts from its raw samples."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("verify",
                       help="recompute a report's statistics and verdicts from its samples",
                       description="Exit codes: 0 consistent, 1 mismatch (names the metric), "
                                   "2 unreadable, 4 a ryot bug.")
    p.add_argument("report", metavar="REPORT")
    p.add_argument("--criteria", metavar="FILE",
                   help="also check the report against this criteria file: its sha256, every "
                        "criterion's bounds and budget, none missing or added")
    p.add_argument("--key-file", metavar="FILE",
                   help="check the report's keyed seal (HMAC-SHA256) with the key in FILE "
                        "(default: the RYOT_SEAL_KEY environment variable, when set)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ryot.fleet.verify import is_fleet_report
    from ryot.verification.criteria import load_criteria
    from ryot.verification.report import seal_key
    from ryot.verification.verify import load_report, verify_report

    if is_fleet_report(_peek(args.report)):
        return _run_fleet(args)
    report = load_report(args.report)
    criteria = load_criteria(args.criteria, import_references=False) if args.criteria else None
    key = seal_key(args.key_file)
    mismatches = verify_report(report, criteria=criteria, key=key)
    for m in mismatches:
        print(f"ryot verify: MISMATCH {m}", file=sys.stderr)
    if mismatches:
        n = len(mismatches)
        print(f"ryot verify: {args.report}: {n} mismatch{'es' if n > 1 else ''}: the report is not "
              "what its samples" + (" and criteria" if criteria else "") + " say", file=sys.stderr)
        return 1
    checked = [f"{len(report['results'])} results recomputed from their raw samples"]
    if criteria is not None:
        checked.append(f"criteria match {args.criteria}")
    if key is not None:
        checked.append("keyed seal valid")
    elif "hmac" in report:
        checked.append("keyed seal present but not checked (no key: set RYOT_SEAL_KEY or "
                       "--key-file)")
    print(f"{args.report}: consistent — " + "; ".join(checked))
    return 0


def _peek(path: str):
    from ryot.infra.errors import ReportError
    from ryot.verification.criteria import read_json

    doc, _ = read_json(path, error=ReportError)
    return doc


def _run_fleet(args: argparse.Namespace) -> int:
    from ryot.fleet.verify import verify_fleet
    from ryot.infra.errors import RyotError
    from ryot.verification.report import seal_key

    if args.criteria:
        raise RyotError("--criteria checks a single report; a fleet report's parts each name "
                        "their criteria file", source="--criteria")
    report = _peek(args.report)
    key = seal_key(args.key_file)
    mismatches = verify_fleet(report, key=key)
    for m in mismatches:
        print(f"ryot verify: MISMATCH {m}", file=sys.stderr)
    if mismatches:
        print(f"ryot verify: {args.report}: {len(mismatches)} mismatch(es): the fleet report is "
              "not what its parts say", file=sys.stderr)
        return 1
    done = sum(p["status"] == "done" for p in report["parts"])
    print(f"{args.report}: consistent — {done} parts recomputed from their raw samples; the "
          f"matrix and {len(report['verdicts'])} fleet verdicts re-derived"
          + ("; keyed seal valid" if key else ""))
    return 0
