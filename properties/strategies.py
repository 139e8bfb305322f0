"""Hypothesis strategies shared by the property suites."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from ryot.core.orchestration.coordinator import CompressionConfig, KernelConfig, RLVRConfig

powers_of_two = st.integers(0, 9).map(lambda e: 1 << e)

kernels = st.builds(KernelConfig, tile_m=powers_of_two, tile_n=powers_of_two,
                    tile_k=powers_of_two, num_warps=st.sampled_from([1, 2, 4, 8]),
                    num_stages=st.integers(1, 6))
compressions = st.builds(CompressionConfig, block_size=st.integers(1, 5000),
                         bits=st.sampled_from([4, 8]),
                         error_bound=st.floats(1e-4, 1.0))
rlvrs = st.builds(RLVRConfig, num_paths=st.integers(1, 64),
                  path_selection_threshold=st.floats(0.0, 1.0),
                  kv_page_size=st.integers(1, 70000))

# Compatible-by-construction configs, for machines that must start from a valid state.
@st.composite
def compatible_configs(draw):
    kernel = draw(kernels.filter(lambda k: k.tile_k <= 256))
    block = kernel.tile_k * draw(st.integers(1, 8))
    compression = CompressionConfig(block, draw(st.sampled_from([4, 8])),
                                    draw(st.floats(1e-3, 0.5)))
    rlvr = RLVRConfig(draw(st.integers(1, 16)), draw(st.floats(0.0, 1.0)),
                      block * draw(st.integers(1, 8)))
    return kernel, compression, rlvr


special_floats = st.sampled_from([
    0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-8, 1e-6, 0.05, 10.0,
    np.nextafter(10.0, 11.0), np.nextafter(1e-8, 0.0), np.nextafter(1e-6, 0.0),
    np.nextafter(0.05, 1.0), 1.7976931348623157e308, -1.7976931348623157e308,
    float("nan"), float("inf"), float("-inf"),
])
plain_floats = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
plain_ints = st.one_of(st.integers(-20, 20), st.integers(), st.just(10**400), st.just(-(10**400)))


def _quiet(fn):
    """Build numpy values without overflow warnings (inf is what we want there)."""
    def wrapped(v):
        with np.errstate(over="ignore", invalid="ignore"):
            return fn(v)
    return wrapped


def _np_scalar(kind):
    return plain_floats.map(_quiet(kind)) if kind in (np.float32, np.float64) else \
        st.integers(-(2**62), 2**62).map(kind)


numpy_scalars = st.one_of(_np_scalar(np.float64), _np_scalar(np.float32), _np_scalar(np.int64),
                          plain_floats.map(lambda v: np.array(v)),
                          plain_floats.map(_quiet(lambda v: np.array([v], dtype=np.float32))))
torch_scalars = st.one_of(
    plain_floats.map(lambda v: torch.tensor(v, dtype=torch.float64)),
    plain_floats.map(lambda v: torch.tensor(v, dtype=torch.float32)),
    plain_floats.map(lambda v: torch.tensor([v], dtype=torch.bfloat16)),
    st.integers(-1000, 1000).map(lambda v: torch.tensor(v)),
)
non_numeric = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.just([1.0]),
                        st.just({"v": 1.0}), st.just(torch.ones(2)), st.just(np.ones(3)),
                        st.just(torch.tensor(True)), st.just(complex(1, 0)))
gate_values = st.one_of(special_floats, plain_floats, plain_ints, numpy_scalars, torch_scalars,
                        non_numeric)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=20,
)


def json_paths(node, prefix=()):
    """Every path (tuple of keys and indices) into a JSON document, the root included."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from json_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from json_paths(v, prefix + (i,))


def mutated(doc, path, value, delete: bool):
    """A deep copy of ``doc`` with the value at ``path`` replaced (or its key deleted)."""
    import copy

    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc
