"""ryot.metrics.rlvr: RLVR over the arithmetic task."""

from dataclasses import replace

import pytest

from ryot.metrics import rlvr
from ryot.workload import presets as workload


@pytest.mark.slow
def test_rlvr_beats_greedy_on_the_trained_model():
    result = rlvr.evaluate(rlvr.QUICK)
    assert sum(result["selected"]) >= sum(result["greedy"])


def test_rlvr_metrics_follow_the_criteria_files_workload():
    adds = workload.Preset("adds", replace(rlvr.QUICK, steps=5), eval_batches=1, prompt_tokens=4,
                           new_tokens=4, steps_per_round=1)
    assert rlvr.train_config({"_workload": adds}) is adds.train
    assert rlvr.train_config({"_quick": True}) is rlvr.QUICK
    assert rlvr.train_config({}) is rlvr.FULL
    with pytest.raises(ValueError, match="arithmetic"):  # a pydoc workload is not silently replaced
        rlvr.train_config({"_workload": workload.QUICK})
    with pytest.raises(ValueError, match="unknown workload preset 'huge'"):
        rlvr.train_config({"preset": "huge"})
