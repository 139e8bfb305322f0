"""Measuring one criterion: sequential sampling until decided or out of budget.

The runner only gathers samples and asks :func:`verdicts.decide` whether they suffice; it looks
at the data at the sample counts of :func:`sequential.look_schedule`, each look at the
confidence :func:`sequential.look_confidences` grants it (error spending), so peeking does not
inflate the error rate.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from ryot.measure.metric import InvalidMeasurement, NotApplicable
from ryot.measure.samples import ONE_SHOT_KINDS, Samples
from ryot.stats import sequential
from ryot.verification.criteria import Criterion
from ryot.verification.provider_call import ProviderFailure, ProviderTimeout, time_limit_s
from ryot.verification.registry import Registry
from ryot.verification.sources import InProcess
from ryot.verification.statuses import ERROR, INVALID, NOT_APPLICABLE
from ryot.verification.verdicts import Verdict, decide

__all__ = ["CriterionResult", "measure", "one_shot", "quick_budget"]


@dataclass
class CriterionResult:
    """One criterion after the runner: its verdict, the raw samples behind it and the looks
    taken (a verdict-carrying record; ryot.measure.timing.Measurement is the timing stage's)."""
    criterion: Criterion
    verdict: Verdict
    samples: Samples | None
    looks: list[int] = field(default_factory=list)
    look_confidence: float | None = None
    elapsed_s: float = 0.0
    error: str | None = None


def one_shot(samples: Samples) -> bool:
    return samples.kind in ONE_SHOT_KINDS


def quick_budget(c: Criterion) -> Criterion:
    """``--quick``: a quarter of the sample and time budget (never below the minimum)."""
    from dataclasses import replace

    max_samples = max(c.min_samples, c.max_samples // 4)
    return replace(c, max_samples=max_samples, max_seconds=max(1.0, c.max_seconds / 4))


def _checked(batch: Samples, asked: int) -> Samples:
    """The engine decides on what it asked for, at the looks of the schedule: a batch of any
    other size is an error (a one-shot kind is one measurement, whatever its count)."""
    if not one_shot(batch) and batch.count != asked:
        raise ProviderFailure(f"the provider returned {batch.count} samples when {asked} were "
                              "asked for; ryot decides only on the samples it asks for, at the "
                              "looks of the criterion's schedule (up to max_samples)")
    return batch


def _sample(source, c: Criterion, n: int, params: dict, elapsed_s: float) -> Samples:
    """One batch within what is left of the criterion's hard time limit."""
    limit = time_limit_s(c.max_seconds, c.timeout_seconds)
    message = (f"timed out after {limit:g} s (the criterion's hard limit; raise timeout_seconds "
               "if it needs longer)")
    if limit - elapsed_s <= 0:
        raise ProviderTimeout(f"{message}, before its next batch")
    try:
        return source.sample(c, n, params, limit - elapsed_s)
    except ProviderTimeout as exc:
        raise ProviderTimeout(f"{message}; {exc.stopped}", exc.details) from None


def measure(c: Criterion, registry: Registry | None = None, *,
            on_progress: Callable[[int, int], None] | None = None,
            clock: Callable[[], float] = time.perf_counter, quick: bool = False,
            workload: object = None, source=None) -> CriterionResult:
    """Sample ``c`` sequentially from ``source`` (:mod:`.sources`; default: ``registry``'s
    samplers in this process). Providers receive ``params`` plus ``_offset`` (samples so far),
    ``_quick`` and ``_workload`` (what the criteria file's workload factory built, or None)."""
    start = clock()
    source = source if source is not None else InProcess(registry)
    schedule = sequential.look_schedule(c.min_samples, c.max_samples)
    confidences = sequential.look_confidences(c.confidence, schedule)
    look_conf = None
    samples: Samples | None = None
    looks: list[int] = []
    verdict = None
    try:
        for i, target in enumerate(schedule):
            have = samples.count if samples else 0
            batch = _checked(_sample(source, c, target - have,
                                     {**c.params, "_offset": have, "_quick": quick,
                                      "_workload": workload}, clock() - start), target - have)
            if samples is None:
                samples = batch
            else:
                samples.extend(batch)
            looks.append(samples.count)
            if on_progress:
                on_progress(samples.count, samples.count if one_shot(samples) else c.max_samples)
            out_of_time = clock() - start > c.max_seconds
            last = i == len(schedule) - 1 or one_shot(samples) or out_of_time
            # a one-shot measurement (exact value, proportion) is judged once, at full confidence
            if one_shot(samples):
                look_conf = c.confidence
            elif out_of_time:  # no later look will spend what is left of the error budget
                look_conf = sequential.closing_confidence(c.confidence, schedule, i)
            else:
                look_conf = confidences[i]
            verdict = decide(c, samples, look_conf, budget_spent=last)
            if verdict.status is not None:
                break
    except NotApplicable as exc:  # a requirement unmet, or the provider said so
        return CriterionResult(c, Verdict(NOT_APPLICABLE, str(exc), None), samples, looks,
                           elapsed_s=clock() - start)
    except InvalidMeasurement as exc:
        return CriterionResult(c, Verdict(INVALID, str(exc), None), None, looks,
                           elapsed_s=clock() - start)
    except ProviderFailure as exc:  # timed out, or exited instead of returning: ERROR, go on
        return CriterionResult(c, Verdict(ERROR, str(exc), None), samples, looks,
                           elapsed_s=clock() - start, error=exc.details)
    except Exception as exc:  # noqa: BLE001 - a provider's failure is an ERROR verdict
        message = f"{type(exc).__name__}: {exc}"
        return CriterionResult(c, Verdict(ERROR, message, None), samples, looks,
                           elapsed_s=clock() - start, error=traceback.format_exc(limit=5))
    return CriterionResult(c, verdict, samples, looks, look_conf, clock() - start)
