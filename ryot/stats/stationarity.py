"""Is a sequence of trials stationary? Trend (drift) and lag-1 autocorrelation.

Pure functions on one ordered series (per-pair log ratios, or scalar samples in the order they
were taken):

* :func:`trend` — Mann–Kendall's rank test for a monotone trend, with its variance widened for
  the autocorrelation left after removing the trend (Hamed & Rao 1998, lag 1 only, with the
  upper estimate of :func:`lag1_autocorrelation`, so AR(1) noise is not taken for drift), and the
  Theil–Sen slope as the size of the drift;
* :func:`lag1_autocorrelation` — an upper estimate of the correlation of each trial with the
  next, from Spearman's rank correlation on the series with its Theil–Sen trend removed
  (ranks: one slow trial cannot dominate it), bias-corrected;
* :func:`effective_n` — how many independent trials the series is worth under AR(1)
  dependence, ``n (1 − rho) / (1 + rho)``.

Long series are first reduced to at most :data:`MAX_POINTS` consecutive batch medians, so the
quadratic pairwise steps stay small at any sample count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_POINTS", "MAX_RHO", "RHO_MARGIN_Z", "MIN_DEPENDENCE_POINTS", "MIN_TREND_POINTS", "Trend",
    "effective_n", "lag1_autocorrelation", "theil_sen_slope", "trend"
]

MAX_POINTS = 512
MIN_TREND_POINTS = 8  # below this Mann–Kendall cannot reach useful significance
# below this a lag-1 correlation cannot be told from chance (its standard error is ~1/sqrt(n),
# 0.29 at 12): shorter series are taken as independent rather than shrunk by noise
MIN_DEPENDENCE_POINTS = 12
MAX_RHO = 0.9
RHO_MARGIN_Z = 0.5  # standard errors added to the bias-corrected estimate of rho


@dataclass(frozen=True)
class Trend:
    slope: float            # Theil–Sen slope per trial, in the series' own units
    p_value: float          # two-sided Mann–Kendall p-value (autocorrelation-corrected)
    rho: float              # lag-1 autocorrelation of the detrended series (>= 0)
    n: int


def _batched(x: np.ndarray) -> tuple[np.ndarray, float]:
    """At most MAX_POINTS batch medians of consecutive trials, and the trials per point."""
    if x.size <= MAX_POINTS:
        return x, 1.0
    edges = np.linspace(0, x.size, MAX_POINTS + 1).round().astype(int)
    medians = np.array([np.median(x[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return medians, x.size / MAX_POINTS


def theil_sen_slope(x: np.ndarray) -> float:
    """Median of the pairwise slopes (x[j] − x[i]) / (j − i), i < j."""
    n = x.size
    if n < 2:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    return float(np.median((x[j] - x[i]) / (j - i)))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank)."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.arange(1, x.size + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    if np.any(counts > 1):
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def _lag1(x: np.ndarray) -> float:
    if x.size < 4:
        return 0.0
    r = _ranks(x)
    a, b = r[:-1] - r[:-1].mean(), r[1:] - r[1:].mean()
    denom = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / denom if denom > 0 else 0.0


def lag1_autocorrelation(samples) -> float:
    """Lag-1 autocorrelation of the detrended series, as an upper estimate, clipped to
    [0, MAX_RHO]: Spearman's rank correlation of each trial with the next, turned into the
    Pearson correlation it implies for Gaussian noise (``2 sin(pi r / 6)``), corrected for its
    small-sample bias (``E[r] ~ rho - (1 + 3 rho) / n``, Marriott & Pope 1954) and, once it
    exceeds its standard error, raised by :data:`RHO_MARGIN_Z` of them. The plain rank
    correlation is biased low (mean 0.65 at rho 0.8, n = 48), which overstated the effective n
    up to 2x; docs/statistics.md has the
    coverage this estimate buys."""
    x, _ = _batched(np.asarray(samples, dtype=np.float64))
    n = x.size
    if n < MIN_DEPENDENCE_POINTS:  # too few to tell dependence from chance
        return 0.0
    return _upper_rho(x - theil_sen_slope(x) * np.arange(n))


def _upper_rho(residual: np.ndarray) -> float:
    """The upper estimate of :func:`lag1_autocorrelation` from a detrended series."""
    n = residual.size
    if n < 2 or np.all(residual == residual[0]):  # constant: nothing to correlate
        return 0.0
    rho = 2.0 * math.sin(math.pi * _lag1(residual) / 6.0)
    rho += (1.0 + 3.0 * rho) / n
    standard_error = math.sqrt(max(0.0, 1.0 - rho * rho) / n)
    if rho > standard_error:  # dependence shown: allow for the estimate's own error
        rho += RHO_MARGIN_Z * standard_error
    return float(min(MAX_RHO, max(0.0, rho)))


def effective_n(n: int, rho: float) -> float:
    """Independent trials an AR(1) series of n trials with lag-1 correlation rho is worth."""
    rho = min(MAX_RHO, max(0.0, rho))
    return n * (1.0 - rho) / (1.0 + rho)


def _mann_kendall_z(x: np.ndarray, inflation: float) -> float:
    n = x.size
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(x[j] - x[i]).sum())
    _, counts = np.unique(x, return_counts=True)
    ties = float(np.sum(counts * (counts - 1) * (2 * counts + 5)))
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0 * inflation
    if var <= 0 or s == 0:
        return 0.0
    return (s - math.copysign(1.0, s)) / math.sqrt(var)


def trend(samples) -> Trend:
    """Mann–Kendall trend test and Theil–Sen slope (per original trial) of an ordered series."""
    raw = np.asarray(samples, dtype=np.float64)
    x, per_point = _batched(raw)
    if x.size < MIN_TREND_POINTS:
        return Trend(0.0, 1.0, 0.0, raw.size)
    slope = theil_sen_slope(x)
    rho = _upper_rho(x - slope * np.arange(x.size))  # the same estimate as the intervals'
    z = _mann_kendall_z(x, (1.0 + rho) / (1.0 - rho))
    p = math.erfc(abs(z) / math.sqrt(2.0))
    return Trend(slope / per_point, p, rho, raw.size)
