"""Triton quantize/dequantize under the interpreter: codes bit-identical to torch, full coverage."""

import pytest
import torch

from ryot.core.kernels import quantize as qk
from ryot.core.orchestration.coordinator import CompressionConfig
from ryot.core.quant.blockwise import _encode_torch, decode, encode

pytestmark = pytest.mark.interpreter


@pytest.mark.parametrize("n, block", [(1, 1), (7, 3), (130, 64), (1000, 100), (513, 64)])
@pytest.mark.parametrize("bits", [8, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_codes_are_bit_identical_to_torch(n, block, bits, dtype):
    x = (torch.randn(n) * torch.rand(n) * 10).to(dtype)  # fresh, varied magnitudes
    codes_t, scales_t = _encode_torch(x, block, bits)
    codes_k, scales_k = qk.quantize_triton(x, block, bits)
    assert torch.equal(codes_k, codes_t)
    assert torch.equal(scales_k, scales_t)


@pytest.mark.parametrize("bits", [8, 4])
def test_quantize_kernel_writes_every_code_and_scale(bits):
    n, block = 777, 50
    x = torch.randn(n)
    nblocks = -(-n // block)
    codes = torch.full((nblocks * block,), 99, dtype=torch.int8)  # poison: not a valid code
    scales = torch.full((nblocks,), float("nan"))
    qk._quantize_kernel[(nblocks,)](x, codes, scales, n, nblocks, QMAXF=float(qk.qmax(bits)),
                                    BLOCK=block, BLOCK_P2=64, ROWS=1)
    assert codes.abs().max() <= qk.qmax(bits)
    assert torch.isfinite(scales).all()


@pytest.mark.parametrize("n, block, bits", [(777, 50, 8), (777, 50, 4), (64, 64, 4), (5, 2, 8)])
def test_dequantize_kernel_matches_float64_reference_everywhere(n, block, bits):
    x = torch.randn(n)
    c = encode(x, CompressionConfig(block, bits), backend="eager")
    out = torch.full((n,), float("nan"))  # poisoned: every element must be written
    qk._dequantize_kernel[(-(-n // 128),)](c.codes, c.scales, out, n, BLOCK=block,
                                            PACKED=bits == 4, TILE=128)
    codes = qk.unpack_int4(c.codes) if bits == 4 else c.codes
    nb = c.scales.numel()
    ref = (codes[: nb * block].double().view(nb, block) * c.scales.double()[:, None]).view(-1)[:n]
    assert not torch.isnan(out).any()
    torch.testing.assert_close(out.double(), ref, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(decode(c, backend="triton"), decode(c, backend="eager"), rtol=0,
                               atol=0)
