"""ryot: performance claims about LLM optimizations, measured, verified and gated in CI."""

__version__ = "0.1.0"
