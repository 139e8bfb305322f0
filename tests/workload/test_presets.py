"""ryot.workload.presets: presets are values; an unknown name is a clear error."""

import pytest

from ryot.infra.errors import ConfigError
from ryot.metrics import origin, rlvr
from ryot.workload import presets as workload
from ryot.workload.presets import FULL, PRESETS, QUICK, builtin, preset
from ryot.workload.train import TrainConfig


def test_a_user_preset_named_quick_trains_its_own_configuration():
    """Presets are values: a criteria file's preset that happens to be called "quick" is trained
    as itself, and the built-in table is neither consulted nor changed."""
    tiny = workload.Preset("quick", TrainConfig(steps=3, batch_size=2, n_layer=1, n_head=2,
                                                n_embd=32, block_size=32),
                           eval_batches=1, prompt_tokens=8, new_tokens=4, steps_per_round=1)
    params = {"_workload": tiny, "_offset": 0}
    assert workload.preset(params) is tiny
    assert origin.nonfinite_count(1, params).values == [0.0]
    assert workload.trained(tiny.config("optimized")).raw_model.config.n_embd == 32
    assert dict(workload.PRESETS) == {"quick": workload.QUICK, "full": workload.FULL}
    assert workload.QUICK.train.n_embd == 64
    with pytest.raises(TypeError):
        workload.PRESETS["mine"] = tiny  # read-only


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown workload preset 'huge'"):
        workload.preset({"preset": "huge"})


# -- One preset selection for every built-in metric: the workload's own Preset, else the named
def test_the_named_then_the_default_preset():
    assert preset({}) is FULL and preset({"_quick": True}) is QUICK
    assert preset({"preset": "quick"}) is QUICK
    assert builtin({"preset": "full", "_quick": True}, {"full": 1}) == 1
    with pytest.raises(ConfigError, match="unknown workload preset 'huge'; known: quick, full"):
        preset({"preset": "huge"})


def test_a_workload_of_the_wrong_type_is_refused_by_both_users():
    for select in (preset, rlvr.train_config):
        with pytest.raises(ConfigError, match="returned dict"):
            select({"_workload": {}})


def test_rlvr_uses_the_same_selection_over_its_own_configs():
    assert rlvr.train_config({"_quick": True}) is rlvr.CONFIGS["quick"]
    with pytest.raises(ConfigError, match="known: quick, full"):
        rlvr.train_config({"preset": "huge"})
    with pytest.raises(ConfigError, match="train on the arithmetic task"):
        rlvr.train_config({"_workload": PRESETS["quick"]})
