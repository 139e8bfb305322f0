"""Estimates and intervals per sample kind: pure functions of raw samples (no clocks, no I/O).

* ``paired`` — per-pair log ratios ``log(numerator[i] / denominator[i])`` (load shared by both
  arms of a round cancels); estimate exp(Hodges–Lehmann); Wilcoxon signed-rank interval, after
  setting aside gross outliers (a 3x-slow trial on one arm would bias a symmetric estimator);
* ``scalar`` — the values; estimate the median; interval from order statistics;
* both: a Mann–Kendall test on the series in trial order flags drift (INVALID), and the lag-1
  autocorrelation left after removing the trend shrinks the effective sample size, which widens
  the interval; a decision needs the interval's actual coverage to reach the look's confidence;
* ``two_sample`` (arms measured separately) — exp(Hodges–Lehmann shift of log baseline − log
  candidate), Mann–Whitney (Moses) interval; drift and autocorrelation checked per arm;
* ``proportion`` — Clopper–Pearson exact interval (coverage never below the confidence);
  ``paired_proportions`` — Tango's score interval for the difference, Tang's for the ratio
  (honest with an empty discordant cell, where the old bootstrap collapsed to [0, 0]);
* ``exact`` — the value itself, no interval.

What a verdict is about (the criterion's ``estimand``, scalar and paired samples):
``"typical"`` (default) — a typical trial: the pseudo-median of the per-pair log ratios, or the
median value; ``"mean"`` — the ratio of mean times (Σ baseline ÷ Σ candidate), or the mean
value: the throughput question, which a periodic disturbance (a GC pause every 7th trial)
moves and a typical trial does not. Paired times, and scalar ones in a time unit, that sit on a
clock's grid are widened by one tick either way (:mod:`ryot.stats.location`).

The verdicts (:mod:`ryot.verification.verdicts`) classify these intervals against a criterion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ryot.measure.samples import ARMS, Samples, to_json_number
from ryot.stats import intervals as stats
from ryot.stats import location, resolution, stationarity
from ryot.stats.proportions import (
    paired_difference_interval,
    paired_ratio_interval,
    proportion_interval,
)
from ryot.stats.two_sample import shift_interval

__all__ = ["LOG_RATIO_KINDS", "METHODS", "METHODS_MEAN", "OUTLIER_MADS", "RESAMPLES", "SEED",
           "TIME_UNITS", "Statistics", "compute_statistics", "drifting_arm"]

RESAMPLES = stats.RESAMPLES
SEED = stats.SEED
OUTLIER_MADS = 8.0  # paired log ratios this many scaled MADs from the median are gross outliers
TIME_UNITS = frozenset({"s", "ms", "us", "µs", "ns", "seconds"})  # scalar times: clock-gridded
LOG_RATIO_KINDS = ("paired", "two_sample")  # kinds whose estimate is a ratio built on a log scale

METHODS = {  # kind -> (statistic, interval), as written into each report
    "paired": ("Hodges-Lehmann estimate of the per-pair ratio",
               "Wilcoxon signed-rank interval of per-pair log ratios (gross outliers beyond 8 "
               "scaled MADs set aside), effective n for lag-1 autocorrelation; Mann-Kendall "
               "drift check"),
    "scalar": ("median", "order statistics (sign-test interval), effective n for lag-1 "
                         "autocorrelation; Mann-Kendall drift check"),
    "two_sample": ("Hodges-Lehmann estimate of the ratio baseline / candidate of two arms "
                   "measured separately",
                   "Mann-Whitney (Moses) interval of the shift of log times, effective n per arm "
                   "for lag-1 autocorrelation; Mann-Kendall drift check per arm"),
    "proportion": ("proportion", "Clopper-Pearson exact interval"),
    "paired_proportions": ("paired proportions", "Tango score interval (difference), Tang score "
                                                 "interval (ratio), over the 2x2 table"),
    "exact": ("exact value", "none"),
}
METHODS_MEAN = {  # estimand "mean"
    "paired": ("ratio of mean times (sum of baseline / sum of candidate)",
               "t interval on the Newey-West long-run variance of the residuals (delta method, "
               "log scale); Mann-Kendall drift check"),
    "scalar": ("mean", "t interval on the Newey-West long-run variance; Mann-Kendall drift "
                       "check"),
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
    resolution: float | None = None       # the grid the values sit on (a clock's tick)
    # on the scale the interval is estimated on (log ratios, or values): what classifies
    scale_low: float | None = field(default=None, compare=False)
    scale_high: float | None = field(default=None, compare=False)
    widening: float = field(default=0.0, compare=False)  # share of the width the grid added

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None else to_json_number(v)
        d = {"estimate": num(self.estimate), "ci_low": num(self.low), "ci_high": num(self.high),
             "n": self.n, "relative_spread": num(self.relative_spread)}
        for key in ("coverage", "effective_n", "autocorrelation", "drift", "drift_p", "outliers",
                    "resolution"):
            if getattr(self, key) is not None:
                d[key] = num(getattr(self, key))
        return d




# -- statistics per sample kind ----------------------------------------------------------------
def _series(samples: Samples) -> np.ndarray:
    """The ordered series the interval is computed on: log ratios (paired) or the values."""
    if samples.kind == "paired":
        return _log_series(samples.numerator, samples.denominator)
    return np.asarray(samples.values, dtype=np.float64)


def _exp(v: float) -> float:
    """exp on the way back from the log scale: inf past float range (an unbounded interval
    end, or an estimate the verdicts call not finite), never an OverflowError."""
    return math.exp(v) if v < 709.0 else math.inf


def _log_series(numerator, denominator) -> np.ndarray:
    # rounded to 1e-10 (relative 1e-10 of the ratio) so that float noise in the division
    # cannot break or make ties, which the rank-based drift and dependence checks would see
    return np.round(np.log(np.asarray(numerator, dtype=np.float64)
                           / np.asarray(denominator, dtype=np.float64)), 10)


def _extremes(samples: Samples, step: float) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest series the recorded values could stand for: a duration read
    from a clock of resolution ``step`` is off by less than one step (two readings)."""
    if samples.kind == "paired":
        num = np.asarray(samples.numerator, dtype=np.float64)
        den = np.asarray(samples.denominator, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            low = _log_series(np.maximum(num - step, 0.0), den + step)
            lowest = np.where(den > step, den - step, 1.0)  # the candidate's least possible time
            high = np.where(den > step, _log_series(num + step, lowest), math.inf)
        return low, high
    x = _series(samples)
    return x - step, x + step


def _grid(samples: Samples) -> float | None:
    """The clock's resolution, from whichever arm shows it (both arms use one clock)."""
    arms = (samples.numerator, samples.denominator) if samples.kind == "paired" else \
        (samples.values,)
    steps = [r for r in map(resolution.grid_resolution, arms) if r is not None]
    return max(steps) if steps else None


def _sequence_statistics(samples: Samples, confidence: float, estimand: str = "typical",
                         timed: bool = False) -> Statistics:
    x = _series(samples)
    n = x.size
    t = stationarity.trend(x)
    rho = stationarity.lag1_autocorrelation(x)
    paired = samples.kind == "paired"
    step = _grid(samples) if estimand == "typical" and (paired or timed) else None
    if estimand == "mean":
        arms = (np.asarray(samples.numerator), np.asarray(samples.denominator)) if paired else None
        loc = location.mean(x, confidence, rho, ratio_arms=arms)
    else:
        loc = location.typical(x, confidence, rho, symmetric=paired,
                               outlier_mads=OUTLIER_MADS if paired else None,
                               extremes=_extremes(samples, step) if step else None)
    centre = loc.estimate
    if paired:
        estimate, low, high = _exp(centre), _exp(loc.low), _exp(loc.high)
        spread = stats.mad(x)
        drift = math.expm1(t.slope * (n - 1))
    else:
        estimate, low, high = centre, loc.low, loc.high
        spread = stats.relative_spread(x)
        drift = (t.slope * (n - 1) / abs(centre) if centre != 0
                 else (0.0 if t.slope == 0 else math.inf))
    return Statistics(estimate, low, high, n, spread, loc.coverage, loc.effective_n, rho, drift,
                      t.p_value, loc.outliers, step, loc.low, loc.high, loc.widening)


def drifting_arm(arms: dict[str, np.ndarray]) -> tuple[str, stationarity.Trend]:
    """The arm (of log times) whose trend is the more significant (on a tie the larger)."""
    trends = {a: stationarity.trend(x) for a, x in arms.items()}
    arm = min(trends, key=lambda a: (trends[a].p_value, -abs(trends[a].slope) * arms[a].size))
    return arm, trends[arm]


def _two_sample_statistics(samples: Samples, confidence: float) -> Statistics:
    """Arms measured separately, on log times: exp(HL shift of baseline − candidate) with the
    Mann–Whitney interval, its ranks chosen for each arm's effective n. ``n`` and
    ``effective_n`` are the smaller arm's (min_samples holds per arm), ``autocorrelation`` the
    larger; ``drift``/``drift_p`` are the relative change over its run and p-value of the arm
    with the more significant trend (so the drift checks apply unchanged); ``relative_spread``
    the larger arm's MAD of log times."""
    arms = {a: np.log(np.asarray(getattr(samples, a), dtype=np.float64)) for a in ARMS}
    rhos = [stationarity.lag1_autocorrelation(x) for x in arms.values()]
    n_eff = [stationarity.effective_n(x.size, r) for x, r in zip(arms.values(), rhos, strict=True)]
    ci = shift_interval(*arms.values(), confidence, effective_sizes=(n_eff[0], n_eff[1]))
    arm, t = drifting_arm(arms)
    return Statistics(_exp(ci.estimate), _exp(ci.low), _exp(ci.high), samples.count,
                      max(stats.mad(x) for x in arms.values()), ci.coverage, min(n_eff),
                      max(rhos), math.expm1(t.slope * (arms[arm].size - 1)), t.p_value,
                      scale_low=round(ci.low, 10), scale_high=round(ci.high, 10))  # as _on_scale


def compute_statistics(samples: Samples, confidence: float, estimand: str = "typical",
                       unit: str | None = None) -> Statistics:
    """Estimate and interval of ``samples`` at ``confidence`` (see the module docstring);
    ``estimand`` ("typical" or "mean") applies to scalar and paired samples. Paired trials are
    times, and so are scalar samples in a :data:`TIME_UNITS` ``unit``: when they sit on a
    clock's grid, the interval is widened for it. (Other scalar metrics — counts, bytes — may
    be discrete by nature: their order-statistic intervals are already conservative.)"""
    if samples.kind == "exact":
        return Statistics(samples.values[-1], None, None, len(samples.values), 0.0)
    if samples.kind == "proportion":
        k, n = samples.counts["successes"], samples.counts["trials"]
        ci = proportion_interval(k, n, confidence)
        return Statistics(ci.estimate, ci.low, ci.high, n, 0.0)
    if samples.kind == "paired_proportions":
        interval = (paired_difference_interval if samples.statistic == "difference"
                    else paired_ratio_interval)
        ci = interval(samples.counts, confidence)
        return Statistics(ci.estimate, ci.low, ci.high, samples.count, 0.0)
    if samples.kind == "two_sample":
        return _two_sample_statistics(samples, confidence)
    return _sequence_statistics(samples, confidence, estimand, unit in TIME_UNITS)


