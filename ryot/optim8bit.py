"""AdamW with 8-bit block-wise optimizer states (bitsandbytes' ``AdamW8bit``, in pure torch).

Both Adam moments of every parameter with at least ``min_8bit_size`` elements are kept between
steps as uint8 codes of the dynamic code (:mod:`ryot.dynamic_code`) plus one float32 absmax per
block of ``block_size`` values: ``exp_avg`` with the *signed* code, ``exp_avg_sq`` (never
negative, spanning many decades) with the *unsigned* code — bitsandbytes' choice for its second
state (``qmap2 = create_dynamic_map(signed=False)``), which gives the non-negative moment all 256
levels instead of wasting the negative half. Per element that is 1 + 4/block_size bytes per state
instead of 4 (0.254x at block 256). Each step dequantizes both moments, runs the exact
``torch.optim.AdamW`` update in float32 and quantizes them again. Smaller parameters (biases,
norms) keep float32 moments, as bitsandbytes' ``min_8bit_size`` = 4096.

``last_state_error``: after each step, the relative L2 error ``‖s − ŝ‖ / ‖s‖`` of the state
quantization on a sample (the first ``ERROR_SAMPLE`` values of the first 8-bit parameter's
``exp_avg`` and ``exp_avg_sq``, the larger of the two) — the number a compression gate watches.
``state_nbytes()`` counts every byte of optimizer state. ``last_codec_seconds``: the time the
last step spent decoding and encoding states (the cost of the compression, for the overhead
analysis). ``set_block_size`` re-blocks every 8-bit state (the orchestrator may ask for smaller
blocks when the state error nears its gate).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import torch

from .dynamic_code import check_block_size, decode_blocks, encode_blocks
from .timing import synchronize

MIN_8BIT_SIZE = 4096
ERROR_SAMPLE = 4096
_8BIT_KEYS = ("exp_avg_codes", "exp_avg_absmax", "exp_avg_sq_codes", "exp_avg_sq_absmax")


def _check_float(name: str, value: object, low: float, high: float, *, open_high: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (value >= high if open_high else value > high):
        raise ValueError(f"{name} must be in [{low}, {high}{')' if open_high else ']'}, got {value!r}")
    return float(value)


def _relative_error(x: torch.Tensor, y: torch.Tensor) -> float:
    den = torch.linalg.vector_norm(x).item()
    num = torch.linalg.vector_norm(x - y).item()
    return 0.0 if den == 0 else num / den


class AdamW8bit(torch.optim.Optimizer):
    """``torch.optim.AdamW`` (decoupled weight decay, bias correction) with 8-bit states."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, block_size: int = 256,
                 min_8bit_size: int = MIN_8BIT_SIZE) -> None:
        lr = _check_float("lr", lr, 0.0, math.inf)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of numbers, got {betas!r}")
        betas = (_check_float("betas[0]", betas[0], 0.0, 1.0), _check_float("betas[1]", betas[1], 0.0, 1.0))
        eps = _check_float("eps", eps, 0.0, math.inf)
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        weight_decay = _check_float("weight_decay", weight_decay, 0.0, math.inf)
        block_size = check_block_size(block_size)
        if isinstance(min_8bit_size, bool) or not isinstance(min_8bit_size, int) or min_8bit_size < 1:
            raise ValueError(f"min_8bit_size must be a positive int, got {min_8bit_size!r}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, block_size=block_size,
                        min_8bit_size=min_8bit_size)
        super().__init__(params, defaults)
        self.last_state_error = 0.0
        self.last_codec_seconds = 0.0

    def _clock(self, tensor: torch.Tensor) -> float:
        synchronize(tensor.device)  # a no-op on CPU
        return time.perf_counter()

    def set_block_size(self, block_size: int) -> None:
        """Use ``block_size`` from now on: every 8-bit state is decoded and encoded again."""
        block_size = check_block_size(block_size)
        for group in self.param_groups:
            old = group["block_size"]
            if old == block_size:
                continue
            for p in group["params"]:
                state = self.state.get(p)
                if not state or "exp_avg_codes" not in state:
                    continue
                for name, signed in (("exp_avg", True), ("exp_avg_sq", False)):
                    values = decode_blocks(state[f"{name}_codes"], state[f"{name}_absmax"], old, signed)
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
                codes, absmax = encode_blocks(torch.zeros(nblocks * block, device=p.device), block, signed)
                state[f"{name}_codes"], state[f"{name}_absmax"] = codes, absmax
        else:
            state["exp_avg"] = torch.zeros_like(p, dtype=torch.float32, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, dtype=torch.float32, memory_format=torch.preserve_format)
        return state

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001 - torch's signature
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        sampled = False
        codec_seconds = 0.0
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd, block = group["lr"], group["eps"], group["weight_decay"], group["block_size"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("AdamW8bit does not support sparse gradients")
                state = self.state[p] if self.state[p] else self._init_state(p, group)
                state["step"] += 1
                step = state["step"]
                quantized = "exp_avg_codes" in state
                grad = p.grad.detach().reshape(-1).to(torch.float32)
                n = grad.numel()
                if quantized:
                    start = self._clock(grad)
                    m = decode_blocks(state["exp_avg_codes"], state["exp_avg_absmax"], block, True)[:n]
                    v = decode_blocks(state["exp_avg_sq_codes"], state["exp_avg_sq_absmax"], block, False)[:n]
                    codec_seconds += self._clock(grad) - start
                else:
                    m, v = state["exp_avg"].view(-1), state["exp_avg_sq"].view(-1)
                m.lerp_(grad, 1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
                denom = (v.sqrt() / math.sqrt(bias2)).add_(eps)
                if wd:
                    p.mul_(1 - lr * wd)
                p.addcdiv_(m.view_as(p), denom.view_as(p), value=-lr / bias1)  # torch AdamW's order
                if quantized:
                    for name, value, signed in (("exp_avg", m, True), ("exp_avg_sq", v, False)):
                        start = self._clock(value)
                        codes, absmax = encode_blocks(value, block, signed)
                        state[f"{name}_codes"], state[f"{name}_absmax"] = codes, absmax
                        codec_seconds += self._clock(value) - start
                        if not sampled:
                            k = min(ERROR_SAMPLE, n)
                            back = decode_blocks(codes[: -(-k // block) * block], absmax[: -(-k // block)],
                                                 block, signed)[:k]
                            err = _relative_error(value[:k], back)
                            self.last_state_error = err if name == "exp_avg" else max(self.last_state_error, err)
                    sampled = True
        self.last_codec_seconds = codec_seconds
        return loss

    def state_nbytes(self) -> int:
        """Every byte of tensor state the optimizer keeps between steps."""
        return sum(t.nbytes for s in self.state.values() for t in s.values() if isinstance(t, torch.Tensor))

    def load_state_dict(self, state_dict: dict) -> None:
        """As torch's, but the 8-bit codes stay uint8 and the scales float32 (torch casts every
        floating-point state to its parameter's dtype and would turn codes into floats)."""
        saved = state_dict["state"]
        super().load_state_dict(state_dict)
        for group, saved_group in zip(self.param_groups, state_dict["param_groups"], strict=True):
            for p, pid in zip(group["params"], saved_group["params"], strict=True):
                for key in _8BIT_KEYS:
                    if pid in saved and key in saved[pid]:
                        self.state[p][key] = saved[pid][key].to(device=p.device, copy=True)
