"""The verifiable arithmetic task and RLVR over a shared-prefix KV cache."""

from dataclasses import replace

import pytest
import torch

from ryot.core.config import RLVRConfig
from ryot.metrics import rlvr
from ryot.workload import arithmetic as ar
from ryot.workload import presets as workload
from ryot.workload.infer.generate import solve
from ryot.workload.model import GPT, GPTConfig


def test_reward_checks_answers_exactly():
    assert ar.reward(37, 58, "95\n") == 1.0
    assert ar.reward(37, 58, "95") == 1.0
    assert ar.reward(37, 58, "94\n") == 0.0
    assert ar.reward(37, 58, "095\n") == 0.0
    assert ar.reward(37, 58, "") == 0.0


def test_held_out_problems_never_occur_in_training():
    train, held_out = ar.problem_sets()
    assert len(held_out) == 200 and not set(train) & set(held_out)
    train_bytes, _ = ar.splits()
    assert bytes(train_bytes[:20].tolist()).decode().count("=") >= 1


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


@pytest.mark.slow
def test_rlvr_beats_greedy_on_the_trained_model():
    result = rlvr.evaluate(rlvr.QUICK)
    assert sum(result["selected"]) >= sum(result["greedy"])


def test_rlvr_metrics_follow_the_criteria_files_workload():
    adds = workload.Preset("adds", replace(rlvr.QUICK, steps=5), eval_batches=1, prompt_tokens=4,
                           new_tokens=4, steps_per_round=1)
    assert rlvr.train_config({"_workload": adds}) is adds.train
    assert rlvr.train_config({"_quick": True}) is rlvr.QUICK
    assert rlvr.train_config({}) is rlvr.FULL
    with pytest.raises(ValueError, match="arithmetic"):  # a pydoc workload is not silently replaced
        rlvr.train_config({"_workload": workload.QUICK})
    with pytest.raises(ValueError, match="unknown workload preset 'huge'"):
        rlvr.train_config({"preset": "huge"})
