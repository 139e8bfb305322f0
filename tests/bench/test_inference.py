"""ryot bench inference: it runs and keeps its raw samples (no timing is asserted)."""

import torch


def test_inference_benchmark_writes_raw_samples(tmp_path):
    import json

    from ryot import bench

    threads = torch.get_num_threads()
    result, path = bench.run("inference", tmp_path, contexts=(16, 40), rounds=2, threads=(1,))
    assert torch.get_num_threads() == threads  # restored
    stored = json.loads(path.read_text())
    assert stored["benchmark"] == "inference" and stored["contexts"] == [16, 40]
    labels = {row["label"] for row in stored["rows"]}
    for c in (16, 40):
        for arm in ("ttft baseline", "ttft optimized", "decode baseline", "decode optimized",
                    "decode dense cache", "memory saved vs dense bfloat16"):
            assert f"{c} tokens, threads=1: {arm}" in labels
    assert all(len(r["samples"]) in (2, 6) for r in stored["rows"] if r["unit"] == "s")
    table = bench.format_rows(result).splitlines()
    assert table[1].split()[:2] == ["1", "16"] and len(table) == 3
