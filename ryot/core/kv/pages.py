"""The KV cache's page bookkeeping: one layer's page tables, lengths and reference counts."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["PAGED", "PagedLayer", "page_run"]

PAGED = ("k_codes", "k_scales", "v_codes", "v_scales")  # the tensor kinds stored in pages


def page_run(pages: list[int]) -> slice | list[int]:
    """Pages numbered in a run index as a slice (a view, no gather); others as they are."""
    start = pages[0] if pages else 0
    in_a_run = pages == list(range(start, start + len(pages)))
    return slice(start, start + len(pages)) if in_a_run else pages


@dataclass
class PagedLayer:
    """One layer: its tensors are views of the cache's storage, which stacks every layer."""

    k_codes: torch.Tensor = None  # (pages, H, P, D) and, alike, k_scales, v_codes, v_scales
    k_scales: torch.Tensor = None
    v_codes: torch.Tensor = None
    v_scales: torch.Tensor = None
    k_residual: torch.Tensor = None  # (S, H, G, D): keys of each sequence's incomplete group
    pages_used: int = 0
    page_table: list[list[int]] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    refcount: list[int] = field(default_factory=list)
