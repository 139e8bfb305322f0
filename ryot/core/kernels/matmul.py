"""Tiled matmul: a Triton kernel whose tiles come from a KernelConfig, and its reference.

Any M, N, K (edges are masked); float32 / bfloat16 / float16 inputs; float32 accumulation;
the output has the inputs' dtype.
"""

from __future__ import annotations

import os

import torch

from ryot.core.config import KernelConfig
from ryot.infra.errors import ConfigError

__all__ = ["matmul_reference", "matmul_triton"]

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover
    triton = tl = None


def matmul_reference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """float64 product (what the kernel is tested against)."""
    return a.double() @ b.double()


if triton is not None:

    @triton.jit
    def _matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                       stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                       BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                       UPCAST: tl.constexpr):
        pid_m = tl.program_id(0)
        pid_n = tl.program_id(1)
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, K, BLOCK_K):
            kk = k0 + rk
            a = tl.load(a_ptr + rm[:, None] * stride_am + kk[None, :] * stride_ak,
                        mask=(rm[:, None] < M) & (kk[None, :] < K), other=0.0)
            b = tl.load(b_ptr + kk[:, None] * stride_bk + rn[None, :] * stride_bn,
                        mask=(kk[:, None] < K) & (rn[None, :] < N), other=0.0)
            if UPCAST:  # the interpreter's dot mishandles bf16; bf16 x bf16 is exact in fp32
                a = a.to(tl.float32)
                b = b.to(tl.float32)
            acc += tl.dot(a, b, out_dtype=tl.float32, input_precision="ieee")
        c = acc.to(c_ptr.dtype.element_ty)
        tl.store(c_ptr + rm[:, None] * stride_cm + rn[None, :] * stride_cn, c,
                 mask=(rm[:, None] < M) & (rn[None, :] < N))


def matmul_triton(a: torch.Tensor, b: torch.Tensor, config: KernelConfig) -> torch.Tensor:
    """``a @ b`` with the tile shape, warps and stages of ``config``."""
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
        raise ConfigError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not multiply")
    if a.dtype != b.dtype or a.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ConfigError(f"matmul: both inputs must share a dtype among float32/float16/bfloat16, "
                         f"got {a.dtype} and {b.dtype}")
    M, K = a.shape
    N = b.shape[1]
    c = torch.empty((M, N), dtype=a.dtype, device=a.device)
    block_k = max(16, config.tile_k)  # tl.dot needs tiles of at least 16
    block_m, block_n = max(16, config.tile_m), max(16, config.tile_n)
    grid = (triton.cdiv(M, block_m), triton.cdiv(N, block_n))
    _matmul_kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                         c.stride(0), c.stride(1), BLOCK_M=block_m,
                         BLOCK_N=block_n, BLOCK_K=block_k,
                         UPCAST=os.environ.get("TRITON_INTERPRET") == "1",
                         num_warps=config.num_warps, num_stages=config.num_stages)
    return c
