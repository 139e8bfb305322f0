"""The fast optimized generation path: a dense SDPA prefill that fills the int8 KV cache in one
pass, weights cast once, and decode steps over the quantized cache. Numerics only: timings live
in ``ryot bench inference`` (docs/inference.md)."""

import pytest
import torch

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kernels import quantize as qk
from ryot.core.kv.codes import quantize_groups
from ryot.inference_scaling import optimize_kv_cache
from ryot.workload.infer.generate import generate
from ryot.workload.infer.prefill import DensePrefill, new_cache, prefill, release_cache
from ryot.workload.infer.weights import CPU_BF16_MIN_POSITIONS, inference_copy, weights_for
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


def _cache(layers=2, heads=4, dim=16, group=8, page=32, bits=8, dtype=torch.float32):
    return optimize_kv_cache(layers, heads, dim, 256, CompressionConfig(group, bits),
                             RLVRConfig(1, 1.0, page), dtype=dtype)


def _state(cache):
    """Everything a cache holds for its sequences: codes, scales, residual keys, lengths, pages."""
    out = []
    for layer, L in enumerate(cache._layers):
        for seq, pages in enumerate(L.page_table):
            n = L.lengths[seq]
            full = n // cache.group * cache.group
            k, v = cache.dequantized(layer, seq)
            out.append((n, len(pages), k, v, L.k_residual[seq, :, : n - full].clone()))
    return out


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x[:2] == y[:2]
        for tx, ty in zip(x[2:], y[2:], strict=True):
            torch.testing.assert_close(tx, ty, rtol=0, atol=0)


# -- the cache: bulk fill and page-sized appends write what token-by-token appends write ----------
@pytest.mark.parametrize("bits", [8, 4])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 31, 32, 33, 70])
def test_fill_equals_token_by_token_appends(n, bits):
    g = torch.Generator().manual_seed(n)
    kv = [(torch.randn(2, 4, n, 16, generator=g), torch.randn(2, 4, n, 16, generator=g)) for _ in range(2)]
    bulk, step = _cache(bits=bits), _cache(bits=bits)
    bulk.fill(kv)
    for t in range(n):
        for layer, (k, v) in enumerate(kv):
            step.append(layer, k[:, :, t:t + 1], v[:, :, t:t + 1])
    if n == 0:
        step._ensure_sequences(2)
    _assert_same(_state(bulk), _state(step))
    assert bulk.nbytes == step.nbytes and bulk.dense_nbytes == step.dense_nbytes


def test_fill_writes_named_sequences_and_layers_with_different_pages():
    """Layers whose pages differ take the advanced-indexing path; the result is the same."""
    g = torch.Generator().manual_seed(1)
    kv = [(torch.randn(1, 4, 40, 16, generator=g), torch.randn(1, 4, 40, 16, generator=g)) for _ in range(2)]
    bulk, step = _cache(), _cache()
    for cache in (bulk, step):  # sequence 0 holds 5 tokens in layer 0 only: the layers' pages differ
        cache.append(0, kv[0][0][:, :, :5], kv[0][1][:, :, :5])
    bulk.fill(kv, seqs=[1])
    for layer, (k, v) in enumerate(kv):
        step.append(layer, k, v, seqs=[1])
    assert bulk._layers[0].page_table[1] != bulk._layers[1].page_table[1]
    _assert_same(_state(bulk), _state(step))


def test_chunked_appends_across_pages_equal_token_by_token():
    g = torch.Generator().manual_seed(2)
    k, v = torch.randn(1, 4, 100, 16, generator=g), torch.randn(1, 4, 100, 16, generator=g)
    chunked, step = _cache(layers=1), _cache(layers=1)
    for a, b in [(0, 3), (3, 40), (40, 41), (41, 100)]:  # chunks crossing groups and pages
        chunked.append(0, k[:, :, a:b], v[:, :, a:b])
    for t in range(100):
        step.append(0, k[:, :, t:t + 1], v[:, :, t:t + 1])
    _assert_same(_state(chunked), _state(step))


def test_fill_refuses_filled_sequences_and_wrong_shapes():
    cache = _cache()
    kv = [(torch.randn(1, 4, 3, 16), torch.randn(1, 4, 3, 16))] * 2
    cache.fill(kv)
    with pytest.raises(ValueError, match="must be empty"):
        cache.fill(kv)
    with pytest.raises(ValueError, match="2 layers"):
        _cache().fill(kv[:1])
    with pytest.raises(ValueError, match="2 layers"):
        _cache().fill([(torch.randn(1, 3, 3, 16), torch.randn(1, 3, 3, 16))] * 2)


def test_cache_grows_past_its_first_pages_in_every_layer():
    cache = _cache(page=8)
    kv = [(torch.randn(1, 4, 50, 16), torch.randn(1, 4, 50, 16))] * 2  # 7 pages > the 4 allocated
    cache.fill(kv)
    keys, values = cache.dequantized(1, 0)
    assert ((values - kv[1][1][0]).norm() / kv[1][1][0].norm()).item() < 0.02
    assert ((keys - kv[1][0][0]).norm() / kv[1][0][0].norm()).item() < 0.02


@pytest.mark.parametrize("bits", [8, 4])
def test_quantize_matches_the_reference_codes_within_one_step(bits):
    x = torch.randn(64, 16, generator=torch.Generator().manual_seed(3)) * 3
    x[5] = 0.0  # an all-zero group
    codes, scales = quantize_groups(x, -1, bits)
    ref_codes, ref_scales = qk.quantize_blocks(x, bits)
    assert (codes.int() - ref_codes.int()).abs().max().item() <= 1
    torch.testing.assert_close(scales, ref_scales)
    assert codes[5].abs().sum().item() == 0 and scales[5].item() == 0.0
    assert codes.abs().max().item() <= qk.qmax(bits)


# -- the prefill view ------------------------------------------------------------------------------
def test_dense_prefill_is_causal_sdpa_over_the_prompt():
    view = DensePrefill()
    q, k, v = (torch.randn(1, 4, 10, 16) for _ in range(3))
    view.append(0, k, v)
    out = view.attend(0, q)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError, match="in order"):
        view.append(2, k, v)


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


def test_cpu_forwards_over_few_positions_per_thread_keep_float32_weights():
    model = _model()
    threshold = CPU_BF16_MIN_POSITIONS * torch.get_num_threads()
    assert weights_for(model, 1, CPU) is model
    assert weights_for(model, threshold - 1, CPU) is model
    assert weights_for(model, threshold, CPU) is inference_copy(model)


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


# -- the weights made once -------------------------------------------------------------------------
def test_inference_copy_is_reused_until_the_weights_change():
    model = _model()
    copy = inference_copy(model)
    assert inference_copy(model) is copy
    assert copy.lm_head.weight.dtype == torch.bfloat16 and copy.ln_f.weight.dtype == torch.float32
    assert model.lm_head.weight.dtype == torch.float32 and model.lm_head.weight is model.wte.weight
    with torch.no_grad():
        model.blocks[0].mlp.c_fc.weight.add_(1.0)  # an in-place update: the version changes
    fresh = inference_copy(model)
    assert fresh is not copy
    torch.testing.assert_close(fresh.blocks[0].mlp.c_fc.weight.float(),
                               model.blocks[0].mlp.c_fc.weight, atol=0.02, rtol=0.01)
    with torch.no_grad():  # a write that bypasses the version counter (as native code does)
        model.blocks[1].attn.c_proj.weight.data.mul_(2.0)
    assert inference_copy(model) is not fresh


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


def test_generate_keeps_the_mode_and_reports_its_timings():
    model = _model(attention="sdpa").train()
    prompt = torch.randint(0, 256, (1, 200), generator=torch.Generator().manual_seed(7))
    out = generate(model, prompt, 5, optimized=True)
    assert model.training
    assert out["tokens"].shape == (1, 129)  # the prompt cropped to the context, one token: full
    assert out["per_token_s"] == [] and out["ttft_s"] > 0
    out = generate(model, prompt[:, :40], 5, optimized=True)
    assert out["tokens"].shape == (1, 45) and len(out["per_token_s"]) == 4


# -- the benchmark runs and keeps its raw samples (no timing is asserted) ---------------------------
def test_inference_benchmark_writes_raw_samples(tmp_path):
    import json

    from ryot import bench

    threads = torch.get_num_threads()
    result, path = bench.run("inference", tmp_path, contexts=(16, 40), rounds=2, threads=(1,))
    assert torch.get_num_threads() == threads  # restored
    stored = json.loads(path.read_text())
    assert stored["benchmark"] == "inference" and stored["contexts"] == [16, 40]
    labels = {row["label"] for row in stored["rows"]}
    for c in (16, 40):
        for arm in ("ttft baseline", "ttft optimized", "decode baseline", "decode optimized",
                    "decode dense cache", "memory saved vs dense bfloat16"):
            assert f"{c} tokens, threads=1: {arm}" in labels
    assert all(len(r["samples"]) in (2, 6) for r in stored["rows"] if r["unit"] == "s")
    table = bench.format_rows(result).splitlines()
    assert table[1].split()[:2] == ["1", "16"] and len(table) == 3
