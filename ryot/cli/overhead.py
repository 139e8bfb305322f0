"""``ryot overhead``: the optimizations' overhead against the time they save, numbers only."""

from __future__ import annotations

import argparse

from ryot.infra.errors import RyotError

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser(
        "overhead", help="measure the optimizations' overhead against the time they save",
        description="Writes overhead_analysis.json (schemas/overhead_analysis.schema.json) and "
                    ".md: numbers only. Exit 0 measured, 2 bad input; `ryot accept` judges the "
                    "fraction (criterion overhead_gate).")
    p.add_argument("--preset", choices=["quick", "full"], default="quick")
    p.add_argument("--out", default="results/overhead", metavar="DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
        raise RyotError(f"cannot create it: {exc.strerror or exc}", source=f"--out {out}") \
            from None
    analysis = analyse(PRESETS[args.preset])
    error = first_error(SCHEMA, analysis)
    if error is not None:  # our bug, not the user's: exit 4
        raise RuntimeError(f"overhead analysis does not match its schema: {describe(error)}")
    try:
        write_json_atomic(out / "overhead_analysis.json", analysis)
        write_text_atomic(out / "overhead_analysis.md", render_markdown(analysis))
    except OSError as exc:
        raise RyotError(f"cannot write: {exc.strerror or exc}", source=f"--out {out}") from None
    print(render_markdown(analysis))
    print(f"written: {out / 'overhead_analysis.json'}, {out / 'overhead_analysis.md'}")
    return 0
