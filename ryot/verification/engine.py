"""``ryot accept``: load criteria, measure each one (with a progress display), decide, report."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import report as report_module
from .criteria import CriteriaFile, load_criteria
from .metrics import default_registry
from .runner import Measurement, measure, quick_budget
from .writers import write_all

_PACKAGE = Path(__file__).resolve().parent.parent

STYLE = {"PASS": "green", "FAIL": "red", "INCONCLUSIVE": "yellow", "INVALID": "magenta",
         "NOT_APPLICABLE": "dim", "ERROR": "bold red"}


def default_criteria_path() -> Path:
    """The repository's ``success_criteria.json``, or the copy shipped inside the wheel."""
    for candidate in (_PACKAGE.parent / "success_criteria.json", _PACKAGE / "success_criteria.json"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("success_criteria.json is missing from this installation")


def default_out_dir() -> Path:
    return Path("results") / datetime.now().strftime("accept-%Y%m%d-%H%M%S")


def run_measurements(criteria: CriteriaFile, *, quick: bool = False,
                     console: Console | None = None,
                     on_result: Callable[[Measurement], None] | None = None) -> list[Measurement]:
    registry = default_registry()
    console = console or Console(stderr=True)
    workload = None
    if criteria.workload:  # the user's model/data factory, built once for every provider
        from .metrics import resolve_reference

        workload = resolve_reference(criteria.workload)()
    results = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("samples"), TimeElapsedColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=console, transient=False) as progress:
        for c in criteria.criteria:
            c = quick_budget(c) if quick else c
            task = progress.add_task(f"{c.id} ({c.metric})", total=c.max_samples, status="")

            def update(done: int, total: int, task=task) -> None:
                progress.update(task, completed=done, total=total)

            m = measure(c, registry, on_progress=update, quick=quick, workload=workload)
            status = m.verdict.status
            progress.update(task, status=f"[{STYLE[status]}]{status}[/]",
                            total=max(1, m.samples.count if m.samples else 1),
                            completed=m.samples.count if m.samples else 1)
            results.append(m)
            if on_result:
                on_result(m)
    return results


def summary_table(report: dict) -> Table:
    table = Table(title=f"ryot acceptance: {report['criteria_file']['name']}")
    for col in ("criterion", "value [CI]", "required", "verdict"):
        table.add_column(col)
    for r in report["results"]:
        s, c = r["statistics"], r["criterion"]
        value = f"{s['estimate']:.4g} [{s['ci_low']:.4g}, {s['ci_high']:.4g}]" if s and not isinstance(
            s["estimate"], str) else "—"
        bound = (f"between {c['min']:g} and {c['max']:g}" if c["comparator"] == "between"
                 else f"{c['comparator']} {c['threshold']:g}")
        flag = " (SUSPICIOUS)" if r["suspicious"] else ""
        table.add_row(r["id"], value, bound, f"[{STYLE[r['status']]}]{r['status']}[/]{flag}")
    return table


def accept(criteria_path: str | os.PathLike[str] | None = None,
           out_dir: str | os.PathLike[str] | None = None, *, quick: bool = False,
           console: Console | None = None) -> tuple[dict, dict[str, Path]]:
    """Measure every criterion; write report.json, report.md, junit.xml and plot.png."""
    criteria = load_criteria(criteria_path or default_criteria_path())
    started = report_module.now()
    measurements = run_measurements(criteria, quick=quick, console=console)
    report = report_module.build(criteria, measurements, started_at=started,
                                 finished_at=report_module.now(), quick=quick)
    paths = write_all(report, out_dir or default_out_dir())
    return report, paths
