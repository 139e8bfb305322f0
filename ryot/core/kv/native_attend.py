"""Single-token decode attention over the int8 paged cache by the C loop of
:mod:`ryot.core.native` (``kv_attend.c``): the codes are read in place, no float32 pages are
written. Used by :meth:`ryot.core.kv.cache.QuantizedKVCache.attend` on CPU; its torch path
(dequantize, then SDPA) is the reference the tests hold it to.
"""

from __future__ import annotations

import ctypes

import torch

from ryot.core import native
from ryot.core.kv.pages import PagedLayer

__all__ = ["applicable", "attend_native", "why_not"]

_ARGS = [ctypes.c_int64] * 7 + [ctypes.c_void_p] * 9 + [ctypes.c_int, ctypes.c_int]


def why_not(cache, q: torch.Tensor) -> str | None:
    """Why the C loop cannot serve this call (None: it can)."""
    if native.library("kv_attend") is None:
        return native.status("kv_attend")
    if q.device.type != "cpu":
        return f"q is on {q.device}, the loop reads CPU memory"
    if q.shape[2] != 1:
        return f"{q.shape[2]} query positions: the loop decodes one"
    if cache.bits != 8:
        return f"{cache.bits}-bit codes: the loop reads int8"
    if cache._store["k_scales"].dtype != torch.bfloat16:  # the loop reads bfloat16 bits
        return f"{cache._store['k_scales'].dtype} scales: the loop reads bfloat16"
    if cache.head_dim % 16 or cache.head_dim > 512 or cache.value_group % 16:
        return (f"head_dim={cache.head_dim} and value_group={cache.value_group} must be "
                "multiples of 16 (head_dim <= 512)")
    return None


def applicable(cache, q: torch.Tensor) -> bool:
    return why_not(cache, q) is None


def _loop():
    fn = native.library("kv_attend").ryot_kv_attend
    if fn.argtypes is None:  # (a fresh library: declare its signature once)
        fn.argtypes, fn.restype = _ARGS, ctypes.c_int
    return fn


def _float32(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous() if t.dtype == torch.float32 else t.to(torch.float32).contiguous()


def attend_native(cache, L: PagedLayer, q: torch.Tensor, seqs: list[int]) -> torch.Tensor:
    """``softmax(q kᵀ / sqrt(D)) v`` of one query position per sequence, (B, H, 1, D) float32."""
    fn = _loop()
    B, H, D = q.shape[0], cache.num_heads, cache.head_dim
    width = max(len(L.page_table[s]) for s in seqs)
    table = torch.tensor([L.page_table[s] + [0] * (width - len(L.page_table[s])) for s in seqs],
                         dtype=torch.int32)
    lengths = torch.tensor([L.lengths[s] for s in seqs], dtype=torch.int32)
    query = _float32(q.reshape(B, H, D))
    residual = _float32(L.k_residual[seqs[0]:seqs[0] + 1] if len(seqs) == 1
                        else L.k_residual[seqs])
    parts = [L.k_codes, L.k_scales, L.v_codes, L.v_scales]
    if not all(t.is_contiguous() for t in parts):  # pragma: no cover - storage views are
        parts = [t.contiguous() for t in parts]
    out = torch.empty(B, H, D, dtype=torch.float32)
    failed = fn(B, H, cache.page, cache.group, D, cache.value_group, width, query.data_ptr(),
                parts[0].data_ptr(), parts[1].data_ptr(), parts[2].data_ptr(),
                parts[3].data_ptr(), residual.data_ptr(), table.data_ptr(), lengths.data_ptr(),
                out.data_ptr(), native.isa_request(), torch.get_num_threads())
    if failed:
        raise MemoryError("the native KV attend could not allocate its score buffers")
    return out.view(B, H, 1, D)
