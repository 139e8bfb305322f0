"""Gate your own model: a Hugging Face GPT-2 (random init from a config, no download), trained
on CPython's own documentation text, SDPA + bf16 autocast against eager fp32 attention.

Two providers, each a plain ``provider(n, params)`` function a criteria file names:

* :func:`train_step_speedup` — ``n`` paired training-step trials (eager fp32 ÷ SDPA + bf16
  seconds), timed by :func:`ryot.paired_trials`;
* :func:`first_step_loss_gap` — how far the two arms' first-step losses are apart. Near zero but
  not zero: bf16 rounds. Exactly zero means the "bf16" arm silently ran in fp32, which the
  criterion's ``expected_min`` flags as SUSPICIOUS.
"""

from __future__ import annotations

from functools import cache

import torch
from transformers import GPT2Config, GPT2LMHeadModel

import ryot

VOCAB = 256  # byte-level tokens: no tokenizer to download


def _config(params: dict, attention: str) -> GPT2Config:
    return GPT2Config(n_layer=params.get("n_layer", 2), n_head=params.get("n_head", 4),
                      n_embd=params.get("n_embd", 128), n_positions=params.get("block_size", 128),
                      vocab_size=VOCAB, bos_token_id=0, eos_token_id=0, resid_pdrop=0.0,
                      embd_pdrop=0.0, attn_pdrop=0.0,  # no dropout: the arms see the same math
                      attn_implementation=attention)


@cache
def _batch(batch_size: int, block_size: int) -> torch.Tensor:
    """A fixed batch of byte tokens from pydoc's topic text (every CPython ships it)."""
    from pydoc_data.topics import topics

    data = torch.tensor(list("".join(topics.values()).encode("utf-8")), dtype=torch.long)
    starts = torch.arange(batch_size) * 9973 % (len(data) - block_size - 1)
    return torch.stack([data[s: s + block_size] for s in starts.tolist()])


class Arm:
    """One model + optimizer, stepping on the same batch; ``bf16`` wraps the forward in autocast."""

    def __init__(self, params: dict, attention: str, bf16: bool) -> None:
        torch.manual_seed(params.get("seed", 0))  # both arms start from the same weights
        self.model = GPT2LMHeadModel(_config(params, attention)).train()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=3e-4)
        self.bf16 = bf16
        self.batch = _batch(params.get("batch_size", 8), params.get("block_size", 128))

    def step(self) -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            loss = self.model(self.batch, labels=self.batch).loss
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return loss.item()


def _arms(params: dict) -> tuple[Arm, Arm]:
    return Arm(params, "eager", bf16=False), Arm(params, "sdpa", bf16=True)


def train_step_speedup(n: int, params: dict):
    """Eager fp32 seconds ÷ SDPA + bf16 seconds per training step, n interleaved pairs."""
    baseline, candidate = _arms(params)
    return ryot.paired_trials(baseline.step, candidate.step, n, warmup=2)


def first_step_loss_gap(n: int, params: dict) -> float:
    """|loss(SDPA + bf16) − loss(eager fp32)| ÷ loss(eager fp32) on the first step."""
    baseline, candidate = _arms(params)
    reference = baseline.step()
    return abs(candidate.step() - reference) / reference
