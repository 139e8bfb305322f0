"""The verifiable arithmetic task."""

from ryot.workload import arithmetic as ar


def test_reward_checks_answers_exactly():
    assert ar.reward(37, 58, "95\n") == 1.0
    assert ar.reward(37, 58, "95") == 1.0
    assert ar.reward(37, 58, "94\n") == 0.0
    assert ar.reward(37, 58, "095\n") == 0.0
    assert ar.reward(37, 58, "") == 0.0


def test_held_out_problems_never_occur_in_training():
    train, held_out = ar.problem_sets()
    assert len(held_out) == 200 and not set(train) & set(held_out)
    train_bytes, _ = ar.splits()
    assert bytes(train_bytes[:20].tolist()).decode().count("=") >= 1
