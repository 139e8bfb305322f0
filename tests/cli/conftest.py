"""One `ryot accept` run of mixed criteria, shared by the accept, verify and compare tests."""

import pytest

from ryot.cli import main
from tests.verification.helpers import MIXED, write


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mixed")
    crit = write(tmp / "criteria.json", MIXED)
    out = tmp / "out"
    code = main(["accept", "--criteria", str(crit), "--out", str(out)])
    return code, out
