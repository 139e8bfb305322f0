"""Verdicts: pure functions of a criterion and raw samples. No clocks, no I/O.

PASS            the whole confidence interval satisfies the criterion
FAIL            the whole interval violates it
INCONCLUSIVE    the interval straddles a bound after the sample budget is spent
INVALID         the samples cannot support a decision (too few, non-finite, non-positive ratio
                arms, drifting, cold, or too noisy to ever decide)
NOT_APPLICABLE  a requirement is unmet (decided by the runner, never counted as PASS)
ERROR           the provider raised or timed out (decided by the runner)

How each sample kind becomes an interval (see docs/statistics.md for the reasons and figures):

* ``paired`` — per-pair log ratios ``log(numerator[i] / denominator[i])`` (load shared by both
  arms of a round cancels); estimate exp(Hodges–Lehmann); Wilcoxon signed-rank interval, after
  setting aside gross outliers (a 3x-slow trial on one arm would bias a symmetric estimator);
* ``scalar`` — the values; estimate the median; interval from order statistics;
* both: a Mann–Kendall test on the series in trial order flags drift (INVALID), and the lag-1
  autocorrelation left after removing the trend shrinks the effective sample size, which widens
  the interval; a decision needs the interval's actual coverage to reach the look's confidence;
* ``proportion`` — Wilson score interval; ``paired_proportions`` — bootstrap over items;
* ``exact`` — the value itself, no interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ryot.measure.samples import Samples, to_json_number
from ryot.stats import intervals as stats
from ryot.stats import sequential, stationarity
from ryot.verification.criteria import Criterion
from ryot.verification.statuses import (
    FAIL,
    INCONCLUSIVE,
    INVALID,
    PASS,
)

__all__ = [
    "DRIFT_ALPHA", "DRIFT_POSTPONE_P", "DRIFT_POSTPONE_WIDEN", "METHODS", "OUTLIER_MADS",
    "RESAMPLES", "SEED", "Statistics", "Verdict", "classify", "compute_statistics",
    "decide", "more_samples_hint", "suspicion"
]

RESAMPLES = stats.RESAMPLES
SEED = stats.SEED
DRIFT_ALPHA = 0.01  # Mann–Kendall significance at which a trend makes the samples INVALID
# A weaker hint of a trend postpones a decision to the next look rather than deciding on trials
# that may be drifting: at 24 trials, a 0.5%/trial drift under 5% noise is only ~2.4 standard
# errors, too little to flag but enough to mislead (see docs/statistics.md).
OUTLIER_MADS = 8.0  # paired log ratios this many scaled MADs from the median are gross outliers
DRIFT_POSTPONE_P = 0.7
DRIFT_POSTPONE_WIDEN = 4.0

METHODS = {  # kind -> (statistic, interval), as written into each report
    "paired": ("Hodges-Lehmann estimate of the per-pair ratio",
               "Wilcoxon signed-rank interval of per-pair log ratios (gross outliers beyond 8 "
               "scaled MADs set aside), effective n for lag-1 autocorrelation; Mann-Kendall "
               "drift check"),
    "scalar": ("median", "order statistics (sign-test interval), effective n for lag-1 "
                         "autocorrelation; Mann-Kendall drift check"),
    "proportion": ("proportion", "Wilson score"),
    "paired_proportions": ("paired proportions", "percentile bootstrap over items (2x2 table)"),
    "exact": ("exact value", "none"),
}


@dataclass(frozen=True)
class Statistics:
    estimate: float
    low: float | None  # None for exact values: no interval to show
    high: float | None
    n: int
    relative_spread: float
    coverage: float | None = None         # the interval's guaranteed coverage (order statistics)
    effective_n: float | None = None      # trials' worth after autocorrelation
    autocorrelation: float | None = None  # lag-1, of the detrended series
    drift: float | None = None            # relative change over the run (Theil–Sen)
    drift_p: float | None = None          # Mann–Kendall p-value of that trend
    outliers: int | None = None           # paired: trials set aside as gross outliers

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None else to_json_number(v)
        d = {"estimate": num(self.estimate), "ci_low": num(self.low), "ci_high": num(self.high),
             "n": self.n, "relative_spread": num(self.relative_spread)}
        for key in ("coverage", "effective_n", "autocorrelation", "drift", "drift_p", "outliers"):
            if getattr(self, key) is not None:
                d[key] = num(getattr(self, key))
        return d


@dataclass(frozen=True)
class Verdict:
    status: str | None  # None: undecided (the runner may take more samples)
    reason: str
    statistics: Statistics | None
    suspicious: str | None = None
    more_samples_hint: int | None = None


# -- statistics per sample kind ----------------------------------------------------------------
def _series(samples: Samples) -> np.ndarray:
    """The ordered series the interval is computed on: log ratios (paired) or the values."""
    if samples.kind == "paired":
        # rounded to 1e-10 (relative 1e-10 of the ratio) so that float noise in the division
        # cannot break or make ties, which the rank-based drift and dependence checks would see
        return np.round(np.log(np.asarray(samples.numerator, dtype=np.float64)
                               / np.asarray(samples.denominator, dtype=np.float64)), 10)
    return np.asarray(samples.values, dtype=np.float64)


def _sequence_statistics(samples: Samples, confidence: float) -> Statistics:
    x = _series(samples)
    n = x.size
    t = stationarity.trend(x)
    rho = stationarity.lag1_autocorrelation(x)
    n_eff = stationarity.effective_n(n, rho)
    if samples.kind == "paired":  # HL assumes symmetry: gross one-sided outliers are set aside
        kept = stats.without_gross_outliers(x, OUTLIER_MADS)
        ci = stats.hodges_lehmann_interval(kept, confidence,
                                           effective_n=stationarity.effective_n(kept.size, rho))
        outliers = n - kept.size
    else:
        ci = stats.median_interval(x, confidence, effective_n=n_eff)
        outliers = None
    centre = ci.estimate
    if samples.kind == "paired":
        estimate, low, high = math.exp(centre), math.exp(ci.low), math.exp(ci.high)
        spread = stats.mad(x)
        drift = math.expm1(t.slope * (n - 1))
    else:
        estimate, low, high = centre, ci.low, ci.high
        spread = stats.relative_spread(x)
        drift = (t.slope * (n - 1) / abs(centre) if centre != 0
                 else (0.0 if t.slope == 0 else math.inf))
    return Statistics(estimate, low, high, n, spread, ci.coverage, n_eff, rho, drift, t.p_value,
                      outliers)


def compute_statistics(samples: Samples, confidence: float) -> Statistics:
    """Estimate and interval of ``samples`` at ``confidence`` (see the module docstring)."""
    if samples.kind == "exact":
        return Statistics(samples.values[-1], None, None, len(samples.values), 0.0)
    if samples.kind == "proportion":
        k, n = samples.counts["successes"], samples.counts["trials"]
        ci = stats.wilson_interval(k, n, confidence)
        return Statistics(ci.estimate, ci.low, ci.high, n, 0.0)
    if samples.kind == "paired_proportions":
        ci = stats.paired_proportions_interval(samples.counts, samples.statistic, confidence)
        return Statistics(ci.estimate, ci.low, ci.high, samples.count, 0.0)
    return _sequence_statistics(samples, confidence)


def classify(c: Criterion, low: float, high: float) -> str | None:
    """PASS / FAIL when the interval [low, high] sits wholly on one side, else None."""
    if c.comparator == ">=":
        return PASS if low >= c.threshold else FAIL if high < c.threshold else None
    if c.comparator == "<=":
        return PASS if high <= c.threshold else FAIL if low > c.threshold else None
    if low >= c.min and high <= c.max:
        return PASS
    return FAIL if high < c.min or low > c.max else None


def _input_problem(c: Criterion, samples: Samples) -> str | None:
    """What makes the raw samples unusable before any statistic is computed."""
    needed = c.min_samples if samples.kind in ("scalar", "paired") else 1
    if samples.count < needed:
        return f"too few samples: {samples.count} < min_samples {needed}"
    if not samples.all_finite():
        return "the samples include NaN or infinite values"
    if not samples.warmup_reached:
        return "the provider reports its warm-up was not reached"
    if samples.kind == "paired":
        for arm in ("numerator", "denominator"):
            bad = [i for i, v in enumerate(getattr(samples, arm)) if v <= 0]
            if bad:
                return (f"a ratio needs positive values in both arms: {arm}[{bad[0]}] = "
                        f"{getattr(samples, arm)[bad[0]]:g}"
                        + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
    if samples.kind == "paired_proportions" and samples.statistic == "ratio" and \
            samples.counts["both"] + samples.counts["baseline_only"] == 0:
        return "a ratio of accuracies needs a baseline that got at least one item right"
    return None


def _drift_size(samples: Samples, s: Statistics) -> tuple[float, float]:
    """(|change over the run|, interval half-width), on the scale the interval is built on."""
    if samples.kind == "paired":
        return abs(math.log1p(s.drift)), (math.log(s.high) - math.log(s.low)) / 2
    return abs(s.drift) * abs(s.estimate), (s.high - s.low) / 2


def _drift_problem(samples: Samples, s: Statistics, alpha: float) -> str | None:
    """A trend with Mann–Kendall p < alpha that moves the value by more than the interval's
    half-width over the run: the trials are not stationary, so no single value describes them."""
    if s.drift_p is None or s.drift_p >= alpha or s.low is None:
        return None
    total, half = _drift_size(samples, s)
    if not total > half:
        return None
    what = "ratio" if samples.kind == "paired" else "value"
    direction = "rises" if s.drift > 0 else "falls"
    return (f"not stationary: the {what} {direction} {abs(s.drift):.1%} over {s.n} trials "
            f"(Mann-Kendall p = {s.drift_p:.2g})")


def _drift_could_flip(c: Criterion, samples: Samples, s: Statistics) -> bool:
    """A weak trend (p < DRIFT_POSTPONE_P) that, DRIFT_POSTPONE_WIDEN times its estimated size
    added to both ends of the interval, would change the verdict. (Runs that stop early are the
    ones whose trend estimate came out small, hence the generous factor.)"""
    if s.drift_p is None or s.drift_p >= DRIFT_POSTPONE_P or s.low is None:
        return False
    total = DRIFT_POSTPONE_WIDEN * _drift_size(samples, s)[0]
    if samples.kind == "paired":
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
    if kind not in ("scalar", "paired") or s.low is None:
        return None, ""
    if kind == "paired":
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
    s = compute_statistics(samples, confidence)
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
    status = None if short else classify(c, s.low, s.high)
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
    if s.relative_spread > c.max_noise:
        return Verdict(INVALID, f"noise too high to decide: relative spread (MAD) "
                       f"{s.relative_spread:.3g} > max_noise {c.max_noise:g} and {interval} "
                       f"straddles {c.bounds_text()}", s, flag)
    hint, hint_text = more_samples_hint(c, s, samples.kind, confidence)
    return Verdict(INCONCLUSIVE, f"{interval} straddles {c.bounds_text()} after {s.n} "
                   f"samples{hint_text}", s, flag, hint)
