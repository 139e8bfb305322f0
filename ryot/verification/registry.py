"""The metric registry: named providers of raw samples.

A provider is ``sampler(n, params) -> samples`` (see :mod:`ryot.measure.samples` for the accepted
shapes): it measures ``n`` more samples each call and never decides anything. Metrics come from

* ryot itself (:mod:`ryot.metrics`, loaded on first use of :func:`default_registry`);
* other packages, through the entry-point group ``ryot.metrics`` (an entry point names a
  :class:`Metric` or a sampler function; the entry point's name is the metric's name);
* a criterion's ``"provider": "module:function"`` (a sampler), for one-off user metrics.

The engine's process never runs a plugin's code: :func:`default_registry` knows the entry
points by name only (enough to check a criteria file); :func:`full_registry`, which loads
them, is for the worker process (:mod:`.worker`) that measures.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from importlib import metadata
from typing import Any

from ryot.infra.errors import ConfigError
from ryot.measure.metric import Metric

__all__ = ["ENTRY_POINT_GROUP", "Registry", "default_registry", "full_registry",
           "resolve_reference"]

ENTRY_POINT_GROUP = "ryot.metrics"


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._plugin_names: set[str] = set()  # entry points known by name, not loaded

    def register(self, metric: Metric) -> Metric:
        if metric.name in self._metrics:
            raise ConfigError(f"metric {metric.name!r} is already registered")
        self._metrics[metric.name] = metric
        return metric

    def __contains__(self, name: str) -> bool:
        return name in self._metrics or name in self._plugin_names

    def get(self, name: str) -> Metric:
        return self._metrics[name]

    def names(self) -> list[str]:
        return [*self._metrics, *sorted(self._plugin_names - set(self._metrics))]

    def know_entry_points(self) -> None:
        """Know every ``ryot.metrics`` entry point's name without importing anything."""
        self._plugin_names |= {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}

    def load_entry_points(self) -> list[str]:
        """Register every ``ryot.metrics`` entry point; return problems as messages."""
        problems = []
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                target = ep.load()
                metric = target if isinstance(target, Metric) else Metric(
                    ep.name, kind="", unit="", description=f"from {ep.value}", sampler=target)
                if metric.name not in self:
                    self.register(metric)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break ryot
                problems.append(f"entry point {ep.name} = {ep.value}: {type(exc).__name__}: {exc}")
        return problems


def resolve_reference(reference: str) -> Callable:
    """``"package.module:function"`` -> the function."""
    module_name, _, attr = reference.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"expected 'module:function', got {reference!r}")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(f"{reference} is not callable")
    return target


def _builtin() -> Registry:
    from ryot.metrics import builtin_metrics

    registry = Registry()
    for metric in builtin_metrics():
        registry.register(metric)
    return registry


@cache
def default_registry() -> Registry:
    """ryot's metrics, and the entry points' names (none of their code is run)."""
    registry = _builtin()
    registry.know_entry_points()
    return registry


@cache
def full_registry() -> Registry:
    """ryot's metrics and every entry point's, loaded (run in the worker process only)."""
    registry = _builtin()
    registry.load_entry_points()
    return registry
