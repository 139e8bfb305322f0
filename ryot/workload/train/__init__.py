"""Training the embedded GPT, nanoGPT-plain: the loop with the orchestrator in it.

| module | one job |
|---|---|
| ``run_config.py`` | ``TrainConfig``: one run's settings |
| ``loop.py`` | ``Trainer``: steps, gates, rollbacks, checkpoints; ``train()`` |
| ``records.py`` | what a run records: ``StepRecord``, ``TrainResult`` |
| ``checkpoints.py``, ``run_dir.py`` | checkpoint files; whether a run directory fits a run |
| ``outputs.py`` | ``train_log.json``; a failed write said as ``PublishError`` (disk full) |
| ``distributed.py`` | DDP plumbing under torchrun |
| ``activation_memory.py`` | the bytes one step saves for backward (the checkpointing input) |

The command line is :mod:`ryot.cli.train`; the model and data are one folder up.
"""

from ryot.workload.train.loop import Trainer, TrainingStopped, train
from ryot.workload.train.records import StepRecord, TrainResult
from ryot.workload.train.run_config import TrainConfig
from ryot.workload.train.run_dir import RunDirError

__all__ = ["RunDirError", "StepRecord", "TrainConfig", "TrainResult", "Trainer", "TrainingStopped",
           "train"]
