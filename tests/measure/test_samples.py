"""ryot.measure.samples: the sample shapes, strictly typed."""

from __future__ import annotations

import numpy as np
import pytest

from ryot.measure.samples import (
    coerce,
    paired_proportions,
    paired_proportions_from_items,
    proportion,
)


@pytest.mark.parametrize("call, fragment", [
    (lambda: proportion(5, 3), "successes <= trials"),
    (lambda: proportion(-1, 3), "non-negative integer"),
    (lambda: proportion(1.5, 3), "non-negative integer"),
    (lambda: proportion(True, 3), "non-negative integer"),
    (lambda: paired_proportions(0, 0, 0, 0), "at least one item"),
    (lambda: paired_proportions(1, 1, 1, 1, statistic="odds"), "'difference' or 'ratio'"),
    (lambda: paired_proportions_from_items([True], [True, False]), "same items"),
])
def test_proportion_bad_input(call, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        call()


@pytest.mark.parametrize("returned", ["1.0", True, None, ["1.0", 2.0], [True, 1.0],
                                      {"numerator": [1.0], "denominator": ["2"]}, {"x": 1}])
def test_providers_must_return_numbers(returned):
    with pytest.raises(ValueError, match="a metric provider returned|expected"):
        coerce(returned)


def test_numpy_numbers_are_numbers():
    assert coerce(np.float32(1.5)).values == [1.5]
    assert coerce(np.arange(3.0)).values == [0.0, 1.0, 2.0]
