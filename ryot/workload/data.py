"""What the loop trains on: CPython's pydoc topic help (about 460 KB, text every machine has)
or the addition lines of :mod:`.arithmetic`, as byte-level tokens.

The corpus is split once, deterministically: the first 90% trains, the rest is held out.
Batches come from a seeded generator, so two runs with the same seed see the same data order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from ryot.infra.errors import ConfigError
from ryot.workload import arithmetic

__all__ = [
    "BatchSampler", "corpus_bytes", "dataset_splits", "decode_tokens", "encode_text",
    "eval_batches", "splits"
]


@cache
def corpus_bytes() -> bytes:
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics)).encode("utf-8")


@cache
def splits(train_fraction: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.frombuffer(bytearray(corpus_bytes()), dtype=torch.uint8).to(torch.long)
    cut = int(len(data) * train_fraction)
    return data[:cut], data[cut:]


def dataset_splits(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``pydoc`` (the default text) or ``arithmetic`` (see :mod:`.arithmetic`)."""
    if name == "pydoc":
        return splits()
    if name == "arithmetic":
        return arithmetic.splits()
    raise ConfigError(f"unknown dataset {name!r}; known: pydoc, arithmetic")


def encode_text(text: str) -> torch.Tensor:
    return torch.tensor(list(text.encode("utf-8")), dtype=torch.long)


def decode_tokens(tokens) -> str:
    return bytes(int(t) for t in tokens).decode("utf-8", errors="replace")


@dataclass
class BatchSampler:
    """Random windows of ``block_size + 1`` tokens, reproducible from ``seed``."""

    data: torch.Tensor
    batch_size: int
    block_size: int
    seed: int = 0

    def __post_init__(self) -> None:
        self.generator = torch.Generator().manual_seed(self.seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.randint(len(self.data) - self.block_size - 1, (self.batch_size,),
                               generator=self.generator)
        windows = torch.stack([self.data[s:s + self.block_size + 1] for s in starts.tolist()])
        return windows[:, :-1], windows[:, 1:]

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def eval_batches(data: torch.Tensor, block_size: int, max_batches: int, batch_size: int):
    """Fixed, non-overlapping windows from the start of ``data`` (the same every time)."""
    step = block_size
    starts = list(range(0, len(data) - block_size - 1, step))[: max_batches * batch_size]
    for i in range(0, len(starts), batch_size):
        chunk = starts[i:i + batch_size]
        windows = torch.stack([data[s:s + block_size + 1] for s in chunk])
        yield windows[:, :-1], windows[:, 1:]
