"""The paged, block-quantized KV cache (``cache``) and its codes as pure tensor functions
(``codes``)."""

__all__: list[str] = []
