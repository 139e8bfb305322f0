"""Fault injection for ``ryot train``, item 11: SIGTERM, edited checkpoint records, bad
arguments, a full disk. Real training of the tiny model, real files, real subprocesses; each
test asserts the exit code, the message and that nothing was lost. docs/reliability.md lists
them.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ryot.cli import main
from ryot.infra.errors import PublishError
from ryot.workload.train import TrainConfig, train
from ryot.workload.train import checkpoints as ckpt
from tests.cli.test_train_faults import interrupted_after_step_3

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(batch_size=4, n_layer=1, n_head=2, n_embd=32, block_size=32)
TINY_ARGS = ["--batch-size", "4", "--n-layer", "1", "--n-head", "2", "--n-embd", "32",
             "--block-size", "32"]
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def trainer(*args: str) -> list[str]:
    return [sys.executable, "-m", "ryot.train", *TINY_ARGS, *args]


@pytest.fixture(scope="module")
def straight():
    """The loss curve of an uninterrupted 8-step run: what every recovered run must match."""
    return train(TrainConfig(**TINY, steps=8)).losses


# -- SIGTERM is handled like Ctrl-C ----------------------------------------------------------------
def test_sigterm_exits_143_logs_interrupted_and_keeps_the_checkpoints(tmp_path):
    proc = subprocess.Popen(trainer("--steps", "100000", "--checkpoint-every", "1",
                                    "--run-dir", str(tmp_path)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=ENV)
    stderr = interrupted_after_step_3(proc, tmp_path, signal.SIGTERM)
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr and "ryot train: interrupted (SIGTERM)" in stderr
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["status"] == "interrupted" and "interrupted (SIGTERM) after step" in log["reason"]
    assert len(log["records"]) >= 3 and not list(tmp_path.glob("*.tmp"))
    newest = ckpt.load_latest(tmp_path)  # intact, no warning
    assert newest.step >= 3 and newest.path == ckpt.latest(tmp_path)


# -- an edited checkpoint record is refused like damaged tensors -----------------------------------
def edit_loss(record):
    record["state"]["records"][-1]["loss"] = 0.125


def edit_config(record):
    record["state"]["config"]["lr"] = 0.5


def edit_step(record):
    record["step"] = 5


@pytest.mark.parametrize("edit", [edit_config, edit_loss, edit_step])
def test_an_edited_record_is_skipped_and_the_previous_checkpoint_resumed(tmp_path, edit,
                                                                         straight):
    train(TrainConfig(**TINY, steps=4, checkpoint_every=2), run_dir=tmp_path)
    newest = ckpt.sidecar(tmp_path / "step-000004.pt")
    record = json.loads(newest.read_text())
    edit(record)
    newest.write_text(json.dumps(record, indent=2))
    with pytest.warns(ckpt.CheckpointWarning) as warned:
        resumed = train(TrainConfig(**TINY, steps=8, checkpoint_every=2), run_dir=tmp_path,
                        resume=True)
    messages = " | ".join(str(w.message) for w in warned)
    assert f"{newest}: edited or damaged after it was written" in messages
    assert "step-000002.pt (step 2), the newest intact checkpoint" in messages
    assert resumed.losses == straight  # nothing lost: the curve continues exactly


def test_a_reformatted_record_is_still_intact(tmp_path):
    train(TrainConfig(**TINY, steps=2, checkpoint_every=2), run_dir=tmp_path)
    record_path = ckpt.sidecar(tmp_path / "step-000002.pt")
    record_path.write_text(json.dumps(json.loads(record_path.read_text()), sort_keys=True))
    assert ckpt.load(tmp_path / "step-000002.pt").step == 2  # the seal covers content, not layout


def test_cli_resume_warns_naming_the_edited_record(tmp_path):
    train(TrainConfig(**TINY, steps=4, checkpoint_every=2), run_dir=tmp_path)
    newest = ckpt.sidecar(tmp_path / "step-000004.pt")
    record = json.loads(newest.read_text())
    edit_loss(record)
    newest.write_text(json.dumps(record))
    proc = subprocess.run(trainer("--steps", "6", "--checkpoint-every", "2", "--run-dir",
                                  str(tmp_path), "--resume"),
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert f"ryot train: warning: skipping damaged checkpoint: {newest}: edited" in proc.stderr
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["status"] == "completed" and len(log["records"]) == 6


# -- bad numbers: exit 2, one line naming the argument ---------------------------------------------
@pytest.mark.parametrize("argv, fragment", [
    (["--lr", "-1"], "argument --lr: TrainConfig.lr must be a finite number > 0, got -1.0"),
    (["--lr", "nan"], "argument --lr: TrainConfig.lr must be a finite number > 0, got nan"),
    (["--lr", "inf"], "argument --lr: TrainConfig.lr must be a finite number > 0, got inf"),
    (["--lr", "0"], "argument --lr: TrainConfig.lr must be a finite number > 0, got 0.0"),
    (["--activation-budget-mb", "inf"], "argument --activation-budget-mb: "),
    (["--activation-budget-mb", "-1"], "argument --activation-budget-mb: "),
    (["--steps", "0"], "argument --steps: TrainConfig.steps must be an int >= 1, got 0"),
    (["--steps", "-5"], "argument --steps: TrainConfig.steps must be an int >= 1, got -5"),
    (["--batch-size", "0"], "argument --batch-size: TrainConfig.batch_size must be an int >= 1"),
    (["--n-layer", "0"], "argument --n-layer: "),
    (["--block-size", "-1"], "argument --block-size: "),
    (["--max-violations", "0"], "argument --max-violations: "),
    (["--checkpoint-every", "-1"], "argument --checkpoint-every: "),
    (["--keep-checkpoints", "-2"], "argument --keep-checkpoints: "),
    (["--seed", "-1"], "argument --seed: TrainConfig.seed must be an int >= 0, got -1"),
    (["--seed", str(2**64)], "argument --seed: TrainConfig.seed must be an int < 2**63"),
    (["--inject-nan-at", "0"], "argument --inject-nan-at: TrainConfig.inject_nan_at must be"),
])
def test_bad_numbers_exit_2_with_one_line_naming_the_argument(argv, fragment, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:  # a usage error, as argparse's own
        main(["train", *TINY_ARGS, "--run-dir", str(tmp_path / "run"), *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and err.startswith("ryot train: error: ")
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_bad_lr_in_a_real_process_has_no_traceback():
    proc = subprocess.run(trainer("--lr", "nan"), capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=ENV)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == ("ryot train: error: argument --lr: TrainConfig.lr must be a finite "
                           "number > 0, got nan\n")


# -- a full disk at a checkpoint: exit 4 naming the file, the earlier checkpoints kept -------------
def test_file_size_limit_at_a_checkpoint_exits_4_and_keeps_the_earlier_one(tmp_path, straight):
    sizes = tmp_path / "sizes"  # step 0 holds no optimizer moments: its .pt is the smallest
    train(TrainConfig(**TINY, steps=1, checkpoint_every=1, keep_checkpoints=0), run_dir=sizes)
    first, second = ((sizes / f"step-00000{i}.pt").stat().st_size for i in (0, 1))
    limit = first + 4096
    assert limit < second

    def limited() -> None:  # the child hits EFBIG writing step 1 (SIGXFSZ would kill it)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = tmp_path / "run"
    args = ["--steps", "8", "--checkpoint-every", "1", "--run-dir", str(run)]
    proc = subprocess.run(trainer(*args), capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env=ENV, preexec_fn=limited)
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr and "ryot bug" not in proc.stderr
    assert (f"ryot train: error: could not write {run / 'step-000001.pt'}: File too large "
            f"(EFBIG); the earlier checkpoints are kept") in proc.stderr
    assert sorted(p.name for p in run.iterdir()) == [  # no half pair, no temporary file
        "step-000000.json", "step-000000.pt", "train_log.json"]
    log = json.loads((run / "train_log.json").read_text())
    assert log["status"] == "failed" and "step-000001.pt: File too large" in log["reason"]
    assert ckpt.load(run / "step-000000.pt").step == 0
    done = subprocess.run(trainer(*args, "--resume"), capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=ENV)  # the disk has room again
    assert done.returncode == 0, done.stderr
    resumed = json.loads((run / "train_log.json").read_text())
    assert [r["loss"] for r in resumed["records"]] == straight  # nothing lost


def test_a_full_disk_at_the_record_removes_its_tensors(tmp_path, monkeypatch):
    """The .pt is written, its record is not (ENOSPC): the .pt goes too, no half pair stays."""
    write = ckpt.write_json_atomic

    def full_at_step_4(path, obj):
        if Path(path).name == "step-000004.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write(path, obj)

    monkeypatch.setattr(ckpt, "write_json_atomic", full_at_step_4)
    with pytest.raises(PublishError) as info:
        train(TrainConfig(**TINY, steps=8, checkpoint_every=2), run_dir=tmp_path)
    assert str(info.value) == (f"could not write {tmp_path / 'step-000004.json'}: No space left "
                               "on device (ENOSPC); the earlier checkpoints are kept")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "step-000000.json", "step-000000.pt", "step-000002.json", "step-000002.pt",
        "train_log.json"]
    assert ckpt.load_latest(tmp_path).step == 2
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["status"] == "failed" and "PublishError: could not write" in log["reason"]


def test_a_full_disk_at_the_final_log_exits_4_naming_it(tmp_path, monkeypatch, capsys):
    from ryot.workload.train import outputs

    def full(path, obj):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outputs, "write_json_atomic", full)
    assert main(["train", *TINY_ARGS, "--steps", "2", "--checkpoint-every", "1",
                 "--run-dir", str(tmp_path)]) == 4
    err = capsys.readouterr().err
    assert (f"ryot train: error: could not write {tmp_path / 'train_log.json'}: No space left on "
            "device (ENOSPC)") in err and "ryot bug" not in err
    assert ckpt.load_latest(tmp_path).step == 2  # the checkpoints of the completed run stay
