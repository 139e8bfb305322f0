"""The pre-0.2 import paths keep working for one release, loudly: each old module is the new
module itself, reached with a DeprecationWarning that names the new place."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest

import ryot
from ryot.infra.moved import MOVED_MODULES

EVERY_OLD_PATH = """
import importlib, json, sys, warnings
import ryot
from ryot.infra.moved import MOVED_MODULES
out = {}
for old, new in sorted(MOVED_MODULES.items()):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    said = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    out[old] = {"same": module is importlib.import_module(new) and sys.modules[old] is module,
                "warned": any(old in s and new in s for s in said)}
print(json.dumps(out))
"""


def test_every_moved_module_imports_as_the_new_one_with_a_warning():
    proc = subprocess.run([sys.executable, "-c", EVERY_OLD_PATH], capture_output=True,
                          text=True, timeout=300, check=True)
    seen = json.loads(proc.stdout)
    assert set(seen) == set(MOVED_MODULES)
    assert {old for old, s in seen.items() if not s["same"]} == set()
    assert {old for old, s in seen.items() if not s["warned"]} == set()


def test_a_moved_name_is_the_very_object_at_its_new_place():
    with pytest.warns(DeprecationWarning, match="ryot.samples moved to ryot.measure.samples"):
        sys.modules.pop("ryot.samples", None)
        from ryot.samples import Samples
    from ryot.measure.samples import Samples as new

    assert Samples is new


@pytest.mark.parametrize("module, name, new", [
    ("ryot.stats", "wilson_interval", "ryot.stats.intervals"),
    ("ryot.orchestrator", "check_gates", "ryot.core.orchestration.gates"),
    ("ryot.kernel_optimizer", "matmul_tiled_torch", "ryot.core.tuning"),
])
def test_names_a_still_existing_module_no_longer_defines_are_forwarded(module, name, new):
    import importlib

    old = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{module}.{name} moved to {new}.{name}"):
        value = getattr(old, name)
    assert value is getattr(importlib.import_module(new), name)


def test_an_unknown_name_is_still_an_attribute_error():
    import ryot.orchestrator
    import ryot.stats

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        ryot.stats.nope  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        ryot.orchestrator.nope  # noqa: B018


def test_the_contract_names_and_every_module_import_without_a_warning():
    """Nothing inside ryot uses an old path: importing every module warns about nothing."""
    code = ("import importlib, pkgutil, ryot\n"
            "for m in pkgutil.walk_packages(ryot.__path__, 'ryot.'):\n"
            "    if not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "from ryot.orchestrator import OptimizationOrchestrator, KernelConfig\n"
            "from ryot.kernel_optimizer import detect, tune, detect_and_tune, HardwareProfile\n")
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_finder_is_installed_once():
    from ryot.infra import moved

    before = len(sys.meta_path)
    moved.install()
    assert len(sys.meta_path) == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ryot.__version__
