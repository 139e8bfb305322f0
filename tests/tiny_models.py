"""Small deterministic models and inputs shared by the workload and KV-cache tests."""

from __future__ import annotations

import torch

from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig
from ryot.orchestrator import OptimizationOrchestrator
from ryot.workload.model import GPT, GPTConfig


def tiny_gpt(seed: int = 0) -> GPT:
    """A 2-layer SDPA GPT with weights large enough that attention is far from uniform."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=64, n_layer=2, n_head=2, n_embd=32, attention="sdpa"))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.1)
    return model.eval()


def prompt_tokens(n: int = 40, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, 256, (1, n), generator=torch.Generator().manual_seed(seed))


def orchestrator_with_history() -> OptimizationOrchestrator:
    """An orchestrator that resolved, gated, adapted and snapshotted once."""
    o = OptimizationOrchestrator(KernelConfig(64, 64, 32), CompressionConfig(48, 4),
                                 RLVRConfig(4, 0.9, 100))
    o.validate_safety_gates({"loss": 2.0, "grad_norm": 0.1, "compression_error": 0.2})
    o.adapt_parameters({"compression_error": 0.045})
    o.snapshot_configuration(3, 300)
    return o
