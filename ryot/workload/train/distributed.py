"""DDP plumbing for the training loop (under ``torchrun``: ``WORLD_SIZE`` > 1).

* :func:`init` / :func:`shutdown`: the process group's lifetime. ``shutdown`` waits for every
  rank at a barrier, then destroys the group, so that no communication thread outlives it (a
  live gloo thread at interpreter exit aborts the process with SIGABRT).
* :func:`compressed_allreduce_hook`: gradient buckets travel as int8/int4 codes and scales.
* :func:`agree`: every rank's gates must see the same values, or ranks would disagree about
  which steps to apply and drift apart.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch

from ryot.core.config import CompressionConfig
from ryot.core.quant.blockwise import decode, encode, reconstruction_error

__all__ = [
    "agree", "compressed_allreduce_hook", "gather", "init", "is_distributed", "shutdown",
    "world_size"
]


def is_distributed() -> bool:
    return world_size() > 1


def init(device: torch.device) -> int:
    """Join the process group (nccl on CUDA, gloo on CPU); return this rank."""
    import torch.distributed as dist

    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank()


def shutdown(clean: bool = True) -> None:
    """Leave the process group: after a barrier when every rank ended normally (``clean``).

    After an error or an interrupt the other ranks may be gone, so there is no barrier then.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    try:
        if clean:
            dist.barrier()
    finally:
        dist.destroy_process_group()


def compressed_allreduce_hook(compression: Callable[[], CompressionConfig], errors: list[float]):
    """A DDP comm hook: each rank sends the codes + scales of its bucket, decodes all, averages.

    ``compression()`` gives the config to use now (the orchestrator's current one).

    The relative error of each finite bucket is appended to ``errors``. A bucket holding NaN or
    inf is sent with NaN scales, so that every rank receives non-finite gradients and every
    rank's gradient-norm gate rejects the step (``encode`` itself refuses non-finite values).
    """
    import torch.distributed as dist

    def hook(state, bucket):
        tensor = bucket.buffer()
        world = dist.get_world_size()
        config = compression()
        try:
            c = encode(tensor, config)
        except ValueError:
            c = encode(torch.nan_to_num(tensor, nan=0.0, posinf=0.0, neginf=0.0), config)
            c = replace(c, scales=torch.full_like(c.scales, math.nan))
        else:
            errors.append(reconstruction_error(tensor, decode(c)))
        codes = [torch.empty_like(c.codes) for _ in range(world)]
        scales = [torch.empty_like(c.scales) for _ in range(world)]
        dist.all_gather(codes, c.codes)
        dist.all_gather(scales, c.scales)
        total = torch.zeros_like(tensor)
        for code, scale in zip(codes, scales, strict=True):
            total += decode(replace(c, codes=code, scales=scale))
        fut = torch.futures.Future()
        fut.set_result(total / world)
        return fut

    return hook


def agree(values: Sequence[float], device: torch.device) -> list[float]:
    """Each value's worst over all ranks: NaN when any rank has NaN, else the maximum."""

    table = torch.stack(gather(torch.tensor([float(v) for v in values], dtype=torch.float64),
                               device))
    return [math.nan if bool(torch.isnan(column).any()) else float(column.max())
            for column in table.T]


def gather(tensor: torch.Tensor, device: torch.device) -> list[torch.Tensor]:
    """Every rank's copy of ``tensor`` (same shape on all ranks), on the CPU, in rank order."""
    import torch.distributed as dist

    local = tensor.to(device)
    gathered = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, local)
    return [t.cpu() for t in gathered]


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))
