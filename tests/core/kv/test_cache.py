"""ryot.core.kv.cache: the paged, block-quantized KV cache: memory, attention against dense,
forks that share pages, bulk fills and page-sized appends equal to token-by-token ones,
and fill_quantized's checks."""

import pytest
import torch

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kernels.decode_attention import attention_reference
from ryot.inference_scaling import optimize_kv_cache
from ryot.workload.infer import prefill as pf
from tests.tiny_models import tiny_gpt as _model


def cache_with(bits, tokens, dtype=torch.bfloat16, batch=1, heads=4, dim=64, layers=2):
    cache = optimize_kv_cache(layers, heads, dim, 8192, CompressionConfig(64, bits),
                              RLVRConfig(4, 0.9, 256), dtype=dtype)
    k = torch.randn(batch, heads, tokens, dim)
    v = torch.randn(batch, heads, tokens, dim)
    for layer in range(layers):
        cache.append(layer, k.to(dtype), v.to(dtype))
    return cache, k, v


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_int8_saves_at_least_40_percent_against_the_same_dtype(dtype):
    cache, _, _ = cache_with(8, 1024, dtype=dtype)
    saved = 1 - cache.nbytes / cache.dense_nbytes
    assert saved >= 0.40, f"saved only {saved:.1%}"


def test_int4_saves_more_than_int8():
    c8, _, _ = cache_with(8, 1024)
    c4, _, _ = cache_with(4, 1024)
    assert c4.nbytes < c8.nbytes


@pytest.mark.parametrize("bits, bound", [(8, 0.02), (4, 0.2)])
def test_attend_matches_dense_attention_within_quantization_error(bits, bound):
    cache, k, v = cache_with(bits, 300, dtype=torch.float32, batch=2)
    q = torch.randn(2, 4, 2, 64)
    ref = attention_reference(q, k, v)
    out = cache.attend(1, q)
    assert out.shape == q.shape and out.dtype == q.dtype
    assert ((out.double() - ref).norm() / ref.norm()).item() < bound


def test_token_by_token_appends_equal_one_bulk_append():
    bulk, k, v = cache_with(8, 70, dtype=torch.float32, layers=1)
    step = optimize_kv_cache(1, 4, 64, 8192, CompressionConfig(64, 8), RLVRConfig(4, 0.9, 256))
    for t in range(70):
        step.append(0, k[:, :, t:t + 1], v[:, :, t:t + 1])
    q = torch.randn(1, 4, 1, 64)
    torch.testing.assert_close(bulk.attend(0, q), step.attend(0, q), rtol=0, atol=0)


def test_fork_shares_prefix_pages_without_copying():
    cache, _, _ = cache_with(8, 512, layers=1)  # exactly two full pages
    before = cache.nbytes
    child = cache.fork(0)
    assert cache._layers[0].page_table[child] == cache._layers[0].page_table[0]
    # the child's only new bytes are its unquantized key group, not the 512-token prefix
    residual = cache._layers[0].k_residual[0].nbytes
    assert cache.nbytes - before == residual
    cache.append(0, torch.randn(1, 4, 1, 64).bfloat16(), torch.randn(1, 4, 1, 64).bfloat16(),
                 seqs=[child])
    assert cache.length(child) == 513 and cache.length(0) == 512


def test_copy_on_write_keeps_the_parent_intact():
    cache, k, v = cache_with(8, 100, dtype=torch.float32, layers=1)
    q = torch.randn(1, 4, 1, 64)
    parent_before = cache.attend(0, q)
    child = cache.fork(0)
    cache.append(0, torch.randn(1, 4, 5, 64), torch.randn(1, 4, 5, 64), seqs=[child])
    torch.testing.assert_close(cache.attend(0, q, seqs=[0]), parent_before, rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"head_dim": 63}, "head_dim must be even"),
    ({"num_layers": 0}, "num_layers must be an int >= 1"),
    ({"rlvr": RLVRConfig(2, 0.5, 100)}, "not a multiple of compression.block_size"),
])
def test_bad_cache_arguments(kwargs, message):
    args = {"num_layers": 1, "num_heads": 2, "head_dim": 16, "max_tokens": 64,
            "compression": CompressionConfig(64, 8), "rlvr": RLVRConfig(2, 0.5, 128)}
    with pytest.raises(ValueError, match=message):
        optimize_kv_cache(**{**args, **kwargs})


def test_bad_append_and_attend_calls():
    cache, _, _ = cache_with(8, 10, layers=1)
    with pytest.raises(ValueError, match="layer must be"):
        cache.append(3, torch.randn(1, 4, 1, 64), torch.randn(1, 4, 1, 64))
    with pytest.raises(ValueError, match="append: k and v"):
        cache.append(0, torch.randn(1, 3, 1, 64), torch.randn(1, 3, 1, 64))
    with pytest.raises(ValueError, match="fewer than the 11 queries"):
        cache.attend(0, torch.randn(1, 4, 11, 64))
    with pytest.raises(ValueError, match="max_tokens"):
        cache.append(0, torch.randn(1, 4, 8190, 64), torch.randn(1, 4, 8190, 64))


# -- the cache: bulk fill and page-sized appends write what token-by-token appends write ----------
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


@pytest.mark.parametrize("bits", [8, 4])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 31, 32, 33, 70])
def test_fill_equals_token_by_token_appends(n, bits):
    g = torch.Generator().manual_seed(n)
    kv = [(torch.randn(2, 4, n, 16, generator=g), torch.randn(2, 4, n, 16, generator=g))
          for _ in range(2)]
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
    kv = [(torch.randn(1, 4, 40, 16, generator=g), torch.randn(1, 4, 40, 16, generator=g))
          for _ in range(2)]
    bulk, step = _cache(), _cache()
    # sequence 0 holds 5 tokens in layer 0 only: the layers' pages differ
    for cache in (bulk, step):
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


# -- fill_quantized's checks -----------------------------------------------------------------------
CPU = torch.device("cpu")


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
    (lambda p: p.update(v_scales=p["v_scales"].double()), "v_scales must be torch.bfloat16"),
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
