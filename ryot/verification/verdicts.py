"""Verdicts: pure functions of a criterion and raw samples. No clocks, no I/O.

PASS            the whole confidence interval satisfies the criterion
FAIL            the whole interval violates it
INCONCLUSIVE    the interval straddles a bound after the sample budget is spent
INVALID         the samples cannot support a decision (too few, non-finite, non-positive ratio
                arms, drifting, cold, or too noisy to ever decide)
NOT_APPLICABLE  a requirement is unmet (decided by the runner, never counted as PASS)
ERROR           the provider raised or timed out (decided by the runner)

How each sample kind becomes an interval: :mod:`ryot.verification.estimates`.

"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ryot.measure.samples import ARMS, Samples
from ryot.stats import intervals as stats
from ryot.stats import resolution, sequential
from ryot.verification.criteria import Criterion
from ryot.verification.estimates import (
    LOG_RATIO_KINDS,
    Statistics,
    compute_statistics,
    drifting_arm,
)
from ryot.verification.statuses import (
    FAIL,
    INCONCLUSIVE,
    INVALID,
    PASS,
)

__all__ = ["DRIFT_ALPHA", "DRIFT_POSTPONE_P", "DRIFT_POSTPONE_WIDEN", "MEAN_MIN_SAMPLES",
           "Verdict", "classify", "decide", "more_samples_hint", "suspicion"]

DRIFT_ALPHA = 0.01  # Mann–Kendall significance at which a trend makes the samples INVALID
# A weaker hint of a trend postpones a decision to the next look rather than deciding on trials
# that may be drifting: at 24 trials, a 0.5%/trial drift under 5% noise is only ~2.4 standard
# errors, too little to flag but enough to mislead (see docs/statistics.md).
MEAN_MIN_SAMPLES = 6  # as the rank intervals at 95%: no decided mean from fewer
DRIFT_POSTPONE_P = 0.7
DRIFT_POSTPONE_WIDEN = 4.0

@dataclass(frozen=True)
class Verdict:
    status: str | None  # None: undecided (the runner may take more samples)
    reason: str
    statistics: Statistics | None
    suspicious: str | None = None
    more_samples_hint: int | None = None


def classify(c: Criterion, low: float, high: float) -> str | None:
    """PASS / FAIL when the interval [low, high] sits wholly on one side, else None."""
    if c.comparator == ">=":
        return PASS if low >= c.threshold else FAIL if high < c.threshold else None
    if c.comparator == "<=":
        return PASS if high <= c.threshold else FAIL if low > c.threshold else None
    if low >= c.min and high <= c.max:
        return PASS
    return FAIL if high < c.min or low > c.max else None


def _on_scale(c: Criterion, kind: str) -> Criterion:
    """The criterion with its bounds on the scale the interval is estimated on, rounded as the
    series is: a value exactly at the threshold is never outside its own bound."""
    if kind not in LOG_RATIO_KINDS:
        return c

    def log(b: float | None) -> float | None:
        return None if b is None else round(math.log(b), 10) if b > 0 else -math.inf

    return replace(c, threshold=log(c.threshold), min=log(c.min), max=log(c.max))


def _classify(c: Criterion, s: Statistics, kind: str) -> str | None:
    if s.scale_low is None:
        return classify(c, s.low, s.high)
    return classify(_on_scale(c, kind), s.scale_low, s.scale_high)


def _constant_values(samples: Samples) -> str | None:
    """Scalar measurements that never vary: a clock too coarse to see them vary, or no
    measurement at all. (A constant arm of paired trials is judged by its ratios: when the
    other arm shows a clock's grid, the interval is widened for it.)"""
    if samples.kind != "scalar" or not resolution.is_constant(samples.values):
        return None
    return (f"all {len(samples.values)} values are {samples.values[0]:.6g}: values that never "
            "vary cannot be told from a clock too coarse to see them vary, and a zero-width "
            "interval never decides; time more work per sample or use a finer clock (a "
            "deterministic value is an 'exact' sample)")


def _noise(c: Criterion, samples: Samples, s: Statistics) -> float | None:
    """The spread the noise gate judges: MAD of log ratios (ratio kinds); for scalar samples the
    MAD relative to the nearest bound — a bound at 0 gives no scale, so no gate."""
    if samples.kind != "scalar":
        return s.relative_spread
    bound = min(_bounds(c), key=lambda b: abs(s.estimate - b))
    return None if bound == 0 else stats.mad(samples.values) / abs(bound)


def _resolution_text(samples: Samples, s: Statistics) -> str:
    arms = (samples.numerator + samples.denominator) if samples.kind == "paired" else \
        samples.values
    typical = abs(float(np.median(arms)))
    share = f" ({s.resolution / typical:.0%} of the median)" if typical > 0 else ""
    return (f"values are multiples of {s.resolution:.3g}{share}: the clock's resolution, not "
            "the noise, keeps the interval wide; time more work per sample or use a finer clock")


def _input_problem(c: Criterion, samples: Samples) -> str | None:
    """What makes the raw samples unusable before any statistic is computed."""
    needed = c.min_samples if samples.kind in ("scalar", *LOG_RATIO_KINDS) else 1
    if samples.kind == "two_sample" and samples.count < needed:
        return (f"too few samples: {len(samples.baseline)} baseline and "
                f"{len(samples.candidate)} candidate, each arm needs min_samples {needed}")
    if samples.count < needed:
        return f"too few samples: {samples.count} < min_samples {needed}"
    if not samples.all_finite():
        return "the samples include NaN or infinite values"
    if not samples.warmup_reached:
        return "the provider reports its warm-up was not reached"
    if samples.kind in LOG_RATIO_KINDS:
        for arm in ("numerator", "denominator") if samples.kind == "paired" else ARMS:
            bad = [i for i, v in enumerate(getattr(samples, arm)) if v <= 0]
            if bad:
                return (f"a ratio needs positive values in both arms: {arm}[{bad[0]}] = "
                        f"{getattr(samples, arm)[bad[0]]:g}"
                        + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
    if c.estimand == "mean":
        if samples.kind not in ("scalar", "paired"):
            return (f"estimand 'mean' applies to scalar and paired samples, not "
                    f"{samples.kind}: remove it or measure per trial")
        if samples.count < MEAN_MIN_SAMPLES:
            return (f"too few samples for the mean: {samples.count} < {MEAN_MIN_SAMPLES} (its t "
                    "interval needs them; raise min_samples)")
    constant = _constant_values(samples)
    if constant is not None:
        return constant
    if samples.kind == "paired_proportions" and samples.statistic == "ratio" and \
            samples.counts["both"] + samples.counts["baseline_only"] == 0:
        return "a ratio of accuracies needs a baseline that got at least one item right"
    return None


def _drift_size(samples: Samples, s: Statistics) -> tuple[float, float]:
    """(|change over the run|, interval half-width), on the scale the interval is built on."""
    if samples.kind in LOG_RATIO_KINDS:
        total = abs(math.log1p(s.drift)) if s.drift > -1 else math.inf
        if not (s.low > 0 and math.isfinite(s.high)):  # an unbounded interval (few effective
            return total, math.inf                       # trials at a strict early look)
        return total, (math.log(s.high) - math.log(s.low)) / 2
    return abs(s.drift) * abs(s.estimate), (s.high - s.low) / 2


def _drift_problem(samples: Samples, s: Statistics, alpha: float) -> str | None:
    """A trend with Mann–Kendall p < alpha that moves the value by more than the interval's
    half-width over the run: the trials are not stationary, so no single value describes them."""
    if s.drift_p is None or s.drift_p >= alpha or s.low is None:
        return None
    total, half = _drift_size(samples, s)
    if not total > half:
        return None
    what, trials = ("ratio" if samples.kind == "paired" else "value"), s.n
    if samples.kind == "two_sample":  # the drift is that of one arm's times: name it
        arm = drifting_arm({a: np.log(getattr(samples, a)) for a in ARMS})[0]
        what, trials = f"{arm} time", len(getattr(samples, arm))
    direction = "rises" if s.drift > 0 else "falls"
    return (f"not stationary: the {what} {direction} {abs(s.drift):.1%} over {trials} trials "
            f"(Mann-Kendall p = {s.drift_p:.2g})")


def _drift_could_flip(c: Criterion, samples: Samples, s: Statistics) -> bool:
    """A weak trend (p < DRIFT_POSTPONE_P) that, DRIFT_POSTPONE_WIDEN times its estimated size
    added to both ends of the interval, would change the verdict. (Runs that stop early are the
    ones whose trend estimate came out small, hence the generous factor.)"""
    if s.drift_p is None or s.drift_p >= DRIFT_POSTPONE_P or s.low is None:
        return False
    total = DRIFT_POSTPONE_WIDEN * _drift_size(samples, s)[0]
    if samples.kind in LOG_RATIO_KINDS:
        low, high = s.low * math.exp(-total), s.high * math.exp(total)
    else:
        low, high = s.low - total, s.high + total
    return classify(c, low, high) != classify(c, s.low, s.high)


def suspicion(c: Criterion, estimate: float) -> str | None:
    if c.expected_max is not None and estimate > c.expected_max:
        return (f"estimate {estimate:.4g} is above expected_max {c.expected_max:g}: a result this "
                "good often means a broken baseline")
    if c.expected_min is not None and estimate < c.expected_min:
        return f"estimate {estimate:.4g} is below expected_min {c.expected_min:g}"
    return None


def _bounds(c: Criterion) -> list[float]:
    return [c.threshold] if c.comparator != "between" else [c.min, c.max]


def more_samples_hint(c: Criterion, s: Statistics, kind: str,
                      look_confidence: float) -> tuple[int | None, str]:
    """(more samples, text): how many more a fresh run would likely need to decide."""
    if kind not in ("scalar", *LOG_RATIO_KINDS) or s.low is None:  # two_sample: samples per arm
        return None, ""
    if kind in LOG_RATIO_KINDS:
        if any(b <= 0 for b in _bounds(c)):
            return None, ""
        scale = math.log
    else:
        def scale(v):
            return v
    centre = scale(s.estimate)
    distance = min(abs(centre - scale(b)) for b in _bounds(c))
    half_width = (scale(s.high) - scale(s.low)) / 2
    n_eff = s.effective_n or s.n
    need_eff = sequential.samples_to_decide(distance, half_width, max(2, int(n_eff)),
                                            look_confidence, c.confidence)
    if need_eff is None:
        return None, ""
    total = math.ceil(need_eff * s.n / n_eff)
    limit = min(100_000, sequential.HINT_MAX_FACTOR * c.max_samples)
    if total > limit:
        return None, (f"; it will likely not decide within {limit} samples (the value is too close "
                      "to the bound for this noise)")
    more = max(1, total - s.n)
    return more, f"; about {more} more samples (max_samples {total}) would likely decide it"


def _interval_text(s: Statistics, confidence: float) -> str:
    return f"{s.estimate:.4g} [{s.low:.4g}, {s.high:.4g}] at {confidence:.4g} confidence"


def decide(c: Criterion, samples: Samples, confidence: float, *, budget_spent: bool) -> Verdict:
    """The verdict for these samples at this (per-look) confidence; status None means the
    runner may take more samples."""
    problem = _input_problem(c, samples)
    if problem is not None:
        return Verdict(INVALID, problem, None)
    s = compute_statistics(samples, confidence, c.estimand, c.unit)
    flag = suspicion(c, s.estimate)
    if not math.isfinite(s.estimate):
        return Verdict(INVALID, f"the estimate is not finite ({s.estimate})", s, flag)
    if samples.kind == "exact":
        status = classify(c, s.estimate, s.estimate)
        text = f"exact value {s.estimate:.4g} is " + ("" if status == PASS else "outside ")
        return Verdict(status, text + c.bounds_text(), s, flag)
    drift = _drift_problem(samples, s, DRIFT_ALPHA)
    if drift is not None:
        return Verdict(INVALID, drift + "; fix the drift (warm-up, thermal state, interleaving) "
                       "and measure again", s, flag)
    if not budget_spent and _drift_could_flip(c, samples, s):
        return Verdict(None, f"possible drift (Mann-Kendall p = {s.drift_p:.2g}) that could change "
                       "the verdict: taking more samples before deciding", s, flag)
    interval = _interval_text(s, confidence)
    short = s.coverage is not None and s.coverage < confidence
    flat = s.scale_low is not None and s.scale_low == s.scale_high  # decides nothing by itself
    status = None if short or flat else _classify(c, s, samples.kind)
    if status == PASS:
        return Verdict(PASS, f"{interval} is wholly {c.bounds_text()}", s, flag)
    if status == FAIL:
        return Verdict(FAIL, f"{interval} is wholly outside {c.bounds_text()}", s, flag)
    if not budget_spent:
        return Verdict(None, f"{interval} straddles {c.bounds_text()}", s, flag)
    if short:
        dependent = (f" (effective n {s.effective_n:.1f} of {s.n}: lag-1 autocorrelation "
                     f"{s.autocorrelation:.2f})"
                     if s.effective_n is not None and s.effective_n < s.n else "")
        return Verdict(INVALID, f"too few samples for {confidence:.4g} confidence: the widest "
                       f"interval from {s.n} samples{dependent} covers only {s.coverage:.4g}",
                       s, flag)
    if flat:
        return Verdict(INVALID, f"{interval} has zero width: {s.n} samples give one value, and "
                       "a zero-width interval never decides by itself (quantized or constant "
                       "measurements)", s, flag)
    if s.resolution is not None and s.widening > 0.5:
        return Verdict(INVALID, f"{interval} straddles {c.bounds_text()}: "
                       + _resolution_text(samples, s), s, flag)
    noise = _noise(c, samples, s)
    if noise is not None and noise > c.max_noise:
        return Verdict(INVALID, f"noise too high to decide: relative spread (MAD) "
                       f"{noise:.3g} > max_noise {c.max_noise:g} and {interval} "
                       f"straddles {c.bounds_text()}", s, flag)
    hint, hint_text = more_samples_hint(c, s, samples.kind, confidence)
    return Verdict(INCONCLUSIVE, f"{interval} straddles {c.bounds_text()} after {s.n} "
                   f"samples{hint_text}", s, flag, hint)
