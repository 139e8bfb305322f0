"""Optimizers: ``AdamW8bit`` (``adamw8bit``) and one fused update of a group's 8-bit parameters
over flat states (``adamw8bit_flat``: the C loop or its torch reference)."""

__all__: list[str] = []
