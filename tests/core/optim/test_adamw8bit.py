"""AdamW8bit: 8-bit block-wise dynamic-code states that train like torch.optim.AdamW at ~1/4 the
memory."""

from __future__ import annotations

import functools
import io

import pytest
import torch

from ryot.core.optim.adamw8bit import MIN_8BIT_SIZE, AdamW8bit
from ryot.workload.model import GPT, GPTConfig


def _tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=256, block_size=32, n_layer=1, n_head=2, n_embd=32))


def _batches(steps: int, seed: int = 1) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A learnable stream: each token is (3 * previous + 7) mod 256 after a random start."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        start = torch.randint(0, 256, (8, 1), generator=g)
        seq = [start]
        for _ in range(32):
            seq.append((3 * seq[-1] + 7) % 256)
        seq = torch.cat(seq, dim=1)
        out.append((seq[:, :-1], seq[:, 1:]))
    return out


def _train(optimizer_cls, steps: int = 50,
           **kwargs) -> tuple[list[float], GPT, torch.optim.Optimizer]:
    model = _tiny_gpt()
    opt = optimizer_cls(model.parameters(), lr=3e-3, betas=(0.9, 0.999), eps=1e-8,
                        weight_decay=0.01, **kwargs)
    losses = []
    for x, y in _batches(steps):
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, model, opt


def test_tiny_gpt_50_steps_loss_tracks_torch_adamw():
    ref, _, _ = _train(torch.optim.AdamW)
    ours, model, opt = _train(AdamW8bit)
    assert ref[-1] < 0.7 * ref[0]  # the task is learned, so the comparison means something
    tail_ref, tail_ours = sum(ref[-10:]) / 10, sum(ours[-10:]) / 10
    assert abs(tail_ours - tail_ref) / tail_ref < 0.03, (tail_ref, tail_ours)
    # at least one parameter holds 8-bit states, at least one (small) keeps fp32 ones
    kinds = {("exp_avg_codes" in s) for s in opt.state.values()}
    assert kinds == {True, False}
    assert 0 < opt.last_state_error < 0.05


def test_fp32_path_is_exactly_torch_fused_adamw():
    """With every parameter below min_8bit_size the update is torch's fused AdamW kernel, bit for
    bit (torch's own foreach AdamW differs from its fused one by float rounding only)."""
    ref, ref_model, _ = _train(functools.partial(torch.optim.AdamW, fused=True), steps=5)
    ours, model, _ = _train(AdamW8bit, steps=5, min_8bit_size=10**9)
    assert ours == ref
    for a, b in zip(ref_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    foreach, foreach_model, _ = _train(torch.optim.AdamW, steps=5)
    for a, b in zip(foreach_model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_large_parameter_states_take_about_a_quarter_of_fp32():
    p = torch.nn.Parameter(torch.randn(1024, 1024))
    p.grad = torch.randn_like(p)
    opt = AdamW8bit([p], block_size=256)
    opt.step()
    fp32_bytes = 2 * 4 * p.numel()
    ratio = opt.state_nbytes() / fp32_bytes
    # 0.254: uint8 codes + a float32 absmax per 256
    assert ratio == pytest.approx((1 + 4 / 256) / 4)
    ref = torch.optim.AdamW([torch.nn.Parameter(p.detach().clone())])
    ref.param_groups[0]["params"][0].grad = p.grad.clone()
    ref.step()
    ref_bytes = sum(t.nbytes for s in ref.state.values() for t in s.values() if t.dim() > 0)
    assert ref_bytes == fp32_bytes


def test_small_parameters_keep_fp32_states():
    p = torch.nn.Parameter(torch.randn(MIN_8BIT_SIZE - 1))
    p.grad = torch.randn_like(p)
    opt = AdamW8bit([p])
    opt.step()
    assert opt.state[p]["exp_avg"].dtype == torch.float32 and "exp_avg_codes" not in opt.state[p]


def test_state_dict_round_trip_is_exact_and_weights_only_loadable():
    _, model, opt = _train(AdamW8bit, steps=3)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    fresh = AdamW8bit(model.parameters(), lr=3e-3, weight_decay=0.01)
    fresh.load_state_dict(loaded)
    for p in model.parameters():
        a, b = opt.state[p], fresh.state[p]
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], torch.Tensor):
                assert a[key].dtype == b[key].dtype, key
                assert torch.equal(a[key], b[key]), key
            else:
                assert a[key] == b[key]
    # the next step from the loaded state equals the next step from the original
    x, y = _batches(1, seed=9)[0]
    clone = _tiny_gpt()
    clone.load_state_dict(model.state_dict())
    twin = AdamW8bit(clone.parameters(), lr=3e-3, weight_decay=0.01)
    twin.load_state_dict(loaded)
    for m, o in ((model, opt), (clone, twin)):
        _, loss = m(x, y)
        o.zero_grad()
        loss.backward()
        o.step()
    for a, b in zip(model.parameters(), clone.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=-1.0), "lr"), (dict(lr=float("nan")), "lr"),
    (dict(betas=(1.0, 0.999)), r"betas\[0\]"), (dict(betas=(0.9, -0.1)), r"betas\[1\]"),
    (dict(betas=0.9), "betas"), (dict(eps=0.0), "eps"), (dict(weight_decay=-0.1), "weight_decay"),
    (dict(block_size=100), "block_size"), (dict(min_8bit_size=0), "min_8bit_size"),
])
def test_bad_hyperparameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AdamW8bit([torch.nn.Parameter(torch.zeros(3))], **kwargs)


def test_set_block_size_reblocks_the_states_and_keeps_their_values():
    from ryot.core.optim.adamw8bit import AdamW8bit

    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(8192))
    opt = AdamW8bit([p], block_size=256)
    for _ in range(3):
        p.grad = torch.randn(8192)
        opt.step()
    from ryot.core.quant.dynamic_code import decode_blocks

    def moments():
        state = opt.state[p]
        block = opt.param_groups[0]["block_size"]
        return [decode_blocks(state[f"{n}_codes"], state[f"{n}_absmax"], block,
                              n == "exp_avg")[:8192]
                for n in ("exp_avg", "exp_avg_sq")]

    before = moments()
    opt.set_block_size(64)
    assert opt.param_groups[0]["block_size"] == 64
    assert opt.state[p]["exp_avg_absmax"].numel() == 8192 // 64
    for a, b in zip(before, moments(), strict=True):  # re-quantized once more: small extra error
        assert ((a - b).norm() / a.norm()).item() < 0.02
    with pytest.raises(ValueError, match="power of two"):
        opt.set_block_size(48)
    p.grad = torch.randn(8192)
    opt.step()  # keeps working at the new block size
    assert opt.state[p]["exp_avg_codes"].numel() == 8192
