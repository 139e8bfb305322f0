"""The per-call overheads the origin report claimed: tuning (warm), the orchestrator per step,
and the acceptance engine's statistics."""

import os
import tempfile

import numpy as np
import torch

from ryot import kernel_optimizer  # the contract's facade: the same name on every commit

from .common import module


class TimeDetectAndTune:
    def setup(self):
        self.tmp = tempfile.TemporaryDirectory()
        os.environ["RYOT_CACHE_DIR"] = self.tmp.name
        kernel_optimizer.clear_memory_cache()
        kernel_optimizer.detect_and_tune("matmul", (256, 256, 256), torch.float32)

    def teardown(self):
        self.tmp.cleanup()

    def time_detect_and_tune_warm(self):
        kernel_optimizer.detect_and_tune("matmul", (256, 256, 256), torch.float32)


class TimeOrchestrator:
    def setup(self):
        _measurements = module("ryot.metrics.measurements", "ryot.measurements")
        STEP, orchestrator_calls = _measurements.STEP, _measurements.orchestrator_calls

        self.calls = orchestrator_calls()
        self.step = self.calls[STEP]

    def time_step(self):
        self.step()

    def time_checkpoint_metadata(self):
        self.calls["get_checkpoint_metadata"]()


class TimeStatistics:
    def setup(self):
        from ryot.verification.criteria import Criterion
        from ryot.verification.verdicts import decide

        Samples = module("ryot.measure.samples", "ryot.samples").Samples  # noqa: N806
        self.bootstrap = module("ryot.stats.intervals", "ryot.stats").bootstrap_ratio_of_medians
        self.decide = decide
        rng = np.random.default_rng(0)
        self.a = (3.0 * rng.lognormal(0, 0.1, 80)).tolist()
        self.b = rng.lognormal(0, 0.1, 80).tolist()
        self.criterion = Criterion(id="c", metric="synthetic.ratio", unit="x", comparator=">=",
                                   threshold=3.0, description="d")
        self.samples = Samples("paired", numerator=self.a, denominator=self.b)

    def time_bootstrap_ratio_of_medians_80(self):
        self.bootstrap(self.a, self.b)

    def time_decide_80(self):
        self.decide(self.criterion, self.samples, 0.95, budget_spent=True)
