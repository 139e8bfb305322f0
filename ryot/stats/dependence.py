"""Intervals that stay honest on dependent trials: a Student-t location interval on the
effective sample size, and the ratio and mean under a Newey–West (HAC) long-run variance.

* :func:`student_t_quantile` — exact quantiles of Student's t (regularized incomplete beta,
  bisected), so no scipy is needed;
* :func:`dependent_location_interval` — ``centre ± t(m − 1) · s / sqrt(n_eff)`` with ``s`` the
  robust (1.4826·MAD) spread: under AR(1) dependence the rank intervals of
  :mod:`ryot.stats.intervals`, mapped to an effective n, undercover once n_eff falls to a few
  trials; the verdicts take the union of both (docs/statistics.md has the measured coverage);
* :func:`newey_west_variance` — the long-run variance of a series (Bartlett kernel, the
  Newey–West bandwidth ``floor(4 (n/100)^(2/9))``, as statsmodels' ``cov_hac`` uses);
* :func:`mean_interval`, :func:`ratio_of_means_interval` — the ``"mean"`` estimand: the time
  average of a scalar series, and Σ baseline ÷ Σ candidate of paired trials (the throughput
  question), each with a t interval on the HAC variance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ryot.infra.errors import ConfigError
from ryot.stats.intervals import Interval

__all__ = ["dependent_location_interval", "mean_interval", "newey_west_bandwidth",
           "newey_west_variance", "ratio_of_means_interval", "student_t_quantile"]


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=512)
def student_t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (df > 0)."""
    if not 0.0 < p < 1.0 or not df > 0:
        raise ConfigError(f"student_t_quantile needs 0 < p < 1 and df > 0, got p={p}, df={df}")
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if _t_cdf(mid, df) < p else (lo, mid)
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


def _t_half(confidence: float, df: float) -> float:
    """The t multiplier for a two-sided interval; inf when the confidence rounds to 1 (the
    first looks of a long schedule spend almost nothing)."""
    p = 0.5 + confidence / 2.0
    return student_t_quantile(p, df) if p < 1.0 else math.inf


def dependent_location_interval(samples: Sequence[float], centre: float, confidence: float,
                                effective_n: float) -> Interval:
    """``centre ± t · 1.4826·MAD / sqrt(n_eff)``, t with ``floor(n_eff) − 1`` (at least 1)
    degrees of freedom. An approximation (``coverage`` is NaN): the verdicts use it beside the
    distribution-free interval, never instead of it."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0 or not effective_n > 0:
        raise ConfigError("dependent_location_interval needs samples and effective_n > 0")
    spread = 1.4826 * float(np.median(np.abs(x - np.median(x))))
    df = max(1, int(math.floor(effective_n)) - 1)
    half = _t_half(confidence, df) * spread / math.sqrt(effective_n)
    return Interval(centre, centre - half, centre + half, confidence)


def newey_west_bandwidth(n: int) -> int:
    """The Newey–West (1994) rule of thumb: ``floor(4 (n / 100)^(2/9))``."""
    return int(math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def newey_west_variance(series: Sequence[float], bandwidth: int | None = None) -> float:
    """Long-run variance of ``series`` (sum of its autocovariances, Bartlett weights), never
    below the plain variance's share that a negative estimate would otherwise hide."""
    e = np.asarray(series, dtype=np.float64)
    n = e.size
    if n < 2:
        raise ConfigError("newey_west_variance needs at least two values")
    e = e - e.mean()
    lags = newey_west_bandwidth(n) if bandwidth is None else bandwidth
    total = float(e @ e) / n
    for k in range(1, min(lags, n - 1) + 1):
        total += 2.0 * (1.0 - k / (lags + 1.0)) * float(e[k:] @ e[:-k]) / n
    return max(total, 0.0)


def mean_interval(samples: Sequence[float], confidence: float) -> Interval:
    """The mean with a t interval on its HAC variance (df = n − 1)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 2:
        raise ConfigError("mean_interval needs at least two values")
    mean = float(x.mean())
    se = math.sqrt(newey_west_variance(x) / x.size)
    half = _t_half(confidence, x.size - 1) * se
    return Interval(mean, mean - half, mean + half, confidence)


def ratio_of_means_interval(numerator: Sequence[float], denominator: Sequence[float],
                            confidence: float) -> Interval:
    """Σ numerator ÷ Σ denominator of paired trials, on the log scale: the delta method on the
    residuals ``num_i − R·den_i`` with their HAC variance (df = n − 1). Returns log-scale
    values: estimate, low and high of ``log R``."""
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    if a.size != b.size or a.size < 2:
        raise ConfigError("ratio_of_means_interval needs two arms of equal size >= 2")
    ratio = float(a.sum() / b.sum())
    se_log = math.sqrt(newey_west_variance(a - ratio * b) / a.size) / (float(b.mean()) * ratio)
    half = _t_half(confidence, a.size - 1) * se_log
    centre = math.log(ratio)
    return Interval(centre, centre - half, centre + half, confidence)
