"""Entry point: ``python -m ryot.train`` and ``torchrun -m ryot.train`` run :mod:`ryot.cli.train`.

The training code lives in :mod:`ryot.workload.train`; its public names (``TrainConfig``,
``Trainer``, ``train``, ...) are re-exported here for scripts written against this module.
"""

import sys

from ryot.cli.train import main
from ryot.workload.train import (
    RunDirError,
    StepRecord,
    TrainConfig,
    Trainer,
    TrainingStopped,
    TrainResult,
    train,
)

__all__ = ["RunDirError", "StepRecord", "TrainConfig", "TrainResult", "Trainer", "TrainingStopped",
           "main", "train"]

if __name__ == "__main__":
    sys.exit(main())
