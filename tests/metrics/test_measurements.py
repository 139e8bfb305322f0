"""One implementation per measurement: what ryot/metrics/measurements.py returns (no timed
assertions)."""

import os

import pytest
import torch

from ryot.core.config import CompressionConfig
from ryot.metrics import core
from ryot.metrics import measurements as m


def test_the_orchestrator_step_is_gates_adapt_snapshot_on_one_orchestrator():
    calls = m.orchestrator_calls()
    assert m.STEP in calls and {"validate_safety_gates", "adapt_parameters",
                                "snapshot_configuration", "get_checkpoint_metadata"} <= set(calls)
    for _ in range(3):
        calls[m.STEP]()
    # one orchestrator, steps 0, 1, 2
    assert calls["get_checkpoint_metadata"]()["state"]["step"] == 2
    timed = m.orchestrator_seconds(2, min_sample_seconds=0.001)
    assert list(timed) == [m.STEP] and len(timed[m.STEP].seconds_per_call) == 2


def test_the_round_trip_is_interleaved_with_clone_and_any_other_arm():
    order = []
    x = m.normal_tensor(0.25)
    times = m.compression_roundtrip_vs_clone(x, CompressionConfig(64, 8), rounds=3, warmup=0,
                                             others={"probe": lambda: order.append("probe")})
    assert set(times) == {"roundtrip", "clone", "probe"}
    assert all(len(t) == 3 for t in times.values())
    assert len(order) == 6  # re-warmed before each timed call
    assert torch.equal(x, m.normal_tensor(0.25))  # seeded: the same tensor every time


def test_kv_memory_saved_counts_scales_and_is_a_fraction():
    k, v = m.random_kv(256, 2, 64, torch.bfloat16)
    assert k.shape == (1, 2, 256, 64) and not torch.equal(k, v)
    cache = m.filled_kv_cache(k, v, bits=8)
    assert 0 < m.kv_memory_saved(cache) < 0.5 + 1e-9  # int8 codes + scales vs bf16
    assert core.kv_memory_saved(1, {"tokens": 256, "heads": 2}).values == [m.kv_memory_saved(cache)]


def test_cold_tuning_uses_an_empty_cache_and_restores_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    with m.empty_tune_cache() as folder:
        assert os.environ["RYOT_CACHE_DIR"] == str(folder) != str(tmp_path)
        assert not any(folder.iterdir())
    assert os.environ["RYOT_CACHE_DIR"] == str(tmp_path)
    assert len(m.cold_tune_seconds((16, 16, 16), repeats=1)) == 1
    assert not any(tmp_path.iterdir())  # the user's cache was never written


@pytest.mark.parametrize("bits", [4, 8])
def test_relative_error_is_what_the_provider_reports(bits):
    x = m.normal_tensor(0.25)
    error = m.compression_relative_error(x, CompressionConfig(64, bits))
    assert core.relative_error(1, {"megabytes": 0.25, "bits": bits}).values == [error]
