"""Decode attention from the quantized paged cache, under the interpreter."""

import pytest
import torch

from ryot.core.kernels.decode_attention import attention_reference
from ryot.core.orchestration.coordinator import CompressionConfig, RLVRConfig
from ryot.inference_scaling import optimize_kv_cache

pytestmark = pytest.mark.interpreter


def filled_cache(bits, tokens, batch=2, heads=2, dim=16, group=8, page=32, value_group=8):
    cache = optimize_kv_cache(1, heads, dim, 512, CompressionConfig(group, bits),
                              RLVRConfig(2, 0.9, page), value_group=value_group)
    k, v = torch.randn(batch, heads, tokens, dim), torch.randn(batch, heads, tokens, dim)
    cache.append(0, k, v)
    return cache, k, v


@pytest.mark.parametrize("bits", [8, 4])
@pytest.mark.parametrize("tokens, q_tokens", [(1, 1), (8, 1), (45, 3), (64, 5), (71, 1)])
def test_kernel_matches_torch_path_and_float64(bits, tokens, q_tokens):
    cache, k, v = filled_cache(bits, tokens)
    q = torch.randn(2, 2, q_tokens, 16)
    kernel = cache.attend(0, q, backend="triton")
    torch_path = cache.attend(0, q, backend="torch")
    torch.testing.assert_close(kernel, torch_path, rtol=1e-4, atol=1e-5)
    ref = attention_reference(q, k, v)
    rel = ((kernel.double() - ref).norm() / ref.norm()).item()
    assert rel < (0.03 if bits == 8 else 0.25)  # quantization error, not kernel error


def test_first_query_sees_only_the_first_token():
    cache, k, v = filled_cache(8, 20)
    q = torch.randn(2, 2, 20, 16)
    out = cache.attend(0, q, backend="triton")
    # query 0 attends to position 0 only: its output is the (dequantized) value 0
    _, values = cache.dequantized(0, 0)
    torch.testing.assert_close(out[0, :, 0], values[:, 0], rtol=1e-5, atol=1e-6)


def test_forked_sequences_read_shared_pages():
    cache, k, v = filled_cache(8, 40, batch=1)
    child = cache.fork(0)
    extra_k, extra_v = torch.randn(1, 2, 3, 16), torch.randn(1, 2, 3, 16)
    cache.append(0, extra_k, extra_v, seqs=[child])
    q = torch.randn(1, 2, 1, 16)
    out = cache.attend(0, q, seqs=[child], backend="triton")
    ref = attention_reference(q, torch.cat([k, extra_k], 2), torch.cat([v, extra_v], 2))
    assert ((out.double() - ref).norm() / ref.norm()).item() < 0.03
    torch.testing.assert_close(out, cache.attend(0, q, seqs=[child], backend="torch"),
                               rtol=1e-4, atol=1e-5)
