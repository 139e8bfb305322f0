"""Names that moved in the layer cut (0.2): the old import paths keep working for one release,
each with a :class:`DeprecationWarning` naming the new place (as jsonschema does for its moves).

Two mechanisms, both loud, neither a copy of the code:

* :data:`MOVED_MODULES` — a module that no longer exists at its old path. A finder on
  ``sys.meta_path`` (installed by ``import ryot``) answers the old name with the new module
  itself, so ``from ryot.samples import Samples`` gets the very class ``ryot.measure.samples``
  defines.
* :func:`forwarding_getattr` — a module that still exists at its old path (a facade, or a folder
  that took a module's name, like ``ryot.stats``) forwards the names it no longer defines.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Callable

__all__ = ["MOVED_MODULES", "forwarding_getattr", "install"]

MOVED_MODULES = {
    "ryot.adaptation": "ryot.core.orchestration.adaptation",
    "ryot.atomic": "ryot.infra.atomic",
    "ryot.bench.kv_cache": "ryot.bench.kv",
    "ryot.bench.orchestrator": "ryot.bench.orchestrator_step",
    "ryot.bench.tuning": "ryot.bench.tune",
    "ryot.checkpoint_metadata": "ryot.core.orchestration.metadata",
    "ryot.config": "ryot.core.config",
    "ryot.dynamic_code": "ryot.core.quant.dynamic_code",
    "ryot.fast_paths": "ryot.core.fast_paths",
    "ryot.gates": "ryot.core.orchestration.gates",
    "ryot.hardware": "ryot.infra.machine",
    "ryot.isolation": "ryot.infra.isolation",
    "ryot.jsonio": "ryot.infra.jsonio",
    "ryot.kernels": "ryot.core.kernels",
    "ryot.kernels.decode_attention": "ryot.core.kernels.decode_attention",
    "ryot.kernels.matmul": "ryot.core.kernels.matmul",
    "ryot.kernels.quantize": "ryot.core.kernels.quantize",
    "ryot.kv_cache": "ryot.core.kv.cache",
    "ryot.kv_codes": "ryot.core.kv.codes",
    "ryot.measurements": "ryot.metrics.measurements",
    "ryot.metrics.workload": "ryot.workload.presets",
    "ryot.native": "ryot.core.native",
    "ryot.optim8bit": "ryot.core.optim.adamw8bit",
    "ryot.optim8bit_flat": "ryot.core.optim.adamw8bit_flat",
    "ryot.path_selection": "ryot.core.path_selection",
    "ryot.precedence": "ryot.core.orchestration.precedence",
    "ryot.provenance": "ryot.infra.provenance",
    "ryot.provider": "ryot.measure.metric",
    "ryot.quantization": "ryot.core.quant.blockwise",
    "ryot.samples": "ryot.measure.samples",
    "ryot.schemas": "ryot.infra.schemas",
    "ryot.sequential": "ryot.stats.sequential",
    "ryot.stationarity": "ryot.stats.stationarity",
    "ryot.switches": "ryot.infra.switches",
    "ryot.timing": "ryot.measure.timing",
    "ryot.training": "ryot.workload.train",
    "ryot.training.activation_memory": "ryot.workload.train.activation_memory",
    "ryot.training.arithmetic": "ryot.workload.arithmetic",
    "ryot.training.attention": "ryot.workload.attention",
    "ryot.training.checkpoints": "ryot.workload.train.checkpoints",
    "ryot.training.cli": "ryot.cli.train",
    "ryot.training.config": "ryot.workload.train.run_config",
    "ryot.training.data": "ryot.workload.data",
    "ryot.training.distributed": "ryot.workload.train.distributed",
    "ryot.training.generate": "ryot.workload.infer.generate",
    "ryot.training.inference_weights": "ryot.workload.infer.weights",
    "ryot.training.loop": "ryot.workload.train.loop",
    "ryot.training.model": "ryot.workload.model",
    "ryot.training.prefill": "ryot.workload.infer.prefill",
    "ryot.training.records": "ryot.workload.train.records",
    "ryot.training.run_dir": "ryot.workload.train.run_dir",
    "ryot.verification.errors": "ryot.infra.errors",
    "ryot.verification.metrics": "ryot.verification.registry",
    "ryot.verification.samples": "ryot.measure.samples",
    "ryot.workloads": "ryot.workload",
    "ryot.workloads.default": "ryot.workload.presets",
}


def _warn(old: str, new: str) -> None:
    warnings.warn(f"{old} moved to {new}; import it from there ({old} goes in the next release)",
                  DeprecationWarning, stacklevel=3)


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an old module name with the module now living at the new name."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED_MODULES:
            return None
        new = importlib.util.find_spec(MOVED_MODULES[fullname])
        is_package = new is not None and new.submodule_search_locations is not None
        return importlib.util.spec_from_loader(fullname, self, is_package=is_package)

    def create_module(self, spec):
        new = MOVED_MODULES[spec.name]
        _warn(spec.name, new)
        return importlib.import_module(new)  # the module itself: one object under both names

    def exec_module(self, module) -> None:
        """Nothing to run: the new module already ran when it was imported."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` once (``import ryot`` calls this)."""
    if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedModuleFinder())


def forwarding_getattr(old: str, moved: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``old`` that hands out ``moved[name]``'s ``name`` with a
    warning; any other missing name is the usual AttributeError."""

    def __getattr__(name: str):
        if name not in moved:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        _warn(f"{old}.{name}", f"{moved[name]}.{name}")
        return getattr(importlib.import_module(moved[name]), name)

    return __getattr__
