"""``ryot criteria check`` and ``ryot criteria migrate``: criteria file tools."""

from __future__ import annotations

import argparse
import json
import sys

from ryot.infra.errors import RyotError

__all__ = ["register"]


def register(sub) -> None:
    p = sub.add_parser("criteria", help="criteria file tools")
    csub = p.add_subparsers(dest="criteria_command", required=True, metavar="ACTION")
    c = csub.add_parser(
        "check", help="validate a criteria file (exit 0 valid, 2 invalid)",
        description="Checks the schema and the meaning. Provider and workload references are "
                    "located without importing them (no code from the file runs) unless "
                    "--import is given.")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--import", dest="import_references", action="store_true",
                   help="also import the provider and workload modules (runs their code)")
    c.set_defaults(func=check)
    c = csub.add_parser("migrate", help="convert the origin's flat _min/_max file to this format")
    c.add_argument("legacy", metavar="LEGACY")
    c.add_argument("-o", "--output", metavar="OUT", help="write here (default: standard output)")
    c.set_defaults(func=migrate)


def check(args: argparse.Namespace) -> int:
    from ryot.verification.criteria import load_criteria

    criteria = load_criteria(args.file, import_references=args.import_references)
    referenced = any(c.provider for c in criteria.criteria) or criteria.workload
    how = ("; provider/workload modules imported" if args.import_references else
           "; provider/workload modules located, not imported (--import imports them)")
    print(f"{args.file}: valid — {len(criteria.criteria)} criteria{how if referenced else ''}")
    return 0


def migrate(args: argparse.Namespace) -> int:
    from ryot.infra.atomic import write_json_atomic
    from ryot.verification.criteria import read_json
    from ryot.verification.migrate import migrate as migrate_document

    doc, _ = read_json(args.legacy)
    migrated, unmapped = migrate_document(doc, args.legacy)
    for line in unmapped:
        print(f"ryot criteria migrate: not mapped: {line}", file=sys.stderr)
    if args.output:
        try:
            write_json_atomic(args.output, migrated)
        except OSError as exc:
            raise RyotError(f"cannot write: {exc.strerror or exc}", source=f"-o {args.output}") \
                from None
        print(f"wrote {args.output}: {len(migrated['criteria'])} criteria", file=sys.stderr)
    else:
        print(json.dumps(migrated, indent=2, ensure_ascii=False, allow_nan=False))
    return 0
