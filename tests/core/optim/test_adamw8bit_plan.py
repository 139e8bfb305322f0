"""ryot.core.optim.adamw8bit_plan: the prepared step gives the general path's bits, and gives
way to it whenever something it was made for changed."""

from __future__ import annotations

import pytest
import torch

import ryot.core.optim.adamw8bit as adamw8bit_module
from ryot.core import native
from ryot.core.optim.adamw8bit import AdamW8bit
from ryot.workload.model import GPT, GPTConfig

pytestmark = pytest.mark.skipif(native.library("adamw8bit") is None,
                                reason="the plan steps through the C loop, which is not built")


def _model() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=64))  # 8-bit and small


def _grads(model: GPT, i: int) -> None:
    gen = torch.Generator().manual_seed(i)
    for p in model.parameters():
        p.grad = (torch.randn(p.shape, generator=gen) * 10.0 ** (i % 3 - 1)).to(p.dtype)


def _run(monkeypatch, plans: bool, steps: int = 5, between=None):
    """``steps`` steps of a fresh model; ``between(i, model, opt)`` runs before step i."""
    with monkeypatch.context() as m:
        if not plans:
            m.setattr(adamw8bit_module, "make_plan", lambda *a, **k: None)
        model = _model()
        opt = AdamW8bit(model.parameters(), weight_decay=0.1, block_size=64)
        errors, used = [], []
        for i in range(steps):
            _grads(model, i)
            if between is not None:
                between(i, model, opt)
            opt.step()
            errors.append(opt.last_state_error)
            used.append(opt._plans.get(0) is not None)
    return model, opt, errors, used


def _assert_same(a, b):
    (model_a, opt_a, errors_a, _), (model_b, opt_b, errors_b, _) = a, b
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(p, q)
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        sa, sb = opt_a.state[p], opt_b.state[q]
        assert sa.keys() == sb.keys() and sa["step"] == sb["step"]
        for key in sa:
            if isinstance(sa[key], torch.Tensor):
                assert torch.equal(sa[key], sb[key]), key
    assert errors_a == errors_b


def test_the_planned_step_gives_the_general_paths_bits(monkeypatch):
    planned, general = _run(monkeypatch, True), _run(monkeypatch, False)
    assert planned[3][1:] == [True] * 4  # made after the first step, used from the second on
    _assert_same(planned, general)


def test_a_missing_gradient_runs_the_general_path_then_the_plan_again(monkeypatch):
    def drop(i, model, opt):
        if i == 2:
            model.wte.weight.grad = None  # that parameter skips this step

    planned, general = _run(monkeypatch, True, 6, drop), _run(monkeypatch, False, 6, drop)
    _assert_same(planned, general)
    # its step count now differs from the others': no plan fits the group any more
    assert planned[3][2:] == [False] * 4


@pytest.mark.parametrize("change", ["non-contiguous gradient", "an edited step count",
                                    "torch reference", "new block size", "reloaded state",
                                    "a small state replaced", "a state dict replaced",
                                    "a state deleted", "a transposed parameter",
                                    "a float64 parameter"])
def test_what_a_plan_was_not_made_for_runs_the_general_path(monkeypatch, change):
    def alter(i, model, opt):
        if i != 3:
            return
        weight = model.wte.weight
        if change == "non-contiguous gradient":
            weight.grad = weight.grad.t().contiguous().t()
        elif change == "an edited step count":
            bias = next(p for p in model.parameters() if p.dim() == 1)
            opt.state[bias]["step"] += 1
        elif change == "a state deleted":
            del opt.state[weight]
        elif change == "a transposed parameter":
            square = next(p for p in model.parameters() if p.dim() == 2
                          and p.shape[0] == p.shape[1] and p.numel() >= 4096)
            square.data = square.data.t()  # same shape, not contiguous
        elif change == "a float64 parameter":
            weight.data = weight.data.double()
            weight.grad = weight.grad.double()
        elif change in ("a small state replaced", "a state dict replaced"):
            bias = next(p for p in model.parameters() if p.dim() == 1)
            if change == "a small state replaced":
                opt.state[bias]["exp_avg"] = opt.state[bias]["exp_avg"] * 0.5
            else:
                opt.state[bias] = {k: (v.clone() if isinstance(v, torch.Tensor) else v)
                                   for k, v in opt.state[bias].items()}
        elif change == "torch reference":
            opt.use_native = False
        elif change == "new block size":
            opt.set_block_size(128)
        else:
            opt.load_state_dict(opt.state_dict())

    calls = []
    real = adamw8bit_module.AdamW8bit._step_planned

    def counting(self, index, group):
        done = real(self, index, group)
        calls.append(done)
        return done

    monkeypatch.setattr(adamw8bit_module.AdamW8bit, "_step_planned", counting)
    planned = _run(monkeypatch, True, 5, alter)
    assert calls[3] is False  # the changed step went the general way
    monkeypatch.setattr(adamw8bit_module.AdamW8bit, "_step_planned", real)
    _assert_same(planned, _run(monkeypatch, False, 5, alter))
