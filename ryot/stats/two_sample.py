"""Two independent samples: the Hodges–Lehmann shift with the Mann–Whitney (Moses) interval.

For arms measured separately (one arm run, then the other, as asv, pytest-benchmark or hyperfine
do) no trial of one arm belongs with a trial of the other, so there is nothing to pair. The
shift ``Δ`` between the two distributions (x − Δ distributed as y) is estimated by the median of
all m·n pairwise differences ``x_i − y_j`` (Hodges–Lehmann), and its distribution-free interval
is ``[D(k), D(mn−k+1)]`` of the sorted differences, which covers Δ with probability
``1 − 2·P(U <= k − 1)``, U the Mann–Whitney statistic under the null (Moses 1953; the test asv
uses). For a ratio of times call it on log times: the ratio is ``exp(shift)``.

* :func:`mann_whitney_k` — the rank k and the interval's actual coverage: exact (the U
  distribution counted by dynamic programming, the Gaussian binomial coefficient) while the
  counting's work, smaller size × m·n, is at most :data:`EXACT_MANN_WHITNEY_MAX` (any design
  up to 159 × 159, one arm of 10 against 40,000: under a second), the normal approximation
  with continuity correction above, where both arms are large or one is huge. When no
  interval reaches the confidence (m = n = 3 covers at most 90%), k = 1 and its coverage are
  returned: a caller refuses to decide on them.
* :func:`difference_order_statistics` — order statistics of the m·n differences: sorted in
  memory up to :data:`PAIRS_IN_MEMORY` pairs, above that selected without building them (the
  differences form a matrix sorted along rows and columns; a weighted-median pivot drops a
  quarter of what is left at each step), so any sample count fits in bounded memory. Both
  give the very same floats (``x_i − y_j`` as numpy computes it).
* :func:`shift_interval` — the estimate and interval; ``effective_sizes`` (dependent trials,
  see :mod:`ryot.stats.stationarity`) chooses the ranks as for independent arms of those
  sizes, taken at the same quantile levels of all m·n differences, which widens the interval.

Ties (timer resolution, values on a grid) need no special handling: tied differences are
ordinary order statistics, and the closed interval is conservative for discrete data (its
coverage is at least the continuous figure returned), so ties can only make it wider.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from ryot.infra.errors import ConfigError
from ryot.stats.intervals import Interval

__all__ = [
    "EXACT_MANN_WHITNEY_MAX", "PAIRS_IN_MEMORY", "difference_order_statistics",
    "mann_whitney_cdf", "mann_whitney_k", "shift_interval"
]

EXACT_MANN_WHITNEY_MAX = 4_000_000  # min(m, n)·m·n up to which U is counted exactly
PAIRS_IN_MEMORY = 1 << 22  # differences sorted in memory at most (32 MiB of float64)
_GATHER = 1 << 16  # the selection gathers what is left once this few candidates remain


@lru_cache(maxsize=64)
def mann_whitney_cdf(m: int, n: int) -> np.ndarray:
    """``P(U <= u)`` for u = 0..floor(m·n/2) (the lower half: U is symmetric about m·n/2),
    U = #{x_i > y_j} of two independent samples of sizes m and n from one continuous
    distribution.

    The counts are the coefficients of the Gaussian binomial ``[m+n choose m]_q``, built as
    ``prod_{i=1..s} (1 − q^(l+i)) / (1 − q^i)`` (s, l the smaller and larger size) in Python
    integers, exactly, truncated at the degree needed (coefficient u depends on those below
    it only); each probability is the correctly rounded count ÷ C(m+n, m)."""
    if m < 0 or n < 0:
        raise ConfigError(f"sample sizes must be non-negative, got {m} and {n}")
    small, large = sorted((m, n))
    top = m * n // 2
    counts = np.zeros(top + 1, dtype=object)
    counts[:] = 0
    counts[0] = 1
    for i in range(1, small + 1):
        shift = large + i
        if shift <= top:
            counts[shift:] = counts[shift:] - counts[:-shift]  # times (1 − q^(l+i))
        for r in range(min(i, top + 1)):  # divided by (1 − q^i): running sums mod i
            counts[r::i] = np.cumsum(counts[r::i])
    total = math.comb(m + n, m)
    cdf = np.array([c / total for c in np.cumsum(counts)], dtype=np.float64)
    cdf.flags.writeable = False  # cached: shared by every caller
    return cdf


def mann_whitney_k(m: int, n: int, confidence: float) -> tuple[int, float]:
    """The largest k whose interval ``[D(k), D(mn−k+1)]`` of the m·n sorted differences covers
    the shift with probability >= confidence, and that coverage ``1 − 2·P(U <= k − 1)`` (exact
    up to min(m, n)·m·n = :data:`EXACT_MANN_WHITNEY_MAX`, normal with continuity correction
    above).
    (1, its coverage) when even k = 1 falls short."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be between 0 and 1, got {confidence!r}")
    total = m * n
    if total < 1:
        return 1, 0.0
    if min(m, n) * total <= EXACT_MANN_WHITNEY_MAX:
        coverage = 1.0 - 2.0 * mann_whitney_cdf(m, n)[: (total + 1) // 2]  # k = 1 .. ceil(N/2)
        ok = np.nonzero(coverage >= confidence)[0]
        if ok.size == 0:
            return 1, float(max(0.0, coverage[0]))
        return int(ok[-1]) + 1, float(coverage[ok[-1]])
    null = NormalDist(total / 2.0, math.sqrt(total * (m + n + 1) / 12.0))

    def cover(k: int) -> float:
        return 1.0 - 2.0 * null.cdf(k - 0.5)  # P(U <= k − 1) with continuity correction

    # coverage falls with k: start at the closed-form root and step to the last k that reaches it
    k = max(1, min((total + 1) // 2, int(math.floor(null.inv_cdf((1.0 - confidence) / 2) + 0.5))))
    while k > 1 and cover(k) < confidence:
        k -= 1
    while k < (total + 1) // 2 and cover(k + 1) >= confidence:
        k += 1
    return k, float(max(0.0, cover(k)))


def _sizes_ok(x: np.ndarray, y: np.ndarray, what: str) -> None:
    if x.size == 0 or y.size == 0:
        raise ConfigError(f"{what} needs at least one sample in each arm, got {x.size} and "
                          f"{y.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ConfigError(f"{what} needs finite samples")


def _count_before(xs: np.ndarray, yd: np.ndarray, left: np.ndarray, right: np.ndarray,
                  pivot: float, strict: bool) -> np.ndarray:
    """Per row i, how many of ``xs[i] − yd[j]``, j in [left_i, right_i), are < pivot (strict)
    or <= pivot: a binary search in every row at once (each row increases with j)."""
    lo, hi = left.copy(), right.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo - left
        mid = (lo + hi) // 2
        value = xs - yd[np.minimum(mid, yd.size - 1)]
        before = (value < pivot if strict else value <= pivot) & active
        lo = np.where(before, mid + 1, lo)
        hi = np.where(active & ~before, mid, hi)


def _select(xs: np.ndarray, yd: np.ndarray, k: int) -> float:
    """The k-th smallest (1-based) of ``xs[i] − yd[j]``, xs ascending, yd descending."""
    m = xs.size
    left = np.zeros(m, dtype=np.int64)
    right = np.full(m, yd.size, dtype=np.int64)
    below = 0  # candidates dropped as smaller than the answer
    while True:
        sizes = right - left
        total = int(sizes.sum())
        if total <= _GATHER:
            rows = np.repeat(np.arange(m), sizes)
            cols = (np.repeat(left, sizes) + np.arange(total)
                    - np.repeat(np.cumsum(sizes) - sizes, sizes))
            return float(np.partition(xs[rows] - yd[cols], k - below - 1)[k - below - 1])
        live = np.nonzero(sizes)[0]
        mids = xs[live] - yd[(left[live] + right[live] - 1) // 2]
        order = np.argsort(mids, kind="stable")
        weight = np.cumsum(sizes[live][order])
        pivot = float(mids[order[np.searchsorted(weight, weight[-1] / 2.0)]])
        smaller = _count_before(xs, yd, left, right, pivot, strict=True)
        if below + int(smaller.sum()) >= k:
            right = left + smaller
            continue
        at_most = _count_before(xs, yd, left, right, pivot, strict=False)
        if below + int(at_most.sum()) >= k:
            return pivot
        below += int(at_most.sum())
        left = left + at_most


def difference_order_statistics(x: Sequence[float], y: Sequence[float],
                                ranks: Sequence[int]) -> np.ndarray:
    """The order statistics at ``ranks`` (1-based) of the m·n differences ``x_i − y_j``."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    _sizes_ok(xa, ya, "difference_order_statistics")
    total = xa.size * ya.size
    want = np.asarray(ranks, dtype=np.int64)
    if want.size and (want.min() < 1 or want.max() > total):
        raise ConfigError(f"ranks must lie in 1..{total}, got {want.tolist()}")
    if total <= PAIRS_IN_MEMORY:
        d = (xa[:, None] - ya[None, :]).ravel()
        return np.partition(d, np.unique(want - 1))[want - 1] if want.size else want * 0.0
    if xa.size <= ya.size:  # rows: the smaller arm (each step costs a binary search per row)
        xs, yd = np.sort(xa), np.sort(ya)[::-1]
        return np.array([_select(xs, yd, int(r)) for r in want])
    ys, xd = np.sort(ya), np.sort(xa)[::-1]  # x − y = −(y − x): rank r is rank N − r + 1 there
    return np.array([0.0 - _select(ys, xd, total - int(r) + 1) for r in want])  # no -0.0


def _mapped_ranks(k: int, of: int, total: int) -> tuple[int, int]:
    """Ranks k and of−k+1 of ``of`` values moved to the same quantile levels k/(of+1) and
    (of+1−k)/(of+1) of ``total`` values, rounded outwards (identity when of == total)."""
    if of == total:
        return k, total - k + 1
    return (max(1, int(math.floor(k * (total + 1) / (of + 1)))),
            min(total, int(math.ceil((of + 1 - k) * (total + 1) / (of + 1)))))


def shift_interval(x: Sequence[float], y: Sequence[float], confidence: float, *,
                   effective_sizes: tuple[float, float] | None = None) -> Interval:
    """Hodges–Lehmann shift of x against y (median of all ``x_i − y_j``) with the
    distribution-free Mann–Whitney (Moses) interval; ``coverage`` is what the interval
    actually guarantees, below ``confidence`` when the samples are too few for any interval.

    ``effective_sizes`` (each at most its arm's count): the ranks are those of independent
    arms of ``floor`` of these sizes, at the same quantile levels of the m·n differences.
    Assumes the arms are independent and differ by a shift (on log times: by a ratio)."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    _sizes_ok(xa, ya, "shift_interval")
    m, n = xa.size, ya.size
    if effective_sizes is None:
        me, ne = m, n
    else:
        me, ne = (max(1, min(size, int(math.floor(e))))
                  for size, e in zip((m, n), effective_sizes, strict=True))
    k, coverage = mann_whitney_k(me, ne, confidence)
    total = m * n
    lo_rank, hi_rank = _mapped_ranks(k, me * ne, total)
    middle = [(total + 1) // 2, total // 2 + 1]  # one rank when m·n is odd, two when even
    lo, hi, mid_a, mid_b = difference_order_statistics(xa, ya, [lo_rank, hi_rank, *middle])
    return Interval(float((mid_a + mid_b) / 2.0), float(lo), float(hi), confidence, coverage)
