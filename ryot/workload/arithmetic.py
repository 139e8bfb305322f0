"""A verifiable task for RLVR: two-digit addition, answers checked exactly.

A small GPT learns lines like ``37+58=95`` from generated data; held-out problems never occur
in training. :func:`ryot.workload.infer.generate.solve` samples answers for a :func:`prompt` and
:func:`reward` checks them.
"""

from __future__ import annotations

import random
from functools import cache

import torch

__all__ = ["DIGITS", "line", "problem_sets", "prompt", "reward", "splits"]

DIGITS = 2


def _pairs(seed: int, count: int, exclude: frozenset = frozenset()) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    top = 10 ** DIGITS
    out: list[tuple[int, int]] = []
    seen = set(exclude)
    while len(out) < count:
        pair = (rng.randrange(top), rng.randrange(top))
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    return out


@cache
def problem_sets(train_count: int = 6000, held_out_count: int = 200) -> tuple[list, list]:
    train = _pairs(0, train_count)
    return train, _pairs(1, held_out_count, frozenset(train))


def line(a: int, b: int) -> str:
    return f"{a}+{b}={a + b}\n"


def prompt(a: int, b: int) -> str:
    return f"{a}+{b}="


def reward(a: int, b: int, completion: str) -> float:
    """1.0 when the text up to the first newline is exactly the sum, else 0.0."""
    return 1.0 if completion.split("\n", 1)[0] == str(a + b) else 0.0


@cache
def splits() -> tuple[torch.Tensor, torch.Tensor]:
    """The training and held-out problems as byte tokens, one line per problem."""
    train, held_out = problem_sets()
    as_tensor = lambda pairs: torch.tensor(list("".join(line(a, b) for a, b in pairs).encode()),  # noqa: E731
                                           dtype=torch.long)
    return as_tensor(train), as_tensor(held_out)
