import pytest

from payments.domain import can_move, decline_message, link_id_from_token, new_link_id, sign_link


@pytest.mark.parametrize("current, new, allowed", [
    ("pending", "succeeded", True), ("pending", "failed", True), ("processing", "succeeded", True),
    ("succeeded", "processing", False), ("succeeded", "failed", False), ("failed", "succeeded", False),
    ("processing", "requires_action", False), ("processing", "processing", False),
])
def test_state_only_moves_forward(current, new, allowed):
    assert can_move(current, new) is allowed


def test_link_token_round_trip_and_tampering():
    link_id = new_link_id()
    token = sign_link(link_id, "secret")
    assert link_id_from_token(token, "secret") == link_id
    assert link_id_from_token(token, "other-secret") is None
    assert link_id_from_token(token[:-1] + ("A" if token[-1] != "A" else "B"), "secret") is None
    assert link_id_from_token(link_id, "secret") is None
    assert link_id_from_token(None, "secret") is None


def test_decline_messages_are_plain_words():
    assert "insufficient funds" in decline_message("insufficient_funds")
    assert "declined" in decline_message("do_not_honor")
