"""Environment switches, read one way: ``1/true/yes/on`` and ``0/false/no/off`` (any case).

Every switch ryot reads (``RYOT_COMPILE``, ``RYOT_COMPILE_MODEL``, ``RYOT_COMPILE_PREFILL``,
``RYOT_NATIVE``) goes through :func:`env_flag`, every choice (``RYOT_NATIVE_ISA``) through
:func:`env_choice`; a value it does not recognise is not guessed at: a warning names the variable,
the value and the default used instead. ``RYOT_CACHE_DIR`` is
read by :func:`cache_dir`, the one place that computes the cache folder.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

__all__ = ["cache_dir", "env_choice", "env_flag"]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def cache_dir(*parts: str) -> Path:
    """ryot's cache folder (``$RYOT_CACHE_DIR``, default ``$XDG_CACHE_HOME/ryot`` or
    ``~/.cache/ryot``), joined with ``parts``: tuning results (data, validated on read)."""
    root = os.environ.get("RYOT_CACHE_DIR")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ryot"
    return Path(root).joinpath(*parts)


def env_flag(name: str, default: bool) -> bool:
    """The switch ``name`` as a bool; unset or empty: ``default``."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    warnings.warn(f"{name}={os.environ[name]!r} is not a switch value (1/0, true/false, yes/no, "
                  f"on/off); using the default, {name}={int(default)}", RuntimeWarning,
                  stacklevel=2)
    return default


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """The variable ``name`` as one of ``choices`` (any case); unset, empty or unknown:
    ``default`` (unknown values warn, naming the choices)."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in choices:
        return raw
    warnings.warn(f"{name}={os.environ[name]!r} is not one of {', '.join(choices)}; using the "
                  f"default, {name}={default}", RuntimeWarning, stacklevel=2)
    return default
