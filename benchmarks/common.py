"""Shared helpers: device choice and synchronization (asv's wall clock would not wait for CUDA)."""

import torch

from ryot.measure.timing import synchronize

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def sync():
    """Call at the end of every timed body so GPU work is inside the measurement."""
    synchronize(DEVICE)
