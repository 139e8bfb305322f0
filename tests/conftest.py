"""Suite-wide defaults.

The optimized generation path compiles its prompt pass on CPU (``torch.compile``: seconds per
model and prompt shape). Tests that generate only check numerics, so the suite runs the eager
pass unless a test turns compiling on (tests/workload/infer/test_prefill.py does, on one small
model); an explicit ``RYOT_COMPILE_PREFILL`` in the environment wins.
"""

import os

os.environ.setdefault("RYOT_COMPILE_PREFILL", "0")
