"""The three causal attentions agree with a float64 reference, forward and backward; activation
checkpointing changes memory, not results; the optimized model picks its attention per device."""

import pytest
import torch

from ryot.workload.attention import MODES, causal_attention, plain_attention
from ryot.workload.model import GPT, GPTConfig
from ryot.workload.train import TrainConfig


def qkv(dtype, T=24, S=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(2, 3, T, 8), (2, 3, S or T, 8), (2, 3, S or T, 8)]
    return [torch.randn(s, generator=gen).to(dtype).requires_grad_(True) for s in shapes]


def grads(mode, tensors, upstream):
    out = causal_attention(*tensors, mode)
    out.backward(upstream.to(out.dtype))
    result = [out.detach().double()] + [t.grad.double() for t in tensors]
    for t in tensors:
        t.grad = None
    return result


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 6e-2)])
def test_output_and_gradients_match_the_float64_reference(mode, dtype, tol):
    tensors = qkv(dtype)
    reference = qkv(torch.float64)
    upstream = torch.randn(2, 3, 24, 8, generator=torch.Generator().manual_seed(1))
    want = grads("plain", reference, upstream.double())
    got = grads(mode, tensors, upstream)
    for name, a, b in zip(("out", "dq", "dk", "dv"), got, want, strict=True):
        scale = b.abs().max().item()
        assert (a - b).abs().max().item() <= tol * max(scale, 1.0), (mode, name)


def test_plain_attention_is_causal():
    q, k, v = qkv(torch.float64, T=6)
    out = plain_attention(q, k, v)
    v2 = v.detach().clone()
    v2[:, :, 4:] += 100.0  # the future changes: earlier positions must not see it
    assert torch.equal(plain_attention(q, k, v2)[:, :, :4], out[:, :, :4])


def test_recompute_attention_keeps_no_score_matrix_for_backward():
    """What autograd saves for the recompute attention is Q, K and V only (flash's memory)."""
    q, k, v = qkv(torch.float32, T=64)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.shape) or t,
                                                  lambda t: t):
        causal_attention(q, k, v, "recompute")
    assert all(s[-1] == 8 for s in saved), saved  # no (T, T) tensor among them


def test_bad_attention_mode_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="plain, sdpa, recompute"):
        GPTConfig(attention="flash")


def test_activation_checkpointing_gives_the_same_loss_and_gradients():
    torch.manual_seed(0)
    config = GPTConfig(block_size=16, n_layer=2, n_head=2, n_embd=16, attention="recompute")
    plain = GPT(config)
    checkpointed = GPT(GPTConfig(**{**config.to_dict(), "checkpoint_blocks": True}))
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randint(0, 256, (2, 16), generator=torch.Generator().manual_seed(2))
    losses = []
    for model in (plain, checkpointed):
        _, loss = model(x, x)
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == losses[1]
    for a, b in zip(plain.parameters(), checkpointed.parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, atol=1e-6)


def test_the_optimized_model_picks_its_attention_per_device():
    optimized = TrainConfig(mode="optimized", activation_checkpointing=True)
    assert optimized.model_config("cpu").attention == "recompute"
    assert optimized.model_config("cuda").attention == "sdpa"
    assert optimized.model_config().checkpoint_blocks
    baseline = TrainConfig(activation_checkpointing=True)
    assert (baseline.model_config().attention == "plain"
            and not baseline.model_config().checkpoint_blocks)
    with pytest.raises(ValueError, match="activation_checkpointing must be a bool"):
        TrainConfig(activation_checkpointing="yes")


def test_recompute_attention_refuses_cross_lengths_and_second_derivatives():
    q, _, _ = qkv(torch.float32, T=8)
    _, k, v = qkv(torch.float32, T=12)
    with pytest.raises(ValueError, match="8 queries but 12 keys"):
        causal_attention(q, k, v, "recompute")
    q, k, v = qkv(torch.float32, T=8)
    out = causal_attention(q, k, v, "recompute")
    (grad_q,) = torch.autograd.grad(out.sum(), q, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|does not require grad"):
        grad_q.sum().backward()
