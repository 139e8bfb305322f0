"""Public facade (the origin's name, kept by the contract): block-wise absmax quantization.

The implementation lives in :mod:`ryot.quantization`; see its docstring for the formats and
backends.
"""

from .quantization import (  # noqa: F401 - the public names of ../shared/CONTRACT.md
    COMPILE_MIN_NUMEL,
    SUPPORTED_DTYPES,
    CompressedTensor,
    decode,
    encode,
    reconstruction_error,
)
