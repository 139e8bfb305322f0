"""ryot.workload.train.recipe: the optimized run's checkpointing policy and attention, chosen from
measured activation bytes and timed probes, cached per machine; selective checkpointing gives
the gradients of no checkpointing; every policy's kept bytes are what a real forward leaves
alive for backward."""

from __future__ import annotations

import gc
import json
from dataclasses import replace

import pytest
import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode

from ryot.infra.errors import ConfigError
from ryot.workload.model import GPT, GPTConfig
from ryot.workload.train import recipe
from ryot.workload.train.activation_memory import measure_saved_bytes
from ryot.workload.train.loop import Trainer
from ryot.workload.train.run_config import TrainConfig

SMALL = TrainConfig(mode="optimized", steps=2, batch_size=4, n_layer=2, n_head=2, n_embd=32,
                    block_size=32, recipe="measured")


def _grads(policy: str | None, layers: int | None = None) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, n_layer=2, n_head=2, n_embd=32, attention="recompute",
                          checkpoint_blocks=policy is not None,
                          checkpoint_policy=policy or "blocks", checkpoint_layers=layers))
    idx = torch.randint(0, 256, (3, 16), generator=torch.Generator().manual_seed(1))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, loss = model(idx, idx)
    loss.backward()
    return [p.grad for p in model.parameters()]


def test_selective_and_block_checkpointing_give_the_same_gradients_as_none():
    plain = _grads(None)
    for policy, layers in (("selective", None), ("blocks", None), ("blocks", 1)):
        for a, b in zip(plain, _grads(policy, layers), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)  # recomputation repeats the ops


def test_checkpointing_the_first_blocks_only_recomputes_those(monkeypatch):
    """checkpoint_layers=1 of 2: the first block runs under torch.utils.checkpoint, the second
    as usual; a count out of range is a ConfigError naming the field."""
    import ryot.workload.model as gpt

    calls = []
    real = gpt.checkpoint
    monkeypatch.setattr(gpt, "checkpoint", lambda block, *a, **k: calls.append(block) or
                        real(block, *a, **k))
    model = GPT(GPTConfig(block_size=16, n_layer=2, n_head=2, n_embd=32, checkpoint_blocks=True,
                          checkpoint_layers=1))
    model(torch.zeros(1, 16, dtype=torch.long), torch.zeros(1, 16, dtype=torch.long))
    assert calls == [model.blocks[0]]
    assert [recipe.half_layers(n) for n in (1, 2, 3, 4, 5)] == [1, 1, 1, 2, 2]
    recipe.apply(model, recipe.Recipe("half", "recompute"))
    recipe.apply(model, recipe.Recipe("blocks", "recompute"))  # nothing left of half
    assert model.config.checkpoint_layers is None and model.config.checkpoint_policy == "blocks"
    for bad in (0, 3, 1.5, True):
        with pytest.raises(ConfigError, match="checkpoint_layers must be None or an int from 1 "
                                              "to n_layer \\(2\\)"):
            GPTConfig(n_layer=2, checkpoint_layers=bad)


class _Outputs(TorchDispatchMode):
    """Weak references to the storage of every op output (to see which ones a forward leaves
    alive)."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[StorageWeakRef, int]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                storage = t.untyped_storage()
                self.refs.append((StorageWeakRef(storage), storage.nbytes()))
        return out


def _alive_after_forward(model: GPT, batch_size: int, checkpointing: str) -> int:
    """The bytes a real forward under ``checkpointing`` leaves alive for backward: the storages
    its ops made that still live while the loss (and so its graph) does, the loss left out."""
    recipe.apply(model, recipe.Recipe(checkpointing, model.config.attention))
    idx = torch.zeros(batch_size, model.config.block_size, dtype=torch.long)
    outputs = _Outputs()
    with torch.autocast("cpu", dtype=torch.bfloat16), outputs:
        loss = model(idx, idx)[1]  # (the logits are not kept: nothing holds them)
    gc.collect()
    alive = {ref.cdata: n for ref, n in outputs.refs if not ref.expired()}
    alive.pop(loss.untyped_storage()._cdata)
    return sum(alive.values())


@pytest.mark.parametrize("n_layer", [2, 3])
def test_kept_bytes_are_what_a_real_forward_leaves_alive(n_layer):
    """Every policy's count against the storages a real forward keeps for backward (the
    checkpoints' saved inputs counted once); off > selective > blocks, half between off and
    blocks (where it falls against selective depends on the shape)."""
    model = GPT(replace(SMALL, n_layer=n_layer).model_config())
    kept = {c: recipe.kept_bytes(model, 4, c) for c in recipe.CHECKPOINTING}
    for checkpointing, figure in kept.items():
        assert figure == _alive_after_forward(model, 4, checkpointing), checkpointing
    assert kept["off"] > kept["selective"] > kept["blocks"] > 0
    assert kept["off"] > kept["half"] > kept["blocks"]
    assert measure_saved_bytes(model, 4, autocast=True, checkpointed=recipe.half_layers(
        n_layer)) == kept["half"]  # the fake-tensor count is the real one


def test_a_budget_leaves_only_the_candidates_that_fit(monkeypatch, tmp_path):
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    model = GPT(SMALL.model_config())
    kept = {c: recipe.kept_bytes(model, 4, c) for c in recipe.CHECKPOINTING}
    probed = []

    def fake_probe(config, recipes, trainer_class, *a):
        assert trainer_class is Trainer
        probed.append([r.label for r in recipes])
        return {r.label: [0.2 if r.attention == "sdpa" else 0.1] * 3 for r in recipes}

    monkeypatch.setattr(recipe, "run_isolated", lambda fn, *args: type(
        "R", (), {"value": fake_probe(*args)})())
    budget = (kept["selective"] + 1) / 2**20
    decision = recipe.choose(replace(SMALL, activation_budget_mb=budget), model, Trainer)
    assert {label.split(",")[0] for label in probed[0]} == {
        "checkpointing selective", "checkpointing half", "checkpointing blocks"}
    # selective, half and blocks with recompute tie (0.1 s each): the one that keeps least
    assert decision["chosen"] == "checkpointing blocks, recompute attention"
    assert decision["kept_bytes"]["checkpointing off, recompute attention"] == kept["off"]
    assert "6 of 8 keep" in decision["reason"] and "of 6 by median step time" in decision["reason"]
    assert not decision["cached"]
    again = recipe.choose(replace(SMALL, activation_budget_mb=budget), model, Trainer)
    assert again["cached"] and again["chosen"] == decision["chosen"] and len(probed) == 1
    # nothing fits a zero budget: the candidates that keep least are left
    none_fit = recipe.choose(replace(SMALL, activation_budget_mb=0.0), model, Trainer)
    assert none_fit["checkpointing"] == "blocks"


@pytest.mark.parametrize("selective_s, chosen", [(0.095, "blocks"), (0.085, "selective")],
                         ids=["5% faster: a tie, less memory wins", "15% faster: it wins"])
def test_a_faster_candidate_wins_only_by_more_than_the_tie(monkeypatch, tmp_path, selective_s,
                                                          chosen):
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    model = GPT(SMALL.model_config())
    times = {"selective": selective_s, "half": 0.1, "blocks": 0.1, "off": 0.09}

    def fake_isolated(fn, config, recipes, cls):
        return type("R", (), {"value": {
            r.label: [times[r.checkpointing] * (1 if r.attention == "recompute" else 2)] * 3
            for r in recipes}})()

    monkeypatch.setattr(recipe, "run_isolated", fake_isolated)
    budget = (recipe.kept_bytes(model, 4, "selective") + 1) / 2**20  # "off" does not fit
    decision = recipe.choose(replace(SMALL, activation_budget_mb=budget), model, Trainer)
    assert decision["chosen"] == f"checkpointing {chosen}, recompute attention"
    assert "within 10% of the fastest tie and the one that keeps least wins" in decision["reason"]


def test_half_the_blocks_wins_where_it_is_faster_by_more_than_the_tie(monkeypatch, tmp_path):
    """As measured on an AMD EPYC (docs/benchmarks.md): selective 121 ms, half 115, blocks 131
    — half is fastest, selective ties it but keeps more, blocks is outside the tie."""
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    model = GPT(SMALL.model_config())
    times = {"selective": 0.121, "half": 0.115, "blocks": 0.131, "off": 0.101}
    monkeypatch.setattr(recipe, "run_isolated", lambda fn, config, recipes, cls: type(
        "R", (), {"value": {r.label: [times[r.checkpointing] * (1 if r.attention == "recompute"
                                                                else 2)] * 3
                            for r in recipes}})())
    budget = (recipe.kept_bytes(model, 4, "selective") + 1) / 2**20  # "off" does not fit
    decision = recipe.choose(replace(SMALL, activation_budget_mb=budget), model, Trainer)
    assert decision["chosen"] == "checkpointing half, recompute attention"
    trainer = Trainer(replace(SMALL, activation_budget_mb=budget))  # the cached decision
    config = trainer.raw_model.config
    assert config.checkpoint_blocks and config.checkpoint_layers == recipe.half_layers(2) == 1


def test_an_unreadable_cache_entry_is_measured_again(monkeypatch, tmp_path):
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    model = GPT(SMALL.model_config())
    calls = []

    def fake_isolated(fn, config, recipes, cls):
        calls.append(1)
        return type("R", (), {"value": {r.label: [0.1] for r in recipes}})()

    monkeypatch.setattr(recipe, "run_isolated", fake_isolated)
    first = recipe.choose(SMALL, model, Trainer)
    path = next((tmp_path / "recipes").iterdir())
    for broken in ("{not json", json.dumps({"format": "other", "chosen": first["chosen"]}),
                   json.dumps({"format": recipe.FORMAT, "chosen": "checkpointing maybe"}),
                   json.dumps({**first, "checkpointing": "off"})):  # disagrees with "chosen"
        path.write_text(broken)
        assert not recipe.choose(SMALL, model, Trainer)["cached"]
    assert len(calls) == 5


@pytest.mark.parametrize("forced", [False, True])
def test_a_measured_trainer_follows_and_records_its_recipe(monkeypatch, tmp_path, forced):
    """The decision is applied to the model, in train_log.json's ``recipe`` and in the
    orchestrator's history; activation_checkpointing=True still forces whole blocks."""
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    config = replace(SMALL, activation_budget_mb=0.0, activation_checkpointing=forced)
    trainer = Trainer(config)
    model = trainer.raw_model.config
    if forced:
        assert trainer.result.recipe is None and model.checkpoint_policy == "blocks"
        assert model.checkpoint_blocks
        return
    decision = trainer.result.recipe
    assert decision["checkpointing"] == "blocks" and model.checkpoint_blocks
    assert model.attention == decision["attention"]
    assert trainer.result.to_dict()["recipe"]["chosen"] == decision["chosen"]
    reasons = [r.reason for r in trainer.orchestrator.history
               if r.param == "activation_checkpointing"]
    assert reasons and reasons[-1].startswith("measured recipe: checkpointing blocks")
    trainer.run()  # and it trains
    assert len(trainer.result.records) == 2


def test_unknown_recipe_and_checkpoint_policy_are_refused_by_name():
    from ryot.infra.errors import ConfigError
    from ryot.workload.train.run_config import TrainConfigError

    with pytest.raises(TrainConfigError, match="TrainConfig.recipe must be 'fixed' or 'measured'"):
        TrainConfig(recipe="fastest")
    with pytest.raises(ConfigError, match="checkpoint_policy must be one of blocks, selective"):
        GPTConfig(checkpoint_policy="some")
