"""Intervals on raw samples. Pure functions: no clocks, no printing, no files.

* :func:`median_interval` — the distribution-free interval for a median from order statistics
  (the sign-test interval): ``[x(k), x(n−k+1)]`` covers the population median with probability
  ``1 − 2·P(Binomial(n, ½) ≤ k − 1)`` for any continuous distribution. Its *actual* coverage is
  returned beside it, so a caller can refuse to decide when no interval reaches the confidence
  (below n = 6 no 95% interval exists). Under autocorrelation the ranks are chosen as for the
  effective sample size (see :mod:`ryot.stats.stationarity`), which widens the interval.
* :func:`wilson_interval` — the Wilson score interval of a proportion k / n.
* :func:`paired_proportions_interval` — two models judged on the same items: a bootstrap over
  items, drawn as multinomial resamples of the 2×2 agreement table (memory independent of n).
* :func:`bootstrap_median`, :func:`bootstrap_ratio_of_medians` — percentile bootstraps for the
  benchmark tables, computed in chunks so memory stays bounded at any sample count.

Every random draw uses a fixed seed and resample count (:data:`SEED`, :data:`RESAMPLES`), so the
same samples always give the same interval — which is what lets ``ryot verify`` recompute a
report exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from ryot.infra.errors import ConfigError

__all__ = [
    "EXACT_SIGNED_RANK_MAX", "HL_MAX_N", "RESAMPLES", "SEED", "TABLE_CELLS", "Interval",
    "bootstrap_median", "bootstrap_ratio_of_medians", "half_binomial_cdf",
    "hodges_lehmann_interval", "mad", "median", "median_interval", "median_rank",
    "paired_proportions_interval", "relative_spread", "signed_rank_k", "wilson_interval",
    "without_gross_outliers", "z_two_sided"
]

RESAMPLES = 4000
SEED = 20261128
_CHUNK_ELEMENTS = 1 << 22  # resampled values held at once by a bootstrap (32 MiB of float64)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    confidence: float       # what was asked for
    coverage: float = math.nan  # what the interval actually guarantees (nan: approximate method)


def z_two_sided(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def median(samples: Sequence[float]) -> float:
    return float(np.median(np.asarray(samples, dtype=np.float64)))


# -- order-statistic interval for the median ---------------------------------------------------
def half_binomial_cdf(m: int) -> np.ndarray:
    """``P(Binomial(m, ½) <= j)`` for j = 0..m, exact in log space (fine up to m ~ 10^6)."""
    j = np.arange(m + 1, dtype=np.float64)
    log_pmf = (np.concatenate(([0.0], np.cumsum(np.log((m - j[:-1]) / (j[:-1] + 1)))))
               - m * math.log(2.0))
    return np.minimum(1.0, np.cumsum(np.exp(log_pmf)))


def median_rank(m: int, confidence: float) -> tuple[int, float]:
    """The largest k whose interval ``[x(k), x(m−k+1)]`` covers the median with probability
    >= confidence, and that coverage. When even k = 1 falls short, (1, its coverage)."""
    if m < 1:
        return 1, 0.0
    cdf = half_binomial_cdf(m)
    coverage = 1.0 - 2.0 * cdf[: (m + 1) // 2]  # coverage for k = 1 .. ceil(m/2)
    ok = np.nonzero(coverage >= confidence)[0]
    if ok.size == 0:
        return 1, float(max(0.0, coverage[0]))
    k = int(ok[-1]) + 1
    return k, float(coverage[k - 1])


def _mapped_ranks(k: int, of: int, n: int) -> tuple[int, int]:
    """Ranks k and of−k+1 of an ordering of ``of`` values, moved to the same quantile levels
    k/(of+1) and (of+1−k)/(of+1) of ``n`` values, rounded outwards (identity when of == n)."""
    if of == n:
        return k, n - k + 1
    return (max(1, int(math.floor(k * (n + 1) / (of + 1)))),
            min(n, int(math.ceil((of + 1 - k) * (n + 1) / (of + 1)))))


def median_interval(samples: Sequence[float], confidence: float, *,
                    effective_n: float | None = None) -> Interval:
    """Distribution-free interval for the median of ``samples``.

    With ``effective_n`` < n (dependent trials) the ranks are those of an independent sample of
    ``floor(effective_n)`` values, taken at the same quantile levels of all n values.
    """
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = x.size
    if n == 0:
        raise ConfigError("median_interval needs at least one sample")
    m = n if effective_n is None else max(1, min(n, int(math.floor(effective_n))))
    k, coverage = median_rank(m, confidence)
    lo_rank, hi_rank = _mapped_ranks(k, m, n)
    return Interval(float(np.median(x)), float(x[lo_rank - 1]), float(x[hi_rank - 1]),
                    confidence, coverage)


# -- Hodges–Lehmann interval for a symmetric centre -------------------------------------------
HL_MAX_N = 2000  # above this the n(n+1)/2 Walsh averages get large; the median interval is used
EXACT_SIGNED_RANK_MAX = 400


@lru_cache(maxsize=64)
def _signed_rank_cdf(m: int) -> np.ndarray:
    """``P(W+ <= w)`` for w = 0..m(m+1)/2 under the null (Wilcoxon signed-rank, exact)."""
    counts = np.zeros(m * (m + 1) // 2 + 1)
    counts[0] = 1.0
    top = 0
    for j in range(1, m + 1):
        counts[j: top + j + 1] += counts[: top + 1].copy()
        top += j
    return np.cumsum(counts) / 2.0 ** m


def signed_rank_k(m: int, confidence: float) -> tuple[int, float]:
    """The largest k whose interval [W(k), W(N−k+1)] of the N = m(m+1)/2 sorted Walsh averages
    covers a symmetric centre with probability >= confidence, and that coverage (exact up to
    m = 400, normal approximation above). (1, its coverage) when even k = 1 falls short."""
    total = m * (m + 1) // 2
    if m <= EXACT_SIGNED_RANK_MAX:
        cdf = _signed_rank_cdf(m)
        coverage = 1.0 - 2.0 * cdf[: (total + 1) // 2]  # k = 1 .. : 1 − 2 P(W+ <= k − 1)
    else:
        null = NormalDist(total / 2.0, math.sqrt(m * (m + 1) * (2 * m + 1) / 24.0))
        coverage = 1.0 - 2.0 * np.array([null.cdf(w + 0.5) for w in range((total + 1) // 2)])
    ok = np.nonzero(coverage >= confidence)[0]
    if ok.size == 0:
        return 1, float(max(0.0, coverage[0]))
    k = int(ok[-1]) + 1
    return k, float(coverage[k - 1])


def hodges_lehmann_interval(samples: Sequence[float], confidence: float, *,
                            effective_n: float | None = None) -> Interval:
    """Hodges–Lehmann estimate (median of the Walsh averages (x_i + x_j)/2, i <= j) with the
    distribution-free signed-rank interval; valid for a symmetric distribution, such as the log
    ratio of two arms that share a noise shape. Above :data:`HL_MAX_N` samples: the median."""
    x = np.asarray(samples, dtype=np.float64)
    n = x.size
    if n == 0:
        raise ConfigError("hodges_lehmann_interval needs at least one sample")
    if n > HL_MAX_N:
        return median_interval(x, confidence, effective_n=effective_n)
    i, j = np.triu_indices(n)
    walsh = np.sort((x[i] + x[j]) / 2.0)
    total = walsh.size
    m = n if effective_n is None else max(1, min(n, int(math.floor(effective_n))))
    k, coverage = signed_rank_k(m, confidence)
    lo_rank, hi_rank = _mapped_ranks(k, m * (m + 1) // 2, total)
    return Interval(float(np.median(walsh)), float(walsh[lo_rank - 1]), float(walsh[hi_rank - 1]),
                    confidence, coverage)


def without_gross_outliers(samples: Sequence[float], mads: float) -> np.ndarray:
    """The samples (in order) within ``mads`` scaled MADs (1.4826·MAD, the normal sd) of their
    median; all of them when the MAD is 0 (more than half the samples tie)."""
    x = np.asarray(samples, dtype=np.float64)
    centre = np.median(x)
    scale = 1.4826 * float(np.median(np.abs(x - centre)))
    if scale == 0:
        return x
    return x[np.abs(x - centre) <= mads * scale]


# -- proportions -------------------------------------------------------------------------------
def wilson_interval(successes: int, trials: int, confidence: float) -> Interval:
    """Wilson score interval of successes / trials (good coverage down to small counts)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ConfigError("need 0 <= successes <= trials and trials >= 1, "
                          f"got {successes}/{trials}")
    z = z_two_sided(confidence)
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    low = 0.0 if successes == 0 else min(p, max(0.0, centre - half))  # rounding must not
    high = 1.0 if successes == trials else max(p, min(1.0, centre + half))  # exclude p itself
    return Interval(p, low, high, confidence)


TABLE_CELLS = ("both", "baseline_only", "candidate_only", "neither")


def paired_proportions_interval(table: dict[str, int], statistic: str, confidence: float, *,
                                resamples: int = RESAMPLES, seed: int = SEED) -> Interval:
    """Two models on the same items: ``table`` counts items both got right, only the baseline,
    only the candidate, neither. ``statistic`` is ``difference`` (candidate − baseline accuracy)
    or ``ratio`` (candidate ÷ baseline). Percentile bootstrap over items."""
    counts = np.array([int(table[c]) for c in TABLE_CELLS], dtype=np.int64)
    n = int(counts.sum())
    if n < 1:
        raise ConfigError("a paired proportion needs at least one item")

    def stat(c: np.ndarray) -> np.ndarray:
        base = (c[..., 0] + c[..., 1]) / n
        cand = (c[..., 0] + c[..., 2]) / n
        if statistic == "difference":
            return cand - base
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 and x/0: nan and inf draws
            return np.where(base > 0, cand / np.where(base > 0, base, 1.0), np.inf)

    rng = np.random.default_rng(seed)
    draws = stat(rng.multinomial(n, counts / n, size=resamples))
    alpha = (1.0 - confidence) / 2.0
    # order statistics, not interpolation: a resample with no baseline success gives an infinite
    # ratio, and interpolating inf - inf would make the bound NaN instead of inf
    low, high = np.quantile(draws, [alpha, 1.0 - alpha], method="inverted_cdf")
    return Interval(float(stat(counts)), float(low), float(high), confidence)


# -- bootstraps for benchmark tables -----------------------------------------------------------
def _percentile(stats: np.ndarray, estimate: float, confidence: float) -> Interval:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha], method="inverted_cdf")  # inf stays inf
    return Interval(float(estimate), float(low), float(high), confidence)


def _chunked_medians(rng: np.random.Generator, arrays: list[np.ndarray], resamples: int,
                     paired: bool) -> list[np.ndarray]:
    """Bootstrap medians of each array, ``resamples`` rows drawn chunk by chunk."""
    n = max(a.size for a in arrays)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    out: list[list[np.ndarray]] = [[] for _ in arrays]
    done = 0
    while done < resamples:
        rows = min(chunk, resamples - done)
        shared = rng.integers(0, arrays[0].size, size=(rows, arrays[0].size)) if paired else None
        for i, a in enumerate(arrays):
            idx = shared if paired else rng.integers(0, a.size, size=(rows, a.size))
            out[i].append(np.median(a[idx], axis=1))
        done += rows
    return [np.concatenate(parts) for parts in out]


def bootstrap_median(samples: Sequence[float], confidence: float = 0.95, *,
                     resamples: int = RESAMPLES, seed: int = SEED) -> Interval:
    """Percentile bootstrap interval of the median of one sample set."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        raise ConfigError("bootstrap_median needs at least one sample")
    (meds,) = _chunked_medians(np.random.default_rng(seed), [x], resamples, paired=False)
    return _percentile(meds, float(np.median(x)), confidence)


def bootstrap_ratio_of_medians(numerator: Sequence[float], denominator: Sequence[float],
                               confidence: float = 0.95, *, paired: bool = True,
                               resamples: int = RESAMPLES, seed: int = SEED) -> Interval:
    """Interval of ``median(numerator) / median(denominator)``; ``paired=True`` resamples trial
    indices jointly (trial i of both arms ran back to back)."""
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ConfigError("bootstrap_ratio_of_medians needs samples in both arms")
    if paired and a.size != b.size:
        raise ConfigError(f"paired samples must have equal counts, got {a.size} and {b.size}")
    ma, mb = _chunked_medians(np.random.default_rng(seed), [a, b], resamples, paired=paired)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _percentile(ma / mb, float(np.median(a) / np.median(b)), confidence)


def relative_spread(samples: Sequence[float]) -> float:
    """Median absolute deviation ÷ |median|: a robust noise level (0 for constant samples)."""
    x = np.asarray(samples, dtype=np.float64)
    m = np.median(x)
    mad = float(np.median(np.abs(x - m)))
    if m == 0:
        return math.inf if mad > 0 else 0.0
    return mad / abs(float(m))


def mad(samples: Sequence[float]) -> float:
    """Median absolute deviation from the median."""
    x = np.asarray(samples, dtype=np.float64)
    return float(np.median(np.abs(x - np.median(x))))
