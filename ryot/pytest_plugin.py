"""A pytest plugin, installed with ryot: each criterion of a criteria file becomes a test item.

    pytest --ryot-criteria my_criteria.json [--ryot-out results/acceptance] [--ryot-quick]

Works in any repository where ryot is installed (entry point ``pytest11``). The items run the
same pipeline as ``ryot accept`` (one criterion per item, the workload built once): PASS passes,
NOT_APPLICABLE skips, anything else fails with its status and reason. Progress (criterion,
samples so far, elapsed seconds) goes to the terminal while a criterion is measured, past
pytest's output capture. At the end of the session report.json, report.md, junit.xml and
plot.png are written to ``--ryot-out`` (default ``results/accept-<time>``), which is checked and
locked before anything is measured. Without ``--ryot-criteria`` the plugin does nothing.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

__all__ = [
    "RUN_KEY", "CriteriaFileNode", "CriterionItem", "CriterionNotPassed", "RyotSession",
    "pytest_addoption", "pytest_collect_file", "pytest_configure", "pytest_sessionfinish"
]

RUN_KEY = pytest.StashKey["RyotSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ryot", "ryot acceptance criteria")
    group.addoption("--ryot-criteria", metavar="FILE", default=None,
                    help="make each criterion of this criteria file a test item")
    group.addoption("--ryot-out", metavar="DIR", default=None,
                    help="where report.json, report.md, junit.xml and plot.png go "
                         "(default: results/accept-<time>)")
    group.addoption("--ryot-quick", action="store_true", default=False,
                    help="a quarter of each criterion's sample and time budget")


class _Progress:
    """A run observer writing progress lines through pytest's terminal reporter."""

    def __init__(self, config: pytest.Config) -> None:
        self.plugins = config.pluginmanager  # looked up when writing: registered after us
        self.started_at = time.monotonic()

    def _line(self, text: str) -> None:
        reporter = self.plugins.get_plugin("terminalreporter")
        capture = self.plugins.get_plugin("capturemanager")
        if reporter is None:
            return
        # past pytest's output capture, as its live logging does: seen while it happens
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(text)

    def started(self, criterion) -> None:
        self.started_at = time.monotonic()
        self._line(f"ryot: measuring {criterion.id} ({criterion.metric})")

    def sampled(self, criterion, done: int, total: int) -> None:
        self._line(f"ryot: {criterion.id}: {done}/{total} samples, "
                   f"{time.monotonic() - self.started_at:.0f} s")

    def finished(self, result) -> None:
        self._line(f"ryot: {result.criterion.id}: {result.verdict.status} "
                   f"({time.monotonic() - self.started_at:.0f} s)")


def _engine():
    """The engine, imported only when the plugin is used (pytest loads this module always)."""
    from ryot.infra.errors import CriteriaError, OutputError
    from ryot.verification import engine, evaluate, outdir
    from ryot.verification.criteria import load_criteria
    from ryot.verification.writers import write_all

    return engine, evaluate, outdir, load_criteria, CriteriaError, OutputError, write_all


class RyotSession:
    """The run behind every item of one pytest session, and its claimed output folder."""

    def __init__(self, config: pytest.Config, criteria_path: str) -> None:
        engine, evaluate, outdir, load_criteria, CriteriaError, OutputError, _ = _engine()
        self.config, self.path = config, Path(criteria_path).resolve()
        try:
            self.criteria = load_criteria(criteria_path, import_references=False)
        except CriteriaError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.exits = contextlib.ExitStack()
        out = config.getoption("--ryot-out") or engine.default_out_dir()
        try:
            self.out = self.exits.enter_context(outdir.claimed(out, "--ryot-out"))
        except OutputError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.run = evaluate.Run(self.criteria, quick=config.getoption("--ryot-quick"),
                                observer=_Progress(config))
        self.results: dict[str, dict] = {}

    def measure(self, criterion_id: str) -> dict:
        """The report entry of one criterion, measured on first request."""
        if criterion_id not in self.results:
            criterion = next(c for c in self.criteria.criteria if c.id == criterion_id)
            self.run.measure(criterion)
            latest = self.run.report()["results"][-1]
            self.results[criterion_id] = latest
        return self.results[criterion_id]

    def finish(self) -> None:
        """Write the report set of what was measured, then release the output folder."""
        *_, write_all = _engine()
        try:
            if self.run.results:
                from ryot.verification.engine import append_step_summary

                written = append_step_summary(write_all(self.run.report(), self.out))
                reporter = self.config.pluginmanager.get_plugin("terminalreporter")
                if reporter is not None:
                    for note in written.notes:
                        reporter.write_line(f"ryot note: {note}")
                    reporter.write_line(f"ryot report: {written.paths['report.json']}")
        finally:
            self.exits.close()


class CriteriaFileNode(pytest.File):
    """The criteria file as a pytest collector: one item per criterion."""

    def collect(self):
        session: RyotSession = self.config.stash[RUN_KEY]
        for c in session.criteria.criteria:
            yield CriterionItem.from_parent(self, name=c.id)


class CriterionItem(pytest.Item):
    def runtest(self) -> None:
        result = self.config.stash[RUN_KEY].measure(self.name)
        status, reason = result["status"], result["reason"]
        if result["suspicious"]:
            self.add_report_section("call", "ryot", f"SUSPICIOUS: {result['suspicious']}")
        if status == "NOT_APPLICABLE":
            pytest.skip(reason)
        if status != "PASS":
            raise CriterionNotPassed(f"{status}: {reason}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CriterionNotPassed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"criterion {self.name}"


class CriterionNotPassed(Exception):
    """A criterion whose verdict is FAIL, INCONCLUSIVE, INVALID or ERROR."""


def pytest_configure(config: pytest.Config) -> None:
    """With ``--ryot-criteria``, check the file and claim ``--ryot-out`` before anything runs,
    and add the criteria file to what pytest collects."""
    path = config.getoption("--ryot-criteria", default=None)
    if not path:
        return
    config.stash[RUN_KEY] = RyotSession(config, path)
    config.args.append(str(path))


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    ryot_session = parent.config.stash.get(RUN_KEY, None)
    if ryot_session is not None and file_path.resolve() == ryot_session.path:
        return CriteriaFileNode.from_parent(parent, path=file_path)
    return None


def pytest_sessionfinish(session: pytest.Session) -> None:
    ryot_session = session.config.stash.get(RUN_KEY, None)
    if ryot_session is not None:
        ryot_session.finish()
