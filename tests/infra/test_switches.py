"""Environment switches: one reading of on/off, and a bad value warns with the variable's name."""

import pytest

from ryot.infra.switches import env_flag


@pytest.mark.parametrize("value, expected", [("1", True), ("TRUE", True), (" on ", True), ("yes", True),
                                             ("0", False), ("false", False), ("Off", False), ("no", False)])
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
    with pytest.warns(RuntimeWarning, match=r"RYOT_NATIVE='2' is not a switch value .*RYOT_NATIVE=1"):
        assert env_flag("RYOT_NATIVE", True) is True
