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
    "REPORT_KEY", "RUN_KEY", "CriteriaFileNode", "CriterionItem", "CriterionNotPassed",
    "RyotSession", "pytest_addoption", "pytest_collect_file", "pytest_configure",
    "pytest_sessionfinish", "pytest_testnodedown", "pytest_xdist_make_scheduler",
    "xdist_role"
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
    group.addoption("--ryot-baseline", metavar="REF", nargs="?", const="merge-base",
                    default=None,
                    help="compare the criteria marked across_commits between the git commit "
                         "REF and the working tree (as ryot accept --baseline; without REF the "
                         "merge-base of HEAD and $RYOT_BASE_BRANCH, default origin/main)")


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


def xdist_role(config: pytest.Config) -> str:
    """``"worker"`` in a pytest-xdist worker, ``"controller"`` in a session that distributes
    tests to workers (``-n``), else ``"plain"``."""
    if hasattr(config, "workerinput"):
        return "worker"
    dist = config.getoption("dist", default="no")
    return "controller" if dist not in (None, "no") else "plain"


REPORT_KEY = "ryot_report"  # what the worker that ran the ryot items sends its controller


class RyotSession:
    """The run behind every item of one pytest session, and its claimed output folder.

    Under pytest-xdist every ryot item runs on one worker (:func:`pytest_xdist_make_scheduler`):
    one run measures them one after the other, as without xdist. The
    controller claims ``--ryot-out`` before anything runs; the worker builds the sealed report
    and sends it back (``workeroutput``); the controller writes the one report set.
    """

    def __init__(self, config: pytest.Config, criteria_path: str) -> None:
        engine, evaluate, outdir, load_criteria, CriteriaError, OutputError, _ = _engine()
        self.config, self.path = config, Path(criteria_path).resolve()
        self.role = xdist_role(config)
        try:
            self.criteria = load_criteria(criteria_path, import_references=False)
        except CriteriaError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.exits = contextlib.ExitStack()
        self.out: Path | None = None
        self.gathered: list[dict] = []
        if self.role != "worker":
            out = config.getoption("--ryot-out") or engine.default_out_dir()
            try:
                self.out = self.exits.enter_context(outdir.claimed(out, "--ryot-out"))
            except OutputError as exc:
                raise pytest.UsageError(str(exc)) from None
        self.run = None
        baseline = config.getoption("--ryot-baseline")
        from ryot.infra.errors import RyotError
        from ryot.verification.commits import plan

        try:
            if baseline is not None:
                plan(baseline)  # a bad ref is a usage error before anything runs
            side = (self.exits.enter_context(engine.baseline_side(baseline, self.criteria))
                    if self.role != "controller" else None)
        except RyotError as exc:
            self.exits.close()
            raise pytest.UsageError(str(exc)) from None
        if self.role != "controller":
            self.run = evaluate.Run(self.criteria, quick=config.getoption("--ryot-quick"),
                                    observer=_Progress(config), baseline=side)
            self.exits.callback(self.run.close)
        self.results: dict[str, dict] = {}

    def measure(self, criterion_id: str) -> dict:
        """The report entry of one criterion, measured on first request."""
        if criterion_id not in self.results:
            criterion = next(c for c in self.criteria.criteria if c.id == criterion_id)
            self.run.measure(criterion)
            latest = self.run.report()["results"][-1]
            self.results[criterion_id] = latest
        return self.results[criterion_id]

    def report(self) -> dict | None:
        """The run's report: this process's, or the one a worker sent (None if none)."""
        if self.run is not None:
            return self.run.report() if self.run.results else None
        if len(self.gathered) > 1:
            self._line("ryot error: the ryot items ran on several workers; no report written "
                       "(run them under --dist load, loadscope or loadfile)")
            return None
        return self.gathered[0] if self.gathered else None

    def _line(self, text: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text)

    def finish(self, session: pytest.Session) -> None:
        """Write the report set of what was measured (a worker sends it to the controller),
        then release the output folder."""
        *_, write_all = _engine()
        from ryot.infra.errors import PublishError
        from ryot.verification.engine import append_step_summary

        try:
            report = self.report()
            if self.role == "worker":
                if report is not None:
                    self.config.workeroutput[REPORT_KEY] = report
                return
            if report is None:
                return
            try:
                written = append_step_summary(write_all(report, self.out))
            except PublishError as exc:  # the verdicts stand; the files did not get written
                self._line(f"ryot error: {exc}")
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
                return
            for note in written.notes:
                self._line(f"ryot note: {note}")
            self._line(f"ryot report: {written.paths['report.json']}")
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
        if result.get("quarantined") and status != "PASS":  # reported, not failing the run
            q = result["criterion"]["quarantine"]
            pytest.skip(f"QUARANTINED until {q['until']} ({q['reason']}): {status}: {reason}")
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
    if xdist_role(config) == "controller":
        dist = config.getoption("dist")
        if dist == "each":
            raise pytest.UsageError("--ryot-criteria cannot run under --dist each (every worker "
                                    "would measure every criterion); use load, loadgroup, "
                                    "loadscope or loadfile")
    config.stash[RUN_KEY] = RyotSession(config, path)
    config.args.append(str(path))


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    ryot_session = parent.config.stash.get(RUN_KEY, None)
    if ryot_session is not None and file_path.resolve() == ryot_session.path:
        return CriteriaFileNode.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """pytest-xdist, in the controller: under ``--dist load``, ``worksteal`` or ``loadgroup``,
    schedule the criteria file's items as one unit (on one worker) and every other test on its
    own, as ``load`` does. (``loadgroup`` cannot be relied on for this: under pytest 9 it no
    longer keeps a group together.) ``loadscope`` and ``loadfile`` keep the file together
    anyway, so they are left to xdist."""
    ryot_session = config.stash.get(RUN_KEY, None)
    if ryot_session is None or config.getoption("dist") not in ("load", "worksteal", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    criteria_file = ryot_session.path

    class RyotTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "ryot" if (config.rootpath / path).resolve() == criteria_file else nodeid

    return RyotTogether(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist, in the controller: keep the report the worker that ran ryot's items sent."""
    ryot_session = node.config.stash.get(RUN_KEY, None)
    report = getattr(node, "workeroutput", {}).get(REPORT_KEY)
    if ryot_session is not None and report is not None:
        ryot_session.gathered.append(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    ryot_session = session.config.stash.get(RUN_KEY, None)
    if ryot_session is not None:
        ryot_session.finish(session)
