"""A SIGTERM landing between a checkpoint's two files (tensors, then the sealed record) waits
until the pair is whole: the newest checkpoint is the newest file, intact, and the run is still
interrupted. Before, the signal could leave step-N.pt without its record."""

from __future__ import annotations

import os
import signal

import pytest

from ryot.infra import interrupts
from ryot.workload.train import checkpoints as ckpt


@pytest.mark.parametrize("after", ["tensors", "record"])
def test_a_sigterm_inside_a_checkpoint_write_raises_after_the_pair(monkeypatch, tmp_path, after):
    write = {"tensors": ckpt.write_bytes_atomic, "record": ckpt.write_json_atomic}[after]

    def write_then_signal(*args, **kwargs):
        out = write(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # handled at once, between two bytecodes
        return out

    name = {"tensors": "write_bytes_atomic", "record": "write_json_atomic"}[after]
    monkeypatch.setattr(ckpt, name, write_then_signal)
    path = ckpt.path_for(tmp_path, 5)
    with pytest.raises(interrupts.Terminated), interrupts.terminate_as_interrupt():
        ckpt.save(path, {"w": 1}, {"step": 5})
    newest = ckpt.load_latest(tmp_path)
    assert newest is not None and newest.path == path == ckpt.latest(tmp_path)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_signal_before_the_block_is_not_raised_again_by_it(monkeypatch, tmp_path):
    """Winding down after an interrupt (the signal already raised once), a checkpoint written
    then ends normally."""
    with interrupts.terminate_as_interrupt():
        with pytest.raises(interrupts.Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
        ckpt.save(ckpt.path_for(tmp_path, 1), {"w": 1}, {"step": 1})
    assert ckpt.load_latest(tmp_path).step == 1
