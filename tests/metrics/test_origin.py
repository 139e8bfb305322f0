"""The origin metrics' providers measure real runs of the default workload (quick preset)."""

import json
import math

import pytest

from ryot.cli import main
from ryot.infra.schemas import validator
from ryot.measure.metric import InvalidMeasurement
from ryot.metrics import origin, overhead
from ryot.workload import presets as workload
from ryot.workload.data import corpus_bytes, decode_tokens, encode_text, splits
from ryot.workload.train import TrainConfig

Q = {"preset": "quick", "_offset": 0}


def test_corpus_is_real_text_split_once():
    text = corpus_bytes()
    assert len(text) > 400_000 and b"The \"assert\" statement" in text
    train, held_out = splits()
    assert len(train) + len(held_out) == len(text) and len(held_out) > 40_000
    assert decode_tokens(encode_text("héllo")) == "héllo"


def test_paired_speed_metrics_interleave_both_arms():
    for provider in (origin.training_speedup, origin.ttft_speedup):
        s = provider(4, Q)
        assert s.kind == "paired" and len(s.numerator) == len(s.denominator) == 4
        assert all(v > 0 for v in s.numerator + s.denominator)


@pytest.mark.parametrize("provider, low, high", [
    (origin.convergence_divergence, 0.0, 0.5), (origin.nonfinite_count, 0, 0), (origin.oom_count, 0, 0),
])
def test_exact_metrics_are_in_plausible_ranges(provider, low, high):
    s = provider(1, Q)
    assert s.kind == "exact" and low <= s.values[0] <= high


def test_accuracies_are_proportions_of_held_out_tokens():
    from ryot.verification.verdicts import compute_statistics

    top1, top5 = origin.accuracy_top1(1, Q), origin.accuracy_top5(1, Q)
    assert top1.kind == top5.kind == "proportion"
    assert top1.counts["trials"] == top5.counts["trials"] > 1000
    assert 0.05 <= top1.counts["successes"] / top1.counts["trials"] <= 1.0
    assert top5.counts["successes"] >= top1.counts["successes"]
    s = compute_statistics(top1, 0.95)  # an estimate with a real interval, not an exact value
    assert s.low < s.estimate < s.high


def test_retention_pairs_both_models_on_the_same_tokens():
    s = origin.accuracy_retention(1, Q)
    assert s.kind == "paired_proportions" and s.statistic == "ratio"
    assert s.count == origin.accuracy_top1(1, Q).counts["trials"]
    table = s.counts
    ratio = (table["both"] + table["candidate_only"]) / (table["both"] + table["baseline_only"])
    assert 0.5 <= ratio <= 1.5


@pytest.mark.parametrize("provider", [origin.ttft_ms, origin.token_latency_ms, origin.decode_throughput])
def test_inference_metrics_are_positive_scalars(provider):
    s = provider(3, Q)
    assert s.kind == "scalar" and len(s.values) == 3 and all(v > 0 and math.isfinite(v) for v in s.values)


def test_memory_is_measured_in_isolated_processes():
    s = origin.memory_reduction(2, Q)
    assert s.kind == "scalar" and len(s.values) == 2
    for pair in s.details["pairs"]:
        assert pair["baseline_added_bytes"] > 0 and pair["optimized_added_bytes"] > 0
    assert origin.memory_stability(1, Q).values[0] >= 0


def test_overhead_is_a_fraction_or_explicitly_undefined():
    try:
        value = overhead.overhead_fraction(1, Q).values[0]
    except InvalidMeasurement as exc:
        assert "saved no time" in str(exc)
    else:
        assert value >= 0


def test_a_user_preset_named_quick_trains_its_own_configuration():
    """Presets are values: a criteria file's preset that happens to be called "quick" is trained
    as itself, and the built-in table is neither consulted nor changed."""
    tiny = workload.Preset("quick", TrainConfig(steps=3, batch_size=2, n_layer=1, n_head=2, n_embd=32,
                                                block_size=32), eval_batches=1, prompt_tokens=8,
                           new_tokens=4, steps_per_round=1)
    params = {"_workload": tiny, "_offset": 0}
    assert workload.preset(params) is tiny
    assert origin.nonfinite_count(1, params).values == [0.0]
    assert workload.trained(tiny.config("optimized")).raw_model.config.n_embd == 32
    assert dict(workload.PRESETS) == {"quick": workload.QUICK, "full": workload.FULL}
    assert workload.QUICK.train.n_embd == 64
    with pytest.raises(TypeError):
        workload.PRESETS["mine"] = tiny  # read-only


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown workload preset 'huge'"):
        workload.preset({"preset": "huge"})


def test_ryot_overhead_reports_numbers_and_exits_0(tmp_path):
    """An analysis, not a gate: exit 0 whatever the fraction (the overhead_gate criterion judges)."""
    assert main(["overhead", "--preset", "quick", "--out", str(tmp_path)]) == 0
    analysis = json.loads((tmp_path / "overhead_analysis.json").read_text())
    assert validator("overhead_analysis").is_valid(analysis)
    markdown = (tmp_path / "overhead_analysis.md").read_text()
    assert "total overhead" in markdown and "30%" not in markdown and "0.3)" not in markdown


def test_ryot_overhead_bad_out_is_exit_2_before_measuring(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["overhead", "--out", str(blocker / "sub")]) == 2
    assert "--out" in capsys.readouterr().err


def test_ryot_train_subcommand(capsys):
    assert main(["train", "--steps", "3", "--batch-size", "2", "--n-layer", "1", "--n-head", "2",
                 "--n-embd", "32", "--block-size", "16"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3
