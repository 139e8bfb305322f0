"""ryot bench training: every arm measured, ratios paired, raw samples kept (tiny model, no
timing claims)."""

from dataclasses import replace

from ryot.bench import NAMES, format_rows, training
from ryot.workload.presets import QUICK


def test_training_bench_rows_carry_their_samples():
    tiny = replace(QUICK, train=replace(QUICK.train, n_layer=1, n_embd=32, n_head=2, block_size=16,
                                        batch_size=2))
    result = training.run(rounds=2, steps_per_round=1, warmup=1, memory_steps=1, memory_repeats=1,
                          preset=tiny, arms=("baseline", "stock eager", "ryot"))
    labels = {row["label"]: row for row in result["rows"]}
    for arm in ("baseline", "stock eager", "ryot"):
        assert len(labels[f"{arm}: seconds per training step"]["samples"]) == 2
        assert labels[f"{arm}: peak memory added by training"]["samples"][0] > 0
    assert "speedup of ryot over stock eager" in labels
    assert "memory reduction of ryot vs baseline" in labels
    steps = [row for row in result["rows"] if row["label"].startswith("optimizer step, ")]
    assert any(row["label"].startswith("optimizer step, AdamW8bit") for row in steps)
    assert "optimizer step, torch AdamW (fused)" in {row["label"] for row in steps}
    assert result["model"]["n_layer"] == 1 and "training" in NAMES
    assert "speedup of ryot over baseline" in format_rows(result)
