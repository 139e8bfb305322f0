"""Where the runner gets samples from: a worker process (runs), or this process (simulations).

A source's ``sample(c, n, params, limit_s)`` returns :class:`~ryot.measure.samples.Samples` or
raises :class:`~ryot.measure.metric.NotApplicable` (a requirement unmet, or the provider said
so), :class:`~ryot.measure.metric.InvalidMeasurement` or a
:class:`~.provider_call.ProviderFailure` (error, exit, time-out, death; its ``details`` are the
evidence). :class:`InWorker` is what every run uses (:mod:`.worker_client`); :class:`InProcess`
calls samplers defined in the caller's own process, for the simulations of ``ryot bench`` and
for tests that define metrics inline (they trust their own code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ryot.measure.metric import InvalidMeasurement, NotApplicable
from ryot.measure.samples import Samples, coerce
from ryot.verification.criteria import Criterion
from ryot.verification.provider_call import ProviderExit, ProviderFailure, call
from ryot.verification.registry import Registry, resolve_reference
from ryot.verification.requirements import unmet
from ryot.verification.wire import from_wire
from ryot.verification.worker_client import Worker

__all__ = ["InProcess", "InWorker", "ProviderError"]


class ProviderError(ProviderFailure):
    """The provider raised an ordinary exception (in the worker); ``details``: its traceback."""


class InProcess:
    """Samplers of ``registry`` (or a criterion's provider) called in this process."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _sampler(self, c: Criterion) -> tuple[Callable, str | None, tuple[str, ...]]:
        if c.provider:
            return resolve_reference(c.provider), None, ()
        metric = self.registry.get(c.metric)
        return metric.sampler, (metric.kind or None), metric.requires

    def sample(self, c: Criterion, n: int, params: dict[str, Any],
               limit_s: float | None) -> Samples:
        sampler, kind, requires = self._sampler(c)
        reason = unmet((*requires, *c.requires))
        if reason:
            raise NotApplicable(reason)
        return coerce(call(sampler, n, params, limit_s=limit_s), kind)


class InWorker:
    """Samples measured in ``worker``; what the code prints goes to ``capture(c)`` (a path)."""

    def __init__(self, worker: Worker, capture: Callable[[Criterion], str],
                 workload: bool = False) -> None:
        self.worker, self.capture, self.workload = worker, capture, workload

    def sample(self, c: Criterion, n: int, params: dict[str, Any],
               limit_s: float | None) -> Samples:
        params = {k: v for k, v in params.items() if k != "_workload"}  # it lives in the worker
        answer = self.worker.request(
            {"op": "sample", "metric": c.metric, "provider": c.provider,
             "requires": list(c.requires), "n": n, "params": params},
            limit_s=limit_s, capture=self.capture(c))
        return samples_of(answer)


def samples_of(answer: dict) -> Samples:
    """The samples in a worker's answer, or the exception its status stands for."""
    status, message = answer["status"], str(answer.get("message", ""))
    details = answer.get("details")
    details = details if isinstance(details, str) else None
    if status == "ok":
        return from_wire(answer.get("samples"))
    if status == "not_applicable":
        raise NotApplicable(message)
    if status == "invalid":
        raise InvalidMeasurement(message)
    if status == "exit":
        raise ProviderExit(message, details)
    if status == "error":
        raise ProviderError(message, details)
    raise ProviderFailure(f"the worker answered with an unknown status {status!r}")
