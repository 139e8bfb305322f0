"""torch.utils.benchmark Timers, dumped as JSON (dataclasses.asdict of each Measurement)."""

import dataclasses
import json
import sys

from torch.utils import benchmark

out = sys.argv[1]
measurements = []
for description, stmt in (("matmul", "a @ b"), ("matmul_t", "a @ b.t()")):
    timer = benchmark.Timer(stmt, setup="import torch; a = torch.randn(128, 128); "
                                         "b = torch.randn(128, 128)",
                            label="mm", description=description)
    (m,) = benchmark.Measurement.merge([timer.timeit(100) for _ in range(12)])
    measurements.append(dataclasses.asdict(m))
with open(out, "w") as handle:
    json.dump(measurements, handle)
