"""``ryot accept``: load criteria, claim the output folder, run the pipeline with a progress
display, write the report files as one set."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ryot.verification import commits
from ryot.verification.across import BaselineSide
from ryot.verification.criteria import CriteriaFile, Criterion, load_criteria
from ryot.verification.evaluate import RunObserver, run
from ryot.verification.outdir import claimed
from ryot.verification.runner import CriterionResult
from ryot.verification.statuses import TABLE, bounds_of
from ryot.verification.writers import Written, write_all

__all__ = [
    "ProgressDisplay", "accept", "append_step_summary", "baseline_side", "default_criteria_path",
    "default_out_dir", "summary_table"
]

_PACKAGE = Path(__file__).resolve().parent.parent



def default_criteria_path() -> Path:
    """The repository's ``success_criteria.json``, or the copy shipped inside the wheel."""
    for candidate in (_PACKAGE.parent / "success_criteria.json",
                      _PACKAGE / "success_criteria.json"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("success_criteria.json is missing from this installation")


def default_out_dir() -> Path:
    return Path("results") / datetime.now().strftime("accept-%Y%m%d-%H%M%S")


class ProgressDisplay(RunObserver):
    """One rich progress bar per criterion (user strings escaped, never read as markup)."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.tasks = progress, {}

    def started(self, c: Criterion) -> None:
        self.tasks[c.id] = self.progress.add_task(escape(f"{c.id} ({c.metric})"),
                                                  total=c.max_samples, status="")

    def sampled(self, c: Criterion, done: int, total: int) -> None:
        self.progress.update(self.tasks[c.id], completed=done, total=total)

    def finished(self, m: CriterionResult) -> None:
        status, n = m.verdict.status, m.samples.count if m.samples else 1
        self.progress.update(self.tasks[m.criterion.id],
                             status=f"[{TABLE[status].style}]{status}[/]",
                             total=max(1, n), completed=n)


def _num(v: float | str) -> str:
    return v if isinstance(v, str) else f"{v:.4g}"  # "nan"/"inf" stay words


def summary_table(report: dict) -> Table:
    table = Table(title=Text(f"ryot acceptance: {report['criteria_file']['name']}"))
    for col in ("criterion", "value [CI]", "required", "verdict"):
        table.add_column(col)
    for r in report["results"]:
        s, c = r["statistics"], r["criterion"]
        value = "—" if not s else _num(s["estimate"]) + (
            f" [{_num(s['ci_low'])}, {_num(s['ci_high'])}]"
            if s.get("ci_low") is not None and s.get("ci_high") is not None else "")
        bound = bounds_of(c)
        verdict = Text(r["status"], style=TABLE[r["status"]].style)
        if r["suspicious"]:
            verdict.append(" (SUSPICIOUS)")
        if r.get("quarantined"):
            verdict.append(f" (QUARANTINED until {c['quarantine']['until']})", style="dim")
        table.add_row(Text(r["id"]), Text(value), Text(bound), verdict)
    return table


@contextlib.contextmanager
def baseline_side(baseline: str | None, criteria: CriteriaFile,
                  console: Console | None = None) -> Iterator[BaselineSide | None]:
    """The other side of the criteria compared across commits: ``--baseline REF`` resolved
    (:class:`~.commits.BaselineError` before anything is measured), checked out in a worktree
    that is removed however the block ends; None without ``--baseline`` or without such a
    criterion."""
    if baseline is None:
        yield None
        return
    p = commits.plan(baseline)
    if not any(c.across_commits for c in criteria.criteria):
        if console is not None:
            console.print(Text("note: --baseline given, but no criterion has "
                               '"across_commits": true; nothing is compared across commits',
                               style="yellow"))
        yield None
        return
    if console is not None:
        console.print(Text(f"across commits: {p.describe()}"))
    with commits.worktree(p) as tree:
        side = BaselineSide(p, tree)
        try:
            yield side
        finally:
            side.close()


def accept(criteria_path: str | os.PathLike[str] | None = None,
           out_dir: str | os.PathLike[str] | None = None, *, quick: bool = False,
           console: Console | None = None, out_label: str = "--out",
           baseline: str | None = None, commit: str | None = None) -> tuple[dict, Written]:
    """Measure every criterion; write report.json, report.md, junit.xml and plot.png.

    The output folder is checked and locked before anything is measured (OutputError, whose
    message starts with ``out_label``), and made absolute: the report goes where ``out_dir``
    named when the run began. Report files that cannot be written raise
    :class:`~ryot.infra.errors.PublishError` once the rendered set is kept elsewhere (its
    ``kept``). Give ``console`` an explicit ``file``: while a provider runs,
    ``sys.stdout``/``sys.stderr`` point at its output capture. ``baseline``: a git ref for the
    criteria compared across commits (:func:`baseline_side`; ``commits.MERGE_BASE`` for the
    merge-base with the base branch). ``commit``: the commit under test when it is not git's
    HEAD.
    """
    criteria = load_criteria(criteria_path or default_criteria_path(), import_references=False)
    console = console or Console(file=sys.stderr)
    if baseline is not None:
        commits.plan(baseline)  # a bad ref is exit 2 before the output folder is claimed
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("samples"), TimeElapsedColumn(), TextColumn("{task.fields[status]}"))
    with claimed(out_dir or default_out_dir(), out_label) as out:
        with baseline_side(baseline, criteria, console) as side, \
                Progress(*columns, console=console, transient=False, redirect_stdout=False,
                         redirect_stderr=False) as progress:
            report = run(criteria, quick=quick, observer=ProgressDisplay(progress),
                         baseline=side, commit=commit)
        written = write_all(report, out)
    return report, append_step_summary(written)


def append_step_summary(written: Written) -> Written:
    """On GitHub Actions (``GITHUB_STEP_SUMMARY`` set), append report.md to the job summary;
    a failure to do so becomes a note, never an error."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return written
    try:
        text = written.paths["report.md"].read_text(encoding="utf-8")
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text.rstrip("\n") + "\n\n")
    except OSError as exc:
        note = f"could not append report.md to GITHUB_STEP_SUMMARY {summary}: {exc.strerror or exc}"
        return dataclasses.replace(written, notes=(*written.notes, note))
    return written
