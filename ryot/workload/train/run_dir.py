"""Whether a ``--run-dir`` and its checkpoints fit this run, before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ryot.infra.errors import RyotError
from ryot.workload.train import checkpoints as ckpt
from ryot.workload.train.run_config import TrainConfig

__all__ = ["RESUMABLE_CHANGES", "RunDirError", "check_resumable", "check_run_dir"]


class RunDirError(RyotError):
    """A ``--run-dir`` that does not fit this run (names the directory and what differs)."""


# What a resumed run may change; every other field must equal the checkpointed run's.
# (activation checkpointing trades memory for time and gives the same gradients; a resumed run
# re-plans it under its own budget.)
RESUMABLE_CHANGES = frozenset({"steps", "checkpoint_every", "keep_checkpoints", "max_violations",
                               "inject_nan_at", "activation_checkpointing", "activation_budget_mb"})


def check_resumable(saved: Any, config: TrainConfig, source: str) -> None:
    """Refuse to continue a run under a different configuration; name the first field that
    differs."""
    if not isinstance(saved, dict):
        raise RunDirError(f"{source}: the checkpoint records no run configuration")
    for name, value in config.to_json().items():
        if name in RESUMABLE_CHANGES:
            continue
        if name not in saved or saved[name] != value:
            was = f"{name}={saved[name]!r}" if name in saved else f"no {name}"
            raise RunDirError(
                f"cannot resume from {source}: that run has {was}, this one {name}={value!r} "
                f"(--{name.replace('_', '-')}); resume with the same value or use another "
                f"--run-dir")


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """A fresh run needs a directory without another run's checkpoints or log (they would be
    pruned or overwritten); ``resume`` continues what is there."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: --run-dir must be a directory, it is a file")
    if resume:
        return
    used = [p.name for p in ckpt.checkpoints(run_dir)[-2:]]
    if (run_dir / "train_log.json").exists():
        used.append("train_log.json")
    if used:
        raise RunDirError(f"{run_dir} already holds a run ({', '.join(used)}); pass --resume to "
                          "continue it, or choose another --run-dir")
