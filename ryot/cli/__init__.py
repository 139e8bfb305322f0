"""The ``ryot`` command line.

Exit codes: 0 success · 1 a check failed · 2 bad input (never with a traceback) · 3 undecided.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ryot.infra.version import __version__


class UserError(Exception):
    """A mistake in the user's input: printed as one message, exit code 2."""


def _cmd_info(args: argparse.Namespace) -> int:
    from ryot.infra.provenance import fingerprint

    print(json.dumps(fingerprint(), indent=2))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from ryot import bench

    options = {"steady_allocator": True} if args.steady_allocator else {}
    if args.steady_allocator and args.name != "compression":
        raise UserError("--steady-allocator applies to `ryot bench compression` only")
    result, path = bench.run(args.name, args.out, **options)
    print(bench.format_rows(result))
    print(f"raw samples: {path}")
    return 0


def _cmd_checkpoint_check(args: argparse.Namespace) -> int:
    from ryot.core.orchestration.coordinator import OptimizationOrchestrator

    try:
        orch = OptimizationOrchestrator.load_checkpoint_metadata(args.file)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"{args.file}: valid, sealed; state at epoch {orch.state.epoch}, step {orch.state.step}, "
          f"{len(orch.history)} recorded changes")
    return 0


def _cmd_accept(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from ryot.infra.errors import CriteriaError, OutputError
    from ryot.verification.engine import accept, summary_table

    try:
        report, written = accept(args.criteria, args.out, quick=args.quick,
                                 console=Console(file=sys.stderr))
    except (CriteriaError, OutputError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    console = Console(file=sys.stdout)
    console.print(summary_table(report))
    for note in written.notes:
        console.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    folder = written.paths["report.json"].parent
    console.print(Text(f"report: {written.paths['report.json']}  (also "
                       f"{', '.join(n for n in written.paths if n != 'report.json')} in {folder})"),
                  soft_wrap=True)
    return report["summary"]["exit_code"]


def _cmd_verify(args: argparse.Namespace) -> int:
    from ryot.infra.errors import CriteriaError, ReportError
    from ryot.verification.criteria import load_criteria
    from ryot.verification.report import seal_key
    from ryot.verification.verify import load_report, verify_report

    try:
        report = load_report(args.report)
        criteria = load_criteria(args.criteria, import_references=False) if args.criteria else None
        key = seal_key(args.key_file)
    except (ReportError, CriteriaError, ValueError) as exc:
        raise UserError(str(exc)) from None
    mismatches = verify_report(report, criteria=criteria, key=key)
    for m in mismatches:
        print(f"ryot verify: MISMATCH {m}", file=sys.stderr)
    if mismatches:
        return 1
    checked = [f"{len(report['results'])} results recomputed from their raw samples"]
    if criteria is not None:
        checked.append(f"criteria match {args.criteria}")
    if key is not None:
        checked.append("keyed seal valid")
    elif "hmac" in report:
        checked.append("keyed seal present but not checked (no key: set RYOT_SEAL_KEY or --key-file)")
    print(f"{args.report}: consistent — " + "; ".join(checked))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ryot.infra.errors import ReportError
    from ryot.verification.compare import compare_reports, load_checked

    try:
        a, b = load_checked(args.a), load_checked(args.b)
    except ReportError as exc:
        raise UserError(str(exc)) from None
    table = Table(title=Text(f"{args.a} → {args.b}"))
    for col in ("criterion", "metric", "verdict", "estimate", "change"):
        table.add_column(col)
    for c in compare_reports(a, b):
        change = f"{c.relative_change:+.1%}" if c.relative_change is not None else "—"
        fmt = lambda v: f"{v:.4g}" if v is not None else "—"  # noqa: E731
        verdict = c.status_a if c.kind == "same" else f"{c.status_a} → {c.status_b}"
        table.add_row(Text(c.id), Text(c.metric), Text(verdict),
                      Text(f"{fmt(c.estimate_a)} → {fmt(c.estimate_b)}"), Text(change))
    Console().print(table)
    return 0


def _cmd_criteria_check(args: argparse.Namespace) -> int:
    from ryot.infra.errors import CriteriaError
    from ryot.verification.criteria import load_criteria

    try:
        criteria = load_criteria(args.file, import_references=args.import_references)
    except CriteriaError as exc:
        raise UserError(str(exc)) from None
    referenced = any(c.provider for c in criteria.criteria) or criteria.workload
    how = ("; provider/workload modules imported" if args.import_references else
           "; provider/workload modules located, not imported (--import imports them)")
    print(f"{args.file}: valid — {len(criteria.criteria)} criteria{how if referenced else ''}")
    return 0


def _cmd_criteria_migrate(args: argparse.Namespace) -> int:
    from ryot.infra.atomic import write_json_atomic
    from ryot.infra.errors import CriteriaError
    from ryot.verification.criteria import read_json
    from ryot.verification.migrate import migrate

    try:
        doc, _ = read_json(args.legacy)
        migrated, unmapped = migrate(doc, args.legacy)
    except CriteriaError as exc:
        raise UserError(str(exc)) from None
    for line in unmapped:
        print(f"ryot criteria migrate: not mapped: {line}", file=sys.stderr)
    if args.output:
        try:
            write_json_atomic(args.output, migrated)
        except OSError as exc:
            raise UserError(f"-o {args.output}: cannot write: {exc.strerror or exc}") from None
        print(f"wrote {args.output}: {len(migrated['criteria'])} criteria", file=sys.stderr)
    else:
        print(json.dumps(migrated, indent=2, ensure_ascii=False, allow_nan=False))
    return 0


def _cmd_overhead(args: argparse.Namespace) -> int:
    """Numbers only: exit 0 once measured (even when nothing was saved); the ``overhead_gate``
    criterion, not this command, judges the fraction."""
    from pathlib import Path

    from ryot.infra.atomic import write_json_atomic, write_text_atomic
    from ryot.infra.schemas import describe, first_error
    from ryot.metrics.overhead import SCHEMA, analyse, render_markdown
    from ryot.workload.presets import PRESETS

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)  # bad input fails before minutes of measuring
    except OSError as exc:
        raise UserError(f"--out {out}: cannot create it: {exc.strerror or exc}") from None
    analysis = analyse(PRESETS[args.preset])
    error = first_error(SCHEMA, analysis)
    if error is not None:  # our bug, not the user's: fail loudly
        raise RuntimeError(f"overhead analysis does not match its schema: {describe(error)}")
    try:
        write_json_atomic(out / "overhead_analysis.json", analysis)
        write_text_atomic(out / "overhead_analysis.md", render_markdown(analysis))
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    print(render_markdown(analysis))
    print(f"written: {out / 'overhead_analysis.json'}, {out / 'overhead_analysis.md'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ryot.bench import NAMES

    parser = argparse.ArgumentParser(
        prog="ryot", description="Measured, verifiable performance claims for LLM optimizations.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 undecided.")
    parser.add_argument("--version", action="version", version=f"ryot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "accept", help="measure every criterion, decide, write report.json/.md, junit.xml, plot.png",
        description="Exit codes: 0 all PASS (NOT_APPLICABLE allowed), 1 any FAIL, 3 no FAIL but "
                    "some INCONCLUSIVE/INVALID/ERROR, 2 bad input.")
    p.add_argument("--criteria", metavar="FILE",
                   help="criteria file (default: the repository's success_criteria.json)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/accept-<time>/)")
    p.add_argument("--quick", action="store_true", help="a quarter of each sample/time budget")
    p.set_defaults(func=_cmd_accept)

    p = sub.add_parser("verify", help="recompute a report's statistics and verdicts from its samples",
                       description="Exit codes: 0 consistent, 1 mismatch (names the metric), 2 unreadable.")
    p.add_argument("report", metavar="REPORT")
    p.add_argument("--criteria", metavar="FILE",
                   help="also check the report against this criteria file: its sha256, every "
                        "criterion's bounds and budget, none missing or added")
    p.add_argument("--key-file", metavar="FILE",
                   help="check the report's keyed seal (HMAC-SHA256) with the key in FILE "
                        "(default: the RYOT_SEAL_KEY environment variable, when set)")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("compare", help="what changed between two reports")
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.set_defaults(func=_cmd_compare)

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
    c.set_defaults(func=_cmd_criteria_check)
    c = csub.add_parser("migrate", help="convert the origin's flat _min/_max file to this format")
    c.add_argument("legacy", metavar="LEGACY")
    c.add_argument("-o", "--output", metavar="OUT", help="write here (default: standard output)")
    c.set_defaults(func=_cmd_criteria_migrate)

    p = sub.add_parser("overhead", help="measure the optimizations' overhead against the time they save",
                       description="Writes overhead_analysis.json (schemas/overhead_analysis.schema.json) "
                                   "and .md: numbers only. Exit 0 measured, 2 bad input; `ryot accept` "
                                   "judges the fraction (criterion overhead_gate).")
    p.add_argument("--preset", choices=["quick", "full"], default="quick")
    p.add_argument("--out", default="results/overhead", metavar="DIR")
    p.set_defaults(func=_cmd_overhead)

    sub.add_parser("train", help="train the embedded model, baseline or optimized (`ryot train --help`)")

    p = sub.add_parser("info", help="print ryot version, git commit and detected hardware")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("bench", help="run a micro-benchmark; raw samples go to --out")
    p.add_argument("name", choices=NAMES, help="orchestrator: per-step cost; compression: "
                   "encode+decode vs clone/naive/bitsandbytes; kv: attend vs SDPA; tune: "
                   "detect_and_tune cold and warm; decisions: the engine's wrong-verdict rate; "
                   "inference: TTFT, decode and the int8 KV cache's bytes per context length; training: "
                   "ryot's optimized step and memory against stock PyTorch (eager, compiled)")
    p.add_argument("--out", default="results/bench", help="folder for the raw samples (JSON)")
    p.add_argument("--steady-allocator", action="store_true",
                   help="compression only: reuse freed memory instead of page-faulting every "
                        "large allocation (see docs/benchmarks.md)")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("checkpoint", help="checkpoint metadata tools")
    csub = p.add_subparsers(dest="checkpoint_command", required=True, metavar="ACTION")
    c = csub.add_parser("check", help="validate a checkpoint metadata file (schema + sha256)")
    c.add_argument("file")
    c.set_defaults(func=_cmd_checkpoint_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # its own parser: every option after `train` is the trainer's
        from ryot.cli.train import main as train_main

        return train_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"ryot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ryot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
