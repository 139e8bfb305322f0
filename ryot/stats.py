"""Statistics on raw samples. Pure functions: no clocks, no printing, no files.

Bootstrap confidence intervals are percentile intervals from ``resamples`` resamples drawn
with a seeded ``numpy.random.Generator`` (PCG64), so the same samples always give the same
interval — which is what lets ``ryot verify`` recompute a report exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20261128


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    confidence: float


def median(samples: Sequence[float]) -> float:
    return float(np.median(np.asarray(samples, dtype=np.float64)))


def _percentile_interval(stats: np.ndarray, estimate: float, confidence: float) -> Interval:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return Interval(float(estimate), float(low), float(high), confidence)


def bootstrap_median(samples: Sequence[float], confidence: float = 0.95, *,
                     resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Interval:
    """Percentile bootstrap interval of the median of one sample set."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        raise ValueError("bootstrap_median needs at least one sample")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(resamples, x.size))
    return _percentile_interval(np.median(x[idx], axis=1), np.median(x), confidence)


def bootstrap_ratio_of_medians(numerator: Sequence[float], denominator: Sequence[float],
                               confidence: float = 0.95, *, paired: bool = True,
                               resamples: int = DEFAULT_RESAMPLES,
                               seed: int = DEFAULT_SEED) -> Interval:
    """Interval of ``median(numerator) / median(denominator)``.

    ``paired=True`` resamples trial indices jointly (trial i of both arms ran back to back, so
    they share the machine's state at that moment); otherwise each arm is resampled alone.
    """
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError("bootstrap_ratio_of_medians needs samples in both arms")
    if paired and a.size != b.size:
        raise ValueError(f"paired samples must have equal counts, got {a.size} and {b.size}")
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, a.size, size=(resamples, a.size))
    ib = ia if paired else rng.integers(0, b.size, size=(resamples, b.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.median(a[ia], axis=1) / np.median(b[ib], axis=1)
        estimate = np.median(a) / np.median(b)
    return _percentile_interval(ratios, estimate, confidence)


def relative_spread(samples: Sequence[float]) -> float:
    """Median absolute deviation ÷ median: a robust noise level (0 for constant samples)."""
    x = np.asarray(samples, dtype=np.float64)
    m = np.median(x)
    if m == 0:
        return float("inf") if np.any(x != 0) else 0.0
    return float(np.median(np.abs(x - m)) / abs(m))


def look_schedule(min_samples: int, max_samples: int) -> list[int]:
    """Sample counts at which a sequential run looks at its data: doubling from the minimum."""
    looks, n = [], max(1, min_samples)
    while n < max_samples:
        looks.append(n)
        n *= 2
    looks.append(max_samples)
    return looks


def per_look_confidence(confidence: float, looks: int) -> float:
    """Bonferroni over the looks of a sequential run, so the chance of any wrong decision
    across all looks stays at most ``1 − confidence``."""
    return 1.0 - (1.0 - confidence) / max(1, looks)
