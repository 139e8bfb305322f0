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
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.core.fast_paths import maybe_compiled
from ryot.core.kernels import use_triton
from ryot.core.kernels.decode_attention import decode_attention_triton
from ryot.core.kv import codes as kv_codes
from ryot.core.kv import native_attend
from ryot.core.kv.codes import dequantize_pages, quantize_keys, quantize_prompt, quantize_values
from ryot.core.kv.pages import PAGED, PagedLayer, page_run
from ryot.infra.errors import ConfigError

__all__ = ["COMPILE_MIN_TOKENS", "QuantizedKVCache", "SequenceView", "optimize_kv_cache"]

COMPILE_MIN_TOKENS = 512  # below this, compiling the dequantization does not pay


class QuantizedKVCache:
    """See the module docstring. Sequences are numbered; batch row ``b`` of ``append`` and
    ``attend`` is sequence ``b`` unless ``seqs`` names others."""

    def __init__(self, num_layers: int, num_heads: int, head_dim: int, max_tokens: int,
                 compression: CompressionConfig, rlvr: RLVRConfig, *,
                 value_group: int | None = None, device=None, dtype=None) -> None:
        for name, value in (("num_layers", num_layers), ("num_heads", num_heads),
                            ("head_dim", head_dim), ("max_tokens", max_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"optimize_kv_cache: {name} must be an int >= 1, got {value!r}")
        if head_dim % 2:
            raise ConfigError(f"optimize_kv_cache: head_dim must be even, got {head_dim}")
        if rlvr.kv_page_size % compression.block_size:  # pages hold whole key groups
            raise ConfigError(f"optimize_kv_cache: rlvr.kv_page_size={rlvr.kv_page_size} is not a "
                             f"multiple of compression.block_size={compression.block_size} "
                             "(resolve the configs with ParameterPrecedenceResolver first)")
        self.value_group = value_group or head_dim
        if head_dim % self.value_group:
            raise ConfigError(f"optimize_kv_cache: value_group={self.value_group} must divide "
                             f"head_dim={head_dim}")
        self.num_layers, self.num_heads, self.head_dim = num_layers, num_heads, head_dim
        self.max_tokens, self.compression, self.rlvr = max_tokens, compression, rlvr
        self.bits, self.group = compression.bits, compression.block_size
        self.page = rlvr.kv_page_size
        self.device, self.dtype = torch.device(device or "cpu"), dtype or torch.float32
        self._layers = [PagedLayer() for _ in range(num_layers)]
        self._store = self._new_storage(pages=min(4, -(-max_tokens // self.page)), seqs=1)
        self._bind()

    # -- storage --------------------------------------------------------------------------
    def _new_storage(self, pages: int, seqs: int) -> dict[str, torch.Tensor]:
        """Every layer's pages in one tensor per kind: (layers, pages, H, ...)."""
        Y, H, P, D, G = self.num_layers, self.num_heads, self.page, self.head_dim, self.group
        stored_d, code_dtype = (D, torch.int8) if self.bits == 8 else (D // 2, torch.uint8)
        shapes = {"k_codes": ((Y, pages, H, P, stored_d), code_dtype),
                  "k_scales": ((Y, pages, H, P // G, D), kv_codes.SCALE_DTYPE),
                  "v_codes": ((Y, pages, H, P, stored_d), code_dtype),
                  "v_scales": ((Y, pages, H, P, D // self.value_group), kv_codes.SCALE_DTYPE),
                  "k_residual": ((Y, seqs, H, G, D), self.dtype)}
        return {name: torch.zeros(shape, dtype=dtype, device=self.device)
                for name, (shape, dtype) in shapes.items()}

    def _bind(self) -> None:
        for name, t in self._store.items():
            for L, view in zip(self._layers, t.unbind(0), strict=True):
                setattr(L, name, view)

    def _grow(self, name: str, extra: int) -> None:
        """``extra`` more pages (or sequences, for k_residual) in every layer."""
        t = self._store[name]
        self._store[name] = torch.cat([t, t.new_zeros((t.shape[0], extra, *t.shape[2:]))], dim=1)
        self._bind()

    def _alloc_page(self, layer: PagedLayer) -> int:
        if layer.pages_used == (capacity := layer.k_codes.shape[0]):  # double every layer's pages
            for name in PAGED:
                self._grow(name, capacity)
        layer.refcount.extend([0] * (layer.k_codes.shape[0] - len(layer.refcount)))
        page, layer.pages_used = layer.pages_used, layer.pages_used + 1
        layer.refcount[page] = 1
        return page

    def _ensure_sequences(self, count: int) -> None:
        if count <= self.num_sequences:  # every layer (and the residual keys) holds as many
            return
        for layer in self._layers:
            layer.page_table += [[] for _ in range(count - len(layer.lengths))]
            layer.lengths += [0] * (count - len(layer.lengths))
        extra = count - self._store["k_residual"].shape[1]
        if extra > 0:
            self._grow("k_residual", extra)

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
        if (k.shape != v.shape or k.dim() != 4 or k.shape[1] != self.num_heads
                or k.shape[3] != self.head_dim):
            raise ConfigError(f"append: k and v must both be (batch, {self.num_heads}, new_tokens, "
                             f"{self.head_dim}), got {tuple(k.shape)} and {tuple(v.shape)}")
        seqs = list(range(k.shape[0])) if seqs is None else list(seqs)
        self._ensure_sequences(max(seqs) + 1)
        L = self._layers[layer]
        for row, seq in enumerate(seqs):
            if L.lengths[seq] + k.shape[2] > self.max_tokens:
                raise ConfigError(f"append: sequence {seq} would hold "
                                 f"{L.lengths[seq] + k.shape[2]} tokens, more than "
                                 f"max_tokens={self.max_tokens}")
            t, total = 0, k.shape[2]
            while t < total:  # chunks that stay inside one page
                pos = L.lengths[seq]
                chunk = min(total - t, self.page - pos % self.page)
                self._append_chunk(L, seq, k[row, :, t:t + chunk], v[row, :, t:t + chunk])
                t += chunk

    def _page_for_write(self, L: PagedLayer, seq: int, pos: int) -> int:
        index = pos // self.page
        table = L.page_table[seq]
        if index == len(table):
            table.append(self._alloc_page(L))
        page = table[index]
        if L.refcount[page] > 1:  # shared with another sequence: copy on write
            fresh = self._alloc_page(L)
            for name in PAGED:
                getattr(L, name)[fresh] = getattr(L, name)[page]
            L.refcount[page] -= 1
            table[index] = page = fresh
        return page

    def _append_chunk(self, L: PagedLayer, seq: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Tokens ``pos .. pos + n`` (inside one page): k, v shaped (H, n, D)."""
        pos, n = L.lengths[seq], k.shape[1]
        page = self._page_for_write(L, seq, pos)
        slot = pos % self.page
        L.v_codes[page, :, slot:slot + n], L.v_scales[page, :, slot:slot + n] = quantize_values(
            v, self.value_group, self.bits)
        # keys: held unquantized until their group of G tokens is complete
        g_slot = pos % self.group
        L.lengths[seq] = pos + n
        if g_slot + n < self.group:  # no group completes (a decode step, mostly)
            L.k_residual[seq, :, g_slot:g_slot + n] = k
            return
        keys = k.to(self.dtype)
        if g_slot:
            keys = torch.cat([L.k_residual[seq, :, :g_slot], keys], dim=1)
        full = (g_slot + n) // self.group * self.group
        start = slot - g_slot
        codes, scales = quantize_keys(keys[:, :full], self.group, self.bits)
        L.k_codes[page, :, start:start + full] = codes
        L.k_scales[page, :, start // self.group:(start + full) // self.group] = scales
        L.k_residual[seq, :, : g_slot + n - full] = keys[:, full:]

    def fill(self, kv: Sequence[tuple[torch.Tensor, torch.Tensor]],
             seqs: Sequence[int] | None = None) -> None:
        """``append(layer, *kv[layer])`` for every layer into empty sequences — the same codes,
        with every layer quantized in one pass and written in one copy per tensor (a prefill)."""
        shapes_ok = all(k.shape == v.shape and k.shape[1::2] == (self.num_heads, self.head_dim)
                        for k, v in kv)
        if len(kv) != self.num_layers or not shapes_ok:
            raise ConfigError(f"fill: {self.num_layers} layers of k and v, each (batch, "
                             f"{self.num_heads}, new_tokens, {self.head_dim}), are needed")
        ks, vs = torch.stack([t for pair in zip(*kv, strict=True) for t in pair]).chunk(2)
        self.fill_quantized(self.quantize_prompt(ks, vs), seqs)

    def quantize_prompt(self, ks: torch.Tensor, vs: torch.Tensor) -> dict[str, torch.Tensor]:
        """:func:`ryot.core.kv.codes.quantize_prompt` with this cache's grouping, bits and key
        dtype."""
        return quantize_prompt(ks, vs, group=self.group, value_group=self.value_group,
                               bits=self.bits, key_dtype=self.dtype)

    def fill_quantized(self, parts: dict[str, torch.Tensor],
                       seqs: Sequence[int] | None = None) -> None:
        """Store :meth:`quantize_prompt`'s result (every layer, batch row ``b`` into sequence
        ``seqs[b]``, which must be empty) in whole pages: one copy per tensor kind."""
        batch, n = self._check_parts(parts)
        seqs = list(range(batch)) if seqs is None else list(seqs)
        if len(seqs) != batch or len(set(seqs)) != batch or any(
                isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seqs):
            raise ConfigError(f"fill: seqs must name {batch} distinct sequences (ints >= 0), "
                             f"one per batch row, got {seqs}")
        if n > self.max_tokens or any(L.lengths[s] for L in self._layers for s in seqs
                                      if s < len(L.lengths)):
            raise ConfigError(f"fill: sequences {seqs} must be empty and hold "
                              f"<= {self.max_tokens} tokens")
        if not seqs:
            return
        self._ensure_sequences(max(seqs) + 1)
        G, P = self.group, self.page
        full = n // G * G
        for row, seq in enumerate(seqs):
            table = [[self._page_for_write(L, seq, f) for f in range(0, n, P)]
                     for L in self._layers]
            runs = [page_run(pages) for pages in table]
            index = ((slice(None), runs[0]) if all(r == runs[0] for r in runs) else  # one run
                     (torch.arange(self.num_layers, device=self.device)[:, None],
                      torch.tensor(table, device=self.device)))
            for name in PAGED:  # (layers, H, tokens or groups, ·) -> whole pages
                per_page = P // G if name == "k_scales" else P
                x = parts[name][:, row]
                if x.shape[2] < len(table[0]) * per_page:
                    x = F.pad(x, (0, 0, 0, len(table[0]) * per_page - x.shape[2]))
                self._store[name][index] = x.unflatten(2, (-1, per_page)).transpose(1, 2)
            if full < n:
                self._store["k_residual"][:, seq, :, :n - full] = parts["k_residual"][:, row]
            for L in self._layers:
                L.lengths[seq] = n

    def _check_parts(self, parts: dict[str, torch.Tensor]) -> tuple[int, int]:
        """Every tensor :meth:`fill_quantized` needs, shaped as :meth:`quantize_prompt` makes
        them for this cache; returns (batch, tokens). Checked before anything is written."""
        if not isinstance(parts, dict) or set(parts) != {*PAGED, "k_residual"}:
            got = sorted(parts) if isinstance(parts, dict) else type(parts).__name__
            raise ConfigError(f"fill: parts must hold {sorted({*PAGED, 'k_residual'})}, got {got}")
        for name, t in parts.items():
            if not isinstance(t, torch.Tensor) or t.device != self.device:
                raise ConfigError(f"fill: {name} must be a tensor on {self.device}, got "
                                 f"{getattr(t, 'device', type(t).__name__)}")
        v = parts["v_codes"]
        if v.dim() != 5:
            raise ConfigError("fill: v_codes must be (layers, batch, heads, tokens, ·), "
                              f"got {tuple(v.shape)}")
        Y, B, H, n = self.num_layers, v.shape[1], self.num_heads, v.shape[3]
        D, G = self.head_dim, self.group
        stored, full = D if self.bits == 8 else D // 2, n // G * G
        want = {"v_codes": ((Y, B, H, n, stored), self._store["v_codes"].dtype),
                "v_scales": ((Y, B, H, n, D // self.value_group), kv_codes.SCALE_DTYPE),
                "k_codes": ((Y, B, H, full, stored), self._store["k_codes"].dtype),
                "k_scales": ((Y, B, H, full // G, D), kv_codes.SCALE_DTYPE),
                "k_residual": ((Y, B, H, n - full, D), self.dtype)}
        for name, (shape, dtype) in want.items():
            if tuple(parts[name].shape) != shape or parts[name].dtype != dtype:
                raise ConfigError(f"fill: {name} must be {dtype} shaped {shape} for this cache, "
                                 f"got {parts[name].dtype} shaped {tuple(parts[name].shape)}")
        return B, n

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

    def clear(self) -> None:
        """Forget every sequence; the pages stay allocated, for reuse."""
        for L in self._layers:
            L.pages_used, L.page_table, L.lengths, L.refcount = 0, [], [], []

    def sequences(self, seqs: Sequence[int]) -> SequenceView:
        """This cache seen as a batch of the given sequences (what a model's forward expects)."""
        return SequenceView(self, list(seqs))

    # -- reading --------------------------------------------------------------------------
    def dequantized(self, layer: int, seq: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of one sequence, dequantized to float32, (H, L, D) each."""
        L = self._layers[layer]
        n = L.lengths[seq]
        pages = page_run(L.page_table[seq])
        args = (L.k_codes[pages], L.k_scales[pages], L.v_codes[pages], L.v_scales[pages],
                self.group, self.value_group, self.bits == 4)
        keys, values = (maybe_compiled(dequantize_pages, *args) if n >= COMPILE_MIN_TOKENS
                        else dequantize_pages(*args))
        keys, values = keys[:, :n], values[:, :n]
        full = n // self.group * self.group
        if full < n:  # the newest keys are still unquantized (keys is a fresh tensor)
            keys[:, full:n] = L.k_residual[seq, :, : n - full]
        return keys, values

    def attend(self, layer: int, q: torch.Tensor, seqs: Sequence[int] | None = None, *,
               backend: str = "auto") -> torch.Tensor:
        """Causal attention of ``q`` (batch, heads, q_tokens, head_dim), the newest positions.

        ``backend``: ``auto`` (the Triton kernel on CUDA; on CPU the C loop that reads the int8
        codes in place where it applies — one query position, see
        :func:`ryot.core.kv.native_attend.why_not` — else torch), ``triton``, ``native`` or
        ``torch`` (dequantize the pages, then SDPA: the reference).
        """
        if backend not in ("auto", "triton", "native", "torch"):
            raise ConfigError("attend: backend must be auto, triton, native or torch, got "
                              f"{backend!r}")
        self._check_layer(layer)
        if q.dim() != 4 or q.shape[1] != self.num_heads or q.shape[3] != self.head_dim:
            raise ConfigError(f"attend: q must be (batch, {self.num_heads}, q_tokens, "
                             f"{self.head_dim}), got {tuple(q.shape)}")
        seqs = list(range(q.shape[0])) if seqs is None else list(seqs)
        L = self._layers[layer]
        for seq in seqs:
            if seq >= self.num_sequences or L.lengths[seq] < q.shape[2]:
                have = L.lengths[seq] if seq < self.num_sequences else 0
                raise ConfigError(f"attend: sequence {seq} holds {have} tokens in layer {layer}, "
                                 f"fewer than the {q.shape[2]} queries")
        if backend == "triton" and not self._kernel_shapes_ok():
            raise ConfigError("attend: the Triton kernel needs power-of-two block_size and "
                              "head_dim")
        if backend == "native" and (reason := native_attend.why_not(self, q)) is not None:
            raise ConfigError(f"attend: the native loop cannot serve this call: {reason}")
        if backend == "triton" or (backend == "auto" and use_triton(q.device)
                                   and self._kernel_shapes_ok()):
            out = self._attend_triton(L, q, seqs)
        elif backend == "native" or (backend == "auto" and native_attend.applicable(self, q)):
            out = native_attend.attend_native(self, L, q, seqs)
        else:
            out = self._attend_torch(layer, q, seqs)
        return out.to(q.dtype)

    def _kernel_shapes_ok(self) -> bool:
        return all(v & (v - 1) == 0 for v in (self.group, self.head_dim)) and self.head_dim >= 4

    def _attend_triton(self, L: PagedLayer, q: torch.Tensor, seqs: list[int]) -> torch.Tensor:
        width = max(len(L.page_table[s]) for s in seqs)
        table = torch.tensor([L.page_table[s] + [0] * (width - len(L.page_table[s])) for s in seqs],
                             dtype=torch.int32)
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
            mask = None if T == 1 else torch.ones((T, n), dtype=torch.bool,
                                                   device=q.device).tril(diagonal=n - T)
            outs.append(F.scaled_dot_product_attention(  # 4-d: CPU's fused kernel, not the math one
                q[row:row + 1].float(), keys[None], values[None], attn_mask=mask))
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    # -- sizes ----------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:  # pages in use (codes and scales) and the unquantized key groups
        total = 0
        for L in self._layers:
            per_page = sum(getattr(L, n)[0].nbytes for n in PAGED)
            live = sum(1 for c in L.refcount[: L.pages_used] if c > 0)
            total += live * per_page + len(L.lengths) * L.k_residual[0].nbytes
        return total

    @property
    def dense_nbytes(self) -> int:
        """What a dense cache of the same tokens in ``dtype`` would take (K and V)."""
        per_token = 2 * self.num_heads * self.head_dim * self.dtype.itemsize
        return sum(sum(L.lengths) * per_token for L in self._layers)

    def _check_layer(self, layer: int) -> None:
        if (isinstance(layer, bool) or not isinstance(layer, int)
                or not 0 <= layer < self.num_layers):
            raise ConfigError(f"layer must be an int in [0, {self.num_layers}), got {layer!r}")


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
