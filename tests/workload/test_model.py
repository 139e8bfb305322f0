"""ryot.workload.model: the GPT."""

import torch

from ryot.workload.model import GPT, GPTConfig


def _model(seed=0):
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=64, n_layer=2, n_head=2, n_embd=32, attention="sdpa"))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.1)
    return model.eval()


def _tokens(n=40, seed=1):
    return torch.randint(0, 256, (1, n), generator=torch.Generator().manual_seed(seed))


def test_last_only_logits_are_the_last_row_of_the_full_logits():
    model, tokens = _model(), _tokens()
    with torch.no_grad():
        full = model(tokens)[0]
        last = model(tokens, last_only=True)[0]
    assert last.shape == (1, 1, 256)
    torch.testing.assert_close(last[:, 0], full[:, -1], rtol=1e-5, atol=1e-6)  # GEMM blocking
