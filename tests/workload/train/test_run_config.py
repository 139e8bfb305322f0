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


@pytest.mark.parametrize("field", ["lr", "grad_clip", "grad_norm_gate"])
@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "1e-3"])
def test_rates_and_bounds_must_be_finite_and_positive(field, bad):
    expected = rf"TrainConfig\.{field} must be a finite number > 0"
    with pytest.raises(ValueError, match=expected) as info:
        TrainConfig(**{field: bad})
    assert info.value.field == field  # the command line names the flag from it


@pytest.mark.parametrize("field, bad", [("seed", -1), ("seed", 2**63), ("compression_block", 0),
                                        ("inject_nan_at", (3, 0))])
def test_ints_out_of_range_name_the_field(field, bad):
    with pytest.raises(ValueError, match=rf"TrainConfig\.{field} must be an int") as info:
        TrainConfig(**{field: bad})
    assert info.value.field == field
