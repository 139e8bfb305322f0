"""``torch.compile`` for the CPU hot paths, with a quiet fallback to eager torch.

Compiling fuses the several passes of an eager block-wise quantizer into one loop (measured in
docs/benchmarks.md). Set ``RYOT_COMPILE=0`` to stay eager. If compilation fails (no C++
compiler, say) ryot warns once and stays eager for the rest of the process.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

from ryot.infra.switches import env_flag

__all__ = ["compile_enabled", "maybe_compiled"]

_compiled: dict[Callable, Callable] = {}
_broken = False


def compile_enabled() -> bool:
    return env_flag("RYOT_COMPILE", True) and not _broken


def maybe_compiled(fn: Callable, *args):
    """Call the compiled ``fn`` when compilation is enabled and works, else ``fn`` itself."""
    global _broken
    if not compile_enabled():
        return fn(*args)
    compiled = _compiled.get(fn)
    if compiled is None:
        compiled = _compiled[fn] = torch.compile(fn, dynamic=True)
    try:
        return compiled(*args)
    except Exception as exc:  # noqa: BLE001 - any compiler failure means "use eager"
        _broken = True
        warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); ryot uses eager "
                      "torch from now on", RuntimeWarning, stacklevel=2)
        return fn(*args)
