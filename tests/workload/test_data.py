"""ryot.workload.data: the pydoc corpus."""

from ryot.workload.data import corpus_bytes, decode_tokens, encode_text, splits


def test_corpus_is_real_text_split_once():
    text = corpus_bytes()
    assert len(text) > 400_000 and b"The \"assert\" statement" in text
    train, held_out = splits()
    assert len(train) + len(held_out) == len(text) and len(held_out) > 40_000
    assert decode_tokens(encode_text("héllo")) == "héllo"
