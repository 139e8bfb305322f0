"""Where a series of trials sits, with an interval that stays honest on dependent and
discrete data: the interval a verdict is decided on, on the series' own scale.

* ``typical`` (the default estimand): a typical trial — the Hodges–Lehmann pseudo-median of a
  symmetric series (per-pair log ratios, gross outliers set aside) or the median — with the
  distribution-free rank interval (:mod:`ryot.stats.intervals`) at the effective sample size;
  under dependence joined with a t interval on the same effective n
  (:func:`ryot.stats.dependence.dependent_location_interval`), because the rank interval alone
  undercovers once n_eff is a handful of trials;
* ``mean``: the time average (:mod:`ryot.stats.dependence`, Newey–West), which a periodic
  disturbance moves and a pseudo-median does not;
* values on a grid (:mod:`ryot.stats.resolution`) widen the interval: each recorded value
  stands for any true value within ``extremes`` (the lowest and highest series it could have
  been), and the rank bounds are monotone in every value, so the bounds computed on the
  extremes cover whatever the true values were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ryot.stats import dependence, stationarity
from ryot.stats import intervals as iv

__all__ = ["Location", "mean", "typical"]


@dataclass(frozen=True)
class Location:
    estimate: float
    low: float
    high: float
    coverage: float | None      # the rank interval's guaranteed coverage (None: approximate)
    effective_n: float
    outliers: int | None = None   # trials set aside as gross outliers
    widening: float = 0.0         # the share of the interval's width that the grid added


def typical(x: np.ndarray, confidence: float, rho: float, *, symmetric: bool,
            outlier_mads: float | None = None,
            extremes: tuple[np.ndarray, np.ndarray] | None = None) -> Location:
    """The pseudo-median (``symmetric``) or median of ``x`` and its interval."""
    keep = np.ones(x.size, dtype=bool)
    if symmetric and outlier_mads is not None:
        centre = np.median(x)
        scale = 1.4826 * float(np.median(np.abs(x - centre)))
        if scale > 0:
            keep = np.abs(x - centre) <= outlier_mads * scale
    kept = x[keep]
    n_eff = stationarity.effective_n(kept.size, rho)
    rank = iv.hodges_lehmann_interval if symmetric else iv.median_interval
    ci = rank(kept, confidence, effective_n=n_eff)
    low, high = ci.low, ci.high
    if n_eff < kept.size:
        dep = dependence.dependent_location_interval(kept, ci.estimate, confidence, n_eff)
        low, high = min(low, dep.low), max(high, dep.high)
    widening = 0.0
    if extremes is not None:  # move each bound as far as the grid lets the values move
        down = ci.low - rank(extremes[0][keep], confidence, effective_n=n_eff).low
        up = rank(extremes[1][keep], confidence, effective_n=n_eff).high - ci.high
        width = (high - low) + down + up
        low, high = low - down, high + up
        if not np.isfinite(down + up):  # the grid leaves an end unbounded
            widening = 1.0
        else:
            widening = (down + up) / width if width > 0 else 0.0
    outliers = int(x.size - kept.size) if symmetric and outlier_mads is not None else None
    return Location(ci.estimate, low, high, ci.coverage, n_eff, outliers, widening)


def mean(x: np.ndarray, confidence: float, rho: float, *,
         ratio_arms: tuple[np.ndarray, np.ndarray] | None = None) -> Location:
    """The mean of ``x`` — or, with ``ratio_arms`` (numerator, denominator), the log of their
    ratio of sums — with a Newey–West t interval."""
    if ratio_arms is not None:
        ci = dependence.ratio_of_means_interval(*ratio_arms, confidence)
    else:
        ci = dependence.mean_interval(x, confidence)
    return Location(ci.estimate, ci.low, ci.high, None, stationarity.effective_n(x.size, rho))
