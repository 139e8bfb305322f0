"""A state machine driving the orchestrator in random order.

After every step: the configs are compatible, the history only grows, and the checkpoint
metadata validates against the schema and restores an equal orchestrator (in memory and on disk).
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ryot.core.orchestration import metadata as checkpoint_metadata
from ryot.core.orchestration.coordinator import IncompatibleConfigError, OptimizationOrchestrator
from ryot.infra.schemas import first_error

from .strategies import compatible_configs, gate_values, kernels

metric_values = st.one_of(st.floats(0, 0.2), st.floats(0, 20), gate_values)
adapt_metrics = st.fixed_dictionaries({}, optional={
    "loss": metric_values, "grad_norm": metric_values, "compression_error": metric_values,
    "kernel_speedup": st.floats(0.2, 3.0), "rlvr_best_reward": st.floats(0, 1),
    "rlvr_paths_used": st.integers(0, 70), "tokens_per_second": st.floats(0, 1e6)})


class OrchestratorMachine(RuleBasedStateMachine):
    @initialize(configs=compatible_configs())
    def start(self, configs):
        self.ticks = itertools.count(1)
        self.orch = OptimizationOrchestrator(*configs, clock=lambda: float(next(self.ticks)))
        self.history_len = 0
        self.tmp = Path(tempfile.mkdtemp(prefix="ryot-props-"))

    @rule(metrics=adapt_metrics)
    def adapt(self, metrics):
        before = self.orch.state
        after = self.orch.adapt_parameters(metrics)
        if not self.orch.history[self.history_len:]:
            assert (after.kernel, after.compression, after.rlvr) == (
                before.kernel, before.compression, before.rlvr), "a change left no history"

    @rule(kernel=kernels)
    def propose_kernel(self, kernel):
        try:
            self.orch.propose_kernel(kernel, reason="property test")
        except IncompatibleConfigError:
            pass

    @rule(epoch=st.integers(0, 100), step=st.integers(0, 10**6))
    def snapshot(self, epoch, step):
        state = self.orch.snapshot_configuration(epoch, step)
        assert (state.epoch, state.step) == (epoch, step)

    @rule(metrics=st.dictionaries(st.sampled_from(["loss", "grad_norm", "compression_error"]),
                                  gate_values))
    def gate(self, metrics):
        report = self.orch.validate_safety_gates(metrics)
        assert report.passed == (not report.violations)

    @rule()
    def checkpoint_round_trip_on_disk(self):
        path = self.tmp / "meta.json"
        self.orch.save_checkpoint_metadata(path)
        restored = OptimizationOrchestrator.load_checkpoint_metadata(path, clock=self.orch.clock)
        assert restored.state == self.orch.state and restored.history == self.orch.history
        self.orch = restored

    @invariant()
    def configs_are_compatible(self):
        report = self.orch.validate_parameter_compatibility()
        assert report.ok, report.problems

    @invariant()
    def history_only_grows(self):
        assert len(self.orch.history) >= self.history_len
        self.history_len = len(self.orch.history)

    @invariant()
    def metadata_validates_and_round_trips(self):
        meta = self.orch.get_checkpoint_metadata()
        assert first_error(checkpoint_metadata.SCHEMA, meta) is None
        restored = OptimizationOrchestrator.from_checkpoint_metadata(meta)
        assert restored.state == self.orch.state
        assert restored.history == self.orch.history
        assert restored.kernel_stack == self.orch.kernel_stack
        assert restored.bounds == self.orch.bounds and restored.resolver == self.orch.resolver


TestOrchestratorMachine = OrchestratorMachine.TestCase
