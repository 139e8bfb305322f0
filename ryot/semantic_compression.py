"""Public facade (the origin's name, kept by the contract): block-wise absmax quantization.

The implementation lives in :mod:`ryot.core.quant.blockwise`; see its docstring for the formats
and backends. Re-exports only; nothing inside ryot imports this module.
"""

from ryot.core.quant.blockwise import (
    COMPILE_MIN_NUMEL,
    SUPPORTED_DTYPES,
    CompressedTensor,
    decode,
    encode,
    reconstruction_error,
)

__all__ = ["COMPILE_MIN_NUMEL", "SUPPORTED_DTYPES", "CompressedTensor", "decode", "encode",
           "reconstruction_error"]
