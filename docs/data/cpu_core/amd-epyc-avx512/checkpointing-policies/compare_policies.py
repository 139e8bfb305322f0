"""Scratch comparison: checkpointing off / selective / half / blocks (recompute attention),
full preset — interleaved step seconds and isolated peak memory added (see README.md here)."""

import json
import statistics
import sys
from dataclasses import replace

import compare_policies as this  # itself, importable: run_isolated needs a module function

from ryot.infra.isolation import file_backed_bytes, run_isolated
from ryot.measure.timing import interleaved
from ryot.metrics.measurements import rss_before_training, training_memory, training_memory_added
from ryot.workload.presets import FULL
from ryot.workload.train.loop import Trainer
from ryot.workload.train.recipe import Recipe, apply

POLICIES = ("off", "selective", "half", "blocks")
TRAIN = replace(FULL.train, mode="optimized", recipe="fixed", activation_budget_mb=None)


def make(policy):
    trainer = Trainer(TRAIN)
    apply(trainer.raw_model, Recipe(policy, "recompute"))
    return trainer


def peak(policy, steps=20):
    before, file_before = rss_before_training(), file_backed_bytes()
    trainer = make(policy)
    for _ in range(steps):
        trainer.train_step()
    return training_memory_added(training_memory(before, file_before))


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    memory = {p: [run_isolated(this.peak, p).value / 2**20 for _ in range(2)] for p in POLICIES}
    seconds = interleaved({p: make(p).train_step for p in POLICIES}, rounds=rounds, warmup=3)
    with open("/tmp/exp/ckpt_exp.json", "w") as f:
        json.dump({"memory_mib": memory, "seconds": seconds}, f, indent=1)
    for p in POLICIES:
        print(f"{p:10s} step {statistics.median(seconds[p]) * 1e3:7.1f} ms  "
              f"peak added {memory[p]} MiB")
