"""ryot.workload.train.run_config: one run's settings, validated."""

import pytest

from ryot.workload.train import TrainConfig


def test_bad_config_values_name_the_field():
    with pytest.raises(ValueError, match="TrainConfig.mode"):
        TrainConfig(mode="fast")
    with pytest.raises(ValueError, match="n_embd=30 must be a multiple of n_head=4"):
        TrainConfig(n_embd=30, n_head=4)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), True, "32"])
def test_bad_budgets_are_refused(bad):
    with pytest.raises(ValueError, match="activation_budget_mb must be None or a finite number"):
        TrainConfig(activation_budget_mb=bad)
