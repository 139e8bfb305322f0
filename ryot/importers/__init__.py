"""Importers: other tools' result files as ryot providers, returning each run's raw value (never
a tool's summary statistics).

| provider | reads |
|---|---|
| ``ryot.importers:pytest_benchmark`` | ``pytest --benchmark-json F --benchmark-save-data`` |
| ``ryot.importers:asv`` | ``.asv/results/...json`` of ``asv run --record-samples`` |
| ``ryot.importers:google_benchmark`` | ``--benchmark_format=json --benchmark_repetitions=N`` |
| ``ryot.importers:hyperfine`` | ``hyperfine --export-json F`` (its ``times``) |
| ``ryot.importers:torch_benchmark`` | ``torch.utils.benchmark`` Measurements (JSON, pickle) |

A criterion names the file and either two entries (``baseline``, ``candidate``: two-sample
data, the ratio baseline ÷ candidate, since each tool ran one arm after the other) or one
``entry`` against an absolute threshold (scalar, in ``params.unit``: s, ms, us or ns).
"""

from ryot.importers.asv import asv
from ryot.importers.google_benchmark import google_benchmark
from ryot.importers.hyperfine import hyperfine
from ryot.importers.pytest_benchmark import pytest_benchmark
from ryot.importers.torch_benchmark import torch_benchmark

__all__ = ["asv", "google_benchmark", "hyperfine", "pytest_benchmark", "torch_benchmark"]
