"""``python -m ryot.train``: a killed run resumes exactly; usage errors."""

import json
import signal
import subprocess
import sys
import time

from ryot.workload.train import TrainConfig, train

TINY = dict(steps=6, batch_size=4, n_layer=1, n_head=2, n_embd=32, block_size=32)


def test_killed_process_resumes_exactly(tmp_path):
    args = [sys.executable, "-m", "ryot.train", "--steps", "400", "--batch-size", "4",
            "--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--block-size", "32",
            "--checkpoint-every", "5", "--run-dir", str(tmp_path)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (tmp_path / "step-000010.pt").exists() and time.time() < deadline:
        try:  # poll: returns early only if the trainer exited, which would be a failure
            proc.wait(timeout=0.02)
            break
        except subprocess.TimeoutExpired:
            pass
    assert proc.poll() is None, "the trainer ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (tmp_path / "step-000010.pt").exists()
    assert not (tmp_path / "train_log.json").exists(), "it must die before finishing"
    for record in tmp_path.glob("step-*.json"):  # atomic writes: no checkpoint file is half written
        json.loads(record.read_text())
    assert all(p.name.startswith(".") for p in tmp_path.glob("*.tmp"))  # only hidden leftovers
    done = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob("*.tmp"))  # the resumed run cleaned them up
    log = json.loads((tmp_path / "train_log.json").read_text())
    resumed = [r["loss"] for r in log["records"] if r["applied"]]
    straight = train(TrainConfig(**{**TINY, "steps": 400}))
    assert resumed == straight.losses


def test_cli_resume_without_run_dir_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "ryot.train", "--resume"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "--resume needs --run-dir" in proc.stderr
