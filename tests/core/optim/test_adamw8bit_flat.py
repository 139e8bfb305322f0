"""ryot.core.optim.adamw8bit_flat: one fused flat update per group, the C loop against the
torch reference, and the state error the gate reads."""

from __future__ import annotations

import io

import pytest
import torch

from ryot.core.optim.adamw8bit import AdamW8bit
from ryot.workload.model import GPT, GPTConfig


def _flat_training(native: str, monkeypatch, weight_decay: float = 0.1):
    import ryot.core.native

    monkeypatch.setenv("RYOT_NATIVE", native)
    ryot.core.native.library.cache_clear()
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=64))
    opt = AdamW8bit(model.parameters(), weight_decay=weight_decay, block_size=64)
    errors = []
    for i in range(4):
        gen = torch.Generator().manual_seed(i)
        for p in model.parameters():
            p.grad = torch.randn(p.shape, generator=gen)
        opt.step()
        errors.append(opt.last_state_error)
    ryot.core.native.library.cache_clear()
    return model, opt, errors


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_native_fused_step_matches_the_torch_reference(monkeypatch, weight_decay):
    """The C loop against the torch path it fuses: the same codes (up to rare one-ulp flips at a
    midpoint), parameters and scales within float32 rounding, the same state error."""
    import ryot.core.native

    if ryot.core.native.library("adamw8bit") is None:
        pytest.skip(ryot.core.native.status("adamw8bit"))
    import ryot.core.optim.adamw8bit_flat as flat

    ref_model, ref_opt, ref_errors = _flat_training("0", monkeypatch, weight_decay)

    def no_torch_path(*args, **kwargs):
        raise AssertionError("the native run fell back to the torch path")

    monkeypatch.setattr(flat, "_step_torch", no_torch_path)
    model, opt, errors = _flat_training("1", monkeypatch, weight_decay)
    for a, b in zip(ref_model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    for p, q in zip(ref_model.parameters(), model.parameters(), strict=True):
        for key, value in ref_opt.state[p].items():
            if key.endswith("codes"):
                assert (value != opt.state[q][key]).float().mean().item() < 1e-3, key
            elif isinstance(value, torch.Tensor):
                torch.testing.assert_close(value, opt.state[q][key], rtol=1e-5, atol=1e-9)
    assert errors == pytest.approx(ref_errors, rel=1e-5)
    assert all(0.001 < e < 0.05 for e in errors)
    # the C loop bumps the parameters' version counters once a step, as an in-place torch op does
    # (caches keyed on them, like generate's bfloat16 copy, see the update)
    untouched = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=64))
    assert all(p._version - q._version >= 4
               for p, q in zip(model.parameters(), untouched.parameters(), strict=True))


def test_flat_states_survive_a_state_dict_round_trip_and_keep_stepping():
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=64))
    opt = AdamW8bit(model.parameters(), block_size=64)
    for _ in range(2):
        for p in model.parameters():
            p.grad = torch.randn_like(p)
        opt.step()
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    twin = GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=64))
    twin.load_state_dict(model.state_dict())
    opt2 = AdamW8bit(twin.parameters(), block_size=64)
    opt2.load_state_dict(torch.load(buffer, weights_only=True))
    gen = torch.Generator().manual_seed(9)
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        p.grad = torch.randn(p.shape, generator=gen)
        q.grad = p.grad.clone()
    opt.step()
    opt2.step()
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(p, q)


def test_the_torch_path_in_chunks_equals_it_whole(monkeypatch):
    """The torch reference bounds its float32 temporaries by updating runs of parameters; the
    result is the same as one whole-group update, bit for bit."""
    import ryot.core.optim.adamw8bit_flat as flat

    def trained(chunk):
        monkeypatch.setattr(flat, "TORCH_CHUNK", chunk)
        torch.manual_seed(0)
        model = GPT(GPTConfig(block_size=16, n_layer=2, n_head=2, n_embd=64))
        opt = AdamW8bit(model.parameters(), weight_decay=0.1, block_size=64)
        opt.use_native = False
        for i in range(3):
            gen = torch.Generator().manual_seed(i)
            for p in model.parameters():
                p.grad = torch.randn(p.shape, generator=gen)
            opt.step()
        return model, opt

    whole, whole_opt = trained(1 << 30)
    chunked, chunked_opt = trained(20000)  # several runs of parameters, one per big parameter
    assert len(flat._chunks(chunked_opt._flat[0])) > 3
    for a, b in zip(whole.parameters(), chunked.parameters(), strict=True):
        assert torch.equal(a, b)
    assert chunked_opt.last_state_error == whole_opt.last_state_error


def _state_error(params_and_grads, native: str, monkeypatch) -> float:
    import ryot.core.native

    monkeypatch.setenv("RYOT_NATIVE", native)
    ryot.core.native.library.cache_clear()
    params = [torch.nn.Parameter(torch.zeros(g.numel())) for g in params_and_grads]
    opt = AdamW8bit(params, block_size=256)
    for p, g in zip(params, params_and_grads, strict=True):
        p.grad = g.clone()
    opt.step()
    ryot.core.native.library.cache_clear()
    return opt.last_state_error


@pytest.mark.parametrize("native", ["1", "0"])
def test_the_state_error_is_the_largest_over_every_parameter(monkeypatch, native):
    """The gate's figure samples every 8-bit parameter: a later parameter whose states quantize
    worse sets it, whatever the order (it once sampled the first parameter only)."""
    gen = torch.Generator().manual_seed(0)
    smooth = torch.full((8192,), 0.5)  # constant blocks: every value is its block's absmax
    rough = torch.randn(8192, generator=gen) * torch.exp(3 * torch.randn(8192, generator=gen))
    alone = [_state_error([g], native, monkeypatch) for g in (smooth, rough)]  # per-parameter path
    assert alone[0] < 1e-6 < 1e-3 < alone[1]
    for order in ([smooth, rough], [rough, smooth]):  # two parameters: the flat path
        assert _state_error(order, native, monkeypatch) == pytest.approx(alone[1], rel=1e-5)


def test_largest_error_is_nan_whenever_one_is():
    import math

    from ryot.core.optim.adamw8bit_flat import largest

    assert math.isnan(largest([0.1, math.nan])) and math.isnan(largest([math.nan, 0.1]))
    assert largest([0.1, 0.3, 0.2]) == 0.3 and largest([]) is None
