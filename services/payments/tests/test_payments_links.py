"""One-time payment links: paying, the defects that left payments stuck,
limits against card testing, proving who the payer is before services are
shown, and links that die when their invoice is paid, voided or re-sent."""
from datetime import timedelta

import pytest

from servicekit.db import utcnow

from payments_testkit import (
    DOB, STAFF, FakeInvoicing, control, deliver, events, key, portal, refused, sql, stripe_events,
)


def link(p, invoice_id="inv_1", key="evt-1", sent_at=None):
    return p.rpc.issue_payment_link(invoice_id, "cl_1", key, sent_at)["token"]


def test_a_card_payment_captures_once_even_with_duplicate_webhooks(payments):
    token = link(payments)
    assert payments.rpc.issue_payment_link("inv_1", "cl_1", "evt-1")["token"] == token  # same key
    paid = payments.rpc.pay_with_link(token, "pm_card_visa", "10.1.1.1")
    assert (paid["status"], paid["amount"], paid["card_last4"]) == ("succeeded", 24300, "4242")
    [captured] = events(payments.engine, "PaymentCaptured")
    assert captured["allocations"] == [{"invoice_id": "inv_1", "invoice_number": "INV-000001",
                                        "amount": {"amount": 24300, "currency": "usd"}}]
    assert captured["card_brand"] == "visa" and captured["initiated_by"] == "patient"
    [succeeded] = stripe_events(payments.sandbox, "payment_intent.succeeded")
    assert deliver(payments.rpc, succeeded)["duplicate"] is False
    assert deliver(payments.rpc, succeeded)["duplicate"] is True
    assert len(events(payments.engine, "PaymentCaptured")) == 1
    [created] = stripe_events(payments.sandbox, "payment_intent.created")
    intent = created["data"]["object"]
    assert intent["metadata"] == {"cairn_payment_id": paid["id"]}          # no PHI at Stripe
    assert not intent.get("description") and not intent.get("customer")
    assert refused(lambda: payments.rpc.pay_with_link(token, "pm_card_visa"), "Conflict")


def test_the_stuck_payment_reproduction_now_fails_cleanly_and_the_next_card_pays(payments):
    """An unknown payment method used to leave a pending payment holding the
    invoice for good, and every later try re-sent the old method. Now it is
    checked with Stripe before anything is written."""
    token = link(payments)
    typo = refused(lambda: payments.rpc.pay_with_link(token, "pm_card_typo", "10.1.1.1"),
                   "InvalidInput")
    assert typo.value == "That card or account could not be found. Enter it again."
    assert not sql(payments.engine, "select id from payments")
    paid = payments.rpc.pay_with_link(token, "pm_card_visa", "10.1.1.1")   # at once, no 409
    assert (paid["status"], paid["card_last4"]) == ("succeeded", "4242")


def test_a_definite_refusal_at_confirmation_fails_the_attempt_and_frees_the_invoice(payments):
    control(payments.sandbox, "POST", "faults", {"fail_requests": [
        {"method": "POST", "path_prefix": "/v1/payment_intents/", "count": 1, "status": 400}]})
    token = link(payments)
    error = refused(lambda: payments.rpc.pay_with_link(token, "pm_card_visa"), "PaymentDeclined")
    assert "could not accept this payment" in error.value and "do not pay again" not in error.value
    [failed] = events(payments.engine, "PaymentFailed")
    assert failed["allocations"][0]["invoice_id"] == "inv_1"
    paid = payments.rpc.pay_with_link(token, "pm_card_visa")
    assert paid["status"] == "succeeded"
    rows = sql(payments.engine, "select status from payments order by created_at")
    assert [r.status for r in rows] == ["failed", "succeeded"]
    assert len(stripe_events(payments.sandbox, "payment_intent.succeeded")) == 1


def test_an_amount_below_stripes_minimum_is_refused_in_plain_words(payments):
    FakeInvoicing.reset(inv_1=30)
    error = refused(lambda: payments.rpc.pay_with_link(link(payments), "pm_card_visa"),
                    "InvalidInput")
    assert error.value == "Card and bank payments must be at least $0.50."
    assert not stripe_events(payments.sandbox, "payment_intent.created")
    [row] = sql(payments.engine, "select status from payments")
    assert row.status == "failed"                                      # and the invoice is free


def test_a_declined_card_fails_the_attempt_and_another_card_pays(payments):
    token = link(payments)
    error = refused(lambda: payments.rpc.pay_with_link(
        token, "pm_card_chargeDeclinedInsufficientFunds"), "PaymentDeclined")
    assert "insufficient funds" in error.value
    [failed] = events(payments.engine, "PaymentFailed")
    assert failed["failure_code"] == "card_declined" and failed["after_processing"] is False
    assert payments.rpc.pay_with_link(token, "pm_card_visa")["status"] == "succeeded"


def test_an_earlier_attempt_that_never_reached_stripe_is_settled_not_resent(payments):
    """Our process died while asking Stripe; the patient comes back with
    another card. The old attempt is failed (nothing was sent), never
    resumed with the card it had stored."""
    token = link(payments)
    old = utcnow() - timedelta(minutes=5)
    sql(payments.engine, "insert into payments (id, client_id, amount, credit_amount, currency, "
        "method, channel, initiated_by, payment_method, save_method, make_default, off_session, "
        "status, created_at, updated_at) values ('pay_lost', 'cl_1', 24300, 0, 'usd', 'card', "
        "'pay_link', 'patient', 'pm_card_visa', false, false, false, 'pending', :old, :old)",
        old=old)
    sql(payments.engine, "insert into payment_allocations values ('pay_lost', 'inv_1', 1, 24300, true)")
    paid = payments.rpc.pay_with_link(token, "pm_card_mastercard")
    assert paid["id"] != "pay_lost" and paid["card_last4"] == "4444"
    [lost] = sql(payments.engine, "select status, failure_code from payments where id = 'pay_lost'")
    assert lost.status == "failed"
    assert [c["payment_id"] for c in events(payments.engine, "PaymentCaptured")] == [paid["id"]]
    assert len(stripe_events(payments.sandbox, "payment_intent.succeeded")) == 1


def test_one_payment_in_flight_per_invoice_across_links_and_pages(payments):
    token = link(payments)
    sql(payments.engine, "insert into payments (id, client_id, amount, credit_amount, currency, "
        "method, channel, initiated_by, save_method, make_default, off_session, status, "
        "stripe_payment_intent, expected_by, created_at, updated_at) values ('pay_busy', 'cl_1', "
        "24300, 0, 'usd', 'us_bank_account', 'portal', 'patient', false, false, false, "
        "'processing', 'pi_busy', now() + interval '3 days', now(), now())")
    sql(payments.engine, "insert into payment_allocations values ('pay_busy', 'inv_1', 1, 24300, true)")
    error = refused(lambda: payments.rpc.pay_with_link(token, "pm_card_visa"), "Conflict")
    assert "in progress" in error.value
    error = refused(lambda: payments.rpc.pay_in_portal(portal(), "cl_1", {
        "allocations": [{"invoice_id": "inv_1", "amount": 100}], "payment_method": "pm_card_visa",
        "request_key": key()}), "Conflict")
    assert "in progress" in error.value


# ---- limits ------------------------------------------------------------------------

def test_a_link_locks_after_repeated_declines_until_staff_unlock_it(payments):
    token = link(payments)
    for _ in range(5):
        refused(lambda: payments.rpc.pay_with_link(token, "pm_card_chargeDeclined", "10.2.2.2"),
                "PaymentDeclined")
    locked = refused(lambda: payments.rpc.pay_with_link(token, "pm_card_visa", "10.2.2.2"),
                     "TooManyAttempts")
    assert "locked" in locked.value and "call the clinic" in locked.value.lower()
    assert payments.rpc.open_payment_link(token)["locked"] is True
    assert payments.rpc.payment_link_status("inv_1")["locked"] is True
    assert len(stripe_events(payments.sandbox, "payment_intent.created")) == 5   # no 6th try
    payments.rpc.unlock_payment_link("inv_1", STAFF)
    assert payments.rpc.pay_with_link(token, "pm_card_visa", "10.2.2.2")["status"] == "succeeded"


def test_attempts_are_limited_per_link(payments):
    token = link(payments)
    for n in range(10):   # each try counts, whatever becomes of it
        refused(lambda: payments.rpc.pay_with_link(token, "pm_card_typo", ip=f"10.3.3.{n}"),
                "InvalidInput")
    error = refused(lambda: payments.rpc.pay_with_link(token, "pm_card_visa", ip="10.3.4.4"),
                    "TooManyAttempts")
    assert "Too many payment attempts" in error.value
    rows = sql(payments.engine, "select outcome from link_attempts where outcome = 'limited'")
    assert len(rows) == 1                                    # the refusal itself is on record
    assert not stripe_events(payments.sandbox, "payment_intent.created")
    other = link(payments, "inv_2", "evt-2")                 # another invoice's link is not limited
    assert payments.rpc.pay_with_link(other, "pm_card_visa", ip="10.3.4.4")["status"] == "succeeded"


def test_an_address_past_its_limit_is_refused_on_any_link(payments):
    FakeInvoicing.reset(**{f"inv_{n}": 5000 for n in range(1, 4)})
    tokens = [link(payments, f"inv_{n}", f"evt-{n}") for n in range(1, 4)]
    for n in range(20):
        refused(lambda: payments.rpc.pay_with_link(tokens[n % 3], "pm_card_typo", ip="10.4.4.4"),
                "InvalidInput")
    error = refused(lambda: payments.rpc.pay_with_link(tokens[0], "pm_card_visa", "10.4.4.4"),
                    "TooManyAttempts")
    assert "from here" in error.value


# ---- who the payer is --------------------------------------------------------------

def test_lines_are_shown_only_after_the_date_of_birth_matches(payments):
    token = link(payments)
    assert payments.rpc.open_payment_link(token)["verified"] is False
    wrong = refused(lambda: payments.rpc.verify_payment_link(token, "1990-01-01", "10.5.5.5"),
                    "InvalidInput")
    assert "does not match" in wrong.value
    grant = payments.rpc.verify_payment_link(token, "03/14/1988", "10.5.5.5")["grant"]
    opened = payments.rpc.open_payment_link(token, grant)
    assert opened["verified"] is True
    assert payments.rpc.open_payment_link(token, grant + "x")["verified"] is False
    other = link(payments, "inv_2", "evt-2")
    assert payments.rpc.open_payment_link(other, grant)["verified"] is False   # this link only


def test_the_date_of_birth_locks_after_a_few_wrong_tries_but_paying_still_works(payments):
    token = link(payments)
    for _ in range(4):
        refused(lambda: payments.rpc.verify_payment_link(token, "2000-01-01", "10.6.6.6"),
                "InvalidInput")
    locked = refused(lambda: payments.rpc.verify_payment_link(token, "2000-01-01", "10.6.6.6"),
                     "TooManyAttempts")
    assert "still pay" in locked.value
    refused(lambda: payments.rpc.verify_payment_link(token, DOB, "10.6.6.6"), "TooManyAttempts")
    assert payments.rpc.open_payment_link(token)["identity_locked"] is True
    assert payments.rpc.pay_with_link(token, "pm_card_visa", "10.6.6.6")["status"] == "succeeded"


# ---- links die ---------------------------------------------------------------------

def test_a_later_sending_supersedes_the_earlier_link_whatever_order_they_were_made(payments):
    now = utcnow()
    later = link(payments, key="evt-late", sent_at=(now - timedelta(minutes=1)).isoformat() + "Z")
    earlier = link(payments, key="evt-early", sent_at=(now - timedelta(minutes=5)).isoformat() + "Z")
    assert "no longer valid" in refused(lambda: payments.rpc.open_payment_link(earlier), "Gone").value
    assert payments.rpc.open_payment_link(later)["used"] is False


@pytest.mark.parametrize("bad", ["forged.token", "", "a" * 300, "ümlaut.tökén", None, 42])
def test_a_bad_token_is_not_found_and_records_nothing(payments, bad):
    refused(lambda: payments.rpc.pay_with_link(bad, "pm_card_visa"), "NotFound")
    refused(lambda: payments.rpc.open_payment_link(bad), "NotFound")
    assert not sql(payments.engine, "select id from payments")


@pytest.mark.parametrize("method", ["card 4242 4242 4242 4242", "", None, "pm_" + "x" * 90, 7])
def test_a_bad_payment_method_is_refused_before_anything_is_written(payments, method):
    refused(lambda: payments.rpc.pay_with_link(link(payments), method), "InvalidInput")
    assert not sql(payments.engine, "select id from payments")


@pytest.mark.parametrize("amount", [-100, 0, 12.5, "100", True, 10**12])
def test_a_bad_amount_is_refused(payments, amount):
    refused(lambda: payments.rpc.pay_with_link(link(payments), "pm_card_visa", "", "", amount),
            "InvalidInput")
    assert not sql(payments.engine, "select id from payments")


def test_one_address_may_pay_many_invoices(payments):
    FakeInvoicing.reset(**{f"inv_{n}": 5000 for n in range(1, 23)})
    for n in range(1, 23):
        paid = payments.rpc.pay_with_link(link(payments, f"inv_{n}", f"evt-{n}"), "pm_card_visa",
                                          ip="10.5.5.1")
        assert paid["status"] == "succeeded"
