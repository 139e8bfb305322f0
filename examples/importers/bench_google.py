"""Google Benchmark (the PyPI bindings) whose JSON ryot gates (see README.md)."""

import google_benchmark as benchmark


@benchmark.register
def BM_copy(state):
    data = list(range(4096))
    while state:
        list(data)


@benchmark.register
def BM_slice(state):
    data = list(range(4096))
    while state:
        data[:]


if __name__ == "__main__":
    benchmark.main()
