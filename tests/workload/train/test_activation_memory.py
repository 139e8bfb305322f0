"""Activation checkpointing switched on by the orchestrator from a memory budget: the measured
bytes saved for backward, the decision and its record, the trainer applying it (and re-deciding
on resume)."""

import pytest
import torch

from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig
from ryot.core.orchestration import metadata as checkpoint_metadata
from ryot.core.orchestration.coordinator import OptimizationOrchestrator
from ryot.workload.model import GPT, GPTConfig
from ryot.workload.train import TrainConfig, Trainer
from ryot.workload.train.activation_memory import measure_saved_bytes, saved_activation_bytes

MiB = 2**20


def _orchestrator():
    return OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 8),
                                    RLVRConfig(4, 1.0, 256), clock=lambda: 0.0)


@pytest.mark.parametrize("autocast", [False, True])
@pytest.mark.parametrize("attention", ["plain", "sdpa", "recompute"])
def test_the_fake_count_equals_a_real_measurement(autocast, attention):
    model = GPT(GPTConfig(block_size=32, n_layer=2, n_head=2, n_embd=32, attention=attention))
    real = measure_saved_bytes(model, 5, autocast=autocast)
    assert saved_activation_bytes(model, 5, autocast=autocast) == real
    assert measure_saved_bytes(model, 1, autocast=autocast) < real


def test_the_fake_count_allocates_no_tensor_data():
    """A million sequences: ~39 GB of activations if they were real (this machine has 24 GiB).
    The count is affine in the batch size, so it must equal the extrapolation of real counts."""
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=32))
    one, two = (measure_saved_bytes(model, b, autocast=True) for b in (1, 2))
    million = saved_activation_bytes(model, 10**6, autocast=True)
    assert million == one + (10**6 - 1) * (two - one) > 30 * 10**9


def test_wrapped_models_are_refused():
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=32))
    with pytest.raises(TypeError, match="expected a GPT, got Sequential"):
        saved_activation_bytes(torch.nn.Sequential(model), 1, autocast=False)


def test_saved_bytes_are_what_the_forward_keeps_and_exclude_parameters():
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=32, attention="plain"))
    one, two = (measure_saved_bytes(model, b, autocast=False) for b in (1, 2))
    # at least the float32 logits (16 x 256) and one attention matrix (2 x 16 x 16) per sequence
    assert one >= (16 * 256 + 2 * 16 * 16) * 4
    # what does not grow with the batch is tiny (position indices, the causal mask): the
    # parameters (~86 KB here) are not counted
    assert 0 <= 2 * one - two < 4096 < sum(p.numel() * 4 for p in model.parameters())
    assert model.config.checkpoint_blocks is False


def test_checkpointing_is_restored_after_the_probe():
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=32, checkpoint_blocks=True))
    assert measure_saved_bytes(model, 1, autocast=False) > 0
    assert model.config.checkpoint_blocks is True


def test_the_orchestrator_decides_and_records_why():
    orch = _orchestrator()
    assert orch.activation_checkpointing is False
    assert orch.plan_activation_checkpointing(10 * MiB, 16 * MiB) is False
    assert orch.history == []  # no change: nothing recorded
    assert orch.plan_activation_checkpointing(41 * MiB, 32 * MiB) is True
    record = orch.history[-1]
    assert (record.param, record.old, record.new) == ("activation_checkpointing", False, True)
    assert record.reason == "activations saved for backward 41 MiB > budget 32 MiB"
    assert orch.plan_activation_checkpointing(41 * MiB, 32 * MiB) is True and len(orch.history) == 1
    restored = OptimizationOrchestrator.from_checkpoint_metadata(orch.get_checkpoint_metadata())
    assert restored.activation_checkpointing is True
    assert restored.plan_activation_checkpointing(41 * MiB, 64 * MiB) is False
    assert restored.history[-1].reason == "activations saved for backward 41 MiB <= budget 64 MiB"
    with pytest.raises(ValueError, match="saved_bytes must be an int >= 0"):
        orch.plan_activation_checkpointing(-1, 0)
    with pytest.raises(ValueError, match="budget_bytes must be an int >= 0"):
        orch.plan_activation_checkpointing(0, 1.5)


def _config(**kw):
    return TrainConfig(mode="optimized", steps=2, batch_size=2, n_layer=1, n_head=2, n_embd=32,
                       block_size=32, **kw)


def test_the_record_always_says_what_the_model_does():
    forced = Trainer(_config(activation_checkpointing=True, activation_budget_mb=100.0))
    assert forced.raw_model.config.checkpoint_blocks and forced.orchestrator.activation_checkpointing
    assert forced.orchestrator.history[-1].reason == "forced by activation_checkpointing=True"
    meta = forced.orchestrator.get_checkpoint_metadata()
    meta["history"][-1]["new"] = "false"  # a hand-edited file: only JSON true means on
    restored = OptimizationOrchestrator.from_checkpoint_metadata(checkpoint_metadata.seal(meta))
    assert restored.activation_checkpointing is False
    with pytest.raises(ValueError, match="on must be a bool"):
        restored.set_activation_checkpointing(1, "why")


def test_the_trainer_follows_the_budget():
    tight, loose = Trainer(_config(activation_budget_mb=0.01)), Trainer(_config(activation_budget_mb=100.0))
    assert tight.raw_model.config.checkpoint_blocks and tight.orchestrator.activation_checkpointing
    assert not loose.raw_model.config.checkpoint_blocks and loose.orchestrator.history == []
    assert Trainer(_config(activation_checkpointing=True, activation_budget_mb=100.0)).raw_model.config.checkpoint_blocks
    assert not Trainer(_config()).raw_model.config.checkpoint_blocks  # no budget: no probe, no change
    baseline = Trainer(TrainConfig(steps=2, batch_size=2, n_layer=1, n_head=2, n_embd=32, block_size=32,
                                   activation_budget_mb=0.01))
    assert not baseline.raw_model.config.checkpoint_blocks  # the baseline never checkpoints
    assert tight.train_step().applied


def test_a_resumed_run_re_decides_under_its_own_budget(tmp_path):
    first = Trainer(_config(activation_budget_mb=0.01, checkpoint_every=1), tmp_path)
    first.train_step()
    first.save_checkpoint()
    again = Trainer(_config(activation_budget_mb=100.0, checkpoint_every=1), tmp_path, resume=True)
    assert not again.raw_model.config.checkpoint_blocks
    assert [r.new for r in again.orchestrator.history if r.param == "activation_checkpointing"] == [True, False]
    unbudgeted = Trainer(_config(checkpoint_every=1), tmp_path, resume=True)  # on -> off, said why
    assert not unbudgeted.raw_model.config.checkpoint_blocks
    assert unbudgeted.orchestrator.history[-1].reason == "no activation budget"


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), True, "32"])
def test_bad_budgets_are_refused(bad):
    with pytest.raises(ValueError, match="activation_budget_mb must be None or a finite number"):
        TrainConfig(activation_budget_mb=bad)


def test_checkpointing_is_restored_when_the_probe_fails(monkeypatch):
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=32, checkpoint_blocks=True))

    def broken(*args, **kwargs):
        assert model.config.checkpoint_blocks is False  # the probe measures without it
        raise RuntimeError("out of memory")

    monkeypatch.setattr(model, "forward", broken)
    with pytest.raises(RuntimeError, match="out of memory"):
        measure_saved_bytes(model, 1, autocast=False)
    assert model.config.checkpoint_blocks is True


def test_the_probe_refuses_inference_mode():
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=32))
    with torch.inference_mode(), pytest.raises(RuntimeError, match="inference_mode"):
        saved_activation_bytes(model, 2, autocast=False)
    with torch.inference_mode(), pytest.raises(RuntimeError, match="inference_mode"):
        measure_saved_bytes(model, 2, autocast=False)
