"""Suite-wide defaults.

The optimized generation path compiles its prompt pass on CPU (``torch.compile``: seconds per
model and prompt shape). Tests that generate only check numerics, so the suite runs the eager
pass unless a test turns compiling on (tests/workload/infer/test_prefill.py does, on one small
model); an explicit ``RYOT_COMPILE_PREFILL`` in the environment wins.

End-to-end modules (:data:`END_TO_END`) get the ``e2e`` marker: they drive ryot through its
command line, worker processes, git, Slurm or whole training runs and take most of the suite's
time. Every test still runs in ``nox -s tests``; the acceptance run's coverage criterion
(``quality.test_coverage``) measures the unit tests, ``-m "not e2e"``: a lower bound of the whole
suite's coverage, in a fraction of its time.
"""

import os

import pytest

os.environ.setdefault("RYOT_COMPILE_PREFILL", "0")

END_TO_END = frozenset({  # the modules that took 12 s or more of the suite (junit durations)
    "tests/test_pytest_plugin.py", "tests/test_train.py", "tests/test_guide.py",
    "tests/test_example_hf_transformers.py", "tests/verification/test_worker_client.py",
    "tests/verification/test_publish_faults.py", "tests/verification/test_accept_faults.py",
    "tests/verification/test_across_commits.py", "tests/verification/test_family.py",
    "tests/fleet/test_fleet.py", "tests/metrics/test_origin.py", "tests/cli/test_accept.py",
    "tests/cli/test_train_faults.py", "tests/cli/test_train_hardening.py",
    "tests/workload/train/test_loop.py", "tests/core/kernels/test_decode_attention_kernel.py",
    "tests/bench/test_training.py", "tests/importers/test_example.py",
})


def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    for item in items:
        if item.path.relative_to(root).as_posix() in END_TO_END:
            item.add_marker(pytest.mark.e2e)
