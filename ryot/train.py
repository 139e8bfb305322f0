"""Entry point: ``python -m ryot.train`` and ``torchrun -m ryot.train`` run :mod:`ryot.training.cli`.

The training code lives in :mod:`ryot.training`; its public names (``TrainConfig``, ``Trainer``,
``train``, ...) are re-exported here for scripts written against this module.
"""

import sys

from .training import *  # noqa: F403
from .training.cli import main

if __name__ == "__main__":
    sys.exit(main())
