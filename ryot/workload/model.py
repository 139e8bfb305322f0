"""A small GPT (after nanoGPT's model.py): the whole model in one file.

``attention`` picks one of :mod:`.attention`'s implementations: ``"plain"`` (the textbook
softmax(QKᵀ/√d)V with an explicit mask: the baseline), ``"sdpa"`` (fused kernels) or
``"recompute"`` (fused forward, backward by recomputation: ryot's CPU training path).
``checkpoint_blocks=True`` recomputes each block's activations in the backward pass instead of
keeping them (activation checkpointing: less memory, one more forward); ``checkpoint_policy``
says what is recomputed: ``"blocks"`` everything but each block's input, ``"selective"`` only the
cheap ops — the outputs of matmuls and attention are kept, layer norms, GELU, additions and
dtype casts are recomputed (``torch.utils.checkpoint``'s selective activation checkpointing);
``checkpoint_layers`` how many blocks, the first ones (None: all) — the first, because backward
reaches them last, when the later blocks' activations are already freed, so recomputing one of
them never adds to the peak of the kept ones.
Generation can keep its keys and values in a dense cache or in ryot's quantized paged cache.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import (
    CheckpointPolicy,
    checkpoint,
    create_selective_checkpoint_contexts,
)

from ryot.infra.errors import ConfigError
from ryot.workload.attention import MODES, causal_attention

__all__ = ["CHECKPOINT_POLICIES", "GPT", "KEPT_BY_SELECTIVE", "MLP", "Block", "CausalSelfAttention",
           "GPTConfig"]

CHECKPOINT_POLICIES = ("blocks", "selective")
_aten = torch.ops.aten
KEPT_BY_SELECTIVE = {  # what selective checkpointing keeps (the expensive ops); the rest recomputes
    _aten.mm.default, _aten.addmm.default, _aten.bmm.default,
    _aten._scaled_dot_product_flash_attention_for_cpu.default,
    _aten._scaled_dot_product_flash_attention.default,
    _aten._scaled_dot_product_efficient_attention.default,
}


def _keep_matmuls(ctx, op, *args, **kwargs) -> CheckpointPolicy:  # noqa: ANN001 - torch's hook
    return (CheckpointPolicy.MUST_SAVE if op in KEPT_BY_SELECTIVE
            else CheckpointPolicy.PREFER_RECOMPUTE)


def _selective_contexts():
    return create_selective_checkpoint_contexts(_keep_matmuls)


@dataclass
class GPTConfig:
    vocab_size: int = 256
    block_size: int = 128  # context length
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    attention: str = "plain"  # plain | sdpa | recompute (see .attention)
    checkpoint_blocks: bool = False  # activation checkpointing, one block at a time
    checkpoint_policy: str = "blocks"  # what checkpointing recomputes: blocks | selective
    checkpoint_layers: int | None = None  # how many blocks, the first ones; None: all

    def __post_init__(self) -> None:
        layers = self.checkpoint_layers
        if layers is not None and (isinstance(layers, bool) or not isinstance(layers, int)
                                   or not 1 <= layers <= self.n_layer):
            raise ConfigError(f"GPTConfig.checkpoint_layers must be None or an int from 1 to "
                              f"n_layer ({self.n_layer}), got {layers!r}")
        if self.checkpoint_policy not in CHECKPOINT_POLICIES:
            raise ConfigError(f"GPTConfig.checkpoint_policy must be one of "
                              f"{', '.join(CHECKPOINT_POLICIES)}, got {self.checkpoint_policy!r}")
        if self.attention not in MODES:
            raise ConfigError(f"GPTConfig.attention must be one of {', '.join(MODES)}, "
                              f"got {self.attention!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.n_head, self.n_embd, self.attention = config.n_head, config.n_embd, config.attention

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        return x.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)

    def forward(self, x: torch.Tensor, cache=None, layer: int = 0) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (self._heads(t) for t in self.c_attn(x).split(self.n_embd, dim=2))
        if cache is not None:  # generation: attend over everything cached so far
            cache.append(layer, k, v)
            y = cache.attend(layer, q)
        else:
            y = causal_attention(q, k, v, self.attention)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(config.n_embd), CausalSelfAttention(config)
        self.ln_2, self.mlp = nn.LayerNorm(config.n_embd), MLP(config)

    def forward(self, x: torch.Tensor, cache=None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as in GPT-2
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, cache=None,
                start: int = 0, last_only: bool = False):
        """Logits (batch, positions, vocab) and the loss against ``targets`` (or None).
        ``last_only``: logits of the last position only (inference; nanoGPT does the same)."""
        if last_only and targets is not None:
            raise ConfigError("GPT.forward: last_only=True gives no loss; pass targets=None")
        B, T = idx.shape
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        layers = self.config.checkpoint_layers
        for layer, block in enumerate(self.blocks):
            if (self.config.checkpoint_blocks and cache is None and torch.is_grad_enabled()
                    and (layers is None or layer < layers)):
                selective = self.config.checkpoint_policy == "selective"
                x = checkpoint(block, x, use_reentrant=False,
                               **({"context_fn": _selective_contexts} if selective else {}))
            else:
                x = block(x, cache, layer)
        logits = self.lm_head(self.ln_f(x[:, -1:] if last_only else x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss
