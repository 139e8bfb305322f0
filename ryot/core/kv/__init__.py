"""The paged, block-quantized KV cache (``cache``), its page bookkeeping (``pages``) and its codes
as pure tensor functions (``codes``)."""

__all__: list[str] = []
