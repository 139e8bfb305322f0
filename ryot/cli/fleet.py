"""``ryot fleet run`` and ``ryot merge``: the same criteria on several machine kinds, one
merged verdict."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ryot.infra.errors import RyotError

__all__ = ["register", "run_fleet_command", "run_merge"]

_EXIT = ("Exit codes follow the fleet verdict: 0 all PASS (NOT_APPLICABLE allowed), 1 any FAIL, "
         "3 no FAIL but some INCONCLUSIVE/ERROR, 2 bad input (a fleet file's error names its "
         "JSON pointer), 4 a ryot bug, 130 interrupted (the submitted jobs are cancelled).")


def register(sub) -> None:
    fleet = sub.add_parser("fleet", help="run criteria on several machine kinds (Slurm via "
                                         "submitit, or local processes) and merge the verdicts",
                           description="A fleet of machine kinds, one job each.", epilog=_EXIT)
    cmds = fleet.add_subparsers(dest="fleet_command", required=True, metavar="SUBCOMMAND")
    run = cmds.add_parser(
        "run", help="submit one `ryot accept` job per machine kind, merge their reports",
        description="Submit one job per machine kind of FLEET (or per kind × shard), each "
                    "running `ryot accept` of the criteria on its machine; show each job's "
                    "state; merge the sealed reports into fleet-report.json, report.md and "
                    "junit.xml in --out.", epilog=_EXIT)
    run.add_argument("--criteria", metavar="FILE", required=True, help="criteria file")
    run.add_argument("--fleet", metavar="FLEET", required=True,
                     help="fleet file (schemas/fleet.schema.json)")
    run.add_argument("--out", metavar="DIR", help="output folder (default: results/fleet-<time>/)")
    run.add_argument("--quick", action="store_true", help="`ryot accept --quick` on every kind")
    run.add_argument("--local", action="store_true",
                     help="run every machine kind as a local process (no Slurm): the same code "
                          "on a laptop or in CI")
    run.set_defaults(func=run_fleet_command)

    m = sub.add_parser("merge", help="merge sealed reports from several machines into one "
                                     "fleet report",
                       description="Merge reports (one per machine kind; NAME=REPORT names the "
                                   "kind, else the machine's label) into one sealed fleet "
                                   "report; report.md and junit.xml are written beside it.",
                       epilog=_EXIT)
    m.add_argument("reports", metavar="[NAME=]REPORT", nargs="+")
    m.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="the fleet report (FILE); FILE's stem .md and .junit.xml beside it")
    m.add_argument("--at-least", metavar="K", type=int,
                   help="a criterion passes when K kinds PASS (default: every kind)")
    m.add_argument("--key-file", metavar="FILE",
                   help="check the parts' keyed seals and seal the merge with this key "
                        "(default: $RYOT_SEAL_KEY)")
    m.set_defaults(func=run_merge)


def _summary(report: dict, where: Path) -> int:
    for v in report["verdicts"]:
        cells = ", ".join(f"{k} {c['status']}" for k, c in report["matrix"]["cells"][v["id"]]
                          .items())
        print(f"{v['status']:14s} {v['id']}  ({cells})")
    print(f"fleet report: {where}")
    return report["summary"]["exit_code"]


def run_fleet_command(args: argparse.Namespace) -> int:
    from ryot.fleet.run import run_fleet
    from ryot.infra.interrupts import Terminated, exit_code, signal_name

    try:
        done = run_fleet(args.criteria, args.fleet, args.out, quick=args.quick, local=args.local)
    except Terminated as exc:
        print(f"ryot fleet: interrupted ({signal_name(exc)}); submitted jobs cancelled",
              file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("ryot fleet: interrupted; submitted jobs cancelled", file=sys.stderr)
        return 130
    return _summary(done.report, done.paths["fleet-report.json"])


def _kind_and_path(arg: str) -> tuple[str | None, str]:
    name, sep, path = arg.partition("=")
    if sep and name and not Path(arg).exists():
        return name, path
    return None, arg


def run_merge(args: argparse.Namespace) -> int:
    from ryot.fleet import merge
    from ryot.fleet.render import render_fleet_files
    from ryot.infra.atomic import write_bytes_atomic
    from ryot.verification.report import keyed_seal, now, seal_key
    from ryot.verification.verify import load_report, verify_report

    key = seal_key(args.key_file)
    parts, names = [], {}
    for arg in args.reports:
        name, path = _kind_and_path(arg)
        report = load_report(path)
        problems = verify_report(report, key=key)
        if problems:
            raise RyotError(f"not merged: the report does not verify ({problems[0]})",
                            source=path)
        label = report["environment"].get("machine", {}).get("label") or path
        name = name or label
        names[name] = names.get(name, 0) + 1
        parts.append(merge.part(name if names[name] == 1 else f"{name} #{names[name]}", report))
    if args.at_least is not None and not 1 <= args.at_least <= len(parts):
        raise RyotError(f"expected 1 to {len(parts)} (the number of reports), got "
                        f"{args.at_least}", source="--at-least")
    rules = {"default": {"at_least": args.at_least} if args.at_least else "all", "criteria": {}}
    stamp = now()
    report = merge.build(parts, rules=rules, fleet=None, started_at=stamp, finished_at=stamp)
    if key:
        report = keyed_seal(report, key)
    out = Path(args.output)
    if out.suffix in (".md", ".xml") or out.is_dir():
        raise RyotError("expected a .json file to write (report.md and .junit.xml are written "
                        "beside it)", source=f"-o {args.output}")
    files = render_fleet_files(report)
    try:
        write_bytes_atomic(out, files["fleet-report.json"])
        write_bytes_atomic(out.with_suffix(".md"), files["report.md"])
        write_bytes_atomic(out.with_suffix(".junit.xml"), files["junit.xml"])
    except OSError as exc:
        raise RyotError(f"cannot write: {exc.strerror or exc}", source=str(out)) from None
    return _summary(report, out)
