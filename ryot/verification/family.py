"""Error control across a criteria file: Holm's step-down under ``family_confidence``.

With ``"family_confidence": 0.95`` a criteria file claims that *every* PASS and FAIL it gives is
right, together, with 95% confidence (alpha = 0.05), whatever the dependence between criteria.

Each criterion makes two one-sided claims, "passes" and "fails"; its verdict asserts at most one.
Holm's step-down runs over these 2m claims of the m criteria of the file: with r criteria
decided, each claim still open may spend ``alpha / (2m − r)``, so an undecided criterion is
re-decided with total error ``2 alpha / (2m − r)`` (its two-sided intervals put half of the
error in each tail). At r = 0 that is ``alpha / m``: Bonferroni, the confidence the runner
samples every criterion at (a criterion of such a file has no confidence of its own). Holm's
theorem on the 2m claims bounds the chance of any wrong verdict by alpha under any dependence.
(A criterion-level ``alpha / (m − r)`` would be a *directional* Holm, whose control is proven
only for independent criteria; it is not used.)

* Step 1 is the runner's: every criterion measured sequentially at ``1 − alpha/m``.
* Step k + 1: r = the criteria decided so far (PASS or FAIL, exact values included: an exact
  value is never wrong, so its decision only frees its share). Every criterion still open is
  re-decided on its final samples at its closing look (:func:`look_confidence`); repeat while r
  grows. The last step's verdict of a criterion that stays undecided is its final verdict.
* NOT_APPLICABLE, ERROR, a sample-less INVALID and an INVALID exact value are never decided:
  they keep their share (conservative).

Pure functions: the runner's and ``ryot verify``'s callers supply the verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ryot.measure.samples import ONE_SHOT_KINDS
from ryot.stats import sequential
from ryot.verification.statuses import FAIL, INCONCLUSIVE, INVALID, PASS

__all__ = [
    "DECIDED", "OPEN", "OUT", "PROCEDURE", "Family", "Step", "compare", "criterion_confidence",
    "holm_confidence", "look_confidence", "state", "step_down"
]

DECIDED, OPEN, OUT = "decided", "open", "out"
PROCEDURE = ("Holm step-down over the two one-sided claims (passes, fails) of each of the size "
             "criteria: after r decisions an undecided criterion is re-decided at total error "
             "2 (1 - confidence) / (2 size - r), on its final samples at its closing look")


def holm_confidence(family_confidence: float, size: int, decided: int) -> float:
    """A criterion's confidence once ``decided`` of the family's ``size`` criteria are decided."""
    if not 0 <= decided < size:
        raise ValueError(f"decided must be in [0, {size}), got {decided}")
    return 1.0 - 2.0 * (1.0 - family_confidence) / (2 * size - decided)


def criterion_confidence(family_confidence: float, size: int) -> float:
    """Step 1 (Bonferroni): the confidence every criterion of the family is sampled at."""
    return holm_confidence(family_confidence, size, 0)


def state(status: str | None, kind: str | None) -> str:
    """DECIDED (PASS/FAIL), OPEN (an undecided verdict on samples that a looser confidence may
    decide) or OUT (nothing a confidence can change), from a step-1 status and sample kind."""
    if status in (PASS, FAIL):
        return DECIDED
    if status in (INCONCLUSIVE, INVALID) and kind is not None and kind != "exact":
        return OPEN
    return OUT


def look_confidence(c, kind: str, looks_taken: int, confidence: float) -> float:
    """The confidence of a re-decision of criterion ``c`` (its ``min_samples``/``max_samples``)
    at total ``confidence``: a one-shot measurement is judged at it; a sequential one at the
    closing look of its schedule, which spends what ``confidence`` leaves after the earlier
    looks. Those looks spent less (the stricter step-1 schedule), so the total stays within."""
    if kind in ONE_SHOT_KINDS:
        return confidence
    schedule = sequential.look_schedule(c.min_samples, c.max_samples)
    return sequential.closing_confidence(confidence, schedule, looks_taken - 1)


@dataclass(frozen=True)
class Step:
    decided_before: int  # r: criteria decided before this step
    confidence: float    # the confidence an undecided criterion is (re-)decided at


@dataclass(frozen=True)
class Family:
    confidence: float
    size: int
    steps: tuple[Step, ...]
    step_of: tuple[int | None, ...]  # per result: the step (1-based) its verdict comes from

    def to_dict(self) -> dict:
        return {"confidence": self.confidence, "size": self.size, "procedure": PROCEDURE,
                "steps": [{"decided_before": s.decided_before, "confidence": s.confidence}
                          for s in self.steps]}

    def entry(self, index: int) -> dict:
        """What result ``index`` records in its ``method.family``."""
        step = self.step_of[index]
        return {"step": step, "confidence": None if step is None else
                self.steps[step - 1].confidence}


def step_down(family_confidence: float, size: int, states: Sequence[str],
              redecide: Callable[[int, float], bool]) -> Family:
    """Holm's steps over results whose step-1 outcomes are ``states`` (DECIDED, OPEN, OUT; fewer
    than ``size`` when only some criteria were measured). ``redecide(i, confidence)`` decides
    result i again at that (total) confidence and says whether it is now PASS or FAIL; the caller
    keeps the verdict, the last one asked for being final."""
    if len(states) > size:
        raise ValueError(f"{len(states)} results for a family of {size} criteria")
    step_of = [None if s == OUT else 1 for s in states]
    open_ = [i for i, s in enumerate(states) if s == OPEN]
    decided = sum(s == DECIDED for s in states)
    steps = [Step(0, criterion_confidence(family_confidence, size))]
    while open_ and decided > steps[-1].decided_before:
        steps.append(Step(decided, holm_confidence(family_confidence, size, decided)))
        still = []
        for i in open_:
            step_of[i] = len(steps)
            if redecide(i, steps[-1].confidence):
                decided += 1
            else:
                still.append(i)
        open_ = still
    return Family(family_confidence, size, tuple(steps), tuple(step_of))


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-12 + 1e-9 * abs(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def compare(recorded: dict | None, derived: Family, index: int | None = None) -> str | None:
    """What differs between the report's ``family`` (``index`` None) or result ``index``'s
    ``method.family`` and what the step-down derives; None when they agree."""
    expected = derived.to_dict() if index is None else derived.entry(index)
    what = "family" if index is None else "method.family"
    if _same(recorded, expected):
        return None
    if isinstance(recorded, dict):
        for key in expected:
            if not _same(recorded.get(key), expected[key]):
                return f"{what}.{key} is {recorded.get(key)!r} but the step-down gives " \
                       f"{expected[key]!r}"
    return f"{what} is {recorded!r} but the step-down gives {expected!r}"
