"""The looks a result may record: what ``ryot verify`` derives from the runner's rules
(:func:`ryot.verification.runner.measure`) instead of trusting the report.

* a one-shot kind (:data:`~ryot.measure.samples.ONE_SHOT_KINDS`) is one look of its whole
  measurement;
* any other run looks at the first counts of the criterion's
  :func:`~ryot.stats.sequential.look_schedule`, each look the sample count after that batch, so
  no count exceeds ``max_samples``; the last look may be earlier than its schedule entry only
  when the run ran out of its time budget (``elapsed_s > max_seconds``);
* the samples stored are those the last look saw; a result without samples stopped before any
  or after earlier looks (a prefix of the schedule, possibly empty).
"""

from __future__ import annotations

from ryot.measure.samples import ONE_SHOT_KINDS
from ryot.stats import sequential

__all__ = ["looks_problems"]


def _fits(looks: list, schedule: list[int], ended_by_time: bool) -> bool:
    n = len(looks)
    if n == 0:
        return True
    if n > len(schedule) or looks[:-1] != schedule[:n - 1]:
        return False
    if looks[-1] == schedule[n - 1]:
        return True
    before = looks[-2] if n > 1 else 0
    return ended_by_time and before < looks[-1] < schedule[n - 1]


def looks_problems(c, kind: str | None, count: int | None, looks: list, elapsed_s: float,
                   pointer: str) -> tuple[list[str], bool]:
    """What is wrong with ``looks`` (at ``pointer``) of a result of criterion ``c`` holding
    ``count`` samples of ``kind`` (both None without samples), and whether the looks fit at
    all (nothing else can be replayed from looks that do not)."""
    if kind in ONE_SHOT_KINDS:
        ok = looks == [count]
        return ([] if ok else [f"looks {looks} but a {kind} measurement is one look of "
                               f"{count}"]), ok
    schedule = sequential.look_schedule(c.min_samples, c.max_samples)
    ended_by_time = elapsed_s > c.max_seconds
    if (count is not None and not looks) or not _fits(looks, schedule, ended_by_time):
        beyond = (f" (more samples than its max_samples {c.max_samples})"
                  if any(n > c.max_samples for n in looks) else "")
        return [f"looks {looks} at {pointer} do not fit the schedule {schedule} of this "
                f"criterion{beyond}"], False
    if count is not None and looks[-1] != count:
        return [f"{count} samples stored but the last look saw {looks[-1]}"], True
    return [], True
