"""ryot.core.kv.codes: the cache's codes as pure tensor functions, against the quantizer's
reference and compiled."""

import shutil

import pytest
import torch

from ryot.core.kernels import quantize as qk
from ryot.core.kv.codes import SCALE_DTYPE, quantize_groups, quantize_prompt, round_up_bfloat16
from ryot.workload.infer import prefill as pf


@pytest.mark.parametrize("bits", [8, 4])
def test_quantize_matches_the_reference_codes_within_one_step(bits):
    x = torch.randn(64, 16, generator=torch.Generator().manual_seed(3)) * 3
    x[5] = 0.0  # an all-zero group
    codes, scales = quantize_groups(x, -1, bits)
    ref_codes, ref_scales = qk.quantize_blocks(x, bits)
    assert (codes.int() - ref_codes.int()).abs().max().item() <= 1
    assert scales.dtype == SCALE_DTYPE
    wide = scales.float()
    assert torch.all(wide >= ref_scales) and torch.all(wide <= ref_scales * (1 + 2 ** -7))
    assert codes[5].abs().sum().item() == 0 and scales[5].item() == 0.0
    assert codes.abs().max().item() <= qk.qmax(bits)
    # every value within half a step of the scale it is stored with
    error = (x - codes.float() * wide[:, None]).abs()
    assert torch.all(error <= wide[:, None] * (0.5 + 1e-6))


def test_scales_round_up_to_the_next_bfloat16():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20_000, generator=g) * 10.0 ** torch.randint(-30, 30, (20_000,), generator=g)
    x = torch.cat([x, torch.tensor([0.0, 1.0, 0.5, 3.0, 1.0 + 2 ** -23, float("inf")])])
    up = round_up_bfloat16(x)
    assert up.dtype == torch.bfloat16
    assert torch.all(up.float() >= x)  # never below: no code is clipped
    below = torch.nextafter(up.float().to(torch.bfloat16), torch.tensor(0.0, dtype=torch.bfloat16))
    assert torch.all((below.float() < x) | (up.float() == x))  # the nearest one above
    exact = torch.tensor([0.0, 1.0, 0.5, 3.0, 2.0 ** -100])
    assert torch.equal(round_up_bfloat16(exact).float(), exact)
    assert round_up_bfloat16(torch.tensor([float("nan")])).isnan().all()


needs_cxx = pytest.mark.skipif(shutil.which("g++") is None,
                               reason="inductor compiles C++ with g++; none on PATH")


@needs_cxx
@pytest.mark.parametrize("bits", [8, 4])
def test_quantize_prompt_compiled_gives_the_same_codes(bits):
    g = torch.Generator().manual_seed(2)
    ks, vs = (torch.randn(2, 1, 2, 40, 16, generator=g) * 3,
              torch.randn(2, 1, 2, 40, 16, generator=g))
    ks[0, 0, 1, :16] = 0.0  # an all-zero key group
    args = dict(group=16, value_group=16, bits=bits, key_dtype=torch.bfloat16)
    eager = quantize_prompt(ks, vs, **args)
    compiled = torch.compile(quantize_prompt, dynamic=False, fullgraph=True,
                             options=pf.COMPILE_OPTIONS)(ks, vs, **args)
    for name in eager:
        assert torch.equal(eager[name], compiled[name]), name


@pytest.mark.parametrize("bits", [8, 4])
def test_tiny_groups_keep_the_half_step_bound(bits):
    """A scale below 1e-38 (found in review: a clamp of the divisor broke the bound there)."""
    x = torch.tensor([[1e-37, -5e-38, 2e-38, 0.0], [1e-40, 0.0, -1e-41, 3e-42]])
    codes, scales = quantize_groups(x, -1, bits)
    wide = scales.float()
    error = (x - codes.float() * wide[:, None]).abs()
    assert torch.all(error <= wide[:, None] * (0.5 + 1e-6))
    assert codes.abs().max().item() <= qk.qmax(bits)
