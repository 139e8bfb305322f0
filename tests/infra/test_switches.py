"""ryot.infra.switches: one reading of on/off, and a bad value warns with the variable's name."""

from pathlib import Path

import pytest

from ryot.core import native, tuning
from ryot.infra.switches import cache_dir, env_flag


@pytest.mark.parametrize("value, expected", [("1", True), ("TRUE", True), (" on ", True),
                                             ("yes", True), ("0", False), ("false", False),
                                             ("Off", False), ("no", False)])
def test_switch_values(monkeypatch, value, expected):
    monkeypatch.setenv("RYOT_NATIVE", value)
    assert env_flag("RYOT_NATIVE", not expected) is expected


def test_unset_or_empty_is_the_default(monkeypatch):
    monkeypatch.delenv("RYOT_COMPILE_MODEL", raising=False)
    assert env_flag("RYOT_COMPILE_MODEL", False) is False
    monkeypatch.setenv("RYOT_COMPILE_MODEL", "")
    assert env_flag("RYOT_COMPILE_MODEL", True) is True


def test_a_bad_value_warns_naming_the_variable_and_keeps_the_default(monkeypatch):
    monkeypatch.setenv("RYOT_NATIVE", "2")
    with pytest.warns(RuntimeWarning,
                      match=r"RYOT_NATIVE='2' is not a switch value .*RYOT_NATIVE=1"):
        assert env_flag("RYOT_NATIVE", True) is True


# -- The cache folder is computed in one place; tuning and the native loops both use it
def test_one_cache_folder_for_tuning_and_native_loops(monkeypatch, tmp_path):
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    assert tuning.cache_path() == tmp_path / "tune.json"
    assert native.cache_dir() == tmp_path / "native"
    monkeypatch.delenv("RYOT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert native.cache_dir() == tmp_path / "xdg" / "ryot" / "native"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir("x") == Path.home() / ".cache" / "ryot" / "x"
