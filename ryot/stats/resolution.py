"""Does a series sit on a grid (a clock's tick, a rounded figure)? Its resolution, if so.

Timings recorded by a coarse clock take few distinct values: 2.3 ms read to 1 ms is 2 or 3,
never between. Order statistics of such values tie, and an interval computed on them can be
narrow around the wrong value ("3.24 [3, 3.5]" for a true 2.85). :func:`grid_resolution` finds
the grid — the smallest gap between distinct values, when every gap is a whole multiple of it
and values repeat — so the verdicts can widen each value into the cell it stands for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MIN_TIE_SHARE", "grid_resolution", "is_constant"]

MIN_TIE_SHARE = 0.25  # at least this share of values repeats another: continuous data rarely do
_MULTIPLE_TOLERANCE = 1e-3  # a gap within this fraction of a whole multiple is one


def is_constant(samples: Sequence[float]) -> bool:
    """Every value equal (a clock too coarse to see any variation, or no measurement at all)."""
    x = np.asarray(samples, dtype=np.float64)
    return x.size > 1 and bool(np.all(x == x[0]))


def grid_resolution(samples: Sequence[float]) -> float | None:
    """The grid step the values sit on, or None when they look continuous (or are constant).

    A grid needs at least two distinct values, at least :data:`MIN_TIE_SHARE` of the values
    repeating another, and every gap between neighbouring distinct values a whole multiple of
    the smallest one."""
    x = np.asarray(samples, dtype=np.float64)
    x = x[np.isfinite(x)]
    distinct = np.unique(x)
    if distinct.size < 2 or (x.size - distinct.size) / x.size < MIN_TIE_SHARE:
        return None
    gaps = np.diff(distinct)
    step = float(gaps.min())
    if step <= 0:
        return None
    multiples = gaps / step
    if np.any(np.abs(multiples - np.round(multiples)) > _MULTIPLE_TOLERANCE * np.round(multiples)):
        return None
    return step
