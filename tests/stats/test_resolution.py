"""Values on a grid (a clock's tick) are told from continuous ones."""

from __future__ import annotations

import numpy as np
import pytest

from ryot.stats.resolution import grid_resolution, is_constant


def test_a_millisecond_clock_is_found():
    assert grid_resolution([0.006, 0.007, 0.006, 0.006, 0.007, 0.006]) == pytest.approx(0.001)
    assert grid_resolution([1.0, 1.5, 2.0, 1.0, 1.5, 1.0, 2.0, 1.0]) == 0.5
    assert grid_resolution([2.0, 4.0, 2.0, 8.0, 2.0, 4.0]) == 2.0  # gaps are whole multiples


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).lognormal(0, 0.05, 48),  # continuous timings: no ties
    [2.0, 2.0, 2.0],                                    # constant: no gap to measure
    [1.0, 1.3, 2.0, 1.0, 1.3, 2.0, 1.0, 1.3],           # gaps 0.3 and 0.7: not one grid
    [1.0],
    [],
])
def test_no_grid(values):
    assert grid_resolution(values) is None


def test_constant():
    assert is_constant([3.0] * 5) and not is_constant([3.0]) and not is_constant([3.0, 3.1])
