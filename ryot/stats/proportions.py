"""Intervals for proportions (third generation) and their exact coverage. Pure functions.

* :func:`proportion_interval` — k / n: Wilson, Wilson with continuity correction, Clopper–Pearson
  (the default, chosen by exact coverage: docs/statistics.md, "Proportions: which interval, and
  its measured coverage") or mid-p.
* :func:`paired_difference_interval`, :func:`paired_ratio_interval` — two models on the same items
  (counts of :data:`ryot.stats.intervals.TABLE_CELLS`; candidate accuracy (both + candidate_only)
  / n): Tango's or Newcombe's score interval of the difference, Tang's of the ratio; no random
  draws, and an empty discordant cell keeps a width.
* :func:`exact_coverage`, :func:`minimum_coverage`, :func:`exact_paired_coverage` — summed
  exactly over the binomial / multinomial outcomes (log-pmf, vectorized).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from ryot.infra.errors import ConfigError
from ryot.stats.intervals import TABLE_CELLS, Interval, paired_proportions_interval, z_two_sided

__all__ = [
    "EXACT_MAX_TRIALS", "DIFFERENCE_METHOD", "DIFFERENCE_METHODS", "PAIRED_METHODS",
    "PROPORTION_METHOD", "PROPORTION_METHODS", "binomial_log_pmf", "every_count_bounds",
    "exact_coverage", "exact_paired_coverage", "minimum_coverage", "paired_difference_bounds",
    "paired_difference_interval", "paired_ratio_bounds", "paired_ratio_interval",
    "proportion_bounds", "proportion_interval"
]

PROPORTION_METHODS = ("wilson", "wilson_cc", "clopper_pearson", "mid_p")
PROPORTION_METHOD = "clopper_pearson"  # never below its confidence; width within 0.3% of wilson_cc
DIFFERENCE_METHODS = ("tango", "newcombe")
DIFFERENCE_METHOD = "tango"
PAIRED_METHODS = {"difference": DIFFERENCE_METHODS + ("bootstrap",), "ratio": ("tang", "bootstrap")}
_STEPS = 60  # bisection steps: 2^-60 of the bracket, below float64 resolution for [0, 1]
_LOG_RATIO_SPAN = 40.0  # ratio bounds are searched in [e^-40, e^40]; beyond: 0 or inf


# -- arguments ---------------------------------------------------------------------------------
def _z(confidence: float) -> float:
    if (isinstance(confidence, bool) or not isinstance(confidence, numbers.Real)
            or not 0.0 < float(confidence) < 1.0):
        raise ConfigError(f"confidence must be a number in (0, 1), got {confidence!r}")
    return z_two_sided(float(confidence))


def _count(value, name: str) -> int:
    try:
        count = operator.index(value)
    except TypeError:
        count = -1
    if count < 0:
        raise ConfigError(f"{name} must be a whole number >= 0, got {value!r}")
    return count


def _method(method: str, allowed: tuple[str, ...]) -> str:
    if method not in allowed:
        raise ConfigError(f"unknown method {method!r}; expected one of {', '.join(allowed)}")
    return method


def _table(table: Mapping[str, int]) -> tuple[int, int, int, int]:
    if not isinstance(table, Mapping) or set(table) != set(TABLE_CELLS):
        raise ConfigError(f"a paired table needs exactly the cells {', '.join(TABLE_CELLS)}")
    both, base, cand, neither = (_count(table[c], c) for c in TABLE_CELLS)
    if both + base + cand + neither < 1:
        raise ConfigError("a paired proportion needs at least one item")
    return both, base, cand, neither


def _bisect(stat, target: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Where a decreasing ``stat`` crosses ``target`` in [lo, hi] (vectorized bisection)."""
    for _ in range(_STEPS):
        mid = (lo + hi) / 2.0
        right = stat(mid) > target  # still above the target: the crossing lies to the right
        lo, hi = np.where(right, mid, lo), np.where(right, hi, mid)
    return (lo + hi) / 2.0


# -- one proportion ----------------------------------------------------------------------------
EXACT_MAX_TRIALS = 10 ** 7  # above: Wilson with continuity correction (exact tails need O(n))


def _log_factorials(n: int) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(np.log(np.arange(1.0, n + 1)))))


def binomial_log_pmf(trials: int, p) -> np.ndarray:
    """``log P(X = k)`` for k = 0..trials, X ~ Binomial(trials, p): one row per p (exact in
    log space, so no factorial overflows; a pmf that underflows is a harmless 0)."""
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))[:, None]
    k, lf = np.arange(trials + 1), _log_factorials(trials)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # log 0 -> -1e300
        log_p, log_q = np.maximum(np.log(p), -1e300), np.maximum(np.log1p(-p), -1e300)
        return lf[trials] - lf[k] - lf[trials - k] + k * log_p + (trials - k) * log_q


def _tail_bounds(k: np.ndarray, n: int, alpha: float, mid: bool) -> tuple[np.ndarray, ...]:
    """Clopper–Pearson (or, with ``mid``, mid-p) bounds for each k: the p whose upper tail
    P(X >= k) (lower tail P(X <= k)) is alpha/2, half of P(X = k) left out for mid-p. Only the
    counts within 50 sd (of the widest binomial, sqrt(n)/2) of n·p are summed: the rest weighs
    under e^-1000, and n = 10^7 stays under a second."""
    h, lf, zeros = int(25 * math.sqrt(n)) + 50, _log_factorials(n), np.zeros(k.size)

    def tail(p: np.ndarray, upper: bool) -> np.ndarray:
        p = np.clip(p, 1e-300, 1 - 2 ** -53)[:, None]
        j = (np.rint(n * p).astype(np.int64) + np.arange(-h, h + 1)) if 2 * h < n else \
            np.arange(n + 1)[None, :]
        jc = np.clip(j, 0, n)
        pmf = np.where(j == jc, np.exp(lf[n] - lf[jc] - lf[n - jc] + jc * np.log(p)
                                       + (n - jc) * np.log1p(-p)), 0.0)
        side = j >= k[:, None] if upper else j <= k[:, None]
        return (pmf * side).sum(axis=1) - mid * (pmf * (j == k[:, None])).sum(axis=1) / 2

    # P(X >= k | p) rises with p, P(X <= k | p) falls: bisect the falling -P(X >= k) and P(X <= k)
    low = _bisect(lambda p: -tail(p, True), -alpha / 2, zeros, zeros + 1)
    high = _bisect(lambda p: tail(p, False), alpha / 2, zeros, zeros + 1)
    return np.where(k == 0, 0.0, low), np.where(k == n, 1.0, high)


def proportion_bounds(successes, trials: int, confidence: float,
                      method: str = PROPORTION_METHOD) -> tuple[np.ndarray, np.ndarray]:
    """Bounds for every count in ``successes`` (an array) of ``trials``: ``wilson`` (1927),
    ``wilson_cc`` (continuity-corrected, Newcombe 1998 method 4), ``clopper_pearson`` (exact,
    bisection on the binomial tails), ``mid_p`` (half the observed count's mass; method 6)."""
    z, n = _z(confidence), _count(trials, "trials")
    k = np.atleast_1d(np.asarray(successes)).astype(np.int64)
    if n < 1 or k.min(initial=0) < 0 or k.max(initial=0) > n:
        raise ConfigError(f"need 0 <= successes <= trials and trials >= 1, got {successes}/{n}")
    p, z2 = k / n, z * z
    if _method(method, PROPORTION_METHODS) in ("clopper_pearson", "mid_p"):
        return _tail_bounds(k, n, 1.0 - confidence, method == "mid_p")
    if method == "wilson":
        low, high = _wilson_arrays(k, n, z)
    else:
        root_lo = np.sqrt(np.maximum(0.0, z2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1)))
        root_hi = np.sqrt(np.maximum(0.0, z2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1)))
        low = (2 * n * p + z2 - 1 - z * root_lo) / (2 * (n + z2))
        high = (2 * n * p + z2 + 1 + z * root_hi) / (2 * (n + z2))
    low = np.where(k == 0, 0.0, np.clip(low, 0.0, p))  # rounding must not exclude p itself
    return low, np.where(k == n, 1.0, np.clip(high, p, 1.0))


def proportion_interval(successes: int, trials: int, confidence: float, *,
                        method: str = PROPORTION_METHOD) -> Interval:
    """Interval for k / n (estimate k / n), by default Clopper & Pearson (1934, Biometrika
    26:404): coverage at least the confidence for every p and n (exact minimum at 95% over p in
    [0.01, 0.99], n = 20..1000: 0.9500–0.9580; Wilson's fell to 0.894 at n = 50), mean width
    within 0.3% of Wilson with continuity correction (docs/statistics.md). ``coverage`` is the
    confidence for Clopper–Pearson (a guarantee), nan for the others (only a measured minimum)."""
    k, n = _count(successes, "successes"), _count(trials, "trials")
    if n > EXACT_MAX_TRIALS and method in ("clopper_pearson", "mid_p"):  # memory grows with n
        method = "wilson_cc"  # its minimum coverage is 0.950 from n = 1000 on (measured)
    low, high = proportion_bounds(np.array([k]), n, confidence, method)
    guaranteed = float(confidence) if method == "clopper_pearson" else math.nan
    return Interval(k / n, float(low[0]), float(high[0]), float(confidence), guaranteed)


@lru_cache(maxsize=32)
def every_count_bounds(trials: int, confidence: float, method: str) -> tuple[np.ndarray, ...]:
    """:func:`proportion_bounds` for k = 0..trials, cached (read-only arrays)."""
    low, high = proportion_bounds(np.arange(trials + 1), trials, confidence, method)
    low.flags.writeable = high.flags.writeable = False
    return low, high


def exact_coverage(trials: int, confidence: float, method: str, p) -> np.ndarray:
    """Coverage at each true p: sum over k of Binomial(trials, p) pmf × [low_k <= p <= high_k]."""
    low, high = every_count_bounds(trials, confidence, method)
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    covers = (low[None, :] <= p[:, None]) & (p[:, None] <= high[None, :])
    return (np.exp(binomial_log_pmf(trials, p)) * covers).sum(axis=1)


def minimum_coverage(trials: int, confidence: float, method: str, p_low: float = 0.01,
                     p_high: float = 0.99) -> tuple[float, float]:
    """The infimum of the coverage over p in [p_low, p_high], and where it is approached.

    Exact, not a grid: the bounds rise with k, so the set of covering k is a run [a, b] that
    changes only at a bound; between changes the coverage P(a <= X <= b) rises then falls in p
    (its derivative is n·[pmf_{n−1}(a−1) − pmf_{n−1}(b)]), so the infimum is a one-sided limit
    at a bound or an end of the range: those points, 1e-9 either side, are all evaluated."""
    low, high = every_count_bounds(trials, confidence, method)
    jumps = np.concatenate((low, high))  # those outside the range clip to its ends
    points = np.clip(np.concatenate(([p_low, p_high], jumps - 1e-9, jumps + 1e-9)), p_low, p_high)
    coverage = exact_coverage(trials, confidence, method, points)
    i = int(np.argmin(coverage))
    return float(coverage[i]), float(points[i])


# -- paired proportions: score statistics ------------------------------------------------------
def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(np.maximum(y, 0.0)), 0.0)


def _profile_max(roots: tuple[np.ndarray, np.ndarray], q_min: np.ndarray, q_max: np.ndarray,
                 loglik) -> np.ndarray:
    """The constrained maximum likelihood q. The profile log-likelihood is concave on
    [q_min, q_max]: its maximum is a root of the score quadratic or an end; all four are
    compared, so no choice of root has to be argued case by case (empty cells included)."""
    cands = np.stack([np.clip(np.nan_to_num(r, nan=0.0), q_min, q_max) for r in roots]
                     + [q_min, q_max])
    best = np.argmax(loglik(cands), axis=0)
    return np.take_along_axis(cands, best[None, :], axis=0)[0]


def _ratio(num: np.ndarray, var: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, num / np.sqrt(np.maximum(var, 1e-300)),
                        np.where(num == 0, 0.0, np.sign(num) * np.inf))  # 0/0: no evidence


def _tango_z(delta, x12, x21, n):
    """Tango's (1998) score statistic for delta = p_candidate − p_baseline; x12 = candidate
    only, x21 = baseline only; q = P(baseline only) maximizes the likelihood given delta."""
    a, b, c = 2.0 * n, delta * (2 * n - x12 + x21) - (x12 + x21), -x21 * delta * (1 - delta)
    with np.errstate(invalid="ignore"):
        root = np.sqrt(b * b - 4 * a * c)
    q = _profile_max(((-b + root) / (2 * a), (-b - root) / (2 * a)), np.maximum(0.0, -delta),
                     (1 - delta) / 2, lambda q: _xlogy(x12, q + delta) + _xlogy(x21, q)
                     + _xlogy(n - x12 - x21, 1 - 2 * q - delta))
    return _ratio(x12 - x21 - n * delta, n * (2 * q + delta * (1 - delta)))


def _tang_z(log_rho, x11, x12, x21, n):
    """Tang, Tang & Chan's (2003) score statistic for rho = p_candidate / p_baseline (Nam &
    Blackwelder 2002); x11 = both; q = P(baseline only) maximizes the likelihood given rho."""
    rho, s = np.exp(log_rho), (x11 + x12 + x21) / n  # the fit keeps P(neither) = neither / n
    a, b = n * (1 + rho), (x11 + x21) * rho * rho - (x11 + x12 + 2 * x21)
    c = x21 * (1 - rho) * s
    with np.errstate(invalid="ignore"):
        root = np.sqrt(b * b - 4 * a * c)

    def cells(q):
        return (s - (1 + rho) * q) / rho, (s * (rho - 1) + q) / rho  # P(both), P(cand only)

    q = _profile_max(((-b + root) / (2 * a), (-b - root) / (2 * a)),
                     np.maximum(0.0, s * (1 - rho)), s / (1 + rho),
                     lambda q: _xlogy(x11, cells(q)[0]) + _xlogy(x12, cells(q)[1])
                     + _xlogy(x21, q))
    p11, p12 = cells(q)
    var = n * (p11 * (1 - rho) ** 2 + p12 + rho * rho * q)
    return _ratio(x11 + x12 - rho * (x11 + x21), var)


def paired_difference_bounds(both, baseline_only, candidate_only, neither, confidence: float,
                             method: str = DIFFERENCE_METHOD) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of candidate − baseline accuracy for arrays of tables (vectorized)."""
    z = _z(confidence)
    x11, x21, x12, x22 = (np.atleast_1d(np.asarray(c, dtype=np.float64))
                          for c in (both, baseline_only, candidate_only, neither))
    n = x11 + x12 + x21 + x22
    est = (x12 - x21) / n
    if _method(method, DIFFERENCE_METHODS) == "newcombe":
        p1, p2 = (x11 + x12) / n, (x11 + x21) / n  # candidate, baseline
        (l1, u1), (l2, u2) = (_wilson_arrays(right, n, z) for right in (x11 + x12, x11 + x21))
        margins = (x11 + x12) * (x21 + x22) * (x11 + x21) * (x12 + x22)
        a = x11 * x22 - x12 * x21
        adjusted = np.where(a > n / 2, a - n / 2, np.where(a >= 0, 0.0, a))
        phi = np.where(margins > 0, adjusted / np.sqrt(np.maximum(margins, 1.0)), 0.0)
        low = est - np.sqrt(np.maximum(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2
                                       - 2 * phi * (p1 - l1) * (u2 - p2)))
        high = est + np.sqrt(np.maximum(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2
                                        - 2 * phi * (p2 - l2) * (u1 - p1)))
    else:  # Tango's statistic reads only the discordant cells and n: solve each once
        (u12, u21, un), back = np.unique(np.stack([x12, x21, n]), axis=1, return_inverse=True)
        u_est = (u12 - u21) / un
        low = _bisect(lambda d: _tango_z(d, u12, u21, un), z, np.full_like(u_est, -1.0), u_est)
        high = _bisect(lambda d: _tango_z(d, u12, u21, un), -z, u_est, np.ones_like(u_est))
        low, high = low[back.ravel()], high[back.ravel()]
    return np.where(est <= -1, -1.0, np.clip(low, -1, est)), \
        np.where(est >= 1, 1.0, np.clip(high, est, 1))


def _wilson_arrays(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    p, z2 = k / n, z * z
    centre, half = p + z2 / (2 * n), z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - half) / (1 + z2 / n), (centre + half) / (1 + z2 / n)


def paired_difference_interval(table: Mapping[str, int], confidence: float, *,
                               method: str = DIFFERENCE_METHOD) -> Interval:
    """Candidate − baseline accuracy on the same items, with a score interval that keeps its
    width when a discordant cell is empty.

    ``tango`` (default): Tango 1998, Stat Med 17:891 — the score test of the difference,
    inverted; the nuisance P(baseline only) at its constrained maximum likelihood. With
    no discordant item at all it is ±z²/(n + z²) around 0, never [0, 0].
    ``newcombe``: Newcombe 1998, Stat Med 17:2635, method 10 — Wilson intervals of both
    accuracies combined by square-and-add with the correlation (phi) correction."""
    cells = _table(table)
    low, high = paired_difference_bounds(*cells, confidence, method)
    estimate = (cells[2] - cells[1]) / sum(cells)
    return Interval(estimate, float(low[0]), float(high[0]), float(confidence))


def paired_ratio_bounds(both, baseline_only, candidate_only, neither,
                        confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of candidate ÷ baseline accuracy for arrays of tables (vectorized, Tang)."""
    z = _z(confidence)
    x11, x21, x12, x22 = (np.atleast_1d(np.asarray(c, dtype=np.float64))
                          for c in (both, baseline_only, candidate_only, neither))
    n = x11 + x12 + x21 + x22
    cand, base = x11 + x12, x11 + x21
    span = np.full_like(n, _LOG_RATIO_SPAN)
    low = np.exp(_bisect(lambda t: _tang_z(t, x11, x12, x21, n), z, -span, span))
    high = np.exp(_bisect(lambda t: _tang_z(t, x11, x12, x21, n), -z, -span, span))
    low = np.where((cand == 0) | (low <= math.exp(-_LOG_RATIO_SPAN) * 1.0001), 0.0, low)
    high = np.where((base == 0) | (high >= math.exp(_LOG_RATIO_SPAN) * 0.9999), math.inf, high)
    est = np.where(base > 0, cand / np.maximum(base, 1.0), math.inf)
    return np.minimum(low, est), np.maximum(high, est)


def paired_ratio_interval(table: Mapping[str, int], confidence: float) -> Interval:
    """Candidate ÷ baseline accuracy on the same items: the score interval for a ratio of
    paired proportions (Nam & Blackwelder 2002, Stat Med 21:689; Tang, Tang & Chan 2003, Stat
    Med 22:1217), bounds by bisection on log(ratio) of the score statistic.

    Edge cases: baseline never right and candidate right on m items — estimate inf, interval
    [m/z², inf]; neither model ever right — estimate nan (0/0), interval [0, inf]; candidate
    never right — estimate 0, low 0."""
    both, base, cand, neither = _table(table)
    low, high = paired_ratio_bounds(both, base, cand, neither, confidence)
    right_b, right_c = both + base, both + cand
    estimate = right_c / right_b if right_b else (math.nan if right_c == 0 else math.inf)
    return Interval(estimate, float(low[0]), float(high[0]), float(confidence))


# -- exact coverage of the paired intervals ----------------------------------------------------
def _tables(p: np.ndarray, n: int, tail: float) -> np.ndarray:
    """Every 2×2 table of n items (rows, counts in TABLE_CELLS order) whose free cells lie in
    their marginal Binomial(n, p_cell) ranges, each range leaving out at most tail/8 on a side;
    a cell of probability 0 stays 0, the last cell of positive probability takes the rest."""
    live = np.nonzero(p > 0)[0]
    axes = []
    for cell in live[:-1]:
        cdf = np.cumsum(np.exp(binomial_log_pmf(n, p[cell])[0]))
        lo, hi = (int(np.searchsorted(cdf, q)) for q in (tail / 8, 1 - tail / 8))
        axes.append(np.arange(lo, min(hi, n) + 1))
    grids = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]
    counts = np.zeros((grids[0].size if grids else 1, 4), dtype=np.int64)
    if grids:
        counts[:, live[:-1]] = np.column_stack(grids)
    counts[:, live[-1]] = n - counts.sum(axis=1)
    return counts[counts[:, live[-1]] >= 0]


def exact_paired_coverage(probabilities: Mapping[str, float], n: int, confidence: float, *,
                          statistic: str = "difference", method: str | None = None,
                          threshold: float | None = None, tail: float = 1e-12,
                          keep_tables: bool = False) -> dict:
    """Coverage and decision rates of a paired interval at known cell probabilities, summed
    exactly over the multinomial tables of n items: P(low <= truth <= high), ``pass_rate``
    P(low >= threshold) and ``fail_rate`` P(high < threshold), the verdicts of ``>= threshold``.
    Cells far in their tails (at most tail/8 a side each) are skipped; ``mass`` is what is summed.
    ``statistic``: ``difference`` (threshold 0) or ``ratio`` (threshold 1); ``method="bootstrap"``
    judges :func:`ryot.stats.intervals.paired_proportions_interval`, table by table."""
    if statistic not in PAIRED_METHODS:
        raise ConfigError(f"statistic must be difference or ratio, got {statistic!r}")
    method = _method(method or PAIRED_METHODS[statistic][0], PAIRED_METHODS[statistic])
    n, _ = _count(n, "n"), _z(confidence)
    try:
        p = np.array([float(probabilities[c]) for c in TABLE_CELLS])
    except (KeyError, TypeError, ValueError):  # reported below
        p = np.array([math.nan])
    if n < 1 or not p.min() >= 0 or abs(p.sum() - 1) > 1e-9 or p.size != 4:
        raise ConfigError("need n >= 1 and cell probabilities >= 0 summing to 1")
    counts = _tables(p, n, tail)
    lf = _log_factorials(n)
    log_pmf = lf[n] - lf[counts].sum(axis=1) + (counts * np.log(np.where(p > 0, p, 1))).sum(1)
    prob = np.exp(log_pmf)
    if method == "bootstrap":
        cis = [paired_proportions_interval(dict(zip(TABLE_CELLS, map(int, row), strict=True)),
                                           statistic, confidence) for row in counts]
        low, high = np.array([c.low for c in cis]), np.array([c.high for c in cis])
    elif statistic == "difference":
        low, high = paired_difference_bounds(*counts.T, confidence, method)
    else:
        low, high = paired_ratio_bounds(*counts.T, confidence)
    cand, base = p[0] + p[2], p[0] + p[1]
    truth = cand - base if statistic == "difference" else (cand / base if base else math.inf)
    threshold = (0.0 if statistic == "difference" else 1.0) if threshold is None else threshold
    out = {"n": n, "statistic": statistic, "method": method, "confidence": float(confidence),
           "probabilities": dict(zip(TABLE_CELLS, p.tolist(), strict=True)), "truth": truth,
           "threshold": threshold, "tables": int(counts.shape[0]), "mass": float(prob.sum()),
           "coverage": float(prob[(low <= truth) & (truth <= high)].sum()),
           "pass_rate": float(prob[low >= threshold].sum()),
           "fail_rate": float(prob[high < threshold].sum())}
    if keep_tables:  # the raw outcomes: every table with its probability and interval
        out.update(table_counts=counts.tolist(), table_probability=prob.tolist(),
                   table_low=low.tolist(), table_high=high.tolist())
    return out
