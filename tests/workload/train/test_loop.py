"""The training loop: real steps, gates in the loop, NaN injection, exact resume, DDP agreement,
activation checkpointing from a memory budget."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ryot.core.orchestration import metadata as checkpoint_metadata
from ryot.core.orchestration.coordinator import OptimizationOrchestrator
from ryot.workload.train import TrainConfig, Trainer, TrainingStopped, train

TINY = dict(steps=6, batch_size=4, n_layer=1, n_head=2, n_embd=32, block_size=32)


def test_both_modes_train_and_the_loss_falls():
    for mode in ("baseline", "optimized"):
        result = train(TrainConfig(mode=mode, **{**TINY, "steps": 25}))
        assert len(result.losses) == 25
        assert result.losses[-1] < result.losses[0] - 0.5


def test_optimized_mode_keeps_8bit_optimizer_states_and_gates_their_error():
    from ryot.core.optim.adamw8bit import AdamW8bit
    from ryot.workload.train import Trainer

    trainer = Trainer(TrainConfig(mode="optimized", **TINY))
    result = trainer.run()
    errors = [r.compression_error for r in result.records]
    assert errors[0] == 0.0  # before the first step no state is stored
    assert all(0.001 < e < 0.05 for e in errors[1:]), errors  # 8-bit dynamic code: measured
    assert isinstance(trainer.optimizer, AdamW8bit)
    assert trainer.optimizer.param_groups[0]["block_size"] == 64  # the orchestrator's block
    big = [p for p in trainer.raw_model.parameters() if p.numel() >= 4096]
    assert big and all(trainer.optimizer.state[p]["exp_avg_codes"].dtype == torch.uint8
                       for p in big)
    assert all(r.compression_s > 0 for r in result.records)
    baseline = train(TrainConfig(mode="baseline", **TINY))
    assert all(r.compression_error == 0.0 and r.compression_s == 0.0 for r in baseline.records)


def test_a_single_process_leaves_its_gradients_uncompressed():
    """Nothing is sent, so nothing is compressed: the optimized step's gradients are the exact
    autograd gradients (same model, same batch, compared before the optimizer step)."""
    from ryot.workload.train import Trainer

    trainer = Trainer(TrainConfig(mode="optimized", **TINY))
    seen = {}
    step = trainer.optimizer.step

    def spy(*args, **kwargs):
        seen["grads"] = [p.grad.clone() for p in trainer.raw_model.parameters()]
        return step(*args, **kwargs)

    trainer.optimizer.step = spy
    state = {k: v.clone() for k, v in trainer.raw_model.state_dict().items()}
    generator = trainer.sampler.state_dict()
    trainer.train_step()
    trainer.raw_model.load_state_dict(state)
    trainer.sampler.load_state_dict(generator)
    x, y = trainer.sampler.next()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, loss = trainer.raw_model(x, y)
    loss.backward()
    params = list(trainer.raw_model.parameters())
    torch.nn.utils.clip_grad_norm_(params, max_norm=trainer.config.grad_clip)
    assert all(torch.equal(a, p.grad) for a, p in zip(seen["grads"], params, strict=True))


def test_same_seed_same_batches_same_losses():
    a, b = train(TrainConfig(**TINY)), train(TrainConfig(**TINY))
    assert a.losses == b.losses


def test_nan_step_is_not_applied_and_training_continues(tmp_path):
    result = train(TrainConfig(**{**TINY, "steps": 8}, checkpoint_every=2, inject_nan_at=(5,)),
                   run_dir=tmp_path)
    assert [v["step"] for v in result.violations] == [5]
    assert "loss is not finite" in result.violations[0]["reasons"]
    assert result.violations[0]["action"] == "rolled back to step-000004.pt"
    assert all(torch.isfinite(torch.tensor(result.losses)))
    bad = [r for r in result.records if not r.applied]
    assert len(bad) == 1 and bad[0].step == 5


def test_nan_without_checkpoints_skips_the_step():
    result = train(TrainConfig(**TINY, inject_nan_at=(3,)))
    assert result.violations[0]["action"] == "skipped"


def test_repeated_violations_stop_the_run_with_a_clear_message():
    with pytest.raises(TrainingStopped, match="stopped after 3 safety-gate violations"):
        train(TrainConfig(**{**TINY, "steps": 10}, inject_nan_at=(2, 3, 4, 5)))


def test_resume_continues_the_loss_curve_exactly(tmp_path):
    straight = train(TrainConfig(**{**TINY, "steps": 8}))
    config = TrainConfig(**{**TINY, "steps": 4}, checkpoint_every=2)
    train(config, run_dir=tmp_path)
    resumed = train(TrainConfig(**{**TINY, "steps": 8}, checkpoint_every=2), run_dir=tmp_path,
                    resume=True)
    assert resumed.losses == straight.losses


@pytest.mark.parametrize("mode", ["baseline", "optimized"])
def test_two_process_ddp_ranks_agree(tmp_path, mode):
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    script = tmp_path / "ddp_check.py"
    script.write_text(
        "import json, os, sys, torch, torch.distributed as dist\n"
        "from ryot.workload.train import TrainConfig, Trainer\n"
        f"t = Trainer(TrainConfig(mode={mode!r}, steps=3, batch_size=2, n_layer=1, n_head=2, "
        "n_embd=32, block_size=16))\n"
        "t.run()\n"
        "flat = torch.cat([p.detach().flatten() for p in t.raw_model.parameters()])\n"
        "gathered = [torch.empty_like(flat) for _ in range(dist.get_world_size())]\n"
        "dist.all_gather(gathered, flat)\n"
        "if dist.get_rank() == 0:\n"
        "    print(json.dumps({'max_diff': float((gathered[0] - gathered[1]).abs().max())}))\n"
        "t.close()  # the reducer goes before the group it uses; a barrier, then destroy\n")
    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run([str(torchrun), "--nproc-per-node", "2", "--master-port", str(port),
                           str(script)], capture_output=True, text=True, env=env, timeout=300,
                          cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["max_diff"] == 0.0


def test_an_exploding_gradient_halves_the_learning_rate():
    config = TrainConfig(**{**TINY, "steps": 4}, grad_norm_gate=1e-3, max_violations=10)
    result = train(config)
    assert len(result.violations) == 4
    assert "learning rate halved to 0.0005" in result.violations[0]["action"]
    assert "learning rate halved to 6.25e-05" in result.violations[3]["action"]


def test_a_completed_run_logs_its_status_and_the_orchestrator(tmp_path):
    train(TrainConfig(**TINY), run_dir=tmp_path)
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["status"] == "completed" and log["reason"] is None and len(log["records"]) == 6
    assert log["orchestrator"]["gate_statistics"]["checks"] == 6


@pytest.mark.slow
def test_ryot_compile_model_1_compiles_the_optimized_model_only(monkeypatch):
    from ryot.workload.train import Trainer

    monkeypatch.setenv("RYOT_COMPILE_MODEL", "1")
    optimized = Trainer(TrainConfig(mode="optimized", **{**TINY, "steps": 2}))
    assert isinstance(optimized.model, torch._dynamo.eval_frame.OptimizedModule)
    result = optimized.run()
    assert all(torch.isfinite(torch.tensor(result.losses)))
    assert not isinstance(Trainer(TrainConfig(**TINY)).model,
                          torch._dynamo.eval_frame.OptimizedModule)


# -- activation checkpointing from a memory budget -------------------------------------------------
def _config(**kw):
    return TrainConfig(mode="optimized", steps=2, batch_size=2, n_layer=1, n_head=2, n_embd=32,
                       block_size=32, **kw)


def test_the_record_always_says_what_the_model_does():
    forced = Trainer(_config(activation_checkpointing=True, activation_budget_mb=100.0))
    assert (forced.raw_model.config.checkpoint_blocks
            and forced.orchestrator.activation_checkpointing)
    assert forced.orchestrator.history[-1].reason == "forced by activation_checkpointing=True"
    meta = forced.orchestrator.get_checkpoint_metadata()
    meta["history"][-1]["new"] = "false"  # a hand-edited file: only JSON true means on
    restored = OptimizationOrchestrator.from_checkpoint_metadata(checkpoint_metadata.seal(meta))
    assert restored.activation_checkpointing is False
    with pytest.raises(ValueError, match="on must be a bool"):
        restored.set_activation_checkpointing(1, "why")


def test_the_trainer_follows_the_budget():
    tight, loose = (Trainer(_config(activation_budget_mb=0.01)),
                    Trainer(_config(activation_budget_mb=100.0)))
    assert tight.raw_model.config.checkpoint_blocks and tight.orchestrator.activation_checkpointing
    assert not loose.raw_model.config.checkpoint_blocks and loose.orchestrator.history == []
    assert Trainer(_config(activation_checkpointing=True,
                           activation_budget_mb=100.0)).raw_model.config.checkpoint_blocks
    # no budget: no probe, no change
    assert not Trainer(_config()).raw_model.config.checkpoint_blocks
    baseline = Trainer(TrainConfig(steps=2, batch_size=2, n_layer=1, n_head=2, n_embd=32,
                                   block_size=32, activation_budget_mb=0.01))
    assert not baseline.raw_model.config.checkpoint_blocks  # the baseline never checkpoints
    assert tight.train_step().applied


def test_a_resumed_run_re_decides_under_its_own_budget(tmp_path):
    first = Trainer(_config(activation_budget_mb=0.01, checkpoint_every=1), tmp_path)
    first.train_step()
    first.save_checkpoint()
    again = Trainer(_config(activation_budget_mb=100.0, checkpoint_every=1), tmp_path, resume=True)
    assert not again.raw_model.config.checkpoint_blocks
    assert [r.new for r in again.orchestrator.history
            if r.param == "activation_checkpointing"] == [True, False]
    unbudgeted = Trainer(_config(checkpoint_every=1), tmp_path, resume=True)  # on -> off, said why
    assert not unbudgeted.raw_model.config.checkpoint_blocks
    assert unbudgeted.orchestrator.history[-1].reason == "no activation budget"
