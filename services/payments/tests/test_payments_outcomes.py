"""Payments whose outcome is not known at once: lost responses, calls Stripe
never answered, 3-D Secure completed or abandoned, and bank payments that
settle (or come back) days later. None may be lost, stuck, or taken twice."""
from payments_testkit import (
    control, deliver, events, key, portal, refused, sql, stripe_events,
)

RETURN = "https://cairn.test/pay/return/"


def link(p, invoice_id="inv_1"):
    return p.rpc.issue_payment_link(invoice_id, "cl_1", f"evt-{invoice_id}")["token"]


def fault(p, **faults):
    control(p.sandbox, "POST", "faults", faults)


def due_now(p, payment_id):
    """As if the reconciler's next look were due (time passing, not waited for)."""
    sql(p.engine, "update payments set next_check_at = now() - interval '1 second', "
        "lease_until = null where id = :id", id=payment_id)


def charges(p):
    return [e for e in stripe_events(p.sandbox, "charge.succeeded")]


def test_a_response_lost_after_the_request_is_retried_and_charges_once(payments):
    fault(payments, drop_responses=[{"method": "POST", "path_prefix": "/v1/payment_intents/",
                                     "count": 1}])
    paid = payments.rpc.pay_with_link(link(payments), "pm_card_visa")
    assert paid["status"] == "succeeded"
    assert len(charges(payments)) == 1
    assert len(events(payments.engine, "PaymentCaptured")) == 1


def test_a_confirmation_whose_answers_were_all_lost_is_settled_by_asking_stripe(payments):
    fault(payments, drop_responses=[{"method": "POST", "path_prefix": "/v1/payment_intents/",
                                     "count": 3}])
    pending = payments.rpc.pay_with_link(link(payments), "pm_card_visa")
    assert pending["status"] == "pending" and "do not pay again" in pending["message"]
    assert len(charges(payments)) == 1                     # Stripe did charge, once
    assert not events(payments.engine, "PaymentCaptured")
    refused(lambda: payments.rpc.pay_with_link(link(payments), "pm_card_mastercard"), "Conflict")
    due_now(payments, pending["id"])
    payments.rpc.reconcile()
    assert payments.rpc.get_payment(pending["id"])["status"] == "succeeded"
    assert [c["payment_id"] for c in events(payments.engine, "PaymentCaptured")] == [pending["id"]]
    assert len(charges(payments)) == 1


def test_a_confirmation_stripe_never_processed_is_canceled_never_resent(payments):
    fault(payments, fail_requests=[{"method": "POST", "path_prefix": "/v1/payment_intents/",
                                    "count": 3, "status": 500}])
    pending = payments.rpc.pay_with_link(link(payments), "pm_card_visa")
    assert pending["status"] == "pending"
    due_now(payments, pending["id"])
    payments.rpc.reconcile()
    settled = payments.rpc.get_payment(pending["id"])
    assert settled["status"] == "failed" and "nothing was charged" in settled["failure_message"]
    assert not charges(payments)
    [canceled] = stripe_events(payments.sandbox, "payment_intent.canceled")
    assert canceled["data"]["object"]["metadata"]["cairn_payment_id"] == pending["id"]
    assert payments.rpc.pay_with_link(link(payments), "pm_card_visa")["status"] == "succeeded"


def test_a_create_call_never_answered_moves_no_money_and_is_failed(payments):
    fault(payments, drop_responses=[{"method": "POST", "path_prefix": "/v1/payment_intents",
                                     "count": 3}])
    pending = payments.rpc.pay_with_link(link(payments), "pm_card_visa")
    [row] = sql(payments.engine, "select stripe_payment_intent from payments")
    assert pending["status"] == "pending" and row.stripe_payment_intent is None
    due_now(payments, pending["id"])
    payments.rpc.reconcile()
    assert payments.rpc.get_payment(pending["id"])["status"] == "failed"
    assert not charges(payments)
    assert len(stripe_events(payments.sandbox, "payment_intent.created")) == 1   # asked, not re-made


# ---- 3-D Secure ---------------------------------------------------------------------------

def three_ds(p, card="pm_card_authenticationRequired"):
    started = p.rpc.pay_with_link(link(p), card, "10.7.7.7", "Mozilla/5.0", None, RETURN)
    assert started["status"] == "requires_action"
    assert started["next_action_url"].startswith(p.sandbox.url + "/3ds/")
    return started


def test_a_card_needing_3d_secure_completes_after_the_bank_page(payments):
    started = three_ds(payments)
    [intent] = stripe_events(payments.sandbox, "payment_intent.requires_action")
    assert intent["data"]["object"]["next_action"]["redirect_to_url"]["return_url"] == \
        RETURN + started["id"]
    intent_id = intent["data"]["object"]["id"]
    control(payments.sandbox, "POST", f"authenticate/{intent_id}", {"outcome": "complete"})
    refused(lambda: payments.rpc.complete_payment_action(started["id"], None, "pi_guess"),
            "NotFound")                                        # the intent must match
    done = payments.rpc.complete_payment_action(started["id"], None, intent_id)
    assert (done["status"], done["card_last4"]) == ("succeeded", "3184")
    assert len(events(payments.engine, "PaymentCaptured")) == 1


def test_a_failed_3d_secure_fails_the_payment_in_plain_words(payments):
    started = three_ds(payments)
    intent_id = stripe_events(payments.sandbox, "payment_intent.requires_action")[0]["data"]["object"]["id"]
    control(payments.sandbox, "POST", f"authenticate/{intent_id}", {"outcome": "fail"})
    done = payments.rpc.complete_payment_action(started["id"], None, intent_id)
    assert done["status"] == "failed" and "could not confirm it was you" in done["failure_message"]


def test_an_abandoned_3d_secure_frees_the_invoice(payments):
    started = three_ds(payments)
    error = refused(lambda: payments.rpc.pay_in_portal(portal(), "cl_1", {   # someone else
        "allocations": [{"invoice_id": "inv_1", "amount": 100}],
        "payment_method": "pm_card_visa", "request_key": key()}), "Conflict")
    assert "in progress" in error.value
    sql(payments.engine, "update payments set updated_at = now() - interval '31 minutes' "
        "where id = :id", id=started["id"])
    due_now(payments, started["id"])
    payments.rpc.reconcile()
    abandoned = payments.rpc.get_payment(started["id"])
    assert abandoned["status"] == "failed" and "not confirmed with your bank" in \
        abandoned["failure_message"]
    assert stripe_events(payments.sandbox, "payment_intent.canceled")
    assert payments.rpc.pay_with_link(link(payments), "pm_card_visa")["status"] == "succeeded"


def test_paying_again_while_3d_secure_is_unfinished_abandons_the_first_attempt(payments):
    started = three_ds(payments)
    paid = payments.rpc.pay_with_link(link(payments), "pm_card_visa")
    assert paid["status"] == "succeeded" and paid["id"] != started["id"]
    assert payments.rpc.get_payment(started["id"])["status"] == "failed"
    assert len(charges(payments)) == 1


# ---- bank accounts (ACH) -------------------------------------------------------------------

def ach(p, account="pm_usBankAccount_success"):
    started = p.rpc.pay_with_link(link(p), account, "10.8.8.8", "Mozilla/5.0")
    assert started["status"] == "processing" and started["expected_by"]
    return started


def deliver_all(p, kind):
    for event in stripe_events(p.sandbox, kind):
        deliver(p.rpc, event)


def test_a_bank_payment_is_pending_until_it_clears_days_later(payments):
    started = ach(payments)
    [pending] = events(payments.engine, "PaymentProcessing")
    assert (pending["method"], pending["bank_last4"]) == ("us_bank_account", "6789")
    assert not events(payments.engine, "PaymentCaptured")
    [row] = sql(payments.engine, "select consent_text, consent_ip from payments")
    assert "authorize Cedar Ridge Recovery to debit" in row.consent_text
    assert row.consent_ip == "10.8.8.8"
    refused(lambda: payments.rpc.pay_with_link(link(payments), "pm_card_visa"), "Conflict")
    control(payments.sandbox, "POST", "clock/advance", {"days": 3})
    deliver_all(payments, "payment_intent.succeeded")
    assert payments.rpc.get_payment(started["id"])["status"] == "succeeded"
    [captured] = events(payments.engine, "PaymentCaptured")
    assert captured["method"] == "us_bank_account" and captured["bank_last4"] == "6789"


def test_a_bank_payment_that_comes_back_fails_with_the_reason_after_processing(payments):
    started = ach(payments, "pm_usBankAccount_insufficientFunds")
    control(payments.sandbox, "POST", "clock/advance", {"days": 3})
    deliver_all(payments, "payment_intent.payment_failed")
    failed = payments.rpc.get_payment(started["id"])
    assert failed["status"] == "failed" and "not enough funds" in failed["failure_message"]
    [event] = events(payments.engine, "PaymentFailed")
    assert event["after_processing"] is True and event["failure_code"] == "insufficient_funds"


def test_a_bank_payment_past_its_expected_date_is_looked_up_by_the_reconciler(payments):
    started = ach(payments)
    control(payments.sandbox, "POST", "clock/advance", {"days": 3})   # webhooks never handed over
    sql(payments.engine, "update payments set expected_by = now() - interval '1 hour' "
        "where id = :id", id=started["id"])
    due_now(payments, started["id"])
    payments.rpc.reconcile()
    assert payments.rpc.get_payment(started["id"])["status"] == "succeeded"
