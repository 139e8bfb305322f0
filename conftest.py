"""Hypothesis profiles shared by tests/ and properties/.

* ``ci``   — fast, used by ``nox -s tests`` and CI;
* ``fuzz`` — thousands of examples per property, used by ``nox -s properties``;
* ``mutation`` — ``ci`` derandomized and without the example database, so that ``nox -s
  mutation`` gives the same verdict for a mutant on every run.
Pick one with ``pytest --hypothesis-profile=NAME`` (default: ``ci``).
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "mutation", max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

# Without a GPU, Triton kernels run under the interpreter. The variable must be set before any
# kernel is decorated, i.e. before ryot.core.kernels is imported.
import os  # noqa: E402

import torch  # noqa: E402

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
