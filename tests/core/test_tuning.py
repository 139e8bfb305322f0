"""ryot.core.tuning: measured kernel tuning and its on-disk cache."""

import json

import pytest
import torch

from ryot.core import tuning as ko
from ryot.core.orchestration.coordinator import KernelConfig

SHAPE = (96, 80, 64)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    ko.clear_memory_cache()
    yield tmp_path
    ko.clear_memory_cache()


def test_tune_times_candidates_and_persists_them(private_cache):
    config = ko.tune("matmul", SHAPE, torch.float32)
    assert isinstance(config, KernelConfig)
    data = json.loads((private_cache / "tune.json").read_text())
    (key, entry), = data["entries"].items()
    assert key == ko.cache_key(ko.detect(), "matmul", SHAPE, torch.float32)
    assert ko.__version__ in key and "96x80x64" in key
    candidates = entry["candidates"]
    assert len(candidates) >= 2
    timed = [c for c in candidates if c.get("correct")]
    best = min(timed, key=lambda c: c["median_s"])
    assert best["config"] == config.to_dict()
    assert all(len(c["samples_s"]) >= 3 for c in timed)


def test_cache_hit_does_not_retime(monkeypatch):
    first = ko.tune("matmul", SHAPE)
    ko.clear_memory_cache()  # a fresh process: read from disk

    def fail(*args, **kwargs):
        raise AssertionError("a cache hit must not time anything")

    monkeypatch.setattr(ko, "time_callable", fail)
    assert ko.tune("matmul", SHAPE) == first
    hw, cfg = ko.detect_and_tune("matmul", SHAPE)
    assert cfg == first and hw == ko.detect()


def test_corrupted_cache_warns_and_retunes(private_cache):
    (private_cache / "tune.json").write_text("{ this is not json")
    with pytest.warns(RuntimeWarning, match="corrupted tuning cache"):
        config = ko.tune("matmul", SHAPE)
    assert json.loads((private_cache / "tune.json").read_text())["entries"]
    assert isinstance(config, KernelConfig)


def test_bad_entry_in_cache_is_treated_as_corruption(private_cache):
    (private_cache / "tune.json").write_text(json.dumps(
        {"entries": {"k": {"config": {"tile_m": 3, "tile_n": 1, "tile_k": 1,
                                      "num_warps": 1, "num_stages": 1}}}}))
    with pytest.warns(RuntimeWarning, match="power of two"):
        ko.tune("matmul", SHAPE)


def test_different_dtypes_are_different_entries(private_cache):
    ko.tune("matmul", SHAPE, torch.float32)
    ko.tune("matmul", SHAPE, torch.bfloat16)
    assert len(json.loads((private_cache / "tune.json").read_text())["entries"]) == 2


@pytest.mark.parametrize("args, message", [
    (("conv", SHAPE), "unknown op 'conv'"),
    (("matmul", (1, 2)), r"\(M, N, K\)"),
    (("matmul", (0, 2, 2)), r"\(M, N, K\)"),
    (("matmul", SHAPE, torch.int8), "unsupported dtype"),
])
def test_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        ko.tune(*args)


def test_tiled_torch_matmul_is_correct_for_every_candidate():
    a, b = torch.randn(70, 50), torch.randn(50, 90)
    for config in [KernelConfig(16, 32, 16), KernelConfig(64, 64, 64), KernelConfig(8, 128, 8)]:
        torch.testing.assert_close(ko.matmul_tiled_torch(a, b, config), a @ b, rtol=1e-4, atol=1e-4)


def test_warm_call_is_a_dictionary_lookup(monkeypatch):
    ko.tune("matmul", SHAPE)

    def fail(*args, **kwargs):
        raise AssertionError("a warm call must neither read the file nor time anything")

    monkeypatch.setattr(ko, "_read_cache", fail)
    monkeypatch.setattr(ko, "time_callable", fail)
    for _ in range(100):
        ko.tune("matmul", SHAPE)  # the figure for its cost lives in docs/benchmarks.md


def test_an_unwritable_cache_is_a_warning_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("RYOT_CACHE_DIR", str(blocker / "cache"))  # its parent is a file
    with pytest.warns(RuntimeWarning, match="could not save the tuning cache"):
        config = ko.tune("matmul", SHAPE, samples=1)
    assert isinstance(config, KernelConfig)
