"""The ``ryot.orchestrator`` facade: its docstring's example runs."""

import doctest

import ryot.orchestrator


def test_orchestrator_doctest():
    assert doctest.testmod(ryot.orchestrator).failed == 0
