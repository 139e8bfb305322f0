import os
import time

import pytest

from ryot.infra.isolation import peak_rss_bytes, run_isolated
from tests.isolated_workloads import allocate, explode


def test_peaks_do_not_bleed_between_isolated_runs():
    big = run_isolated(allocate, 300)
    small = run_isolated(allocate, 10)
    assert big.value == 300 * (1 << 20) // 8
    assert big.peak_rss_bytes - small.peak_rss_bytes > 200 * (1 << 20)
    assert peak_rss_bytes() > 0


def test_errors_in_the_child_are_reported():
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        run_isolated(explode)


# -- A child process that dies without a result is an error at once, not a wait for the timeout
def die_without_a_result() -> None:
    os._exit(3)


def test_a_child_that_exits_without_a_result_is_reported_promptly():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="exited with code 3 without a result"):
        run_isolated(die_without_a_result, timeout=600)
    assert time.monotonic() - start < 120  # not the 600 s timeout
