"""What activation checkpointing would save: the bytes autograd keeps for backward over one
forward pass, counted from autograd itself, not from a formula.

A forward runs under ``torch.autograd.graph.saved_tensors_hooks``, and the storages of every
tensor saved for backward are added up, each storage once and parameters excluded — the
activations (and, under autocast, the low-precision weight copies) that live from the forward
to the backward. Activation checkpointing keeps only each block's input instead and recomputes
the rest during backward.

:func:`saved_activation_bytes` runs that forward on fake tensors (``FakeTensorMode``: shapes,
dtypes and devices, no data), so the probe allocates no tensor data — a peak-memory measurement
would otherwise see it; a fake probe adds far less to the optimized arm's peak than a real one
(fake-tensor machinery and caches, loaded on first use; figures: docs/benchmarks.md) — and takes
milliseconds. :func:`measure_saved_bytes` is the same count over real tensors, its reference
(tests/workload/train/test_activation_memory.py checks they agree). The figure depends on
shapes, not values: the probe batch is zeros.
"""

from __future__ import annotations

import contextlib

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from ryot.workload.model import GPT

__all__ = ["fake_state", "measure_saved_bytes", "saved_activation_bytes"]


def fake_state(model: GPT) -> tuple[FakeTensorMode, dict]:
    """A fake-tensor mode and ``model``'s parameters and buffers as fakes in it, by name (for
    ``torch.func.functional_call``: a forward that allocates no data)."""
    mode = FakeTensorMode()
    real = {**dict(model.named_parameters(remove_duplicate=False)),
            **dict(model.named_buffers(remove_duplicate=False))}
    return mode, {name: mode.from_tensor(t) for name, t in real.items()}


def saved_activation_bytes(model: GPT, batch_size: int, *, autocast: bool,
                           checkpointed: int = 0) -> int:
    """Bytes saved for backward by one forward of ``model`` over a ``batch_size`` x context
    batch, block checkpointing off (``autocast``: bfloat16 autocast, as the optimized step) or,
    with ``checkpointed`` > 0, on for that many first blocks (then what autograd keeps outside
    the checkpoints: those blocks' inputs, which the checkpoint saves, not what it recomputes),
    counted on fake tensors (:func:`fake_state`): nothing is allocated."""
    if not isinstance(model, GPT):  # a DDP or compiled wrapper: probe the model it wraps
        raise TypeError(f"saved_activation_bytes: expected a GPT, got {type(model).__name__}")
    mode, fakes = fake_state(model)
    params = {t.untyped_storage()._cdata for t in fakes.values()}
    with mode:
        forward = lambda idx: torch.func.functional_call(model, fakes, (idx, idx))  # noqa: E731
        return _count(model, batch_size, autocast, params, forward, checkpointed)


def measure_saved_bytes(model: GPT, batch_size: int, *, autocast: bool,
                        checkpointed: int = 0) -> int:
    """:func:`saved_activation_bytes` over real tensors (one real forward at ``batch_size``)."""
    params = {p.untyped_storage()._cdata for p in model.parameters()}
    return _count(model, batch_size, autocast, params, lambda idx: model(idx, idx), checkpointed)


def _count(model: GPT, batch_size: int, autocast: bool, params: set[int], forward,
           checkpointed: int = 0) -> int:
    if torch.is_inference_mode_enabled():  # autograd saves nothing there: the answer would be 0
        raise RuntimeError("saved activation bytes cannot be measured under torch.inference_mode()")
    device = next(model.parameters()).device
    idx = torch.zeros(batch_size, model.config.block_size, dtype=torch.long, device=device)
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()  # views share one storage: counted once
        if storage._cdata not in params:
            saved[storage._cdata] = storage.nbytes()
        return t

    c = model.config
    ctx = (torch.autocast(device.type, dtype=torch.bfloat16) if autocast
           else contextlib.nullcontext())
    before = c.checkpoint_blocks, c.checkpoint_policy, c.checkpoint_layers
    try:
        c.checkpoint_blocks, c.checkpoint_policy = checkpointed > 0, "blocks"
        c.checkpoint_layers = checkpointed or None
        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), ctx:
            _, loss = forward(idx)
        del loss  # the graph and what it saved go here: nothing is backpropagated
    finally:
        c.checkpoint_blocks, c.checkpoint_policy, c.checkpoint_layers = before
    return sum(saved.values())
