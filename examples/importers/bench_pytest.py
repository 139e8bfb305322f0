"""pytest-benchmark tests whose result file ryot gates (see README.md)."""

import math


def _work(n):
    return sum(math.sqrt(i) for i in range(n))


def test_step_eager(benchmark):
    benchmark.pedantic(_work, args=(20000,), rounds=20, iterations=5)


def test_step_compiled(benchmark):  # stands for the optimized arm: less work per call
    benchmark.pedantic(_work, args=(5000,), rounds=20, iterations=5)
