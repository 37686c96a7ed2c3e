from datetime import datetime

import pytest

from payments.domain import (
    ach_expected_by, ach_mandate, can_move, consent_text_for, decline_message, failure_message,
    link_id_from_token, new_link_id, sign_link, status_from_intent,
)


@pytest.mark.parametrize("current, new, allowed", [
    ("pending", "succeeded", True), ("pending", "failed", True), ("processing", "succeeded", True),
    ("pending", "requires_action", True), ("requires_action", "processing", True),
    ("succeeded", "processing", False), ("succeeded", "failed", False),
    ("processing", "requires_action", False), ("processing", "processing", False),
    ("failed", "processing", False), ("failed", "failed", False),
    # Stripe saying the money moved outranks a failure we inferred
    ("failed", "succeeded", True),
])
def test_state_only_moves_forward(current, new, allowed):
    assert can_move(current, new) is allowed


@pytest.mark.parametrize("intent_status, has_error, ours", [
    ("succeeded", False, "succeeded"), ("processing", False, "processing"),
    ("requires_action", False, "requires_action"), ("canceled", False, "failed"),
    ("requires_payment_method", True, "failed"),
    ("requires_payment_method", False, None),   # never confirmed: settled by canceling
    ("requires_confirmation", False, None),
])
def test_what_an_intents_status_means_for_the_payment(intent_status, has_error, ours):
    assert status_from_intent(intent_status, has_error) == ours


def test_link_token_round_trip_and_tampering():
    link_id = new_link_id()
    token = sign_link(link_id, "secret")
    assert link_id_from_token(token, "secret") == link_id
    assert link_id_from_token(token, "other-secret") is None
    assert link_id_from_token(token[:-1] + ("A" if token[-1] != "A" else "B"), "secret") is None
    assert link_id_from_token(link_id, "secret") is None
    assert link_id_from_token(None, "secret") is None
    assert link_id_from_token("ümlaut.tökén", "secret") is None    # no crash on non-ASCII


def test_failures_are_told_in_the_payers_words():
    assert "insufficient funds" in decline_message("card_declined", "insufficient_funds")
    assert "declined" in decline_message("card_declined", "do_not_honor")
    assert "confirm this payment" in failure_message("card", "authentication_required")
    assert "not enough funds" in failure_message("us_bank_account", "insufficient_funds")
    assert "account is closed" in failure_message("us_bank_account", "account_closed")
    assert "at least $0.50" in failure_message("card", "amount_too_small")


def test_the_texts_agreed_to_name_the_clinic_and_what_is_authorized():
    assert consent_text_for("card", "Cedar Ridge", keep_on_file=False) is None
    assert "keep this card on file" in consent_text_for("card", "Cedar Ridge", keep_on_file=True)
    once, kept = ach_mandate("Cedar Ridge", False), ach_mandate("Cedar Ridge", True)
    assert "authorize Cedar Ridge to debit" in once and "later amounts" not in once
    assert "later amounts" in kept and "revoke" in kept


def test_a_bank_payment_is_expected_within_four_business_days():
    friday = datetime(2026, 12, 4, 15, 0)
    assert ach_expected_by(friday) == datetime(2026, 12, 10, 15, 0)     # Thursday
