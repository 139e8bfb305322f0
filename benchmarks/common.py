"""Shared helpers: device choice and synchronization (asv's wall clock would not wait for CUDA)."""

import importlib

import torch


def module(*names: str):
    """The first of ``names`` that imports: asv runs this folder against older commits, where a
    module may still live at its pre-0.2 path (``module("ryot.measure.timing", "ryot.timing")``)."""
    for name in names[:-1]:
        try:
            return importlib.import_module(name)
        except ImportError:
            pass
    return importlib.import_module(names[-1])


synchronize = module("ryot.measure.timing", "ryot.timing").synchronize

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def sync():
    """Call at the end of every timed body so GPU work is inside the measurement."""
    synchronize(DEVICE)
