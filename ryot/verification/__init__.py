"""The verification layer: criteria files -> measurements -> statistics -> verdicts -> reports.

Data moves one way. ``criteria`` loads and validates; ``metrics`` provides raw samples;
``runner`` samples sequentially; ``verdicts`` (pure) decides; ``report`` assembles; ``writers``
render; ``verify`` and ``compare`` read reports back.
"""

__all__: list[str] = []
