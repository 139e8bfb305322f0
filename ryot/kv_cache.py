"""A paged, block-quantized KV cache (int8 or int4) that decode attention reads in place.

The cache quantizes keys per channel over groups of ``compression.block_size`` tokens and values
per token over groups of ``value_group`` channels — the asymmetric grouping of KIVI (Liu et al.,
2024), because keys have outlier channels and values do not. The newest keys, until a group of
``block_size`` tokens is complete, stay unquantized. Pages hold ``rlvr.kv_page_size`` tokens,
a whole number of key groups (the orchestrator's precedence rule), and sequences may share
pages: :meth:`QuantizedKVCache.fork` gives a candidate path the prompt's pages without a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .config import CompressionConfig, RLVRConfig
from .fast_paths import maybe_compiled
from .kernels import quantize as qk
from .kernels import use_triton
from .kernels.decode_attention import decode_attention_triton

COMPILE_MIN_TOKENS = 512  # below this, compiling the dequantization does not pay


def _quantize_rows(rows: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, group) float -> codes (n, group) int8, scales (n,) float32."""
    return qk.quantize_blocks(rows.to(torch.float32), bits)


def _store_codes(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """Pack along the last dim for 4 bits (pairs of channels), keep int8 otherwise."""
    if bits == 8:
        return codes
    return qk.pack_int4(codes.reshape(-1)).view(*codes.shape[:-1], codes.shape[-1] // 2)


def _load_codes(stored: torch.Tensor, bits: int) -> torch.Tensor:
    if bits == 8:
        return stored
    return qk.unpack_int4(stored.reshape(-1)).view(*stored.shape[:-1], stored.shape[-1] * 2)


@dataclass
class _Layer:
    k_codes: torch.Tensor
    k_scales: torch.Tensor
    v_codes: torch.Tensor
    v_scales: torch.Tensor
    k_residual: torch.Tensor  # (S, H, G, D): keys of each sequence's incomplete group
    pages_used: int = 0
    page_table: list[list[int]] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    refcount: list[int] = field(default_factory=list)


class QuantizedKVCache:
    """See the module docstring. Sequences are numbered; batch row ``b`` of ``append`` and
    ``attend`` is sequence ``b`` unless ``seqs`` names others."""

    def __init__(self, num_layers: int, num_heads: int, head_dim: int, max_tokens: int,
                 compression: CompressionConfig, rlvr: RLVRConfig, *,
                 value_group: int | None = None, device=None, dtype=None) -> None:
        for name, value in (("num_layers", num_layers), ("num_heads", num_heads),
                            ("head_dim", head_dim), ("max_tokens", max_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"optimize_kv_cache: {name} must be an int >= 1, got {value!r}")
        if head_dim % 2:
            raise ValueError(f"optimize_kv_cache: head_dim must be even, got {head_dim}")
        if rlvr.kv_page_size % compression.block_size:  # pages hold whole key groups
            raise ValueError(f"optimize_kv_cache: rlvr.kv_page_size={rlvr.kv_page_size} is not a "
                             f"multiple of compression.block_size={compression.block_size} "
                             "(resolve the configs with ParameterPrecedenceResolver first)")
        self.value_group = value_group or head_dim
        if head_dim % self.value_group:
            raise ValueError(f"optimize_kv_cache: value_group={self.value_group} must divide "
                             f"head_dim={head_dim}")
        self.num_layers, self.num_heads, self.head_dim = num_layers, num_heads, head_dim
        self.max_tokens = max_tokens
        self.compression, self.rlvr = compression, rlvr
        self.bits, self.group, self.page = compression.bits, compression.block_size, rlvr.kv_page_size
        self.device = torch.device(device or "cpu")
        self.dtype = dtype or torch.float32
        self._layers = [self._new_layer(pages=4, seqs=0) for _ in range(num_layers)]

    # -- storage --------------------------------------------------------------------------
    def _new_layer(self, pages: int, seqs: int) -> _Layer:
        H, P, D, G = self.num_heads, self.page, self.head_dim, self.group
        stored_d = D if self.bits == 8 else D // 2
        code_dtype = torch.int8 if self.bits == 8 else torch.uint8
        dev = self.device
        return _Layer(
            k_codes=torch.zeros((pages, H, P, stored_d), dtype=code_dtype, device=dev),
            k_scales=torch.zeros((pages, H, P // G, D), dtype=torch.float32, device=dev),
            v_codes=torch.zeros((pages, H, P, stored_d), dtype=code_dtype, device=dev),
            v_scales=torch.zeros((pages, H, P, D // self.value_group), dtype=torch.float32, device=dev),
            k_residual=torch.zeros((seqs, H, G, D), dtype=self.dtype, device=dev))

    def _alloc_page(self, layer: _Layer) -> int:
        if layer.pages_used == layer.k_codes.shape[0]:
            for name in ("k_codes", "k_scales", "v_codes", "v_scales"):
                t = getattr(layer, name)
                setattr(layer, name, torch.cat([t, torch.zeros_like(t)]))
            layer.refcount.extend([0] * (layer.k_codes.shape[0] - len(layer.refcount)))
        while len(layer.refcount) < layer.k_codes.shape[0]:
            layer.refcount.append(0)
        page = layer.pages_used
        layer.pages_used += 1
        layer.refcount[page] = 1
        return page

    def _ensure_sequences(self, count: int) -> None:
        for layer in self._layers:
            while len(layer.lengths) < count:
                layer.lengths.append(0)
                layer.page_table.append([])
            extra = count - layer.k_residual.shape[0]
            if extra > 0:
                pad = torch.zeros((extra, *layer.k_residual.shape[1:]), dtype=self.dtype,
                                  device=self.device)
                layer.k_residual = torch.cat([layer.k_residual, pad])

    @property
    def num_sequences(self) -> int:
        return len(self._layers[0].lengths)

    def length(self, seq: int = 0, layer: int = 0) -> int:
        return self._layers[layer].lengths[seq]

    # -- writing --------------------------------------------------------------------------
    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor,
               seqs: Sequence[int] | None = None) -> None:
        """Add ``new_tokens`` keys and values, shaped (batch, heads, new_tokens, head_dim)."""
        self._check_layer(layer)
        if k.shape != v.shape or k.dim() != 4 or k.shape[1] != self.num_heads or k.shape[3] != self.head_dim:
            raise ValueError(f"append: k and v must both be (batch, {self.num_heads}, new_tokens, "
                             f"{self.head_dim}), got {tuple(k.shape)} and {tuple(v.shape)}")
        seqs = list(range(k.shape[0])) if seqs is None else list(seqs)
        self._ensure_sequences(max(seqs) + 1)
        L = self._layers[layer]
        for row, seq in enumerate(seqs):
            if L.lengths[seq] + k.shape[2] > self.max_tokens:
                raise ValueError(f"append: sequence {seq} would hold {L.lengths[seq] + k.shape[2]} "
                                 f"tokens, more than max_tokens={self.max_tokens}")
            t, total = 0, k.shape[2]
            while t < total:  # chunks that stay inside one key group (and so inside one page)
                pos = L.lengths[seq]
                chunk = min(total - t, self.group - pos % self.group)
                self._append_chunk(L, seq, k[row, :, t:t + chunk], v[row, :, t:t + chunk])
                t += chunk

    def _page_for_write(self, L: _Layer, seq: int, pos: int) -> int:
        index = pos // self.page
        table = L.page_table[seq]
        if index == len(table):
            table.append(self._alloc_page(L))
        page = table[index]
        if L.refcount[page] > 1:  # shared with another sequence: copy on write
            fresh = self._alloc_page(L)
            for name in ("k_codes", "k_scales", "v_codes", "v_scales"):
                t = getattr(L, name)
                t[fresh] = t[page]
            L.refcount[page] -= 1
            table[index] = page = fresh
        return page

    def _append_chunk(self, L: _Layer, seq: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Tokens ``pos .. pos + n`` (inside one key group): k, v shaped (H, n, D)."""
        pos, n = L.lengths[seq], k.shape[1]
        page = self._page_for_write(L, seq, pos)
        slot = pos % self.page
        H, D = self.num_heads, self.head_dim
        # values: quantized now, per token over groups of value_group channels
        codes, scales = _quantize_rows(v.reshape(-1, self.value_group), self.bits)
        L.v_codes[page, :, slot:slot + n] = _store_codes(codes.view(H, n, D), self.bits)
        L.v_scales[page, :, slot:slot + n] = scales.view(H, n, -1)
        # keys: held unquantized until their group of G tokens is complete
        g_slot = pos % self.group
        L.k_residual[seq, :, g_slot:g_slot + n] = k.to(self.dtype)
        L.lengths[seq] = pos + n
        if g_slot + n == self.group:
            group = L.k_residual[seq].to(torch.float32)  # (H, G, D)
            rows = group.transpose(1, 2).reshape(-1, self.group)  # per channel over G tokens
            codes, scales = _quantize_rows(rows, self.bits)
            codes = codes.view(H, D, self.group).transpose(1, 2)
            start = slot + n - self.group
            L.k_codes[page, :, start:start + self.group] = _store_codes(codes.contiguous(), self.bits)
            L.k_scales[page, :, start // self.group] = scales.view(H, D)

    def fork(self, parent: int) -> int:
        """A new sequence that shares ``parent``'s tokens (its full pages without a copy)."""
        child = self.num_sequences
        self._ensure_sequences(child + 1)
        for L in self._layers:
            L.page_table[child] = list(L.page_table[parent])
            for page in L.page_table[child]:
                L.refcount[page] += 1
            L.lengths[child] = L.lengths[parent]
            L.k_residual[child] = L.k_residual[parent]
        return child

    def sequences(self, seqs: Sequence[int]) -> SequenceView:
        """This cache seen as a batch of the given sequences (what a model's forward expects)."""
        return SequenceView(self, list(seqs))

    # -- reading --------------------------------------------------------------------------
    def dequantized(self, layer: int, seq: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of one sequence, dequantized to float32, (H, L, D) each."""
        L = self._layers[layer]
        n = L.lengths[seq]
        pages = torch.tensor(L.page_table[seq], dtype=torch.long, device=self.device)
        args = (L.k_codes[pages], L.k_scales[pages], L.v_codes[pages], L.v_scales[pages],
                self.group, self.value_group, self.bits == 4)
        if n >= COMPILE_MIN_TOKENS:
            keys, values = maybe_compiled(_dequantize_pages, *args)
        else:
            keys, values = _dequantize_pages(*args)
        keys, values = keys[:, :n], values[:, :n]
        full = n // self.group * self.group
        if full < n:  # the newest keys are still unquantized
            keys = keys.clone()
            keys[:, full:n] = L.k_residual[seq, :, : n - full].float()
        return keys, values

    def attend(self, layer: int, q: torch.Tensor, seqs: Sequence[int] | None = None, *,
               backend: str = "auto") -> torch.Tensor:
        """Causal attention of ``q`` (batch, heads, q_tokens, head_dim), the newest positions.

        ``backend``: ``auto`` (the Triton kernel on CUDA, torch elsewhere), ``triton`` or ``torch``.
        """
        if backend not in ("auto", "triton", "torch"):
            raise ValueError(f"attend: backend must be auto, triton or torch, got {backend!r}")
        self._check_layer(layer)
        if q.dim() != 4 or q.shape[1] != self.num_heads or q.shape[3] != self.head_dim:
            raise ValueError(f"attend: q must be (batch, {self.num_heads}, q_tokens, "
                             f"{self.head_dim}), got {tuple(q.shape)}")
        seqs = list(range(q.shape[0])) if seqs is None else list(seqs)
        L = self._layers[layer]
        for seq in seqs:
            if seq >= self.num_sequences or L.lengths[seq] < q.shape[2]:
                have = L.lengths[seq] if seq < self.num_sequences else 0
                raise ValueError(f"attend: sequence {seq} holds {have} tokens in layer {layer}, "
                                 f"fewer than the {q.shape[2]} queries")
        if backend == "triton" and not self._kernel_shapes_ok():
            raise ValueError("attend: the Triton kernel needs power-of-two block_size and head_dim")
        if backend == "triton" or (backend == "auto" and use_triton(q.device)
                                   and self._kernel_shapes_ok()):
            out = self._attend_triton(L, q, seqs)
        else:
            out = self._attend_torch(layer, q, seqs)
        return out.to(q.dtype)

    def _kernel_shapes_ok(self) -> bool:
        pow2 = lambda v: v & (v - 1) == 0  # noqa: E731
        return pow2(self.group) and pow2(self.head_dim) and self.head_dim >= 4

    def _attend_triton(self, L: _Layer, q: torch.Tensor, seqs: list[int]) -> torch.Tensor:
        width = max(len(L.page_table[s]) for s in seqs)
        table = torch.zeros((len(seqs), width), dtype=torch.int32)
        for row, s in enumerate(seqs):
            table[row, : len(L.page_table[s])] = torch.tensor(L.page_table[s], dtype=torch.int32)
        lengths = torch.tensor([L.lengths[s] for s in seqs], dtype=torch.int32)
        residual = L.k_residual[seqs].float()
        return decode_attention_triton(
            q.float(), L.k_codes, L.k_scales, L.v_codes, L.v_scales, residual,
            table.to(q.device), lengths.to(q.device), page=self.page, group=self.group,
            value_group=self.value_group, packed=self.bits == 4)

    def _attend_torch(self, layer: int, q: torch.Tensor, seqs: list[int]) -> torch.Tensor:
        outs = []
        T = q.shape[2]
        for row, seq in enumerate(seqs):
            keys, values = self.dequantized(layer, seq)
            n = keys.shape[1]
            mask = torch.ones((T, n), dtype=torch.bool, device=q.device).tril(diagonal=n - T)
            outs.append(F.scaled_dot_product_attention(
                q[row].float(), keys, values, attn_mask=mask))
        return torch.stack(outs)

    # -- sizes ----------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Bytes held: pages in use (codes and scales) plus the unquantized key groups."""
        total = 0
        for L in self._layers:
            per_page = sum(getattr(L, n)[0].nbytes for n in ("k_codes", "k_scales", "v_codes", "v_scales"))
            live = sum(1 for c in L.refcount[: L.pages_used] if c > 0)
            total += live * per_page + L.k_residual.nbytes
        return total

    @property
    def dense_nbytes(self) -> int:
        """What a dense cache of the same tokens in ``dtype`` would take (K and V)."""
        elem = torch.empty((), dtype=self.dtype).element_size()
        per_token = 2 * self.num_heads * self.head_dim * elem
        return sum(sum(L.lengths) * per_token for L in self._layers)

    def _check_layer(self, layer: int) -> None:
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < self.num_layers:
            raise ValueError(f"layer must be an int in [0, {self.num_layers}), got {layer!r}")


def _dequantize_pages(k_codes, k_scales, v_codes, v_scales, group: int, value_group: int,
                      packed: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(pages, H, P, ·) codes and scales -> float32 keys and values, (H, pages * P, D) each.

    Scales broadcast over their groups (no repeated scale tensors are built).
    """
    if packed:
        k_codes, v_codes = _load_codes(k_codes, 4), _load_codes(v_codes, 4)
    p, H, P, D = k_codes.shape
    keys = k_codes.view(p, H, P // group, group, D).float() * k_scales.unsqueeze(3)
    values = v_codes.view(p, H, P, D // value_group, value_group).float() * v_scales.unsqueeze(4)
    keys = keys.view(p, H, P, D).transpose(0, 1).reshape(H, p * P, D)
    values = values.view(p, H, P, D).transpose(0, 1).reshape(H, p * P, D)
    return keys, values


@dataclass(frozen=True)
class SequenceView:
    """``append`` / ``attend`` of a :class:`QuantizedKVCache` bound to some of its sequences:
    batch row ``b`` is sequence ``seqs[b]``."""

    cache: QuantizedKVCache
    seqs: list[int]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        self.cache.append(layer, k, v, seqs=self.seqs)

    def attend(self, layer: int, q: torch.Tensor) -> torch.Tensor:
        return self.cache.attend(layer, q, seqs=self.seqs)


def optimize_kv_cache(num_layers: int, num_heads: int, head_dim: int, max_tokens: int,
                      compression: CompressionConfig, rlvr: RLVRConfig, *, device=None,
                      dtype=None, value_group: int | None = None) -> QuantizedKVCache:
    """A paged, block-quantized KV cache (int8 or int4) for ``num_layers`` layers."""
    return QuantizedKVCache(num_layers, num_heads, head_dim, max_tokens, compression, rlvr,
                            device=device, dtype=dtype, value_group=value_group)
