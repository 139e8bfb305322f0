import doctest

import numpy as np
import pytest

import ryot.orchestrator
from ryot.infra.machine import HardwareProfile, detect
from ryot.measure.timing import time_callable
from ryot.stats import intervals as stats


def test_orchestrator_doctest():
    assert doctest.testmod(ryot.orchestrator).failed == 0


def test_detect_reads_real_hardware():
    hw = detect()
    assert hw.kind in ("cpu", "cuda") and hw.cores >= 1 and hw.memory_bytes > 0
    assert HardwareProfile.from_dict(hw.to_dict()) == hw
    assert len(hw.fingerprint()) == 16


def test_bootstrap_interval_contains_the_median_and_is_seeded():
    rng = np.random.default_rng(0)
    x = rng.normal(10, 1, 200)
    a, b = stats.bootstrap_median(x), stats.bootstrap_median(x)
    assert a == b and a.low <= a.estimate <= a.high
    assert 9.6 < a.low < 10 < a.high < 10.4


def test_paired_ratio_interval_covers_the_true_ratio():
    rng = np.random.default_rng(1)
    base = rng.lognormal(0, 0.05, 60)
    fast = base / 2 * rng.lognormal(0, 0.05, 60)
    ci = stats.bootstrap_ratio_of_medians(base, fast)
    assert ci.low < 2.0 < ci.high
    with pytest.raises(ValueError, match="equal counts"):
        stats.bootstrap_ratio_of_medians([1, 2], [1])


def test_relative_spread():
    assert stats.relative_spread([2, 2, 2]) == 0
    assert stats.relative_spread([1, 2, 3]) == pytest.approx(0.5)


def test_time_callable_records_every_sample():
    m = time_callable(lambda: sum(range(100)), samples=5, warmup=1, min_sample_seconds=0.001)
    assert len(m.seconds_per_call) == 5 and all(s > 0 for s in m.seconds_per_call)
