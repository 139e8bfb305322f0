"""The common step of an :class:`~ryot.core.optim.adamw8bit.AdamW8bit` group, prepared once.

After the first step, a training loop steps the same parameters every time, each with a fresh
gradient and the states the earlier steps made. :class:`StepPlan` keeps what such a step needs —
the 8-bit parameters' :class:`~ryot.core.optim.adamw8bit_flat.FlatStates`, the small parameters'
float32 moments as lists, one step tensor for torch's fused kernel, every state dict whose
``"step"`` advances — so each step only checks the gradients and calls the two kernels (the C
loop and ``torch._fused_adamw_``). The same updates as the general path of ``AdamW8bit.step``,
bit for bit (tested); far fewer Python operations per parameter, which on a 0.8M-parameter model
is a good part of the step (docs/benchmarks.md).

A plan is made only where it applies — every parameter of the group has a gradient and states of
one step count, the 8-bit ones are held by one flat buffer the C loop can step, the rest keep
float32 states of float32 parameters — and it is used only while the group's parameters, the
optimizer's state dict, its block size and its native switches are those it was made for, and
every parameter a float32 CPU tensor and every gradient a dense float32 one (both contiguous
for the C loop). Otherwise the general path runs, and a plan is made again after it.
"""

from __future__ import annotations

import operator

import torch

from ryot.core.optim.adamw8bit_flat import FlatStates, native_ready, step_native

__all__ = ["StepPlan", "make_plan"]

_F32, _STRIDED = torch.float32, torch.strided


class StepPlan:
    """One group's prepared step (see the module docstring)."""

    def __init__(self, params: list, state: dict, flat: FlatStates, small: list, block: int,
                 switches: tuple, step: int) -> None:
        self.ids = tuple(map(id, params))
        self.state, self.flat, self.small, self.block, self.switches = (state, flat, small,
                                                                        block, switches)
        self.flat_ids = {id(p) for p in flat.params}
        self.states = [state[p] for p in params]
        self.every_state = list(state.values())  # (compared in order: no tensor is hashed)
        # (state dict, key, tensor) of every state tensor the plan steps, checked before each step
        self.tensors = [(state[p], key, view) for key, views in (flat.views or {}).items()
                        for p, view in zip(flat.params, views, strict=True)]
        self.tensors += [(state[p], key, state[p][key]) for p in small
                         for key in ("exp_avg", "exp_avg_sq")]
        self.small_moments = ([state[p]["exp_avg"] for p in small],
                              [state[p]["exp_avg_sq"] for p in small])
        self.step_tensor = torch.tensor(float(step))
        self.step = step

    def fits(self, params: list, state: dict, block: int, switches: tuple) -> bool:
        """The group, state dict, block size and switches it was made for; the state dict's
        entries (per parameter) and state tensors the ones it holds, at its step count."""
        return (state is self.state and block == self.block and switches == self.switches
                and tuple(map(id, params)) == self.ids
                and len(state) == len(self.every_state)
                and all(map(operator.is_, state.values(), self.every_state))
                and all(s["step"] == self.step for s in self.states)
                and all(d.get(key) is t for d, key, t in self.tensors))

    def tensors_fit(self, params: list) -> bool:
        """Every parameter still a float32 CPU tensor (the 8-bit ones contiguous: the C loop
        walks their memory), every gradient present and dense float32 (the 8-bit ones'
        contiguous)."""
        flat_ids = self.flat_ids
        for p in params:
            g = p.grad
            if (g is None or g.dtype is not _F32 or g.layout is not _STRIDED
                    or p.dtype is not _F32 or not p.is_cpu):
                return False
            if id(p) in flat_ids and not (p.is_contiguous() and g.is_contiguous()):
                return False
        return True

    def run(self, group: dict, measure_error: bool, isa: str | None) -> tuple[float, float | None]:
        """One step of every parameter; returns the C loop's (seconds, sampled state error)."""
        step = self.step + 1
        result = step_native(self.flat, group, step, measure_error, isa)
        if self.small:
            beta1, beta2 = group["betas"]
            self.step_tensor.fill_(float(step))
            torch._fused_adamw_(self.small, [p.grad for p in self.small], *self.small_moments,
                                [], [self.step_tensor] * len(self.small), lr=group["lr"],
                                beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                                eps=group["eps"], amsgrad=False, maximize=False)
            torch.autograd.graph.increment_version(self.small)  # the kernel does not bump them
        for s in self.states:
            s["step"] = step
        self.step = step
        return result


def make_plan(params: list, state: dict, flat: FlatStates | None, block: int, min_8bit_size: int,
              switches: tuple) -> StepPlan | None:
    """A plan for this group as it stands after a step, or None where one does not apply."""
    if (flat is None or flat.views is None or not params
            or any(p.grad is None or not state.get(p) for p in params)):
        return None
    steps = {state[p].get("step") for p in params}
    if (len(steps) != 1 or not flat.holds(flat.params, state, block) or not native_ready(flat)
            or not all(p.is_contiguous() for p in flat.params)
            or any(p.device.type != "cpu" for p in params)):
        return None
    flat_ids = {id(p) for p in flat.params}
    small = [p for p in params if id(p) not in flat_ids]
    if len(flat_ids) + len(small) != len(params) or any(
            p.numel() >= min_8bit_size or p.dtype is not _F32 or "exp_avg" not in state[p]
            or state[p]["exp_avg"].dtype is not _F32 for p in small):
        return None
    return StepPlan(params, state, flat, small, block, switches, steps.pop())
