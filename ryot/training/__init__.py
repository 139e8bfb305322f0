"""Training the embedded GPT, nanoGPT-plain: model, data, the loop, its checkpoints.

| module | one job |
|---|---|
| ``model.py`` | the GPT, whole, in one file |
| ``data.py``, ``arithmetic.py`` | the corpora (pydoc text, addition lines), splits, batches |
| ``config.py`` | ``TrainConfig``: one run's settings |
| ``loop.py`` | ``Trainer``: steps, gates, rollbacks, checkpoints; ``train()`` |
| ``records.py`` | what a run records: ``StepRecord``, ``TrainResult`` |
| ``checkpoints.py``, ``run_dir.py`` | checkpoint files; whether a run directory fits a run |
| ``distributed.py`` | DDP plumbing under torchrun |
| ``generate.py`` | timed generation, and RLVR on one addition problem |
| ``cli.py`` | ``ryot train`` / ``python -m ryot.train`` |

Nothing here imports the metrics or the acceptance engine: they use training, not the reverse.
"""

from .config import TrainConfig
from .loop import Trainer, TrainingStopped, train
from .records import StepRecord, TrainResult
from .run_dir import RunDirError

__all__ = ["RunDirError", "StepRecord", "TrainConfig", "TrainResult", "Trainer", "TrainingStopped",
           "train"]
