"""ryot.core.path_selection: RLVR path selection with a real verifier (arithmetic answers
checked exactly)."""

import pytest
import torch

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
