"""The acceptance suite: this repository's use of ryot's own pytest plugin (ryot/pytest_plugin.py).

    pytest acceptance                                   # the default success_criteria.json
    pytest acceptance --criteria examples/cheap_criteria.json --quick --ryot-out results/x

``--criteria`` and ``--quick`` are this suite's short names for the plugin's ``--ryot-criteria``
and ``--ryot-quick``; any other repository uses the plugin directly
(``pytest --ryot-criteria FILE``). Each criterion is one test item; the run writes report.json,
report.md, junit.xml and plot.png into ``--ryot-out``.
"""

from __future__ import annotations

from ryot.verification.engine import default_criteria_path


def pytest_addoption(parser):
    group = parser.getgroup("ryot acceptance (this repository)")
    group.addoption("--criteria", default=None,
                    help="criteria file, as --ryot-criteria (default: success_criteria.json)")
    group.addoption("--quick", action="store_true", help="as --ryot-quick")


def pytest_configure(config):
    option = config.option
    option.ryot_criteria = option.ryot_criteria or option.criteria or str(default_criteria_path())
    option.ryot_quick = option.ryot_quick or option.quick
