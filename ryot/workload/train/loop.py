"""The training loop, baseline and optimized, with the orchestrator in the loop.

* baseline: float32, eager, plain attention, ``torch.optim.AdamW``;
* optimized: bfloat16 autocast, fused attention (:mod:`.attention`: ``recompute`` on CPU,
  ``sdpa`` on CUDA), activation checkpointing (forced by ``activation_checkpointing``, or
  switched on by the orchestrator when one step's measured activations exceed
  ``activation_budget_mb``), and :class:`ryot.core.optim.adamw8bit.AdamW8bit`:
  both Adam moments kept between steps as 8-bit block-wise codes (what stays in memory is what
  gets compressed). The error of that state quantization feeds the orchestrator's compression
  gate, and its block size follows the orchestrator's compression block.

Nothing is compressed that no one sends: a single process never compresses its gradients.
``RYOT_COMPILE_MODEL=1`` also runs the optimized model under ``torch.compile`` (off by default:
on the 2-core CPUs measured it did not pay — see docs/benchmarks.md — and inductor costs memory;
``RYOT_COMPILE`` is the other switch, for ryot's compiled quantizer hot paths).

Both start from the same seed and see the same batches. Every step the orchestrator checks the
gates (loss, gradient norm before clipping, compression error). A violating step is not applied:
the loop rolls back to the last good checkpoint (or skips the step when there is none), lets
``adapt_parameters`` react (and halves the learning rate after an exploding gradient), and stops
with :class:`TrainingStopped` after ``max_violations``. A rollback restores the model, the
optimizer and the data position; the orchestrator keeps what it adapted and its gate statistics.
The gates see each step's raw loss and gradient norm before anything (compression) could fail
on them.

Checkpoints (:mod:`.checkpoints`) are atomic, verified and resumable: a resumed run continues
the loss curve exactly, and refuses a configuration that differs from the run's. However the run
ends (completed, stopped on violations, interrupted by SIGINT or SIGTERM, failed)
``train_log.json`` says so.

Under ``torchrun`` (``WORLD_SIZE`` set) the same loop runs with DistributedDataParallel (gloo on
CPU, nccl on CUDA); the optimized mode then compresses gradient buckets in a DDP communication
hook (int8 codes and scales travel, about 4x fewer bytes than float32); see
:mod:`.distributed`. Arguments and exit codes: :mod:`.cli`.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig
from ryot.core.optim.adamw8bit import AdamW8bit
from ryot.core.orchestration.coordinator import OptimizationOrchestrator
from ryot.core.orchestration.gates import SafetyBounds
from ryot.infra.interrupts import raise_pending, signal_name
from ryot.infra.isolation import current_rss_bytes, peak_rss_bytes
from ryot.infra.switches import env_flag
from ryot.measure.timing import synchronize
from ryot.workload.data import BatchSampler, dataset_splits
from ryot.workload.model import GPT
from ryot.workload.train import checkpoints as ckpt
from ryot.workload.train import distributed, recipe
from ryot.workload.train.activation_memory import saved_activation_bytes
from ryot.workload.train.distributed import compressed_allreduce_hook
from ryot.workload.train.outputs import write_log
from ryot.workload.train.records import StepRecord, TrainResult
from ryot.workload.train.run_config import TrainConfig
from ryot.workload.train.run_dir import RunDirError, check_resumable, check_run_dir

__all__ = ["Trainer", "TrainingStopped", "train"]


class TrainingStopped(RuntimeError):
    """Too many safety-gate violations: the run stops with the reasons (``record``: the last
    step)."""

    def __init__(self, message: str, record: StepRecord | None = None) -> None:
        super().__init__(message)
        self.record = record


class Trainer:
    """One training run. ``resume=True`` continues from the newest intact checkpoint in ``run_dir``.

    Under torchrun the constructor joins the process group; :meth:`close` leaves it.
    """

    def __init__(self, config: TrainConfig, run_dir: str | os.PathLike[str] | None = None,
                 progress=None, *, resume: bool = False) -> None:
        self.config = config
        self.run_dir = Path(run_dir) if run_dir else None
        if self.run_dir is not None:
            check_run_dir(self.run_dir, resume)  # before any rank can write to it
        self.progress = progress
        torch.manual_seed(config.seed)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = GPT(config.model_config(self.device.type)).to(self.device)
        self.raw_model = self.model
        self.rank = 0
        self.distributed = distributed.is_distributed()
        if self.distributed:
            self.rank = distributed.init(self.device)
        try:
            self._setup(resume)
        except BaseException:
            self.close(clean=False)
            raise

    def _setup(self, resume: bool) -> None:
        config = self.config
        if self.distributed:
            if self.device.type == "cuda":
                torch.cuda.set_device(self.rank)
                self.device = torch.device("cuda", self.rank)
                self.model = self.model.to(self.device)
            self.model = nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.rank] if self.device.type == "cuda" else None)
        train, _ = dataset_splits(config.dataset)
        self.sampler = BatchSampler(train, config.batch_size, config.block_size,
                                    seed=config.seed + 1000 * self.rank)
        self.orchestrator = OptimizationOrchestrator(
            KernelConfig(64, 64, 32),
            CompressionConfig(config.compression_block, config.compression_bits),
            RLVRConfig(4, 1.0, max(256, config.compression_block)),
            SafetyBounds(grad_norm=(1e-6, config.grad_norm_gate)))
        if config.optimized:
            self.optimizer = AdamW8bit(self.raw_model.parameters(), lr=config.lr, weight_decay=0.0,
                                       block_size=self.orchestrator.state.compression.block_size)
        else:
            self.optimizer = torch.optim.AdamW(self.raw_model.parameters(), lr=config.lr,
                                               weight_decay=0.0)
        if config.optimized and env_flag("RYOT_COMPILE_MODEL", False):
            self.compile()
        self.hook_errors: list[float] = []
        if self.distributed and config.optimized:  # reads the orchestrator of the moment
            self.model.register_comm_hook(None, compressed_allreduce_hook(
                lambda: self.orchestrator.state.compression, self.hook_errors))
        self.step = 0
        self._pending_faults = set(config.inject_nan_at)
        self.result = TrainResult(config)
        if resume and self.run_dir is not None:
            self.resume()
        self._plan_activation_checkpointing()

    def _plan_activation_checkpointing(self) -> None:
        """Optimized mode: the orchestrator's decision, which the model follows —
        ``activation_checkpointing=True`` forces it on; else with a budget it is decided from one
        step's measured activation bytes; else off. A resumed run's restored orchestrator
        re-decides under this run's configuration (a change is recorded)."""
        config, orch = self.config, self.orchestrator
        if not config.optimized:
            return
        if config.recipe == "measured" and not config.activation_checkpointing and not (
                self.distributed):
            decision = recipe.choose(config, self.raw_model, type(self))
            recipe.apply(self.raw_model, recipe.Recipe(decision["checkpointing"],
                                                       decision["attention"]))
            self.result.recipe = decision
            orch.set_activation_checkpointing(
                decision["checkpointing"] != "off",
                f"measured recipe: {decision['chosen']} ({decision['reason']}"
                f"{'; cached' if decision['cached'] else ''})")
            return
        if config.activation_checkpointing:
            orch.set_activation_checkpointing(True, "forced by activation_checkpointing=True")
        elif config.activation_budget_mb is not None:
            saved = saved_activation_bytes(self.raw_model, config.batch_size, autocast=True)
            orch.plan_activation_checkpointing(saved, int(config.activation_budget_mb * 2**20))
        else:
            orch.set_activation_checkpointing(False, "no activation budget")
        self.raw_model.config.checkpoint_blocks = orch.activation_checkpointing

    def compile(self) -> None:
        """Run the forward (and backward) under ``torch.compile``; checkpoints still hold the
        plain model's parameters (``raw_model``)."""
        self.model = torch.compile(self.model)

    def close(self, clean: bool = True) -> None:
        """Leave the process group (a no-op outside torchrun); ``clean``: all ranks ended
        normally."""
        if self.distributed:
            self.model = self.raw_model  # DDP's reducer goes before the group it uses
            distributed.shutdown(clean)
            self.distributed = False

    # -- checkpoints ----------------------------------------------------------------------
    def _tensors(self) -> dict:
        """Every rank draws its own batches: each rank's sampler state is kept (by rank)."""
        sampler = self.sampler.state_dict()["generator"]
        samplers = distributed.gather(sampler, self.device) if self.distributed else [sampler]
        return {"model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "samplers": samplers, "torch_rng": torch.get_rng_state()}

    def _json_state(self) -> dict:
        return {"config": self.config.to_json(), "world_size": distributed.world_size(),
                "records": [r.to_dict() for r in self.result.records],
                "violations": self.result.violations,
                "orchestrator": self.orchestrator.get_checkpoint_metadata()}

    def save_checkpoint(self) -> Path | None:
        """Rank 0 writes ``step-<N>.pt`` + ``.json``, then keeps the newest ``keep_checkpoints``.

        Every rank calls it (the sampler states are gathered from all ranks)."""
        if self.run_dir is None:
            return None
        tensors = self._tensors()
        if self.rank != 0:
            return None
        path = ckpt.save(ckpt.path_for(self.run_dir, self.step), tensors, self._json_state())
        ckpt.prune(self.run_dir, self.config.keep_checkpoints)
        return path

    def _restore(self, found: ckpt.Checkpoint, *, whole_run: bool) -> None:
        """Model, optimizer, data position, RNG and step; with ``whole_run`` also the records,
        violations and orchestrator (a resume). A rollback keeps the latter three as they are."""
        try:
            tensors, state = found.tensors, found.state
            self.raw_model.load_state_dict(tensors["model"])  # load_state_dict keeps the device
            self.optimizer.load_state_dict(tensors["optimizer"])
            self._follow_orchestrator()  # a rollback keeps the orchestrator's block size
            self.sampler.load_state_dict({"generator": tensors["samplers"][self.rank]})
            torch.set_rng_state(tensors["torch_rng"])
            if whole_run:
                records = [StepRecord.from_dict(r) for r in state["records"]]
                violations = list(state["violations"])
                self.orchestrator = OptimizationOrchestrator.from_checkpoint_metadata(
                    state["orchestrator"],
                    source=f"{ckpt.sidecar(found.path)}: /state/orchestrator")
                self.result.records, self.result.violations = records, violations
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ckpt.CheckpointError(f"{found.path}: cannot restore it ({type(exc).__name__}: "
                                       f"{exc})") from None
        self.step = found.step

    def resume(self) -> ckpt.Checkpoint | None:
        """Continue from the newest intact checkpoint of ``run_dir`` (None: there is none)."""
        found = ckpt.load_latest(self.run_dir)
        if found is None:
            warnings.warn(f"{self.run_dir}: no checkpoint to resume from; starting at step 0",
                          ckpt.CheckpointWarning, stacklevel=2)
            return None
        source = str(ckpt.sidecar(found.path))
        check_resumable(found.state.get("config"), self.config, source)
        if found.state.get("world_size") != distributed.world_size():
            raise RunDirError(f"cannot resume from {source}: that run had world_size="
                              f"{found.state.get('world_size')!r} processes, this one "
                              f"{distributed.world_size()}; resume with as many processes")
        self._restore(found, whole_run=True)
        return found

    def _roll_back(self) -> str:
        """Go back to the newest intact checkpoint; say what was done."""
        if self.run_dir is None:
            return "skipped"
        try:
            found = ckpt.load_latest(self.run_dir, at_most=self.step)
        except ckpt.CheckpointError as exc:
            warnings.warn(f"cannot roll back: {exc}", ckpt.CheckpointWarning, stacklevel=2)
            return "skipped (no intact checkpoint to roll back to)"
        if found is None:
            return "skipped"
        self._restore(found, whole_run=False)
        for record in self.result.records:
            if record.step > found.step and record.applied:
                record.rolled_back = True
        return f"rolled back to {found.path.name}"

    # -- one step -------------------------------------------------------------------------
    def _forward_backward(self, x, y):
        if self.config.optimized:
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                _, loss = self.model(x, y)
        else:
            _, loss = self.model(x, y)
        if self.step + 1 in self._pending_faults:  # a transient fault: fires once
            self._pending_faults.discard(self.step + 1)
            loss = loss * float("nan")
        loss.backward()
        return loss

    def _compression_error(self) -> float:
        """What the compression gate sees: the relative error of the optimizer-state quantization
        as the states are stored now (0 for the float32 baseline) and, under DDP, the largest
        error of this step's compressed gradient buckets (measured by the comm hook)."""
        errors = list(self.hook_errors)
        self.hook_errors.clear()
        return max([getattr(self.optimizer, "last_state_error", 0.0), *errors])

    def _apply(self) -> float:
        """The optimizer step; returns the seconds spent quantizing optimizer states."""
        self.optimizer.step()
        return getattr(self.optimizer, "last_codec_seconds", 0.0)

    def _follow_orchestrator(self) -> None:
        """After every step, passed or not: the 8-bit optimizer takes the orchestrator's block
        size at once. A new block size re-encodes the states, so the error the gate saw no
        longer describes them: it reads 0 (unmeasured) until the next applied step measures it
        — otherwise a tripped gate would keep rejecting every step on a stale figure."""
        if isinstance(self.optimizer, AdamW8bit):
            block = self.orchestrator.state.compression.block_size
            if block != self.optimizer.param_groups[0]["block_size"]:
                self.optimizer.set_block_size(block)
                self.optimizer.last_state_error = 0.0

    def train_step(self) -> StepRecord:
        start = time.perf_counter()
        x, y = (t.to(self.device) for t in self.sampler.next())
        loss_tensor = self._forward_backward(x, y)
        loss = float(loss_tensor.detach())
        params = [p for p in self.raw_model.parameters() if p.grad is not None]
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm=self.config.grad_clip))
        error = self._compression_error()
        compression_s = 0.0
        gate_values = [loss, grad_norm, error]
        if self.distributed:  # every rank's gates decide on the same (worst) values
            gate_values = distributed.agree(gate_values, self.device)
        metrics = dict(zip(("loss", "grad_norm", "compression_error"), gate_values, strict=True))
        t_orch = time.perf_counter()
        report = self.orchestrator.validate_safety_gates(metrics)
        orchestrator_s = time.perf_counter() - t_orch
        self.step += 1
        if report.passed:
            compression_s = self._apply()
        t_orch = time.perf_counter()
        if report.passed:
            self.orchestrator.snapshot_configuration(0, self.step)
        self.orchestrator.adapt_parameters(metrics)
        orchestrator_s += time.perf_counter() - t_orch
        self._follow_orchestrator()
        self.optimizer.zero_grad(set_to_none=True)
        synchronize(self.device)
        record = StepRecord(self.step, loss, grad_norm, error, time.perf_counter() - start,
                            x.numel(), current_rss_bytes(), report.passed, compression_s,
                            orchestrator_s)
        if not report.passed:
            self._on_violation(record, report)
        return record

    def _on_violation(self, record: StepRecord, report) -> None:
        reasons = "; ".join(v.message for v in report.violations)
        action = self._roll_back()
        if any(v.gate == "grad_norm" and isinstance(v.value, float) and math.isfinite(v.value)
               and v.value > v.bound[1] for v in report.violations):
            # exploding gradients: halve the learning rate (after any rollback restored it)
            for group in self.optimizer.param_groups:
                group["lr"] = max(group["lr"] * 0.5, 1e-6)
            action += f"; learning rate halved to {self.optimizer.param_groups[0]['lr']:.3g}"
        self.result.violations.append({"step": record.step, "reasons": reasons, "action": action})
        if len(self.result.violations) >= self.config.max_violations:
            raise TrainingStopped(
                f"stopped after {len(self.result.violations)} safety-gate violations "
                f"(max_violations={self.config.max_violations}); last at step {record.step}: "
                f"{reasons}",
                record)

    # -- the run --------------------------------------------------------------------------
    def run(self) -> TrainResult:
        """Train up to ``config.steps``; ``train_log.json`` is written however this ends."""
        try:
            if self.run_dir is not None and self.step == 0 and self.config.checkpoint_every:
                self.save_checkpoint()
            while self.step < self.config.steps:
                raise_pending()  # an interrupt a finalizer swallowed is raised here
                record = self.train_step()
                self.result.records.append(record)
                if self.progress:
                    self.progress(record)
                every = self.config.checkpoint_every
                if every and self.step % every == 0 and record.applied:
                    self.save_checkpoint()
        except TrainingStopped as exc:
            if exc.record is not None and not any(r is exc.record
                                                  for r in self.result.records[-1:]):
                # the step that stopped the run is logged too
                self.result.records.append(exc.record)
            self._finish("stopped", str(exc))
            raise
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM under terminate_as_interrupt()
            self._finish("interrupted", f"interrupted ({signal_name(exc)}) after step {self.step}")
            raise
        except BaseException as exc:
            self._finish("failed", f"{type(exc).__name__}: {exc}")
            raise
        self._finish("completed", None)
        return self.result

    def _finish(self, status: str, reason: str | None) -> None:
        self.result.status, self.result.reason = status, reason
        self.result.peak_rss_bytes = peak_rss_bytes()
        if self.run_dir is not None and self.rank == 0:
            write_log(self.run_dir / "train_log.json", self.result, self.orchestrator)


def train(config: TrainConfig, run_dir=None, resume: bool = False, progress=None) -> TrainResult:
    """Run one training (resuming from ``run_dir`` when asked); leaves any process group cleanly."""
    trainer = Trainer(config, run_dir, progress, resume=resume)
    ended_normally = False
    try:
        result = trainer.run()
        ended_normally = True
        return result
    finally:
        trainer.close(clean=ended_normally)
