"""ryot.core.kv.native_attend: single-token decode attention read straight from the int8 pages
(the C loop kv_attend.c), held to a float64 reference over the very codes the cache stores, as
closely as the torch path (dequantize, then SDPA); chosen by ``auto`` on CPU where it applies."""

from __future__ import annotations

import pytest
import torch

import ryot.core.native as native
from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.kv import native_attend
from ryot.inference_scaling import optimize_kv_cache
from ryot.infra.errors import ConfigError

needs_loop = pytest.mark.skipif(native.library("kv_attend") is None,
                                reason=f"no native loop: {native.status('kv_attend')}")


def make_cache(heads=3, dim=32, group=16, page=32, value_group=None, dtype=torch.float32):
    return optimize_kv_cache(1, heads, dim, 4096, CompressionConfig(group, 8),
                             RLVRConfig(1, 1.0, page), dtype=dtype, value_group=value_group)


def reference(cache, q: torch.Tensor, seqs: list[int]) -> torch.Tensor:
    """softmax(q kᵀ / sqrt(D)) v in float64 over the keys and values the cache holds (its codes
    times their scales, the newest keys as stored)."""
    outs = []
    for row, seq in enumerate(seqs):
        k, v = (t.double() for t in cache.dequantized(0, seq))
        scores = (q[row].double() @ k.transpose(-1, -2)) / k.shape[-1] ** 0.5
        outs.append(torch.softmax(scores, -1) @ v)
    return torch.stack(outs)


def interleaved_sequences(cache, lengths: list[int], seed: int = 0) -> None:
    """Append to several sequences a few tokens at a time, in turns: their pages interleave."""
    gen = torch.Generator().manual_seed(seed)
    H, D = cache.num_heads, cache.head_dim
    done = [0] * len(lengths)
    while done != lengths:
        for seq, want in enumerate(lengths):
            n = min(want - done[seq], 1 + seq * 7 % 13)
            if n:
                k, v = (torch.randn(1, H, n, D, generator=gen) * 3 for _ in range(2))
                cache.append(0, k, v, seqs=[seq])
                done[seq] += n


def check(cache, seqs: list[int], seed: int = 1) -> None:
    q = torch.randn(len(seqs), cache.num_heads, 1, cache.head_dim,
                    generator=torch.Generator().manual_seed(seed)) * 2
    want = reference(cache, q, seqs)
    native_out = cache.attend(0, q, seqs, backend="native")
    torch_out = cache.attend(0, q, seqs, backend="torch")
    torch_error = (torch_out.double() - want).abs().max().item()
    error = (native_out.double() - want).abs().max().item()
    assert error <= max(4 * torch_error, 2e-6), (error, torch_error)


@needs_loop
@pytest.mark.parametrize("lengths", [[1], [16], [17], [200, 33, 64, 5]],
                         ids=["one token", "one whole group", "a group and one", "four sequences"])
def test_matches_the_float64_reference_over_interleaved_pages(lengths):
    cache = make_cache()
    interleaved_sequences(cache, lengths)
    assert any(cache._layers[0].page_table[0] != list(range(len(t)))
               for t in cache._layers[0].page_table[1:]) or len(lengths) == 1
    check(cache, list(range(len(lengths))))
    check(cache, list(reversed(range(len(lengths)))))  # rows need not be the sequences' order


@needs_loop
def test_forks_read_the_shared_pages_and_their_own():
    cache = make_cache()
    interleaved_sequences(cache, [70])
    child = cache.fork(0)
    k, v = torch.randn(1, 3, 9, 32), torch.randn(1, 3, 9, 32)
    cache.append(0, k, v, seqs=[child])  # copy on write of the shared last page
    check(cache, [0, child])


@needs_loop
@pytest.mark.parametrize("value_group, dtype", [(16, torch.float32), (32, torch.bfloat16)])
def test_value_groups_and_bfloat16_keys(value_group, dtype):
    cache = make_cache(dim=64, value_group=value_group, dtype=dtype)
    interleaved_sequences(cache, [101, 48])
    check(cache, [0, 1])


@needs_loop
def test_large_scores_do_not_overflow_the_softmax():
    cache = make_cache()
    k = torch.randn(1, 3, 40, 32) * 100
    cache.append(0, k, torch.randn(1, 3, 40, 32))
    check(cache, [0])


@needs_loop
def test_auto_on_cpu_uses_the_loop_for_one_query_and_torch_otherwise(monkeypatch):
    cache = make_cache()
    interleaved_sequences(cache, [50])
    calls = []
    real = native_attend.attend_native
    monkeypatch.setattr(native_attend, "attend_native",
                        lambda *a: calls.append(1) or real(*a))
    cache.attend(0, torch.randn(1, 3, 1, 32))
    assert calls == [1]
    cache.attend(0, torch.randn(1, 3, 4, 32))  # four query positions: the torch path
    assert calls == [1]


@pytest.mark.parametrize("bits, dim, tokens, match", [
    (4, 32, 1, "4-bit codes"), (8, 24, 1, "multiples of 16"), (8, 32, 2, "2 query positions")])
def test_asking_for_the_loop_where_it_cannot_serve_says_why(bits, dim, tokens, match):
    cache = optimize_kv_cache(1, 2, dim, 256, CompressionConfig(16, bits),
                              RLVRConfig(1, 1.0, 32))
    cache.append(0, torch.randn(1, 2, 20, dim), torch.randn(1, 2, 20, dim))
    q = torch.randn(1, 2, tokens, dim)
    if native.library("kv_attend") is None:
        match = "torch fallback"
    with pytest.raises(ConfigError, match=match):
        cache.attend(0, q, backend="native")
    assert cache.attend(0, q).shape == q.shape  # auto: the torch path serves it


@pytest.mark.skipif(native.library("kv_attend") is None, reason="the C loop is not built")
def test_scales_the_loop_cannot_read_are_refused_not_misread():
    cache = make_cache()
    interleaved_sequences(cache, [40])
    cache._store["k_scales"] = cache._store["k_scales"].float()  # not the bfloat16 it reads
    assert "bfloat16" in native_attend.why_not(cache, torch.randn(1, 3, 1, 32))


def test_with_native_loops_off_auto_is_the_torch_path(monkeypatch):
    monkeypatch.setenv("RYOT_NATIVE", "0")
    native.library.cache_clear()
    try:
        cache = make_cache()
        interleaved_sequences(cache, [40])
        q = torch.randn(1, 3, 1, 32)
        assert native_attend.why_not(cache, q) == "torch fallback (turned off by RYOT_NATIVE=0)"
        torch.testing.assert_close(cache.attend(0, q), cache.attend(0, q, backend="torch"),
                                   rtol=0, atol=0)
    finally:
        native.library.cache_clear()


@needs_loop
def test_every_isa_gives_the_same_bits(monkeypatch):
    """The loop is compiled for AVX-512, AVX2 and portable C from one source of the same float32
    operations in the same order: the ISA the CPU picks changes nothing in the result."""
    cache = make_cache(dim=64, value_group=32)
    interleaved_sequences(cache, [150, 21])
    q = torch.randn(2, 3, 1, 64, generator=torch.Generator().manual_seed(5))
    outs = {}
    for isa in ("portable", "avx2", "avx512"):
        monkeypatch.setenv("RYOT_NATIVE_ISA", isa)
        outs[native.isa("kv_attend")] = cache.attend(0, q, backend="native")
    assert "portable" in outs
    monkeypatch.setenv("RYOT_NATIVE_ISA", "avx512vbmi")  # no VBMI loop here: the best one runs
    assert native.isa("kv_attend") == max(outs, key=native.ISAS.index)
    for isa, out in outs.items():
        assert torch.equal(out, outs["portable"]), isa
