"""The optimized prompt pass: eager and compiled give the first token's logits and the cache's
codes of the reference path; compiling is per model and shape, off with a switch, and a failure
falls back to the eager pass with a warning. Numerics only: timings live in
``ryot bench inference`` (docs/inference.md)."""

import shutil

import pytest
import torch

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kv.codes import quantize_prompt
from ryot.inference_scaling import optimize_kv_cache
from ryot.workload.infer import prefill as pf
from ryot.workload.infer.generate import generate
from ryot.workload.model import GPT, GPTConfig

CPU = torch.device("cpu")
needs_cxx = pytest.mark.skipif(shutil.which("g++") is None,
                               reason="inductor compiles C++ with g++; none on PATH")


def _model(seed=0):
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=64, n_layer=2, n_head=2, n_embd=32, attention="sdpa"))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.1)
    return model.eval()


def _tokens(n=40, seed=1):
    return torch.randint(0, 256, (1, n), generator=torch.Generator().manual_seed(seed))


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


def test_last_only_logits_are_the_last_row_of_the_full_logits():
    model, tokens = _model(), _tokens()
    with torch.no_grad():
        full = model(tokens)[0]
        last = model(tokens, last_only=True)[0]
    assert last.shape == (1, 1, 256)
    torch.testing.assert_close(last[:, 0], full[:, -1], rtol=1e-5, atol=1e-6)  # GEMM blocking


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
def test_quantize_prompt_compiled_gives_the_same_codes():
    g = torch.Generator().manual_seed(2)
    ks, vs = torch.randn(2, 1, 2, 40, 16, generator=g) * 3, torch.randn(2, 1, 2, 40, 16, generator=g)
    ks[0, 0, 1, :16] = 0.0  # an all-zero key group
    args = dict(group=16, value_group=16, bits=8, key_dtype=torch.bfloat16)
    eager = quantize_prompt(ks, vs, **args)
    compiled = torch.compile(quantize_prompt, dynamic=False, fullgraph=True,
                             options=pf.COMPILE_OPTIONS)(ks, vs, **args)
    for name in eager:
        assert torch.equal(eager[name], compiled[name]), name


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
    with pytest.warns(RuntimeWarning, match="compiling the prompt pass failed.*no C\\+\\+ compiler"):
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


# -- the cache pool and fill_quantized's checks ---------------------------------------------------
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


def _parts(cache, batch=1, n=40):
    g = torch.Generator().manual_seed(3)
    ks, vs = (torch.randn(cache.num_layers, batch, cache.num_heads, n, cache.head_dim, generator=g)
              for _ in range(2))
    return cache.quantize_prompt(ks, vs)


def _fresh_cache():
    return pf.new_cache(_model().config, CPU)


@pytest.mark.parametrize("break_it, message", [
    (lambda p: p.pop("k_scales"), "parts must hold"),
    (lambda p: p.update(v_codes=p["v_codes"][:, :, :1]), "v_codes must be"),
    (lambda p: p.update(v_scales=p["v_scales"].double()), "v_scales must be torch.float32"),
    (lambda p: p.update(k_codes=p["k_codes"][..., :8]), "k_codes must be"),
    (lambda p: p.update(k_residual=p["k_residual"].float()), "k_residual must be torch.bfloat16"),
    (lambda p: p.update(v_codes=p["v_codes"][0]), "v_codes must be \\(layers"),
])
def test_fill_quantized_refuses_parts_that_do_not_fit_before_writing(break_it, message):
    cache = _fresh_cache()
    parts = _parts(cache)
    break_it(parts)
    with pytest.raises(ValueError, match=message):
        cache.fill_quantized(parts)
    assert cache.num_sequences == 0 and cache._layers[0].pages_used == 0


@pytest.mark.parametrize("seqs", [[0], [0, 0], [0, 1, 2], [-1, 0], [True, 1]])
def test_fill_quantized_needs_one_distinct_sequence_per_row(seqs):
    cache = _fresh_cache()
    with pytest.raises(ValueError, match="seqs must name 2 distinct sequences"):
        cache.fill_quantized(_parts(cache, batch=2), seqs)
    assert cache.num_sequences == 0


def test_fill_quantized_refuses_non_tensors_and_other_devices():
    cache = _fresh_cache()
    parts = _parts(cache)
    with pytest.raises(ValueError, match="v_scales must be a tensor on cpu, got list"):
        cache.fill_quantized({**parts, "v_scales": [1.0]})
    with pytest.raises(ValueError, match="k_codes must be a tensor on cpu, got meta"):
        cache.fill_quantized({**parts, "k_codes": parts["k_codes"].to("meta")})
    assert cache.num_sequences == 0


def test_fill_quantized_of_an_empty_batch_does_nothing():
    cache = _fresh_cache()
    cache.fill_quantized(_parts(cache, batch=0))
    assert cache.num_sequences == 0
