"""The optimized prompt pass: eager and compiled give the first token's logits and the cache's
codes of the reference path; compiling is per model and shape, off with a switch, and a failure
falls back to the eager pass with a warning. Numerics only: timings live in
``ryot bench inference`` (docs/inference.md)."""

import shutil

import pytest
import torch

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.inference_scaling import optimize_kv_cache
from ryot.workload.infer import prefill as pf
from ryot.workload.infer.generate import generate
from ryot.workload.infer.prefill import DensePrefill, new_cache, release_cache
from ryot.workload.model import GPTConfig
from tests.tiny_models import prompt_tokens as _tokens
from tests.tiny_models import tiny_gpt as _model

CPU = torch.device("cpu")
needs_cxx = pytest.mark.skipif(shutil.which("g++") is None,
                               reason="inductor compiles C++ with g++; none on PATH")


def _reference(model, tokens):
    """The path before the prompt pass existed: full logits, and the cache filled from the
    keys and values the forward pass appended."""
    view = pf.DensePrefill()
    with torch.no_grad():
        logits = model(tokens, cache=view)[0][:, -1]
    cache = pf.new_cache(model.config, CPU)
    cache.fill(view.kv)
    return logits, cache


def _stored(cache):
    return {name: t.clone() for name, t in cache._store.items()}


def test_eager_prompt_pass_fills_the_cache_exactly_as_the_reference():
    model, tokens = _model(), _tokens()
    ref_logits, ref_cache = _reference(model, tokens)
    ref = _stored(ref_cache)
    with torch.no_grad():
        logits, cache = pf.prefill(model, tokens, CPU)
    torch.testing.assert_close(logits, ref_logits, rtol=1e-5, atol=1e-6)
    for name, t in _stored(cache).items():
        assert torch.equal(t, ref[name]), name
    assert cache.length(0, 1) == 40 and cache._layers[1].page_table == [[0]]


@needs_cxx
def test_compiled_prompt_pass_matches_the_eager_one(monkeypatch):
    monkeypatch.setenv(pf.SWITCH, "1")
    model, tokens = _model(), _tokens()
    net, run = pf.prepare(model, tokens)
    assert net is model and run is not pf.prompt_pass and pf.status() == "compiled"
    assert pf.prepare(model, tokens)[1] is run  # compiled once per model, shape and threads
    with torch.no_grad():
        logits, cache = pf.prefill(net, tokens, CPU, run)
        ref_logits, ref_cache = pf.prefill(model, tokens, CPU)
    torch.testing.assert_close(logits, ref_logits, rtol=1e-4, atol=1e-5)
    got, ref = _stored(cache), _stored(ref_cache)
    for name in ("k_scales", "v_scales", "k_residual"):
        torch.testing.assert_close(got[name], ref[name], rtol=1e-3, atol=1e-6)
    for name in ("k_codes", "v_codes"):  # keys and values differ in the last bits: codes by <= 1
        diff = (got[name].int() - ref[name].int()).abs()
        assert diff.max().item() <= 1 and (diff > 0).float().mean().item() < 0.01, name
    out = generate(model, tokens, 4, optimized=True)
    assert out["prompt_pass"] == "compiled"
    assert torch.equal(out["tokens"], generate(model, tokens, 4, optimized=False)["tokens"])


def test_switch_off_runs_the_eager_pass(monkeypatch):
    monkeypatch.setenv(pf.SWITCH, "0")
    model, tokens = _model(), _tokens()
    net, run = pf.prepare(model, tokens)
    assert run is pf.prompt_pass and "turned off" in pf.status()
    assert generate(model, tokens, 2, optimized=True)["prompt_pass"] == "eager"
    assert generate(model, tokens, 2, optimized=False)["prompt_pass"] is None


def test_a_failed_compile_warns_and_runs_the_eager_pass(monkeypatch):
    monkeypatch.setenv(pf.SWITCH, "1")
    monkeypatch.setattr(pf, "_failure", [])

    def broken(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no C++ compiler\nsecond line")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    model, tokens = _model(), _tokens()
    with pytest.warns(RuntimeWarning,
                      match="compiling the prompt pass failed.*no C\\+\\+ compiler"):
        net, run = pf.prepare(model, tokens)
    assert run is pf.prompt_pass
    assert pf.status() == "eager (compiling failed: RuntimeError: no C++ compiler)"
    assert pf.prepare(model, tokens)[1] is pf.prompt_pass  # not retried
    out = generate(model, tokens, 2, optimized=True)
    assert out["prompt_pass"] == "eager" and out["tokens"].shape == (1, 42)


def test_a_compile_failure_without_a_message_still_falls_back(monkeypatch):
    monkeypatch.setenv(pf.SWITCH, "1")
    monkeypatch.setattr(pf, "_failure", [])

    def broken(fn, **kwargs):
        def run(*args):
            raise AssertionError()
        return run

    monkeypatch.setattr(torch, "compile", broken)
    with pytest.warns(RuntimeWarning, match="AssertionError: \\(no message\\)"):
        assert pf.prepare(_model(), _tokens())[1] is pf.prompt_pass


def test_bad_input_fails_as_it_would_eagerly_and_leaves_compiling_on(monkeypatch):
    monkeypatch.setenv(pf.SWITCH, "1")
    monkeypatch.setattr(pf, "_failure", [])
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: compiled.append(fn) or fn)
    model = _model()
    with pytest.raises(IndexError):
        pf.prepare(model, torch.full((1, 8), 999))  # token ids past the vocabulary
    assert compiled == [] and pf.status() == "compiled"


# -- the dense prefill view ------------------------------------------------------------------------
def test_dense_prefill_is_causal_sdpa_over_the_prompt():
    view = DensePrefill()
    q, k, v = (torch.randn(1, 4, 10, 16) for _ in range(3))
    view.append(0, k, v)
    out = view.attend(0, q)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError, match="in order"):
        view.append(2, k, v)


# -- the cache pool --------------------------------------------------------------------------------
def test_the_pool_never_hands_one_cache_out_twice_nor_another_kind(monkeypatch):
    monkeypatch.setattr(pf, "_free_caches", {})
    config = _model().config
    cache = pf.new_cache(config, CPU)
    pf.release_cache(cache)
    pf.release_cache(cache)  # released twice: kept once
    assert pf.new_cache(config, CPU) is cache and pf.new_cache(config, CPU) is not cache
    other = optimize_kv_cache(config.n_layer, config.n_head, config.n_embd // config.n_head,
                              config.block_size, CompressionConfig(8, 8), RLVRConfig(1, 1.0, 32))
    pf.release_cache(other)  # the kind solve() makes: not generation's
    assert pf.new_cache(config, CPU) is not other
    mine = pf.new_cache(config, None)  # no device: the CPU, as the cache itself says
    pf.release_cache(mine)
    assert pf.new_cache(config, "cpu") is mine


def test_released_caches_are_reused_empty():
    config = GPTConfig(block_size=128, n_layer=2, n_head=4, n_embd=64)
    first = new_cache(config, CPU)
    first.fill([(torch.randn(1, 4, 70, 16), torch.randn(1, 4, 70, 16))] * 2)
    release_cache(first)
    again = new_cache(config, CPU)
    assert again is first and again.num_sequences == 0 and again.nbytes == 0
    again.fill([(torch.randn(1, 4, 5, 16), torch.randn(1, 4, 5, 16))] * 2)
    assert again.length(0, 1) == 5 and again._layers[1].page_table == [[0]]
    assert new_cache(config, CPU) is not again  # nothing released: a fresh one
