"""The bytes one training step saves for backward: the fake count equals a real measurement,
allocates nothing, and leaves the model as it was."""

import pytest
import torch

from ryot.workload.model import GPT, GPTConfig
from ryot.workload.train.activation_memory import measure_saved_bytes, saved_activation_bytes


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
