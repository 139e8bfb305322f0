"""ryot.measure.timing: the measuring loop, and the helpers a user's provider is built
from (``ryot.paired_trials``, ``ryot.timed_samples``, issue #12)."""

from __future__ import annotations

import time

import pytest

import ryot
import ryot.orchestrator
from ryot.infra.errors import ConfigError
from ryot.measure import timing
from ryot.measure.samples import Samples
from ryot.measure.timing import time_callable
from ryot.metrics import origin


def test_time_callable_records_every_sample():
    m = time_callable(lambda: sum(range(100)), samples=5, warmup=1, min_sample_seconds=0.001)
    assert len(m.seconds_per_call) == 5 and all(s > 0 for s in m.seconds_per_call)


def test_paired_trials_rotates_the_order_and_returns_paired_samples():
    calls = []

    def arm(name):
        def run():
            calls.append(name)
        return run

    s = ryot.paired_trials(arm("base"), arm("cand"), 4, warmup=1)
    assert s.kind == "paired" and len(s.numerator) == len(s.denominator) == 4
    # seconds; no timing claim in a unit test
    assert all(v > 0 for v in s.numerator + s.denominator)
    rounds = calls[2:]  # after one warm-up call of each arm
    assert rounds[0:2] == ["base", "cand"] and rounds[2:4] == ["cand", "base"]


def test_timed_samples_are_scalar_seconds():
    s = ryot.timed_samples(lambda: time.sleep(0.001), 3, warmup=0)
    assert s.kind == "scalar" and len(s.values) == 3 and min(s.values) >= 0.001  # sleep's floor


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_trial_counts_must_be_positive_ints(n):
    with pytest.raises(ValueError, match="the number of trials must be an int >= 1"):
        ryot.paired_trials(lambda: None, lambda: None, n)
    with pytest.raises(ValueError, match="the number of trials must be an int >= 1"):
        ryot.timed_samples(lambda: None, n)


# -- The one A/B loop (``ryot.measure.timing.rotated``) and the measurements built on it
def test_rounds_rotate_the_order_and_keep_what_each_trial_returns():
    log = []

    def trial(name, r):
        log.append(name)
        return (name, r)

    out = timing.rotated(["a", "b", "c"], 3, trial)
    assert log == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert out == {"a": [("a", 0), ("a", 1), ("a", 2)], "b": [("b", 0), ("b", 1), ("b", 2)],
                   "c": [("c", 0), ("c", 1), ("c", 2)]}
    log.clear()
    timing.rotated(["a", "b"], 2, trial, offset=1)
    assert log == ["b", "a", "a", "b"]


def test_interleaved_times_calls_per_round_and_reports_seconds_per_call():
    counts = {"x": 0, "y": 0}

    def arm(name):
        def call():
            counts[name] += 1
        return call

    times = timing.interleaved({"x": arm("x"), "y": arm("y")}, rounds=4, warmup=2, calls=3)
    assert counts == {"x": 2 + 4 * 3, "y": 2 + 4 * 3}
    assert [len(v) for v in times.values()] == [4, 4]
    assert all(t >= 0 for v in times.values() for t in v)


@pytest.mark.parametrize("calls", [0, -1, True, 1.5])
def test_paired_trials_refuses_a_bad_call_count(calls):
    with pytest.raises(ConfigError, match="calls must be an int >= 1"):
        timing.paired_trials(lambda: None, lambda: None, 3, calls=calls)


class _Trainer:
    def __init__(self, log, name):
        self.log, self.name, self.device = log, name, None

    def train_step(self):
        self.log.append(self.name)


class _Preset:
    steps_per_round = 2

    def config(self, mode):
        return mode


def test_training_speedup_runs_paired_trials_rotated(monkeypatch):
    """training_speedup is ryot.paired_trials over the two trainers' steps: steps_per_round
    calls per arm per round, the first arm alternating."""
    log = []
    trainers = {"baseline": _Trainer(log, "b"), "optimized": _Trainer(log, "o")}
    monkeypatch.setattr(origin, "preset", lambda params: _Preset())
    monkeypatch.setattr(origin, "trained", lambda config: trainers[config])
    samples = origin.training_speedup(3, {})
    assert isinstance(samples, Samples) and samples.kind == "paired"
    assert len(samples.numerator) == len(samples.denominator) == 3
    assert log == ["b", "b", "o", "o", "o", "o", "b", "b", "b", "b", "o", "o"]


def test_memory_pairs_from_the_offset_are_measured_side_by_side(monkeypatch):
    """The pairs a later batch asks for (offset 1) are measured, not those before them; each
    pair's two runs go together (memory does not depend on how the cores are shared)."""
    order = []

    def memory(p, mode):
        order.append(mode)
        mapped = 10 if mode == "baseline" else 5  # library pages mapped: left out
        return {"before": 0, "peak": (100 if mode == "baseline" else 60) + mapped, "rss": [],
                "file_before": 1, "file_after": 1 + mapped, "files": [1 + mapped // 2, 1 + mapped]}

    monkeypatch.setattr(origin, "preset", lambda params: _Preset())
    monkeypatch.setattr(origin, "_memory", memory)
    monkeypatch.setattr(origin, "_memory_runs", {})
    monkeypatch.setattr(origin, "value_key", str)
    samples = origin.memory_reduction(2, {"_offset": 1})
    assert sorted(order) == ["baseline", "baseline", "optimized", "optimized"]
    assert samples.values == pytest.approx([0.4, 0.4])
    assert samples.details["pairs"][0] == {"baseline_added_bytes": 100,
                                           "optimized_added_bytes": 60,
                                           "baseline_file_bytes": 10, "optimized_file_bytes": 5,
                                           "baseline_raw_added_bytes": 110,
                                           "optimized_raw_added_bytes": 65,
                                           "file_bytes_after_first_step": [5, 3],
                                           "runs": ["baseline-1", "optimized-1"]}


def test_memory_pairs_alternate_which_arm_goes_first(monkeypatch):
    order = []
    monkeypatch.setattr(origin, "preset", lambda params: _Preset())
    monkeypatch.setattr(origin, "_memory", lambda p, mode: order.append(mode) or {
        "before": 0, "peak": 100 if mode == "baseline" else 60, "rss": [], "file_before": 0,
        "file_after": 0, "files": [0]})
    monkeypatch.setattr(origin, "_memory_runs", {})
    monkeypatch.setattr(origin, "value_key", str)
    origin.memory_reduction(3, {"_offset": 0})
    assert order == ["baseline", "optimized", "optimized", "baseline", "baseline", "optimized"]
