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


# -- #20 item 14: the measured child starts the same way whoever runs it -----------------------
RUNNER_LIKE = ("import pytest, rich, matplotlib.pyplot, sys; sys.path.insert(0, {root!r}); "
               "from ryot.infra.isolation import run_isolated; import tests.isolated_workloads "
               "as w; print(repr(run_isolated(w.{fn}, *{args!r}).value))")


def _from_a_runner(fn, args=(), **env):
    """``fn`` run isolated from a process that looks like a test runner's (pytest and plotting
    imported, runner variables and an allocator switch set, another working directory)."""
    import ast
    import subprocess
    import sys
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = RUNNER_LIKE.format(root=root, fn=fn, args=tuple(args))
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                              text=True, check=True, timeout=600,
                              env={**os.environ, "PYTEST_XDIST_WORKER": "gw1",
                                   "PYTHONMALLOC": "malloc", **env})
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_the_child_sees_none_of_the_runner():
    from tests.isolated_workloads import environment_seen

    seen = _from_a_runner("environment_seen")
    assert seen["main"] == "ryot.infra.isolated_child" and not seen["pytest"]
    assert seen["env"] == [] and "ryot-isolated-" in seen["cwd"]
    assert run_isolated(environment_seen).value["env"] == []  # under this pytest run too


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["baseline", "optimized"])
def test_one_arm_measures_the_same_from_a_script_and_from_a_runner(mode):
    from tests.isolated_workloads import quick_arm_added_mib

    direct = [run_isolated(quick_arm_added_mib, mode).value for _ in range(2)]
    runner = [_from_a_runner("quick_arm_added_mib", (mode,)) for _ in range(2)]
    spread = max(direct) - min(direct) + 0.5  # MiB: what repeated runs differ by, plus a page
    assert abs(sum(direct) / 2 - sum(runner) / 2) <= spread, (direct, runner)
