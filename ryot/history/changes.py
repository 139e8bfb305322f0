"""Change points in one criterion's series of estimates, kept only where they exceed the noise.

Two steps, as Hunter (Fleming et al., ICPE 2023) splits E-divisive's work:

1. **Candidates** from a maintained segmentation: binary segmentation (``ruptures.Binseg``,
   l2 cost) on the series scaled by its own noise (the median absolute successive difference),
   with a penalty of ``PENALTY`` · log n. ``scripts/change_point_methods.py`` measured it
   against PELT and against Apache Otava's Hunter and E-divisive on simulated histories: as
   good at finding steps and slides as PELT, fewer A/A false alarms, ~9x faster
   (docs/history.md has the table).
2. **Merge**: every candidate is tested on the segments between its neighbours: the change of
   the mean, with a standard error that is the larger of what the segments' spread shows and
   what the reports' own intervals say each run's error is. The least significant candidate is
   dropped and the rest retested until every one left has a ``confidence`` interval for its
   relative change that excludes 0. A change is never reported smaller than the noise the
   reports themselves show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

__all__ = ["CONFIDENCE", "PENALTY", "Change", "candidates", "find_changes", "run_errors"]

CONFIDENCE = 0.999  # two-sided, per change point: a 100-commit A/A history stays quiet
PENALTY = 1.5  # the segmentation's penalty, times log(n), on the noise-scaled series
RUN_CONFIDENCE = 0.95  # the confidence of the reports' intervals when not given


@dataclass(frozen=True)
class Change:
    """A change of the mean at ``index`` (the first point after it), relative to before."""

    index: int
    before: float  # mean of the segment before
    after: float  # mean of the segment after
    relative: float  # after / before - 1
    low: float  # the relative change's interval at CONFIDENCE
    high: float
    p_value: float


def run_errors(lows: Sequence[float | None], highs: Sequence[float | None],
               confidence: float = RUN_CONFIDENCE) -> np.ndarray:
    """Each run's standard error implied by its interval (NaN where it has none)."""
    z = scipy_stats.norm.ppf(0.5 + confidence / 2)
    out = np.full(len(lows), np.nan)
    for i, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            out[i] = (hi - lo) / (2 * z)
    return out


def _noise(values: np.ndarray) -> float:
    """A robust per-point noise scale: the median absolute successive difference / 0.954
    (normal data: MAD of a difference of two N(0, s²) is 0.954 s)."""
    if len(values) < 3:
        return 0.0
    return float(np.median(np.abs(np.diff(values)))) / 0.954


def candidates(values: Sequence[float], method: str = "binseg", min_size: int = 2) -> list[int]:
    """Indices where a segmentation starts a new segment (never 0 or len)."""
    import ruptures

    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2 * min_size:
        return []
    scale = _noise(x) or float(np.std(x)) or 1.0
    signal = ((x - np.median(x)) / scale).reshape(-1, 1)
    pen = PENALTY * math.log(n)
    if method == "pelt":
        algo = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(signal)
    elif method == "binseg":
        algo = ruptures.Binseg(model="l2", min_size=min_size, jump=1).fit(signal)
    else:
        raise ValueError(f"method: expected 'pelt' or 'binseg', got {method!r}")
    return [k for k in algo.predict(pen=pen) if 0 < k < n]


def _test(x: np.ndarray, err: np.ndarray, start: int, k: int, end: int,
          confidence: float) -> Change | None:
    a, b = x[start:k], x[k:end]
    if len(a) < 2 or len(b) < 2:
        return None

    def var_of_mean(seg: np.ndarray, seg_err: np.ndarray) -> float:
        spread = float(np.var(seg, ddof=1))
        known = seg_err[np.isfinite(seg_err)]
        claimed = float(np.mean(known**2)) if len(known) else 0.0
        return max(spread, claimed) / len(seg)

    mean_a, mean_b = float(np.mean(a)), float(np.mean(b))
    se = math.sqrt(var_of_mean(a, err[start:k]) + var_of_mean(b, err[k:end]))
    if mean_a == 0 or se == 0:
        return None
    z = scipy_stats.norm.ppf(0.5 + confidence / 2)
    delta = mean_b - mean_a
    p = float(2 * scipy_stats.norm.sf(abs(delta) / se))
    scale = abs(mean_a)
    return Change(k, mean_a, mean_b, delta / scale, (delta - z * se) / scale,
                  (delta + z * se) / scale, p)


def find_changes(values: Sequence[float], lows: Sequence[float | None] | None = None,
                 highs: Sequence[float | None] | None = None, *, method: str = "binseg",
                 confidence: float = CONFIDENCE,
                 run_confidence: float = RUN_CONFIDENCE) -> list[Change]:
    """The change points of ``values`` (in commit order) whose relative change's interval at
    ``confidence`` excludes 0, tested against the larger of the series' spread and the runs'
    own errors (their intervals ``lows``/``highs`` at ``run_confidence``)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    err = (run_errors(lows, highs, run_confidence) if lows is not None and highs is not None
           else np.full(n, np.nan))
    kept = candidates(x, method)
    while kept:
        bounds = [0, *kept, n]
        tested = [_test(x, err, bounds[i], bounds[i + 1], bounds[i + 2], confidence)
                  for i in range(len(kept))]
        p_values = [t.p_value if t is not None else 1.0 for t in tested]
        worst = int(np.argmax(p_values))
        if p_values[worst] <= 1 - confidence:
            return [t for t in tested if t is not None]
        del kept[worst]
    return []
