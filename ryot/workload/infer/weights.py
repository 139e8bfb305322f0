"""The optimized path's eager weights: bfloat16 copies of the linear layers, cast (and on CPU
packed for oneDNN) once per weights version, and the rule for when they pay.

Embeddings and layer norms stay float32, as under autocast. On CPU a forward over fewer than
``CPU_BF16_MIN_POSITIONS`` positions per thread runs the float32 weights instead: oneDNN's
bfloat16 GEMM has a fixed cost a few rows cannot amortize (docs/inference.md has the
measurements).
"""

from __future__ import annotations

import copy
import weakref

import torch
import torch.nn as nn
import torch.nn.functional as F

from ryot.workload.model import GPT

__all__ = ["CPU_BF16_MIN_POSITIONS", "inference_copy", "weights_for"]


def _prepack(weight: torch.Tensor, bias: torch.Tensor | None):
    """oneDNN's packed form of a CPU bfloat16 weight (what torch.compile's freezing uses), which
    spares the GEMM re-packing the weight on every call; None where unavailable or not exact."""
    if weight.device.type != "cpu" or weight.dtype != torch.bfloat16:
        return None
    try:
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, None)
        x = torch.randn(2, 3, weight.shape[1], generator=torch.Generator().manual_seed(0))
        x = x.to(weight.dtype)
        same = torch.equal(_packed_linear(x, packed, bias), F.linear(x, weight, bias))
    except (AttributeError, RuntimeError):
        return None
    return packed if same else None


def _packed_linear(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None):
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


class _LowPrecisionLinear(nn.Module):
    """A linear layer whose weights were cast (and on CPU, packed) once: inputs go to the
    weights' dtype and the output stays there — what autocast computes, without casting the
    weights on every call."""

    def __init__(self, linear: nn.Linear, dtype: torch.dtype) -> None:
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach().to(dtype), requires_grad=False)
        bias = None if linear.bias is None else linear.bias.detach().to(dtype)
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.packed = _prepack(self.weight, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.weight.dtype)
        if self.packed is not None:
            return _packed_linear(x, self.packed, self.bias)
        return F.linear(x, self.weight, self.bias)


_copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weights_key(model: nn.Module, dtype: torch.dtype) -> tuple:
    """What identifies the weights: each parameter's storage and autograd version, and each one's
    norm (some updates bypass the version counter: ryot's native AdamW8bit writes through
    ``data_ptr``)."""
    params = [p.detach() for p in model.parameters()]
    norms = torch.stack(torch._foreach_norm(params)).tolist()
    return dtype, tuple((p.data_ptr(), p._version) for p in params), tuple(norms)


def inference_copy(model: GPT, dtype: torch.dtype = torch.bfloat16) -> GPT:
    """An eval-mode copy of ``model`` whose linear layers hold ``dtype`` weights (embeddings and
    layer norms stay float32, as under autocast). Made once per weights version and reused."""
    key = _weights_key(model, dtype)
    hit = _copies.get(model)
    if hit is not None and hit[0] == key:
        return hit[1]
    clone = copy.deepcopy(model).eval().requires_grad_(False)
    for p in clone.parameters():
        p.grad = None
    for name, module in list(clone.named_modules()):
        if type(module) is nn.Linear:
            parent, _, attr = name.rpartition(".")
            setattr(clone.get_submodule(parent), attr, _LowPrecisionLinear(module, dtype))
    _copies[model] = (key, clone)
    return clone


# On CPU, oneDNN's bfloat16 GEMM has a fixed cost per call that more threads do not split,
# while float32 GEMMs of a few rows split across threads; so a forward over fewer positions than
# this many per thread runs the float32 weights (measured: docs/inference.md).
CPU_BF16_MIN_POSITIONS = 32


def weights_for(model: GPT, positions: int, device: torch.device) -> GPT:
    """The weights the optimized path runs a forward over ``positions`` positions with."""
    if device.type == "cpu" and positions < CPU_BF16_MIN_POSITIONS * torch.get_num_threads():
        return model
    return inference_copy(model)
