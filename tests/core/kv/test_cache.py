import pytest
import torch

from ryot.core.kernels.decode_attention import attention_reference
from ryot.core.orchestration.coordinator import CompressionConfig, RLVRConfig
from ryot.inference_scaling import optimize_kv_cache, select_paths


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


# -- RLVR path selection with a real verifier: arithmetic answers checked exactly ------------
PROBLEM = (37, 58)  # "37 + 58 = ?"


def make_generator(answers):
    """Candidate i answers answers[i]; a deterministic stand-in for sampling a model."""
    return lambda prompt, i: f"{prompt[0]} + {prompt[1]} = {answers[i]}"


def verify_sum(text):
    left, _, answer = text.partition(" = ")
    a, b = (int(t) for t in left.split(" + "))
    return 1.0 if answer.strip() == str(a + b) else 0.0


def test_select_paths_stops_at_the_first_verified_answer():
    calls = []
    gen = make_generator([94, 96, 95, 95])

    def counted(prompt, i):
        calls.append(i)
        return gen(prompt, i)

    result = select_paths(counted, verify_sum, PROBLEM, RLVRConfig(4, 1.0, 64))
    assert result.best == "37 + 58 = 95" and result.best_reward == 1.0
    assert calls == [0, 1, 2] and result.stopped_early and result.paths_used == 3


def test_select_paths_uses_every_path_when_none_verifies():
    result = select_paths(make_generator([1, 2, 3]), verify_sum, PROBLEM, RLVRConfig(3, 1.0, 64))
    assert result.rewards == (0.0, 0.0, 0.0) and not result.stopped_early
    assert result.best_reward == 0.0


def test_select_paths_shares_the_prompt_cache_between_paths():
    cache, _, _ = cache_with(8, 256, layers=1)  # the "prompt": one full page
    prompt_pages = list(cache._layers[0].page_table[0])

    def generate(prompt, i):
        seq = cache.fork(0)
        new = torch.randn(1, 4, 1, 64).bfloat16()
        cache.append(0, new, new, seqs=[seq])
        return seq

    result = select_paths(generate, lambda seq: 1.0 if seq == 3 else 0.0, "prompt",
                          RLVRConfig(4, 1.0, 256))
    assert result.best == 3 and result.paths_used == 3
    for seq in (1, 2, 3):
        assert cache._layers[0].page_table[seq][0] == prompt_pages[0]


def test_select_paths_rejects_rewards_outside_unit_interval():
    with pytest.raises(ValueError, match="rewards must be finite and in"):
        select_paths(lambda p, i: p, lambda path: 2.0, "x", RLVRConfig(2, 0.5, 64))
