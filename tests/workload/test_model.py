"""ryot.workload.model: the GPT."""

import torch

from tests.tiny_models import prompt_tokens as _tokens
from tests.tiny_models import tiny_gpt as _model


def test_last_only_logits_are_the_last_row_of_the_full_logits():
    model, tokens = _model(), _tokens()
    with torch.no_grad():
        full = model(tokens)[0]
        last = model(tokens, last_only=True)[0]
    assert last.shape == (1, 1, 256)
    torch.testing.assert_close(last[:, 0], full[:, -1], rtol=1e-5, atol=1e-6)  # GEMM blocking
