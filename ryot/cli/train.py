"""``ryot train`` and ``python -m ryot.train`` (also under torchrun): arguments in, exit code
out."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from ryot.cli._errors import report_bug
from ryot.infra import interrupts
from ryot.infra.errors import PublishError, RyotError
from ryot.workload.train import checkpoints as ckpt
from ryot.workload.train.loop import TrainingStopped, train
from ryot.workload.train.records import StepRecord
from ryot.workload.train.run_config import TrainConfig, TrainConfigError

__all__ = ["main"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"ryot train: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    """``ryot train`` (also ``python -m ryot.train``, e.g. under torchrun).

    Exit codes: 0 completed · 1 stopped on safety-gate violations · 2 bad input (arguments,
    run directory, unusable checkpoints) · 4 a checkpoint or log that could not be written (disk
    full: the message names the file), or a ryot bug · 130 interrupted (SIGINT) · 143 terminated
    (SIGTERM). Interrupted or terminated, ``train_log.json`` says ``interrupted`` and the
    checkpoints written so far stay.
    """
    parser = argparse.ArgumentParser(
        prog="ryot train",
        description="Train the embedded GPT on CPython's pydoc text, baseline (fp32, eager, plain "
        "attention, AdamW) or optimized (bf16 autocast, fused attention, AdamW with 8-bit "
        "block-wise states; under torchrun also int8-compressed gradient all-reduce), with the "
        "orchestrator's safety gates in the loop. Under torchrun it runs DDP.",
        epilog="Exit codes: 0 completed, 1 stopped on safety-gate violations, 2 bad input, "
               "4 a checkpoint or log could not be written (disk full) or a ryot bug, "
               "130 interrupted (SIGINT), 143 terminated (SIGTERM). train_log.json (in "
               "--run-dir) records how the run ended.")
    defaults = TrainConfig()
    parser.add_argument("--mode", choices=["baseline", "optimized"], default=defaults.mode)
    for name in ("steps", "batch_size", "seed", "n_layer", "n_head", "n_embd", "block_size",
                 "checkpoint_every", "max_violations"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int,
                            default=getattr(defaults, name))
    parser.add_argument("--keep-checkpoints", type=int, default=defaults.keep_checkpoints,
                        metavar="K",
                        help="keep the newest K checkpoints, delete older ones (0: keep all; "
                             f"default {defaults.keep_checkpoints})")
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--run-dir", help="checkpoints and train_log.json go here")
    parser.add_argument("--resume", action="store_true", help="continue from the newest intact "
                        "checkpoint in --run-dir (with the run's own configuration)")
    parser.add_argument("--activation-checkpointing", action="store_true",
                        help="optimized mode: recompute each block's activations in the "
                             "backward pass (less memory, about one more forward pass of time)")
    parser.add_argument("--activation-budget-mb", type=float, default=None, metavar="MIB",
                        help="optimized mode: the orchestrator turns activation checkpointing "
                             "on when one step would keep more than MIB of activations for the "
                             "backward pass (measured before the first step; recorded in the "
                             "orchestrator's history)")
    parser.add_argument("--inject-nan-at", type=int, nargs="*", default=[],
                        help="fault injection: make these steps' loss NaN")
    args = parser.parse_args(argv)
    if args.resume and not args.run_dir:
        parser.error("--resume needs --run-dir")
    try:
        config = TrainConfig(mode=args.mode, steps=args.steps, batch_size=args.batch_size,
                             lr=args.lr, seed=args.seed, n_layer=args.n_layer,
                             n_head=args.n_head, n_embd=args.n_embd,
                             block_size=args.block_size, checkpoint_every=args.checkpoint_every,
                             keep_checkpoints=args.keep_checkpoints,
                             max_violations=args.max_violations,
                             inject_nan_at=tuple(args.inject_nan_at),
                             activation_checkpointing=args.activation_checkpointing,
                             activation_budget_mb=args.activation_budget_mb)
    except TrainConfigError as exc:  # a usage error in one line naming the flag (no usage dump)
        parser.exit(2, f"ryot train: error: argument --{exc.field.replace('_', '-')}: {exc}\n")
    except RyotError as exc:
        parser.error(str(exc))

    first_rank = int(os.environ.get("RANK", "0")) == 0  # under torchrun, rank 0 reports

    def show(record: StepRecord) -> None:
        if first_rank and (record.step % 10 == 0 or not record.applied):
            flag = "" if record.applied else "  (gate violation: step not applied)"
            print(f"step {record.step:5d}  loss {record.loss:.4f}  "
                  f"{record.tokens / record.seconds:9.0f} tok/s{flag}", file=sys.stderr)

    logged = f"; see {Path(args.run_dir) / 'train_log.json'}" if args.run_dir else ""
    with warnings.catch_warnings():
        warnings.simplefilter("always", ckpt.CheckpointWarning)
        warnings.showwarning = _show_warning
        try:
            with interrupts.terminate_as_interrupt():
                result = train(config, args.run_dir, args.resume, progress=show)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (a scheduler, docker, Kubernetes)
            print(f"ryot train: interrupted ({interrupts.signal_name(exc)}){logged}",
                  file=sys.stderr)
            return interrupts.exit_code(exc)
        except TrainingStopped as exc:
            print(f"ryot train: {exc}{logged}", file=sys.stderr)
            return 1
        except RyotError as exc:  # the run directory, a checkpoint, a setting
            print(f"ryot train: error: {exc}", file=sys.stderr)
            return 2
        except PublishError as exc:  # disk full: not the input, not a bug
            see = logged if exc.path and Path(exc.path).name != "train_log.json" else ""
            print(f"ryot train: error: {exc}{see}", file=sys.stderr)
            return 4
        except Exception:  # noqa: BLE001 - anything else is our bug: say so, keep the traceback
            return report_bug("ryot train")
    final = result.losses[-1] if result.losses else float("nan")
    if first_rank:
        print(json.dumps({"steps": result.config.steps, "final_loss": final,
                          "violations": len(result.violations)}))
    return 0
