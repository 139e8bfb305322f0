"""ryot.workload.infer.generate: the fast optimized generation path (a dense SDPA prefill that
fills the int8 KV cache in one pass, weights cast once, decode steps over the quantized cache) and
RLVR on one problem. Numerics only: timings live in ``ryot bench inference`` (docs/inference.md)."""

import pytest
import torch

from ryot.core.config import RLVRConfig
from ryot.workload.infer.generate import generate, solve
from ryot.workload.infer.prefill import prefill
from ryot.workload.infer.weights import inference_copy, weights_for
from ryot.workload.model import GPT, GPTConfig

CPU = torch.device("cpu")


def _model(attention="plain", seed=0, std=0.08):
    """A small GPT with weights large enough that attention is far from uniform."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=128, n_layer=2, n_head=4, n_embd=64, attention=attention))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, std)
    return model.eval()


# -- numerics of the optimized path against a float64 reference ----------------------------------
def _reference_logits(model, tokens):
    ref = _model_like(model).double()
    with torch.no_grad():
        return ref(tokens)[0][:, -1]


def _model_like(model):
    clone = GPT(model.config)
    clone.load_state_dict(model.state_dict())
    return clone.eval()


def _rel(a, b):
    return ((a.double() - b).norm() / b.norm()).item()


@pytest.mark.parametrize("weights", ["float32", "bfloat16"])
def test_optimized_prefill_logits_match_float64(weights):
    model = _model(attention="recompute")
    tokens = torch.randint(0, 256, (1, 64), generator=torch.Generator().manual_seed(4))
    net = model if weights == "float32" else inference_copy(model)
    with torch.no_grad():
        logits, cache = prefill(net, tokens, CPU)
    bound = 1e-5 if weights == "float32" else 2e-2  # bfloat16: 8 mantissa bits through the model
    assert _rel(logits, _reference_logits(model, tokens)) < bound
    assert cache.length(0, model.config.n_layer - 1) == 64


def test_decode_steps_over_the_int8_cache_match_float64():
    model = _model()
    tokens = torch.randint(0, 256, (1, 70), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        _, cache = prefill(weights_for(model, 64, CPU), tokens[:, :64], CPU)
        decoder = weights_for(model, 1, CPU)
        for pos in range(64, 70):
            logits = decoder(tokens[:, pos:pos + 1], cache=cache, start=pos)[0][:, -1]
            assert _rel(logits, _reference_logits(model, tokens[:, :pos + 1])) < 2e-2


def test_optimized_greedy_tokens_mostly_match_the_baseline():
    model = _model()
    prompt = torch.randint(0, 256, (1, 64), generator=torch.Generator().manual_seed(6))
    base = generate(model, prompt, 24, optimized=False)["tokens"][0, 64:]
    fast = generate(model, prompt, 24, optimized=True)["tokens"][0, 64:]
    assert base[0] == fast[0]
    assert (base == fast).float().mean().item() >= 0.8


def test_generate_keeps_the_mode_and_reports_its_timings():
    model = _model(attention="sdpa").train()
    prompt = torch.randint(0, 256, (1, 200), generator=torch.Generator().manual_seed(7))
    out = generate(model, prompt, 5, optimized=True)
    assert model.training
    assert out["tokens"].shape == (1, 129)  # the prompt cropped to the context, one token: full
    assert out["per_token_s"] == [] and out["ttft_s"] > 0
    out = generate(model, prompt[:, :40], 5, optimized=True)
    assert out["tokens"].shape == (1, 45) and len(out["per_token_s"]) == 4


# -- RLVR on one problem: paths over a shared-prefix KV cache --------------------------------------
@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return GPT(GPTConfig(block_size=32, n_layer=1, n_head=2, n_embd=32, attention="sdpa"))


def test_solve_tries_paths_until_the_budget_and_reports_rewards(tiny_model):
    result = solve(tiny_model, 12, 34, RLVRConfig(4, 1.0, 32), seed=3)
    assert 1 <= result.paths_used <= 4
    assert all(r in (0.0, 1.0) for r in result.rewards)
    if result.best_reward < 1.0:
        assert result.paths_used == 4 and not result.stopped_early


def test_paths_fork_the_prompt_without_copying_it(tiny_model, monkeypatch):
    forks = []
    from ryot.inference_scaling import QuantizedKVCache

    original = QuantizedKVCache.fork

    def spy(self, parent):
        child = original(self, parent)
        forks.append([list(layer.page_table[child]) == list(layer.page_table[parent])
                      for layer in self._layers])
        return child

    monkeypatch.setattr(QuantizedKVCache, "fork", spy)
    solve(tiny_model, 1, 2, RLVRConfig(3, 1.0, 32))
    assert forks and all(all(same) for same in forks)


def test_greedy_path_is_deterministic(tiny_model):
    a = solve(tiny_model, 40, 2, RLVRConfig(1, 1.0, 32), seed=0)
    b = solve(tiny_model, 40, 2, RLVRConfig(1, 1.0, 32), seed=99)
    assert a.paths == b.paths  # path 0 is greedy: the seed does not matter
