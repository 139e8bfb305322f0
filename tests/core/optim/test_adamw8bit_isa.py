"""The vectorized C loop of AdamW8bit (AVX-512 VBMI, AVX-512, AVX2, portable C; chosen at run
time): every ISA and every thread count gives the same bits, and the vector encoders' small
tables encode exactly as the plain binary search over the midpoints does — at every midpoint,
the floats beside it and every bucket's ends."""

from __future__ import annotations

import ctypes

import pytest
import torch

import ryot.core.native as native
from ryot.core.optim.adamw8bit import AdamW8bit
from ryot.core.optim.adamw8bit_flat import code_table_tensors
from ryot.core.optim.encode_table import BINADES, LOWEST_EXPONENT, encode_table
from ryot.core.quant.dynamic_code import code_tables, nearest_codes_reference

pytestmark = pytest.mark.skipif(native.library("adamw8bit") is None,
                                reason=f"no native loop: {native.status('adamw8bit')}")


def available_isas() -> list[str]:
    """The ISAs this CPU runs (a request it cannot meet falls to the next one down)."""
    choose = native.library("adamw8bit").ryot_adamw8bit_isa
    choose.argtypes, choose.restype = [ctypes.c_int], ctypes.c_int
    return sorted({native.ISAS[choose(native.ISAS.index(name))]
                   for name in native.ISAS[1:]}, key=native.ISAS.index)


def encode(isa: str, values: torch.Tensor, signed: bool, safe: float = 1.0) -> torch.Tensor:
    fn = native.library("adamw8bit").ryot_adamw8bit_encode
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int64, ctypes.c_float,
                   ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                   ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p]
    values = values.contiguous()
    assert values.numel() % 16 == 0
    codes = torch.empty(values.numel(), dtype=torch.uint8)
    levels, low, above, table, binades, planes = code_table_tensors(signed)
    used = fn(native.ISAS.index(isa), int(signed), values.data_ptr(), values.numel(), safe,
              levels.data_ptr(), low.data_ptr(), above.data_ptr(), table.data_ptr(),
              binades.data_ptr(), encode_table(signed).width, planes.data_ptr(), codes.data_ptr())
    assert native.ISAS[used] == isa
    return codes


def bucket_ends() -> torch.Tensor:
    """The first and last float of every bfloat16-sized bucket (top 7 mantissa bits) of every
    binade the encode table holds, and the binade below the lowest: the vector table's buckets
    are unions of these, so each of its buckets' ends is among them."""
    exponents = torch.arange(LOWEST_EXPONENT - 1, LOWEST_EXPONENT + BINADES, dtype=torch.int32)
    first = (exponents[:, None] << 23) | (torch.arange(128, dtype=torch.int32) << 16)
    return torch.cat([first, first | 0xFFFF]).flatten().view(torch.float32)


def near_midpoints(signed: bool) -> torch.Tensor:
    """Every midpoint of the code and the 3 floats on each side of it, and every bucket's ends
    (:func:`bucket_ends`), both signs, with zeros, the smallest normals and subnormals, values
    past ±1 (clamped) and NaN; padded to 16s."""
    _, midpoints = code_tables(signed, torch.device("cpu"))
    bits = midpoints.view(torch.int32)
    around = torch.cat([*((bits + k).view(torch.float32) for k in range(-3, 4)), bucket_ends()])
    special = torch.tensor([0.0, -0.0, 1.0, -1.0, 1.5, -1.5, 1e-38, -1e-38, 1e-45, -1e-45,
                            1e-30, -1e-30, 3e-7, -3e-7, float("nan"), 2.0 ** -22])
    # the special values first, so the VBMI path's 64-value runs see them (NaN among them)
    x = torch.cat([special, around, -around, special[:7]])
    return torch.cat([x, x.new_zeros(-x.numel() % 16)])


@pytest.mark.parametrize("signed", [True, False])
def test_every_isa_encodes_as_the_binary_search(signed):
    x = near_midpoints(signed)
    lo = -1.0 if signed else 0.0
    finite = ~torch.isnan(x)
    want = nearest_codes_reference(x.clamp(lo, 1.0)[finite], signed)
    codes = {isa: encode(isa, x, signed) for isa in available_isas()}
    for isa, got in codes.items():
        assert torch.equal(got[finite], want), isa
        assert torch.equal(got, codes["portable"]), isa  # NaN too: code 0 everywhere
    assert int(codes["portable"][~finite].max()) == 0


@pytest.mark.parametrize("signed", [True, False])
def test_every_isa_encodes_random_blocks_alike(signed):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1 << 14, generator=gen) * torch.logspace(-9, 0, 1 << 14)
    if not signed:
        x = x.abs()
    for safe in (1.0, float(x.abs().max()), 3.7e-5):
        reference = encode("portable", x, signed, safe)
        for isa in available_isas():
            assert torch.equal(encode(isa, x, signed, safe), reference), (isa, safe)


SIZES = (4096 + 13, 5000 + 3, 64 * 70 + 1, 300, 8192)  # ends inside blocks and lanes; one small


def _parameters() -> list[torch.Tensor]:
    """Leaf tensors side by side in one buffer: a write past a parameter's end lands in the next
    one, where the comparison sees it."""
    buffer = torch.randn(sum(SIZES), generator=torch.Generator().manual_seed(0))
    bounds = torch.tensor((0, *SIZES)).cumsum(0).tolist()
    return [buffer[a:b].detach().requires_grad_()
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _train(isa: str, threads: int, monkeypatch, *, betas=(0.9, 0.999), weight_decay=0.1,
           block_size=64):
    """Four steps on parameters that end inside a block (padding exercised)."""
    monkeypatch.setenv("RYOT_NATIVE_ISA", isa)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        params = _parameters()
        opt = AdamW8bit(params, betas=betas, weight_decay=weight_decay, block_size=block_size)
        errors = []
        for i in range(4):
            gen = torch.Generator().manual_seed(i)
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen) * 10.0 ** (i - 2)
            opt.step()
            errors.append(opt.last_state_error)
    finally:
        torch.set_num_threads(before)
    flat = opt._flat[0]
    sums = flat.addresses[-1].clone()  # the last step's raw sampled sums, per parameter
    return [p.detach().clone() for p in params], flat.tensors, errors, sums


@pytest.mark.parametrize("betas, weight_decay", [((0.9, 0.999), 0.1), ((0.3, 0.9), 0.0)],
                         ids=["default", "beta1<0.5 (lerp's other branch), no decay"])
def test_every_isa_and_thread_count_steps_to_the_same_bits(monkeypatch, betas, weight_decay):
    runs = {(isa, threads): _train(isa, threads, monkeypatch, betas=betas,
                                   weight_decay=weight_decay)
            for isa in available_isas() for threads in (1, 2)}
    params, states, errors, _ = runs[("portable", 1)]
    assert all(0.0 < e < 0.05 for e in errors)
    _assert_alike(runs)


def _assert_alike(runs: dict) -> None:
    params, states, errors, sums = runs[("portable", 1)]
    for key, (p, s, e, raw) in runs.items():
        for a, b in zip(params, p, strict=True):
            assert torch.equal(a, b), key
        for name, t in states.items():
            assert torch.equal(t, s[name]), (key, name)
        assert e == errors, key  # the sampled errors are summed in block order
        assert torch.equal(raw, sums), key  # ... and within a block in the same eight lanes


@pytest.mark.parametrize("block_size", [16, 32, 256, 8192])
def test_every_isa_steps_alike_at_other_block_sizes(monkeypatch, block_size):
    """16, 32: blocks shorter than the VBMI path's 64 values (its 16-lane rest does all); 256:
    four 64-value runs per block; 8192: sampled runs that end inside a block (the sample is a
    parameter's first 4096 values; SIZES has a parameter of 300)."""
    _assert_alike({(isa, threads): _train(isa, threads, monkeypatch, block_size=block_size)
                   for isa in available_isas() for threads in (1, 2)})


def test_an_isa_request_the_cpu_cannot_meet_runs_the_next_one_down(monkeypatch):
    isas = available_isas()
    assert isas[0] == "portable"
    monkeypatch.setenv("RYOT_NATIVE_ISA", "avx512vbmi")
    assert native.isa("adamw8bit") == isas[-1]
    monkeypatch.setenv("RYOT_NATIVE_ISA", "avx512")
    assert native.isa("adamw8bit") == [i for i in isas if i != "avx512vbmi"][-1]
    monkeypatch.setenv("RYOT_NATIVE_ISA", "portable")
    assert native.isa("adamw8bit") == "portable"
    assert native.status("adamw8bit") == "native (portable)"
    monkeypatch.setenv("RYOT_NATIVE_ISA", "sse9")
    with pytest.warns(RuntimeWarning, match="RYOT_NATIVE_ISA='sse9' is not one of"):
        assert native.isa("adamw8bit") == isas[-1]


def test_without_openmp_the_posix_threads_build_steps_alike(monkeypatch):
    """A compiler without -fopenmp (the first build fails): the loop is built again without it
    and splits its blocks over POSIX threads, with the same bits."""
    want = _train("auto", 2, monkeypatch)
    monkeypatch.setattr(native, "OPENMP", ("-fno-such-openmp-flag",))
    native.library.cache_clear()
    try:
        assert native.library("adamw8bit") is not None, native.status("adamw8bit")
        got = _train("auto", 2, monkeypatch)
    finally:
        native.library.cache_clear()
    for a, b in zip(want[0], got[0], strict=True):
        assert torch.equal(a, b)
    assert got[2] == want[2]


@pytest.mark.parametrize("signed", [True, False])
def test_the_vbmi_tables_hold_the_levels_midpoints_and_low_codes(signed):
    """The byte planes put back together are the code's levels and its midpoints with +inf
    above the last; the low codes are the entries' low bytes (the unsigned code's negative
    buckets left out), zero-padded."""
    from ryot.core.optim.encode_table import LOW_CODES, byte_planes

    table = encode_table(signed)
    planes = table.planes
    levels, midpoints = code_tables(signed, torch.device("cpu"))

    def floats(offset: int) -> torch.Tensor:
        return planes[offset:offset + 1024].view(4, 256).t().contiguous().view(torch.float32)

    assert planes.dtype == torch.uint8 and planes.numel() == LOW_CODES + 2048
    assert torch.equal(floats(LOW_CODES).flatten(), levels)
    assert torch.equal(floats(LOW_CODES + 1024).flatten(),
                       torch.cat([midpoints, torch.tensor([float("inf")])]))
    buckets = 2 * table.width if signed else table.width
    assert torch.equal(planes[:buckets], (table.entries[:buckets] & 0xFF).to(torch.uint8))
    assert int(planes[buckets:LOW_CODES].max()) == 0
    with pytest.raises(ValueError, match="holds 256 values, got 3"):
        byte_planes([1.0, 2.0, 3.0])
