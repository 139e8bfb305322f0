"""Triton kernels, each beside the plain torch reference it is tested against.

On CUDA the library calls the Triton kernels; on CPU it calls the torch paths (fast there), and
the tests run every Triton kernel under ``TRITON_INTERPRET=1`` against a float64 reference.
"""

from __future__ import annotations

__all__ = ["triton_available", "use_triton"]


def triton_available() -> bool:
    """True when Triton imports (Linux x86-64 wheels only)."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def use_triton(device) -> bool:
    """The library's automatic choice: Triton for CUDA tensors, torch everywhere else.

    (Tests and benchmarks may still ask for ``backend="triton"`` on CPU, which then needs
    ``TRITON_INTERPRET=1`` set before ryot is imported.)
    """
    return str(device).startswith("cuda") and triton_available()

