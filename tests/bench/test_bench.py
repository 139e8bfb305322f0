"""``ryot bench NAME``: each benchmark runs and keeps its raw samples (their figures live in
docs/benchmarks.md)."""

import json

import pytest

from ryot import bench


@pytest.mark.parametrize("name, options", [
    ("orchestrator", {"samples": 3}),
    ("compression", {"megabytes": 1, "rounds": 3}),
    ("kv", {"tokens": (300,), "rounds": 3}),
    ("tune", {"shape": (64, 64, 64), "cold_samples": 1}),
    ("decisions", {"repetitions": 4, "scenarios": ("independent CV 5%", "drift falls 0.5%/trial"),
                   "offsets": (-0.2, 0.2), "hints": False}),
])
def test_each_benchmark_writes_raw_samples(tmp_path, name, options):
    result, path = bench.run(name, tmp_path, **options)
    stored = json.loads(path.read_text())
    assert stored["benchmark"] == name and stored["hardware"]["cores"] >= 1
    for row in stored["rows"]:
        if row.get("median") is None:
            assert row["reason"]
        elif row["unit"] not in ("ratio", "fraction") or "samples" in row:
            assert row["samples"] and row["ci95"][0] <= row["median"] <= row["ci95"][1]
    assert "median" in bench.format_rows(result) or "wrong" in bench.format_rows(result)
