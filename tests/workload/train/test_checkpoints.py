"""ryot.workload.train.checkpoints: sealed checkpoints (their faults are injected in
tests/cli/test_train_faults.py)."""

def test_prune_removes_what_a_killed_write_left(tmp_path):
    from ryot.workload.train import checkpoints

    leftover = tmp_path / ".step-000010.json.0123abcd.tmp"
    leftover.write_text('{"half": ')
    unrelated = tmp_path / "notes.tmp"
    unrelated.write_text("mine")
    assert leftover in checkpoints.prune(tmp_path, keep=3)
    assert not leftover.exists() and unrelated.exists()
