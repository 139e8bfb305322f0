"""One fused AdamW8bit update of every 8-bit parameter of a group (used by
:mod:`ryot.core.optim.adamw8bit`).

The group's 8-bit states live in four flat tensors (codes and scales of both moments, each
parameter padded to whole blocks); every parameter's own state entries are views into them, so
checkpoints and the per-parameter path see the same bytes. One step then runs either

* the C loop of :mod:`ryot.core.native` (``adamw8bit.c``): decode, update, encode block by block
  in one pass, vectorized (AVX-512 or AVX2, chosen at run time) and split over torch's intra-op
  thread count (``torch.get_num_threads()``), or
* the torch reference: ~30 tensor operations over the concatenated states (the same float32
  operations in the same order; what the C loop is tested against).

The C loop runs when it is available (``ryot.core.native.status("adamw8bit")``) and every
parameter and gradient is a contiguous float32 CPU tensor; otherwise the torch path.
"""

from __future__ import annotations

import ctypes
import math
import time
from dataclasses import dataclass
from functools import cache

import torch

from ryot.core import native
from ryot.core.optim.encode_table import encode_table
from ryot.core.quant.blockwise import norm_ratio
from ryot.core.quant.dynamic_code import bucket_tables, code_tables, decode_blocks, encode_blocks
from ryot.measure.timing import synchronize

__all__ = [
    "ERROR_SAMPLE", "MOMENTS", "STATE_KEYS", "TORCH_CHUNK", "FlatStates", "adamw_update",
    "clock", "code_table_tensors", "flat_step", "largest", "native_ready", "relative_error",
    "sample_error", "sampled_error", "step_native"
]

MOMENTS = (("exp_avg", True), ("exp_avg_sq", False))  # (state, signed code)
STATE_KEYS = ("exp_avg_codes", "exp_avg_absmax", "exp_avg_sq_codes", "exp_avg_sq_absmax")
ERROR_SAMPLE = 4096  # values of each parameter whose quantization error is measured
TORCH_CHUNK = 1 << 20  # padded values per chunk of the torch path (~4 MiB per float32 temporary)


def adamw_update(param: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor,
                 exp_avg_sq: torch.Tensor, group: dict, step: int) -> None:
    """``torch.optim.AdamW``'s update of flat float32 tensors, in place (its order of
    operations)."""
    beta1, beta2 = group["betas"]
    lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
    denom = (exp_avg_sq.sqrt() / math.sqrt(bias2)).add_(eps)
    if wd:
        param.mul_(1 - lr * wd)
    param.addcdiv_(exp_avg, denom, value=-lr / bias1)


def relative_error(x: torch.Tensor, y: torch.Tensor) -> float:
    """``‖x − y‖ / ‖x‖`` (:func:`ryot.core.quant.blockwise.norm_ratio`'s rule at zero)."""
    return norm_ratio(torch.linalg.vector_norm(x - y).item(), torch.linalg.vector_norm(x).item())


def largest(errors: list[float]) -> float | None:
    """The largest error; NaN if any is (Python's ``max`` would depend on the order); None for
    none."""
    if not errors:
        return None
    return math.nan if any(math.isnan(e) for e in errors) else max(errors)


def sample_error(value: torch.Tensor, codes: torch.Tensor, absmax: torch.Tensor, block: int,
                 signed: bool) -> float:
    """The relative quantization error of one parameter's moment over its first
    ``ERROR_SAMPLE`` values (``codes`` and ``absmax`` start where ``value`` does)."""
    k = min(ERROR_SAMPLE, value.numel())
    nblocks = -(-k // block)
    back = decode_blocks(codes[: nblocks * block], absmax[:nblocks], block, signed)[:k]
    return relative_error(value[:k], back)


def sampled_error(flat: FlatStates, name: str, signed: bool, value: torch.Tensor) -> float:
    """The largest :func:`sample_error` of ``value`` (a moment, flat over the group) as its codes
    now stand, over every parameter."""
    codes, absmax, block = flat.tensors[f"{name}_codes"], flat.tensors[f"{name}_absmax"], flat.block
    errors, start = [], 0
    for size, padded in zip(flat.sizes, flat.padded, strict=True):
        errors.append(sample_error(value[start:start + size], codes[start:],
                                   absmax[start // block:], block, signed))
        start += padded
    return largest(errors)


@dataclass
class FlatStates:
    params: list
    sizes: list[int]  # values per parameter
    padded: list[int]  # values per parameter, padded to whole blocks
    block: int
    tensors: dict[str, torch.Tensor]  # STATE_KEYS -> flat tensor
    block_param: torch.Tensor  # int32 per block: which parameter it belongs to
    block_offset: torch.Tensor  # int64 per block: where in its parameter it starts
    views: dict | None = None  # STATE_KEYS -> the per-parameter views handed to the states
    addresses: tuple | None = None  # the C loop's pointer arrays (see _addresses)

    @classmethod
    def build(cls, params: list, state: dict, block: int) -> FlatStates:
        """Concatenate the parameters' existing states (a load, a re-block, a first flat step)."""
        return cls._adopt(params, state, block,
                          {key: torch.cat([state[p][key] for p in params]) for key in STATE_KEYS})

    @classmethod
    def fresh(cls, params: list, state: dict, block: int,
              zero_codes: tuple[int, int]) -> FlatStates:
        """Zero states (step 0) allocated flat from the start; ``zero_codes``: the code of 0.0 of
        the signed and of the unsigned code."""
        total = sum(-(-p.numel() // block) * block for p in params)
        device = params[0].device
        for p in params:
            state[p]["step"] = 0
        return cls._adopt(params, state, block, {
            "exp_avg_codes": torch.full((total,), zero_codes[0], dtype=torch.uint8, device=device),
            "exp_avg_absmax": torch.zeros(total // block, device=device),
            "exp_avg_sq_codes": torch.full((total,), zero_codes[1], dtype=torch.uint8,
                                           device=device),
            "exp_avg_sq_absmax": torch.zeros(total // block, device=device)})

    @classmethod
    def _adopt(cls, params: list, state: dict, block: int, tensors: dict) -> FlatStates:
        """Make each parameter's state entries views of ``tensors``."""
        sizes = [p.numel() for p in params]
        padded = [-(-n // block) * block for n in sizes]
        views = {}
        for key in STATE_KEYS:
            per_value = 1 if key.endswith("codes") else block
            views[key] = tensors[key].split([k // per_value for k in padded])
            for p, view in zip(params, views[key], strict=True):
                state[p][key] = view
        counts = [k // block for k in padded]
        block_param = torch.repeat_interleave(torch.arange(len(params), dtype=torch.int32),
                                              torch.tensor(counts))
        block_offset = torch.cat([torch.arange(c, dtype=torch.int64) * block for c in counts])
        return cls(params, sizes, padded, block, tensors, block_param, block_offset, views)

    def holds(self, params: list, state: dict, block: int) -> bool:
        """True while ``params`` are this buffer's parameters and their states still its views."""
        if block != self.block or len(params) != len(self.params):
            return False
        if any(a is not b for a, b in zip(params, self.params, strict=True)):
            return False
        if self.views is not None and all(  # the very views handed out: nothing to compare
                state[p][key] is view for key in STATE_KEYS
                for p, view in zip(params, self.views[key], strict=True)):
            return True
        for key in STATE_KEYS:
            per_value = 1 if key.endswith("codes") else block
            address, size = self.tensors[key].data_ptr(), self.tensors[key].element_size()
            for p, k in zip(params, self.padded, strict=True):
                if state[p][key].data_ptr() != address:
                    return False
                address += k // per_value * size
        return True

    def split(self, values: torch.Tensor) -> list[torch.Tensor]:
        """Per-parameter views of a flat padded tensor, shaped like the parameters."""
        pieces = values.split(self.padded)
        return [piece[:n].view_as(p)
                for piece, n, p in zip(pieces, self.sizes, self.params, strict=True)]


def clock(device: torch.device) -> float:
    """``perf_counter`` after the device has finished its queued work."""
    synchronize(device)  # a no-op on CPU
    return time.perf_counter()


def flat_step(flat: FlatStates, group: dict, step: int, *, measure_error: bool,
              allow_native: bool = True, isa: str | None = None) -> tuple[float, float | None]:
    """Step every parameter of ``flat``; returns (seconds spent on the states' codec — the whole
    fused step for the C loop —, the relative state error when ``measure_error``)."""
    if allow_native and native_ready(flat):
        return step_native(flat, group, step, measure_error, isa)
    return _step_torch(flat, group, step, measure_error)


def native_ready(flat: FlatStates) -> bool:
    """The C loop is built and can step ``flat`` as its parameters and gradients are now."""
    return native.library("adamw8bit") is not None and all(
        p.device.type == "cpu" and p.dtype == torch.float32 and p.grad.dtype == torch.float32
        and p.grad.is_contiguous() for p in flat.params)


def _chunks(flat: FlatStates) -> list[tuple[int, int, int, int]]:
    """Runs of whole parameters, ``(first, end, value_start, value_end)``, each at most
    ``TORCH_CHUNK`` padded values unless one parameter alone is larger: the torch path's float32
    temporaries are bounded by a chunk, not the whole group."""
    runs, first, start, offset = [], 0, 0, 0
    for i, k in enumerate(flat.padded):
        if offset + k - start > TORCH_CHUNK and i > first:
            runs.append((first, i, start, offset))
            first, start = i, offset
        offset += k
    runs.append((first, len(flat.padded), start, offset))
    return runs


def _step_torch(flat: FlatStates, group: dict, step: int,
                measure_error: bool) -> tuple[float, float | None]:
    seconds, errors = 0.0, []
    for first, end, lo, hi in _chunks(flat):
        tensors = {key: t[lo // _per_value(key, flat.block): hi // _per_value(key, flat.block)]
                   for key, t in flat.tensors.items()}
        part = FlatStates(flat.params[first:end], flat.sizes[first:end], flat.padded[first:end],
                          flat.block, tensors, flat.block_param, flat.block_offset)
        part_seconds, part_error = _step_torch_whole(part, group, step, measure_error)
        seconds += part_seconds
        errors += [] if part_error is None else [part_error]
    return seconds, largest(errors)


def _per_value(key: str, block: int) -> int:
    return 1 if key.endswith("codes") else block


def _step_torch_whole(flat: FlatStates, group: dict, step: int,
                      measure_error: bool) -> tuple[float, float | None]:
    block, device = flat.block, flat.params[0].device
    pads = [torch.zeros(k - n, device=device) for n, k in zip(flat.sizes, flat.padded, strict=True)]
    grad = torch.cat([t for p, pad in zip(flat.params, pads, strict=True)
                      for t in (p.grad.reshape(-1).to(torch.float32), pad)])
    start = clock(device)
    exp_avg, exp_avg_sq = (decode_blocks(flat.tensors[f"{name}_codes"],
                                         flat.tensors[f"{name}_absmax"], block, signed)
                           for name, signed in MOMENTS)
    middle = clock(device)
    beta1, beta2 = group["betas"]
    lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** step)).add_(eps)
    if wd:
        torch._foreach_mul_(flat.params, 1 - lr * wd)
    torch._foreach_addcdiv_(flat.params, flat.split(exp_avg), flat.split(denom),
                            value=-lr / (1 - beta1 ** step))  # torch AdamW's order
    end = clock(device)
    errors = []
    for (name, signed), value in zip(MOMENTS, (exp_avg, exp_avg_sq), strict=True):
        codes, absmax = encode_blocks(value, block, signed)
        flat.tensors[f"{name}_codes"].copy_(codes)
        flat.tensors[f"{name}_absmax"].copy_(absmax)
        if measure_error:
            errors.append(sampled_error(flat, name, signed, value))
    seconds = (middle - start) + (clock(device) - end)
    return seconds, largest(errors)


_P, _I32 = ctypes.c_void_p, ctypes.c_int32
_ARGS = [ctypes.c_int64, ctypes.c_int64, *[_P] * 9, *[_P] * 5, _I32, _P, *[_P] * 5, _I32, _P,
         ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_float,
         ctypes.c_int, ctypes.c_float, ctypes.c_float, ctypes.c_int64, _P, _P, ctypes.c_int,
         ctypes.c_int]


@cache
def code_table_tensors(signed: bool) -> tuple[torch.Tensor, ...]:
    """The tables the C loop reads for one code: levels, low codes, midpoints above (the
    portable path's), the vector paths' :func:`~ryot.core.optim.encode_table.encode_table`
    entries and binades, and the VBMI path's byte planes (built once per process and kept alive
    here)."""
    cpu = torch.device("cpu")
    table = encode_table(signed)
    return (code_tables(signed, cpu)[0], *bucket_tables(signed, cpu), table.entries,
            table.binades, table.planes)


@cache
def _tables() -> tuple[int, ...]:
    """Per code (signed, then unsigned) the tables' addresses with the vector table's width
    before the planes, as the loop takes them."""
    def code(signed: bool) -> tuple[int, ...]:
        *tables, planes = (t.data_ptr() for t in code_table_tensors(signed))
        return (*tables, encode_table(signed).width, planes)

    return code(True) + code(False)


def _addresses(flat: FlatStates) -> tuple:
    """The parameters', gradients' and sizes' arrays for the C loop and its scratch array of
    per-block errors, rebuilt only when a parameter or gradient moved
    (``zero_grad(set_to_none=True)`` gives new gradients)."""
    key = tuple(p.data_ptr() for p in flat.params) + tuple(p.grad.data_ptr() for p in flat.params)
    if flat.addresses is None or flat.addresses[0] != key:
        n = len(flat.params)
        pointers = ctypes.c_void_p * n
        flat.addresses = (key, pointers(*key[:n]), pointers(*key[n:]),
                          torch.tensor(flat.sizes, dtype=torch.int64),
                          torch.empty(4 * flat.block_param.numel(), dtype=torch.float64),
                          torch.empty(4 * n, dtype=torch.float64))
    return flat.addresses[1:]


def _loop():
    fn = native.library("adamw8bit").ryot_adamw8bit_step
    if fn.argtypes is None:  # (a fresh library: declare its signature once)
        fn.argtypes, fn.restype = _ARGS, ctypes.c_int
    return fn


def step_native(flat: FlatStates, group: dict, step: int, measure_error: bool,
                isa: str | None = None) -> tuple[float, float | None]:
    """One step of ``flat`` by the C loop (:func:`native_ready` must hold); returns (seconds of
    the loop, the sampled state error when ``measure_error``). ``isa``: one of ``native.ISAS``
    (a request: the CPU may run a lower one); None: what ``RYOT_NATIVE_ISA`` says."""
    fn = _loop()
    beta1, beta2 = group["betas"]
    lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
    params, grads, sizes, block_errors, sample = _addresses(flat)
    sample_values = ERROR_SAMPLE if measure_error else 0
    sample.zero_()  # per parameter: the loop adds to it
    t = flat.tensors
    start = time.perf_counter()
    failed = fn(flat.block_param.numel(), flat.block, flat.block_param.data_ptr(),
                flat.block_offset.data_ptr(), params, grads, sizes.data_ptr(),
                t["exp_avg_codes"].data_ptr(), t["exp_avg_absmax"].data_ptr(),
                t["exp_avg_sq_codes"].data_ptr(), t["exp_avg_sq_absmax"].data_ptr(), *_tables(),
                1 - beta1, beta2, 1 - beta2, -lr / (1 - beta1 ** step), 1 - lr * wd, int(bool(wd)),
                math.sqrt(1 - beta2 ** step), eps, sample_values, sample.data_ptr(),
                block_errors.data_ptr(),
                native.ISAS.index(isa) if isa else native.isa_request(), torch.get_num_threads())
    seconds = time.perf_counter() - start
    torch.autograd.graph.increment_version(flat.params)  # written through data_ptr: say so
    if failed:
        raise MemoryError("the native AdamW8bit step could not allocate its block buffers")
    if not measure_error:
        return seconds, None
    errors = [math.nan if not math.isfinite(row[i] + row[i + 1]) else
              norm_ratio(math.sqrt(row[i]), math.sqrt(row[i + 1]))
              for row in sample.view(-1, 4).tolist() for i in (0, 2)]
    return seconds, largest(errors)
