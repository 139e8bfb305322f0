"""Verdicts: pure functions of a criterion and raw samples. No clocks, no I/O.

PASS            the whole confidence interval satisfies the criterion
FAIL            the whole interval violates it
INCONCLUSIVE    the interval straddles a bound after the sample budget is spent
INVALID         the samples cannot support a decision (too few, non-finite, too noisy, cold)
NOT_APPLICABLE  a requirement is unmet (decided by the runner, never counted as PASS)
ERROR           the provider raised (decided by the runner)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import stats
from .criteria import Criterion
from .samples import Samples, to_json_number

PASS, FAIL, INCONCLUSIVE, INVALID = "PASS", "FAIL", "INCONCLUSIVE", "INVALID"
NOT_APPLICABLE, ERROR = "NOT_APPLICABLE", "ERROR"
STATUSES = (PASS, FAIL, INCONCLUSIVE, INVALID, NOT_APPLICABLE, ERROR)

RESAMPLES = stats.DEFAULT_RESAMPLES
SEED = stats.DEFAULT_SEED


@dataclass(frozen=True)
class Statistics:
    estimate: float
    low: float
    high: float
    n: int
    relative_spread: float

    def to_dict(self) -> dict:
        return {"estimate": to_json_number(self.estimate), "ci_low": to_json_number(self.low),
                "ci_high": to_json_number(self.high), "n": self.n,
                "relative_spread": to_json_number(self.relative_spread)}


@dataclass(frozen=True)
class Verdict:
    status: str | None  # None: undecided (the runner may take more samples)
    reason: str
    statistics: Statistics | None
    suspicious: str | None = None
    more_samples_hint: int | None = None


def compute_statistics(samples: Samples, confidence: float, *, resamples: int = RESAMPLES,
                       seed: int = SEED) -> Statistics:
    if samples.kind == "exact":
        v = samples.values[-1]
        return Statistics(v, v, v, len(samples.values), 0.0)
    if samples.kind == "paired":
        ci = stats.bootstrap_ratio_of_medians(samples.numerator, samples.denominator, confidence,
                                              paired=True, resamples=resamples, seed=seed)
        ratios = [a / b if b else math.inf for a, b in zip(samples.numerator, samples.denominator, strict=True)]
        spread = stats.relative_spread(ratios)
    else:
        ci = stats.bootstrap_median(samples.values, confidence, resamples=resamples, seed=seed)
        spread = stats.relative_spread(samples.values)
    return Statistics(ci.estimate, ci.low, ci.high, samples.count, spread)


def classify(c: Criterion, low: float, high: float) -> str | None:
    """PASS / FAIL when the interval [low, high] sits wholly on one side, else None."""
    if c.comparator == ">=":
        return PASS if low >= c.threshold else FAIL if high < c.threshold else None
    if c.comparator == "<=":
        return PASS if high <= c.threshold else FAIL if low > c.threshold else None
    if low >= c.min and high <= c.max:
        return PASS
    return FAIL if high < c.min or low > c.max else None


def validity_problem(c: Criterion, samples: Samples, s: Statistics | None) -> str | None:
    needed = 1 if samples.kind == "exact" else c.min_samples
    if samples.count < needed:
        return f"too few samples: {samples.count} < min_samples {needed}"
    if not samples.all_finite():
        return "the samples include NaN or infinite values"
    if not samples.warmup_reached:
        return "the provider reports its warm-up was not reached"
    if s is not None and not math.isfinite(s.estimate):
        return f"the estimate is not finite ({s.estimate})"
    if s is not None and s.relative_spread > c.max_noise:
        return (f"noise too high: relative spread (MAD/median) {s.relative_spread:.3g} > "
                f"max_noise {c.max_noise:g}")
    return None


def suspicion(c: Criterion, estimate: float) -> str | None:
    if c.expected_max is not None and estimate > c.expected_max:
        return (f"estimate {estimate:.4g} is above expected_max {c.expected_max:g}: a result this "
                "good often means a broken baseline")
    if c.expected_min is not None and estimate < c.expected_min:
        return f"estimate {estimate:.4g} is below expected_min {c.expected_min:g}"
    return None


def more_samples_hint(c: Criterion, s: Statistics) -> int | None:
    """How many more samples would likely decide: the interval narrows like 1/sqrt(n)."""
    bounds = [c.threshold] if c.comparator != "between" else [c.min, c.max]
    distance = min(abs(s.estimate - b) for b in bounds)
    half_width = (s.high - s.low) / 2
    if distance == 0 or half_width == 0 or s.n == 0:
        return None
    needed = math.ceil(s.n * (half_width / distance) ** 2)
    return max(1, needed - s.n)


def decide(c: Criterion, samples: Samples, confidence: float, *, budget_spent: bool) -> Verdict:
    """The verdict for these samples at this (per-look) confidence."""
    s = None
    if samples.count and samples.all_finite() and (
            samples.kind != "paired" or all(d > 0 for d in samples.denominator)):
        s = compute_statistics(samples, confidence)
    problem = validity_problem(c, samples, s)
    if problem is None and s is None:
        problem = "paired samples with a non-positive denominator"
    if problem is not None:
        return Verdict(INVALID, problem, s)
    flag = suspicion(c, s.estimate)
    interval = f"{s.estimate:.4g} [{s.low:.4g}, {s.high:.4g}] at {confidence:.4g} confidence"
    status = classify(c, s.low, s.high)
    if status == PASS:
        return Verdict(PASS, f"{interval} is wholly {c.bounds_text()}", s, flag)
    if status == FAIL:
        return Verdict(FAIL, f"{interval} is wholly outside {c.bounds_text()}", s, flag)
    if not budget_spent:
        return Verdict(None, f"{interval} straddles {c.bounds_text()}", s, flag)
    hint = more_samples_hint(c, s)
    more = f"; about {hint} more samples would likely decide it" if hint else ""
    return Verdict(INCONCLUSIVE, f"{interval} straddles {c.bounds_text()} after {s.n} "
                   f"samples{more}", s, flag, hint)
