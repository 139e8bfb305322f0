"""What activation checkpointing would save: the bytes autograd keeps for backward over one
forward pass, measured, not estimated.

:func:`saved_activation_bytes` runs one forward under ``torch.autograd.graph.saved_tensors_hooks``
and adds up the storages of every tensor saved for backward, each storage once and parameters
excluded — the activations (and, under autocast, the low-precision weight copies) that live
from the forward to the backward. Activation checkpointing keeps only each block's input
instead and recomputes the rest during backward. The figure depends on shapes, not values, so
the probe batch is zeros and no random state moves.

The probe must not cost what it measures (a peak-memory measurement would see it), so it runs
batches of 1 and 2 sequences and extrapolates: every saved tensor's size is affine in the batch
size (activations grow with it, weight copies do not), so ``bytes(B) = bytes(1) + (B - 1) *
(bytes(2) - bytes(1))`` exactly (tests/test_activation_memory.py checks it against a direct
measurement).
"""

from __future__ import annotations

import contextlib

import torch

from .model import GPT


def saved_activation_bytes(model: GPT, batch_size: int, *, autocast: bool) -> int:
    """Bytes saved for backward by one forward of ``model`` over a ``batch_size`` x context
    batch, block checkpointing off (``autocast``: bfloat16 autocast, as the optimized step),
    extrapolated from batches of 1 and 2."""
    one = measure_saved_bytes(model, 1, autocast=autocast)
    return one + (batch_size - 1) * (measure_saved_bytes(model, 2, autocast=autocast) - one)


def measure_saved_bytes(model: GPT, batch_size: int, *, autocast: bool) -> int:
    """:func:`saved_activation_bytes` measured directly: one forward at ``batch_size``."""
    device = next(model.parameters()).device
    idx = torch.zeros(batch_size, model.config.block_size, dtype=torch.long, device=device)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:  # saved tensors stay alive: no address is reused
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    checkpointing, model.config.checkpoint_blocks = model.config.checkpoint_blocks, False
    ctx = torch.autocast(device.type, dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
    try:
        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), ctx:
            _, loss = model(idx, idx)
        del loss  # the graph and what it saved go here: nothing is backpropagated
    finally:
        model.config.checkpoint_blocks = checkpointing
    return sum(saved.values())
