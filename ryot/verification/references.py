"""``"package.module:function"`` references in criteria files: checked with or without importing.

Importing a module runs its code, so a mere ``ryot criteria check`` only *locates* a
reference (:func:`locate`): its syntax, and a file for every module on the dotted path, found
the way the import system would find it but without executing any package's ``__init__``.
A run (``ryot accept``, ``ryot.evaluate``) and ``ryot criteria check --import`` import it
(:func:`load`), which runs the module's code: criteria files name code to execute, so only
run criteria files you trust.

Modules are found as ``python -m`` finds them: in the current working directory first, then on
the Python path — so ``"provider": "bench.speed:train_step"`` works from the root of the
user's repository without installing it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import keyword
import os
import sys
from collections.abc import Callable

from ryot.infra.errors import ConfigError
from ryot.verification.registry import resolve_reference

__all__ = ["load", "locate"]


def _parts(reference: str) -> tuple[str, str]:
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"expected 'module:function', got {reference!r}")
    for part in (*module_name.split("."), *attr.split(".")):
        if not part.isidentifier() or keyword.iskeyword(part):
            raise ConfigError(f"{part!r} in {reference!r} is not a Python name")
    return module_name, attr


def _spec(fullname: str, search: list[str] | None):
    """The module's spec from the finders, never executing a parent package."""
    module = sys.modules.get(fullname)
    if module is not None:
        return getattr(module, "__spec__", None) or True
    if search is None:  # a top-level name: find_spec imports nothing for it
        return importlib.util.find_spec(fullname)
    return importlib.machinery.PathFinder.find_spec(fullname, search)


def _with_working_directory() -> None:
    """Put the current working directory first on ``sys.path``, as ``python -m`` does."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
        importlib.invalidate_caches()


def locate(reference: str) -> None:
    """Raise ValueError unless ``reference`` names an importable module (nothing is imported).

    The function itself is not looked up: that needs the module's code to run.
    """
    module_name, _ = _parts(reference)
    saved = list(sys.path)
    _with_working_directory()
    try:
        _locate(module_name)
    finally:
        sys.path[:] = saved  # the caller's path as it was (ryot.evaluate leaves the host alone)


def _locate(module_name: str) -> None:
    names = module_name.split(".")
    search: list[str] | None = None
    for i in range(len(names)):
        fullname = ".".join(names[: i + 1])
        try:
            spec = _spec(fullname, search)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"cannot locate module {fullname!r}: {exc}") from None
        if spec is None:
            raise ConfigError(f"no module named {fullname!r} on the Python path")
        if i == len(names) - 1:
            return
        locations = getattr(spec, "submodule_search_locations", None)
        if spec is True:  # already imported, without a spec: ask the module itself
            locations = getattr(sys.modules[fullname], "__path__", None)
        if locations is None:
            raise ConfigError(f"{fullname!r} is a module, not a package, so it has no "
                             f"{names[i + 1]!r}")
        search = list(locations)


def load(reference: str) -> Callable:
    """Import the module (running its code) and return the callable it names.

    Anything the import raises, ``SystemExit`` included, becomes a ValueError with its type
    and message; only ``KeyboardInterrupt`` passes through.
    """
    _parts(reference)
    _with_working_directory()
    try:
        return resolve_reference(reference)
    except KeyboardInterrupt:
        raise
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    except BaseException as exc:  # noqa: BLE001 - a module that fails on import is bad input
        raise ConfigError(f"importing it raised {type(exc).__name__}: {exc}") from None
