"""The acceptance pipeline, written once: criteria -> measurements -> the report (a dict).

``ryot accept``, the acceptance pytest suite and :func:`evaluate` (``ryot.evaluate``) all call
:func:`run`; they differ only in what they do around it (a progress display, files).

Providers run through :mod:`.provider_call`: time-limited, their output captured into the
report's ``provider_output``, a ``sys.exit`` turned into an ERROR verdict. A workload factory
that fails gives every criterion an ERROR naming its exception; the report is still built.
"""

from __future__ import annotations

import hashlib
import json
import os
import traceback
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ryot.infra.errors import CriteriaError
from ryot.verification import family as family_module
from ryot.verification import report as report_module
from ryot.verification.criteria import CriteriaFile, Criterion, load_criteria, parse_criteria
from ryot.verification.provider_call import (
    ProviderFailure,
    call,
    capture_output,
    silenced,
    time_limit_s,
)
from ryot.verification.references import load as load_reference
from ryot.verification.registry import default_registry
from ryot.verification.runner import CriterionResult, measure, quick_budget
from ryot.verification.statuses import ERROR, FAIL, PASS
from ryot.verification.verdicts import Verdict, decide

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
    """A criteria file's path, or a dict in the same format, checked and with its references
    imported. A dict's ``criteria_file`` in the report is ``<dict>`` with the sha256 of its
    canonical JSON (sorted keys, no spaces)."""
    if isinstance(criteria, Mapping):
        try:
            canonical = json.dumps(criteria, sort_keys=True, separators=(",", ":"),
                                   allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise CriteriaError(f"not representable as JSON: {exc}", source=DICT_SOURCE) from None
        doc = json.loads(canonical)  # a copy: later changes to the caller's dict change nothing
        return parse_criteria(doc, DICT_SOURCE, hashlib.sha256(canonical.encode()).hexdigest())
    if isinstance(criteria, (str, os.PathLike)):
        return load_criteria(criteria)
    raise CriteriaError(f"expected the path of a criteria file or a dict in the criteria-file "
                        f"format, got {type(criteria).__name__}", source="criteria")


def _workload(criteria: CriteriaFile,
              outputs: dict[str, str]) -> tuple[Any, tuple[str, str | None] | None]:
    """The factory's product, or None and (the reason, evidence) why there is none."""
    if not criteria.workload:
        return None, None
    limit = max(time_limit_s(c.max_seconds, c.timeout_seconds) for c in criteria.criteria)
    with capture_output() as printed:
        try:
            return call(load_reference(criteria.workload), limit_s=limit), None
        except ProviderFailure as exc:
            failure = (f"the workload factory {criteria.workload} failed: {exc}", exc.details)
        except Exception as exc:  # noqa: BLE001 - reported as every criterion's ERROR
            failure = (f"the workload factory {criteria.workload} failed: "
                       f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=-8))
        finally:
            if printed.total:
                outputs[WORKLOAD_KEY] = printed.text()
    return None, failure


class Run:
    """One acceptance run, criterion by criterion: the workload factory is built on the first
    :meth:`measure`, and :meth:`report` seals whatever has been measured so far. (The pytest
    plugin measures one criterion per test item; :func:`run` measures them all.)"""

    def __init__(self, criteria: CriteriaFile, *, quick: bool = False,
                 observer: RunObserver | None = None) -> None:
        self.criteria, self.quick = criteria, quick
        self.observer = observer or RunObserver()
        self.registry = default_registry()
        self.started_at = report_module.now()
        self.outputs: dict[str, str] = {}
        self.results: list[CriterionResult] = []
        self._workload: tuple[Any, tuple[str, str | None] | None] | None = None

    def measure(self, c: Criterion) -> CriterionResult:
        if self._workload is None:
            self._workload = _workload(self.criteria, self.outputs)
        workload, failure = self._workload
        c = quick_budget(c) if self.quick else c
        self.observer.started(c)
        if failure is not None:
            m = CriterionResult(c, Verdict(ERROR, failure[0], None), None, error=failure[1])
        else:
            with capture_output() as printed:
                m = measure(c, self.registry, quick=self.quick, workload=workload,
                            on_progress=lambda done, total: self.observer.sampled(c, done, total))
            if printed.total:
                self.outputs[c.id] = printed.text()
        self.results.append(m)
        self.observer.finished(m)
        return m

    def report(self) -> dict[str, Any]:
        results, family = self.results, None
        if self.criteria.family_confidence is not None:
            results, family = step_down(self.criteria, self.results)
        return report_module.build(self.criteria, results, started_at=self.started_at,
                                   finished_at=report_module.now(), quick=self.quick,
                                   provider_output=self.outputs, family=family)


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


def run(criteria: CriteriaFile, *, quick: bool = False,
        observer: RunObserver | None = None) -> dict[str, Any]:
    """Measure every criterion and return the sealed report (what report.json holds)."""
    session = Run(criteria, quick=quick, observer=observer)
    for c in criteria.criteria:
        session.measure(c)
    return session.report()


def evaluate(criteria: str | os.PathLike[str] | Mapping[str, Any], *,
             quick: bool = False) -> dict[str, Any]:
    """Measure ``criteria`` (a criteria file's path or a dict in that format) and return the
    report exactly as report.json would hold it. Writes no files and prints nothing: what
    providers print is kept in the report's ``provider_output``, and what their modules print
    on import is dropped. Bad criteria raise :class:`~ryot.infra.errors.CriteriaError`.

    Running criteria runs the code their providers and workload name: only evaluate criteria
    you trust.
    """
    with capture_output(), silenced():  # module-level code of the providers, on import
        loaded = load(criteria)
    return run(loaded, quick=quick)
