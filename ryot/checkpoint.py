"""Training checkpoints: model, optimizer, RNG and orchestrator metadata in one atomic file."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from .atomic import write_bytes_atomic


class CheckpointError(ValueError):
    """A checkpoint that cannot be read (names the file)."""


def save(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return write_bytes_atomic(path, buffer.getvalue())


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as exc:  # noqa: BLE001 - truncated or foreign files
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None


def latest(directory: str | os.PathLike[str]) -> Path | None:
    """The checkpoint with the highest step in ``directory`` (``step-000123.pt``)."""
    found = sorted(Path(directory).glob("step-*.pt"))
    return found[-1] if found else None
