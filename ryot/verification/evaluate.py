"""The acceptance pipeline, written once: criteria -> measurements -> the report (a dict).

``ryot accept``, the acceptance pytest suite and :func:`evaluate` (``ryot.evaluate``) all call
:func:`run`; they differ only in what they do around it (a progress display, files).

Providers and the workload factory run in a worker process (:mod:`.worker_client`):
time-limited, their output captured into the report's ``provider_output``, a ``sys.exit``, a
crash or a time-out turned into an ERROR verdict while the run goes on. A workload factory that
fails gives every criterion an ERROR naming its exception; the report is still built.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ryot.infra.errors import CriteriaError, RyotError
from ryot.infra.jsonio import parse_strict
from ryot.measure.metric import InvalidMeasurement, NotApplicable
from ryot.verification import family as family_module
from ryot.verification import report as report_module
from ryot.verification.across import (
    NEEDS_BASELINE,
    AcrossCommits,
    BaselineSide,
    check_module_file,
    check_same_code,
)
from ryot.verification.criteria import CriteriaFile, Criterion, load_criteria, parse_criteria
from ryot.verification.provider_call import ProviderFailure, ProviderTimeout, time_limit_s
from ryot.verification.report import seal_key
from ryot.verification.runner import CriterionResult, measure, quick_budget
from ryot.verification.sources import InWorker, samples_of
from ryot.verification.statuses import ERROR, FAIL, NOT_APPLICABLE, PASS
from ryot.verification.verdicts import Verdict, decide
from ryot.verification.worker_client import Worker, read_tail

__all__ = ["DICT_SOURCE", "WORKLOAD_KEY", "Run", "RunObserver", "evaluate", "load", "run",
           "step_down"]

WORKLOAD_KEY = "<workload>"  # provider_output's key for what the workload factory printed
DICT_SOURCE = "<dict>"  # criteria_file.path of criteria given as a dict


class RunObserver:
    """What a caller sees of a run while it happens. This one sees nothing; override any."""

    def started(self, criterion: Criterion) -> None:
        """``criterion`` (with the run's budget applied) is about to be measured."""

    def sampled(self, criterion: Criterion, done: int, total: int) -> None:
        """``done`` samples of at most ``total`` so far."""

    def finished(self, measurement: CriterionResult) -> None:
        """A criterion's measurement and verdict."""


def load(criteria: str | os.PathLike[str] | Mapping[str, Any]) -> CriteriaFile:
    """A criteria file's path, or a dict in the same format, checked, its references located
    (imported only in a run's worker process: :meth:`Run.prepare`). A dict's
    ``criteria_file`` in the report is ``<dict>`` with the sha256 of its
    canonical JSON (sorted keys, no spaces)."""
    if isinstance(criteria, Mapping):
        try:
            canonical = json.dumps(criteria, sort_keys=True, separators=(",", ":"),
                                   allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise CriteriaError(f"not representable as JSON: {exc}", source=DICT_SOURCE) from None
        try:  # a copy: later changes to the caller's dict change nothing
            doc = parse_strict(canonical)
        except RyotError as exc:
            raise CriteriaError(exc.message, source=DICT_SOURCE, pointer=exc.pointer) from None
        return parse_criteria(doc, DICT_SOURCE, hashlib.sha256(canonical.encode()).hexdigest(),
                              import_references=False)
    if isinstance(criteria, (str, os.PathLike)):
        return load_criteria(criteria, import_references=False)
    raise CriteriaError(f"expected the path of a criteria file or a dict in the criteria-file "
                        f"format, got {type(criteria).__name__}", source="criteria")


class Run:
    """One acceptance run, criterion by criterion, its user code in one worker process
    (:mod:`.worker_client`): :meth:`prepare` (called by the first :meth:`measure`) imports every
    provider and workload module there and builds the workload; :meth:`report` seals whatever
    has been measured so far; :meth:`close` (or ``with``) ends the worker. (The pytest plugin
    measures one criterion per test item; :func:`run` measures them all.)

    The seal key (RYOT_SEAL_KEY) is read here, so a key that cannot be used stops the run
    before anything is measured; the worker's environment never holds it.
    """

    def __init__(self, criteria: CriteriaFile, *, quick: bool = False,
                 observer: RunObserver | None = None,
                 baseline: BaselineSide | None = None, commit: str | None = None) -> None:
        self.criteria, self.quick, self.baseline = criteria, quick, baseline
        self.commit = commit
        self.observer = observer or RunObserver()
        self.key = seal_key()
        self.started_at = report_module.now()
        self.outputs: dict[str, str] = {}
        self.results: list[CriterionResult] = []
        self.worker = Worker()
        self._closer = weakref.finalize(self, _close, self.worker, baseline)
        self._captures = {c.id: str(self.worker.folder / f"criterion-{i}.out")
                          for i, c in enumerate(criteria.criteria)}
        self._source = InWorker(self.worker, lambda c: self._captures[c.id])
        self._across = None if baseline is None else AcrossCommits(
            baseline.worker, self.worker, lambda c: self._captures[c.id])
        self._failure: tuple[str, str | None] | None = None
        self._baseline_failure: tuple[str, str | None] | None = None
        self._prepared = False

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End the worker process (and whatever it left running)."""
        self._closer()

    def prepare(self) -> None:
        """Import the criteria file's modules in the worker (a module that fails or hangs on
        import is a :class:`CriteriaError`, as for ``criteria check --import``), then build the
        workload (a failure makes every criterion an ERROR naming it)."""
        if self._prepared:
            return
        across = _across_references(self.criteria) if self.baseline is not None else {}
        loaded: dict[str, Any] = {}
        for reference, pointer, limit in _references(self.criteria):
            answer = self._import(self.worker, reference, pointer, limit,
                                  modules=reference in across)
            if reference in across:
                check_module_file(answer.get("file"), self.baseline.plan.root, "candidate",
                                  reference, pointer, self.criteria.path)
                loaded[reference] = answer.get("modules")
        if across:
            self.baseline.start()
            for reference, (pointer, limit) in across.items():
                answer = self._import(self.baseline.worker, reference, pointer, limit,
                                      "on the baseline side: ", modules=True)
                check_module_file(answer.get("file"), self.baseline.tree, "baseline",
                                  reference, pointer, self.criteria.path)
                check_same_code(loaded[reference], answer.get("modules"),
                                self.baseline.plan.root, self.baseline.tree, reference,
                                pointer, self.criteria.path)
        self._prepared = True
        if self.criteria.workload:
            self._failure = self._build_workload(self.worker)
            if across:
                self._baseline_failure = self._build_workload(self.baseline.worker,
                                                              "on the baseline side: ")

    def _import(self, worker: Worker, reference: str, pointer: str, limit: float,
                side: str = "", *, modules: bool = False) -> dict:
        def refused(message: str) -> CriteriaError:
            return CriteriaError(f"{side}cannot load {reference!r}: {message}",
                                 source=self.criteria.path, pointer=pointer)
        try:
            answer = worker.add_setup({"op": "import", "reference": reference,
                                       "modules": modules}, limit, os.devnull)
        except ProviderTimeout:
            raise refused(f"importing it did not finish within {limit:g} s (the criterion's "
                          "hard limit)") from None
        except ProviderFailure as exc:
            raise refused(f"importing it: {exc}") from None
        if answer["status"] == "exit":  # SystemExit, KeyboardInterrupt… at import
            said = str(answer.get("message", "")).removesuffix("; the run went on")
            raise refused(f"importing it {said}")
        if answer["status"] != "ok":
            raise refused(str(answer.get("message", answer["status"])))
        return answer

    def _build_workload(self, worker: Worker, side: str = "") -> tuple[str, str | None] | None:
        """None, or why the workload factory failed (every criterion it serves is an ERROR)."""
        limit = max(time_limit_s(c.max_seconds, c.timeout_seconds) for c in self.criteria.criteria)
        capture = str(self.worker.folder / "workload.out")
        failure = None
        try:
            answer = worker.add_setup({"op": "workload", "reference": self.criteria.workload},
                                      limit, capture)
            if answer["status"] != "ok":
                samples_of(answer)  # raises what the answer's status stands for
        except ProviderFailure as exc:
            failure = (f"{side}the workload factory {self.criteria.workload} failed: {exc}",
                       exc.details)
        except (NotApplicable, InvalidMeasurement) as exc:
            failure = (f"{side}the workload factory {self.criteria.workload} failed: {exc}",
                       None)
        self._read_output(WORKLOAD_KEY, capture)
        return failure

    def _read_output(self, key: str, path: str) -> None:
        printed = read_tail(path)
        if printed:
            self.outputs[key] = printed

    def measure(self, c: Criterion) -> CriterionResult:
        self.prepare()
        c = quick_budget(c) if self.quick else c
        self.observer.started(c)
        failure = self._failure or (self._baseline_failure if c.across_commits else None)
        if c.across_commits and self._across is None:
            m = CriterionResult(c, Verdict(NOT_APPLICABLE, NEEDS_BASELINE, None), None)
        elif failure is not None:
            m = CriterionResult(c, Verdict(ERROR, failure[0], None), None, error=failure[1])
        else:
            m = measure(c, source=self._across if c.across_commits else self._source,
                        quick=self.quick,
                        on_progress=lambda done, total: self.observer.sampled(c, done, total))
            self._read_output(c.id, self._captures[c.id])
            self._read_output(WORKLOAD_KEY, str(self.worker.folder / "workload.out"))
        self.results.append(m)
        self.observer.finished(m)
        return m

    def report(self) -> dict[str, Any]:
        if self.worker.folder.exists():  # threads a criterion left may have printed since
            for m in self.results:
                self._read_output(m.criterion.id, self._captures[m.criterion.id])
        results, family = self.results, None
        if self.criteria.family_confidence is not None:
            results, family = step_down(self.criteria, self.results)
        measured_across = any(m.criterion.across_commits for m in results)
        commits = (self.baseline.plan.to_dict()
                   if self.baseline is not None and measured_across else None)
        return report_module.build(self.criteria, results, started_at=self.started_at,
                                   finished_at=report_module.now(), quick=self.quick,
                                   provider_output=self.outputs, family=family, key=self.key,
                                   commits=commits, commit=self.commit)


def _close(worker: Worker, baseline: BaselineSide | None) -> None:
    worker.close()
    if baseline is not None:
        baseline.close()


def _across_references(criteria: CriteriaFile) -> dict[str, tuple[str, float]]:
    """The providers of criteria compared across commits: reference -> (pointer, limit)."""
    found: dict[str, tuple[str, float]] = {}
    for i, c in enumerate(criteria.criteria):
        if c.across_commits and c.provider not in found:
            found[c.provider] = (f"/criteria/{i}/provider",
                                 time_limit_s(c.max_seconds, c.timeout_seconds))
    return found


def _references(criteria: CriteriaFile) -> list[tuple[str, str, float]]:
    """Each module reference once: (reference, its JSON pointer, the import's time limit)."""
    found: dict[str, tuple[str, float]] = {}
    for i, c in enumerate(criteria.criteria):
        if c.provider and c.provider not in found:
            found[c.provider] = (f"/criteria/{i}/provider",
                                 time_limit_s(c.max_seconds, c.timeout_seconds))
    if criteria.workload and criteria.workload not in found:
        found[criteria.workload] = ("/workload", max(
            time_limit_s(c.max_seconds, c.timeout_seconds) for c in criteria.criteria))
    return [(ref, pointer, limit) for ref, (pointer, limit) in found.items()]


def step_down(criteria: CriteriaFile, results: list[CriterionResult]
              ) -> tuple[list[CriterionResult], family_module.Family]:
    """Holm's steps after the runner's (:mod:`.family`): the results with the undecided ones
    re-decided on their final samples, and the family to record."""
    final = list(results)

    def redecide(i: int, confidence: float) -> bool:
        m = results[i]
        look = family_module.look_confidence(m.criterion, m.samples.kind, len(m.looks),
                                             confidence)
        final[i] = replace(m, verdict=decide(m.criterion, m.samples, look, budget_spent=True),
                           look_confidence=look)
        return final[i].verdict.status in (PASS, FAIL)

    states = [family_module.state(m.verdict.status, m.samples.kind if m.samples else None)
              for m in results]
    return final, family_module.step_down(criteria.family_confidence, len(criteria.criteria),
                                          states, redecide)


def run(criteria: CriteriaFile, *, quick: bool = False, observer: RunObserver | None = None,
        baseline: BaselineSide | None = None, commit: str | None = None) -> dict[str, Any]:
    """Measure every criterion and return the sealed report (what report.json holds);
    ``baseline``: the other side of the criteria compared across commits (:mod:`.across`);
    ``commit``: the commit under test when it is not git's HEAD (``--commit``)."""
    with Run(criteria, quick=quick, observer=observer, baseline=baseline,
             commit=commit) as session:
        for c in criteria.criteria:
            session.measure(c)
        return session.report()


_ONE_AT_A_TIME = threading.Lock()


def evaluate(criteria: str | os.PathLike[str] | Mapping[str, Any], *,
             quick: bool = False) -> dict[str, Any]:
    """Measure ``criteria`` (a criteria file's path or a dict in that format) and return the
    report exactly as report.json would hold it. Writes no files and prints nothing: providers
    run in a worker process, what they print is kept in the report's ``provider_output``, and
    what their modules print on import is dropped. The calling process is left as it was
    (streams, working directory, imported modules: a provider edited between two calls is
    imported afresh). Calls from several threads are run one after the other, so that two
    measurements never compete for the machine. Bad criteria raise
    :class:`~ryot.infra.errors.CriteriaError`.

    Running criteria runs the code their providers and workload name: only evaluate criteria
    you trust.
    """
    loaded = load(criteria)
    with _ONE_AT_A_TIME:
        return run(loaded, quick=quick)
