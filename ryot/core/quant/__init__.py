"""Quantization codes: block-wise absmax int8/int4 (``blockwise``) and bitsandbytes' 8-bit
dynamic code (``dynamic_code``, what 8-bit optimizer states use)."""

__all__: list[str] = []
