"""The tiled Triton matmul under the interpreter, against float64."""

import pytest
import torch

from ryot.core.kernels.matmul import _matmul_kernel, matmul_reference, matmul_triton
from ryot.core.orchestration.coordinator import KernelConfig

pytestmark = pytest.mark.interpreter

TOL = {torch.float32: 1e-4, torch.bfloat16: 1e-2, torch.float16: 1e-2}


@pytest.mark.parametrize("M, N, K", [(1, 1, 1), (37, 29, 53), (64, 16, 80), (17, 70, 31)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("config", [KernelConfig(16, 16, 16), KernelConfig(32, 16, 32, 2, 3)])
def test_matmul_matches_float64(M, N, K, dtype, config):
    a, b = torch.randn(M, K).to(dtype), torch.randn(K, N).to(dtype)
    c = matmul_triton(a, b, config)
    ref = matmul_reference(a, b)
    assert c.dtype == dtype and c.shape == (M, N)
    rel = ((c.double() - ref).norm() / ref.norm()).item()
    assert rel < TOL[dtype]


def test_every_output_element_is_written():
    M, N, K = 45, 33, 20
    a, b = torch.randn(M, K), torch.randn(K, N)
    c = torch.full((M, N), float("nan"))
    _matmul_kernel[(3, 3)](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                           c.stride(0), c.stride(1), BLOCK_M=16, BLOCK_N=16, BLOCK_K=16,
                           UPCAST=True)
    assert not torch.isnan(c).any()
    torch.testing.assert_close(c.double(), matmul_reference(a, b), rtol=1e-5, atol=1e-5)


def test_transposed_operands_use_their_strides():
    a, b = torch.randn(24, 40).t(), torch.randn(24, 19)
    rel = ((matmul_triton(a, b, KernelConfig(16, 16, 16)).double() - matmul_reference(a, b)).norm()
           / matmul_reference(a, b).norm())
    assert rel < 1e-5


@pytest.mark.parametrize("a, b, message", [
    (torch.randn(3, 4), torch.randn(5, 2), "do not multiply"),
    (torch.randn(3, 4), torch.randn(4, 2).double(), "share a dtype"),
])
def test_bad_inputs(a, b, message):
    with pytest.raises(ValueError, match=message):
        matmul_triton(a, b, KernelConfig(16, 16, 16))
