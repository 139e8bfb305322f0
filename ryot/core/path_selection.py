"""RLVR path selection: sample candidate continuations, keep the best verifiable one.

A candidate is scored by a verifiable reward in [0, 1]; sampling stops at the first candidate
whose reward reaches ``rlvr.path_selection_threshold``. With a
:class:`ryot.core.kv.cache.QuantizedKVCache`, each candidate ``fork``s the prompt's sequence so
every path reads the prompt's pages in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ryot.core.config import RLVRConfig
from ryot.infra.errors import ConfigError

__all__ = ["PathResult", "select_paths"]


@dataclass(frozen=True)
class PathResult:
    """The best path, its reward, every path tried (in order) with its reward, and why we
    stopped."""

    best: object
    best_reward: float
    paths: tuple[object, ...]
    rewards: tuple[float, ...]
    stopped_early: bool

    @property
    def paths_used(self) -> int:
        return len(self.paths)


def select_paths(generate: Callable[[object, int], object], verify: Callable[[object], float],
                 prompt: object, rlvr: RLVRConfig) -> PathResult:
    """Try up to ``rlvr.num_paths`` continuations ``generate(prompt, i)``, score each with
    ``verify`` (a reward in [0, 1]), and stop at the first reaching the threshold.

    With a :class:`QuantizedKVCache`, ``generate`` should ``fork`` the prompt's sequence so
    every path reads the prompt's pages in place (see ``tests/core/kv/test_cache.py``).
    """
    if not isinstance(rlvr, RLVRConfig):
        raise ConfigError(f"select_paths expects an RLVRConfig, got {type(rlvr).__name__}")
    paths, rewards = [], []
    for i in range(rlvr.num_paths):
        path = generate(prompt, i)
        reward = float(verify(path))
        if not math.isfinite(reward) or not 0.0 <= reward <= 1.0:
            raise ConfigError(f"select_paths: verify returned {reward!r} for path {i}; "
                             "rewards must be finite and in [0, 1]")
        paths.append(path)
        rewards.append(reward)
        if reward >= rlvr.path_selection_threshold:
            break
    best = max(range(len(paths)), key=lambda j: rewards[j])
    stopped = len(paths) < rlvr.num_paths
    return PathResult(paths[best], rewards[best], tuple(paths), tuple(rewards), stopped)
