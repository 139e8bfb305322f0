"""AdamW with 8-bit block-wise optimizer states (bitsandbytes' ``AdamW8bit``, in pure torch).

Both Adam moments of every parameter with at least ``min_8bit_size`` elements are kept between
steps as uint8 codes of the dynamic code (:mod:`ryot.core.quant.dynamic_code`) plus one float32
absmax per block of ``block_size`` values: ``exp_avg`` with the *signed* code, ``exp_avg_sq``
(never negative, spanning many decades) with the *unsigned* code — bitsandbytes' choice for its
second state (``qmap2 = create_dynamic_map(signed=False)``), which gives the non-negative moment
all 256 levels instead of wasting the negative half. Per element that is 1 + 4/block_size bytes
per state instead of 4 (0.254x at block 256). Each step dequantizes both moments, runs the exact
``torch.optim.AdamW`` update in float32 and quantizes them again. Smaller parameters (biases,
norms) keep float32 moments, as bitsandbytes' ``min_8bit_size`` = 4096.

``last_state_error``: after each step, the relative L2 error ``‖s − ŝ‖ / ‖s‖`` of the state
quantization on a sample — the first ``ERROR_SAMPLE`` values of every 8-bit parameter's
``exp_avg`` and ``exp_avg_sq``, the largest of these errors (NaN if any is) — the number a
compression gate watches.
``state_nbytes()`` counts every byte of optimizer state. ``last_codec_seconds``: the time the
last step spent decoding and encoding states (the cost of the compression, for the overhead
analysis). ``set_block_size`` re-blocks every 8-bit state (the orchestrator may ask for smaller
blocks when the state error nears its gate).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from ryot.core.optim.adamw8bit_flat import MOMENTS as _MOMENTS
from ryot.core.optim.adamw8bit_flat import STATE_KEYS as _8BIT_KEYS
from ryot.core.optim.adamw8bit_flat import (
    FlatStates,
    adamw_update,
    clock,
    flat_step,
    largest,
    sample_error,
)
from ryot.core.optim.adamw8bit_plan import StepPlan, make_plan
from ryot.core.quant.dynamic_code import check_block_size, decode_blocks, encode_blocks, zero_code
from ryot.infra.errors import ConfigError

__all__ = ["CHUNK", "MIN_8BIT_SIZE", "AdamW8bit"]

MIN_8BIT_SIZE = 4096
CHUNK = 1 << 15  # values per chunk of the 8-bit update (a multiple of the block size)


def _check_float(name: str, value: object, low: float, high: float, *,
                 open_high: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if value < low or (value >= high if open_high else value > high):
        raise ConfigError(f"{name} must be in [{low}, {high}{')' if open_high else ']'}, "
                          f"got {value!r}")
    return float(value)


class AdamW8bit(torch.optim.Optimizer):
    """``torch.optim.AdamW`` (decoupled weight decay, bias correction) with 8-bit states."""

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, block_size: int = 256,
                 min_8bit_size: int = MIN_8BIT_SIZE) -> None:
        lr = _check_float("lr", lr, 0.0, math.inf)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ConfigError(f"betas must be a pair of numbers, got {betas!r}")
        betas = (_check_float("betas[0]", betas[0], 0.0, 1.0),
                 _check_float("betas[1]", betas[1], 0.0, 1.0))
        eps = _check_float("eps", eps, 0.0, math.inf)
        if eps <= 0:
            raise ConfigError(f"eps must be > 0, got {eps!r}")
        weight_decay = _check_float("weight_decay", weight_decay, 0.0, math.inf)
        block_size = check_block_size(block_size)
        if (isinstance(min_8bit_size, bool) or not isinstance(min_8bit_size, int)
                or min_8bit_size < 1):
            raise ConfigError(f"min_8bit_size must be a positive int, got {min_8bit_size!r}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        block_size=block_size, min_8bit_size=min_8bit_size)
        super().__init__(params, defaults)
        self._flat: dict[int, FlatStates] = {}
        self._plans: dict[int, StepPlan | None] = {}  # per group: its prepared step, if any
        self.use_native = True  # False: the torch reference even where the C loop is available
        self.native_isa: str | None = None  # the C loop's ISA request; None: RYOT_NATIVE_ISA
        self.last_state_error = 0.0
        self.last_codec_seconds = 0.0

    @staticmethod
    def _clock(tensor: torch.Tensor) -> float:
        return clock(tensor.device)

    def set_block_size(self, block_size: int) -> None:
        """Use ``block_size`` from now on: every 8-bit state is decoded and encoded again."""
        block_size = check_block_size(block_size)
        self._plans.clear()
        for group in self.param_groups:
            old = group["block_size"]
            if old == block_size:
                continue
            for p in group["params"]:
                state = self.state.get(p)
                if not state or "exp_avg_codes" not in state:
                    continue
                for name, signed in (("exp_avg", True), ("exp_avg_sq", False)):
                    values = decode_blocks(state[f"{name}_codes"], state[f"{name}_absmax"], old,
                                           signed)
                    codes, absmax = encode_blocks(values[: p.numel()], block_size, signed)
                    state[f"{name}_codes"], state[f"{name}_absmax"] = codes, absmax
            group["block_size"] = block_size

    def _init_state(self, p: torch.Tensor, group: dict) -> dict:
        state = self.state[p]
        state["step"] = 0
        n, block = p.numel(), group["block_size"]
        if n >= group["min_8bit_size"]:
            nblocks = -(-n // block)
            for name, signed in (("exp_avg", True), ("exp_avg_sq", False)):
                # all-zero blocks: absmax 0, codes of the level 0 (index 127 signed, 0 unsigned)
                state[f"{name}_codes"] = torch.full((nblocks * block,), zero_code(signed),
                                                    dtype=torch.uint8, device=p.device)
                state[f"{name}_absmax"] = torch.zeros(nblocks, device=p.device)
        else:
            state["exp_avg"] = torch.zeros_like(p, dtype=torch.float32,
                                                memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, dtype=torch.float32,
                                                   memory_format=torch.preserve_format)
        return state

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001 - torch's signature
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._sample_error, self._errors = True, []
        self.last_codec_seconds = 0.0
        for index, group in enumerate(self.param_groups):
            if self._step_planned(index, group):
                continue
            flat_done = self._step_flat(index, group)
            small = []
            for p in group["params"]:
                if p.grad is None or p in flat_done:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("AdamW8bit does not support sparse gradients")
                state = self.state[p] if self.state[p] else self._init_state(p, group)
                state["step"] += 1
                if "exp_avg_codes" in state:
                    self._step_8bit(p, state, group)
                elif p.dtype == torch.float32 and p.grad.dtype == torch.float32:
                    small.append(p)
                else:
                    flat = p.detach().reshape(-1).to(torch.float32)
                    adamw_update(flat, p.grad.reshape(-1).to(torch.float32),
                                 state["exp_avg"].view(-1), state["exp_avg_sq"].view(-1), group,
                                 state["step"])
                    p.copy_(flat.view_as(p))
            if small:
                self._step_small(small, group)
            self._plans[index] = make_plan(group["params"], self.state, self._flat.get(index),
                                           group["block_size"], group["min_8bit_size"],
                                           self._switches()) if self.use_native else None
        if self._errors:  # (when nothing 8-bit stepped, the last figure stands)
            self.last_state_error = largest(self._errors)
        self._sample_error = False
        return loss

    def _switches(self) -> tuple:
        return (self.use_native, self.native_isa)

    def _step_planned(self, index: int, group: dict) -> bool:
        """The group's step by its plan (:mod:`.adamw8bit_plan`), where one fits; False: the
        general path must run."""
        plan = self._plans.get(index)
        params = group["params"]
        if plan is None or not plan.fits(params, self.state, group["block_size"],
                                         self._switches()) or not plan.tensors_fit(params):
            return False
        seconds, error = plan.run(group, self._sample_error, self.native_isa)
        self.last_codec_seconds += seconds
        if error is not None:
            self._errors.append(error)
        return True

    def _step_small(self, params: list, group: dict) -> None:
        """Float32 states (parameters below ``min_8bit_size``): torch's fused AdamW kernel."""
        beta1, beta2 = group["betas"]
        states = [self.state[p] for p in params]
        counts = {(s["step"], p.device) for p, s in zip(params, states, strict=True)}
        if len(counts) == 1:  # the usual case: one tensor serves all (the kernel only reads it)
            steps = [torch.tensor(float(states[0]["step"]), device=params[0].device)] * len(params)
        else:
            steps = [torch.tensor(float(s["step"]), device=p.device)
                     for p, s in zip(params, states, strict=True)]
        torch._fused_adamw_(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                            [s["exp_avg_sq"] for s in states], [], steps, lr=group["lr"],
                            beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                            eps=group["eps"], amsgrad=False, maximize=False)
        torch.autograd.graph.increment_version(params)  # the fused kernel does not bump them

    def _step_flat(self, index: int, group: dict) -> set:
        """Every 8-bit parameter of the group in one fused update (:mod:`.optim8bit_flat`);
        returns the parameters it stepped (none: the per-parameter path runs)."""
        new = [p for p in group["params"] if p.grad is not None and not self.state.get(p)
               and p.numel() >= group["min_8bit_size"]]
        if len(new) >= 2 and len(new) == sum(p.numel() >= group["min_8bit_size"]
                                             for p in group["params"]):
            self._flat[index] = FlatStates.fresh(new, self.state, group["block_size"],
                                                 (zero_code(True), zero_code(False)))
        params = [p for p in group["params"] if "exp_avg_codes" in self.state.get(p, {})]
        if (len(params) < 2 or len({self.state[p]["step"] for p in params}) != 1
                or any(p.grad is None or p.grad.is_sparse or not p.is_contiguous()
                       for p in params)):
            return set()
        flat = self._flat.get(index)
        if flat is None or not flat.holds(params, self.state, group["block_size"]):
            flat = FlatStates.build(params, self.state, group["block_size"])
            self._flat[index] = flat
        step = self.state[params[0]]["step"] + 1
        seconds, error = flat_step(flat, group, step, measure_error=self._sample_error,
                                   allow_native=self.use_native, isa=self.native_isa)
        self.last_codec_seconds += seconds
        if error is not None:
            self._errors.append(error)
        for p in params:
            self.state[p]["step"] = step
        return set(params)

    def _step_8bit(self, p: torch.Tensor, state: dict, group: dict) -> None:
        """Decode, update and encode one chunk of ``CHUNK`` values at a time: the float32 moments
        never exist whole (less memory) and each chunk's work stays in cache (faster)."""
        block = group["block_size"]
        chunk = max(CHUNK // block, 1) * block
        flat = p.view(-1) if p.is_contiguous() else p.detach().reshape(-1).clone()
        grad = p.grad.reshape(-1)
        n = flat.numel()
        for lo in range(0, n, chunk):
            hi = min(lo + chunk, n)
            blocks = slice(lo // block, -(-hi // block))
            padded = slice(lo, lo + (blocks.stop - blocks.start) * block)
            start = self._clock(grad)
            moments = [decode_blocks(state[f"{name}_codes"][padded],
                                     state[f"{name}_absmax"][blocks], block, signed)[: hi - lo]
                       for name, signed in _MOMENTS]
            middle = self._clock(grad)
            adamw_update(flat[lo:hi], grad[lo:hi].to(torch.float32), *moments, group, state["step"])
            end = self._clock(grad)
            for (name, signed), value in zip(_MOMENTS, moments, strict=True):
                codes, absmax = encode_blocks(value, block, signed)
                state[f"{name}_codes"][padded].copy_(codes)
                state[f"{name}_absmax"][blocks].copy_(absmax)
                if self._sample_error and lo == 0:  # the sample: this parameter's first values
                    self._errors.append(sample_error(value, codes, absmax, block, signed))
            self.last_codec_seconds += (middle - start) + (self._clock(grad) - end)
        if flat.data_ptr() != p.data_ptr():
            p.copy_(flat.view_as(p))

    def state_nbytes(self) -> int:
        """Every byte of tensor state the optimizer keeps between steps."""
        return sum(t.nbytes for s in self.state.values() for t in s.values()
                   if isinstance(t, torch.Tensor))

    def load_state_dict(self, state_dict: dict) -> None:
        """As torch's, but the 8-bit codes stay uint8 and the scales float32 (torch casts every
        floating-point state to its parameter's dtype and would turn codes into floats)."""
        self.last_state_error = 0.0  # loaded states: unmeasured until the next step
        self._plans.clear()
        saved = state_dict["state"]
        super().load_state_dict(state_dict)
        for group, saved_group in zip(self.param_groups, state_dict["param_groups"], strict=True):
            for p, pid in zip(group["params"], saved_group["params"], strict=True):
                for key in _8BIT_KEYS:
                    if pid in saved and key in saved[pid]:
                        self.state[p][key] = saved[pid][key].to(device=p.device, copy=True)
