"""The per-call overheads the origin report claimed: tuning (warm), the orchestrator per step,
and the acceptance engine's statistics."""

import itertools
import os
import tempfile

import numpy as np
import torch

from ryot import kernel_optimizer
from ryot.orchestrator import CompressionConfig, KernelConfig, OptimizationOrchestrator, RLVRConfig
from ryot.stats import bootstrap_ratio_of_medians
from ryot.verification.criteria import Criterion
from ryot.verification.samples import Samples
from ryot.verification.verdicts import decide

HEALTHY = {"loss": 2.3, "grad_norm": 0.8, "compression_error": 0.012}


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
        self.orch = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(64, 8),
                                             RLVRConfig(4, 0.9, 256))
        self.steps = itertools.count()

    def time_step(self):
        self.orch.validate_safety_gates(HEALTHY)
        self.orch.adapt_parameters(HEALTHY)
        self.orch.snapshot_configuration(0, next(self.steps))

    def time_checkpoint_metadata(self):
        self.orch.get_checkpoint_metadata()


class TimeStatistics:
    def setup(self):
        rng = np.random.default_rng(0)
        self.a = (3.0 * rng.lognormal(0, 0.1, 80)).tolist()
        self.b = rng.lognormal(0, 0.1, 80).tolist()
        self.criterion = Criterion(id="c", metric="synthetic.ratio", unit="x", comparator=">=",
                                   threshold=3.0, description="d")
        self.samples = Samples("paired", numerator=self.a, denominator=self.b)

    def time_bootstrap_ratio_of_medians_80(self):
        bootstrap_ratio_of_medians(self.a, self.b)

    def time_decide_80(self):
        decide(self.criterion, self.samples, 0.95, budget_spent=True)
