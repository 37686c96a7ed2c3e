"""Refunds (partial, several, never more than was paid, failing later),
webhook intake (verified both ways in time, stored before processing,
unknown objects acknowledged), and the nightly comparison with Stripe."""
import json
import time

import pytest

from stripe_sandbox import signature_header

from payments_testkit import (
    SECRET, STAFF, control, deliver, events, key, portal, refused, sql, stripe_events,
)


def paid_by_card(p, card="pm_card_visa", **amounts):
    amounts = amounts or {"inv_1": 24300}
    return p.rpc.pay_in_portal(portal(), "cl_1", {
        "allocations": [{"invoice_id": i, "amount": a} for i, a in amounts.items()],
        "payment_method": card, "request_key": key()})


def refund(p, payment_id, amount, invoice_id="inv_1", **extra):
    return p.rpc.refund_payment(STAFF, payment_id, {
        "amount": amount, "invoice_id": invoice_id, "reason": "requested_by_customer",
        "request_key": key(), **extra})


# ---- refunds -----------------------------------------------------------------------------

def test_partial_refunds_add_up_to_no_more_than_was_paid(payments):
    paid = paid_by_card(payments)
    first = refund(payments, paid["id"], 4300)
    second = refund(payments, paid["id"], 10000)
    assert first["status"] == second["status"] == "succeeded"
    error = refused(lambda: refund(payments, paid["id"], 10001), "InvalidInput")
    assert "At most $100.00 can be refunded" in error.value
    view = payments.rpc.get_payment(paid["id"])
    assert view["refundable"] == 10000 and len(view["refunds"]) == 2
    assert [r["data"]["object"]["amount"] for r in stripe_events(payments.sandbox, "refund.created")] \
        == [4300, 10000]
    refunded = events(payments.engine, "PaymentRefunded")
    assert [(r["amount"]["amount"], r["invoice_id"]) for r in refunded] == \
        [(4300, "inv_1"), (10000, "inv_1")]


def test_a_refund_comes_out_of_one_invoice_or_the_credit_never_more_than_it_had(payments):
    paid = payments.rpc.collect_payment(STAFF, "cl_1", {
        "method": "new", "payment_method": "pm_card_visa", "request_key": key(), "credit": 700,
        "allocations": [{"invoice_id": "inv_1", "amount": 24300},
                        {"invoice_id": "inv_2", "amount": 5000}]})
    from payments_testkit import FakeInvoicing
    FakeInvoicing.credit = 700                      # what the payment left, as invoicing has it
    refused(lambda: refund(payments, paid["id"], 5001, "inv_2"), "InvalidInput")
    refused(lambda: refund(payments, paid["id"], 701, None), "InvalidInput")
    refund(payments, paid["id"], 700, None)
    refund(payments, paid["id"], 5000, "inv_2")
    parts = {p["invoice_id"]: p["amount"] for p in payments.rpc.get_payment(paid["id"])["refundable_parts"]}
    # the credit: whatever invoicing has there at the time, up to what is left of the payment
    assert parts == {"inv_1": 24300, None: 24300}
    assert FakeInvoicing.credit == 0
    [credit_refund] = [r for r in events(payments.engine, "PaymentRefunded") if "invoice_id" not in r]
    assert credit_refund["amount"]["amount"] == 700


def test_credit_applied_or_paid_money_moved_to_credit_is_not_refunded_twice(payments):
    from payments_testkit import FakeInvoicing
    paid = payments.rpc.collect_payment(STAFF, "cl_1", {
        "method": "new", "payment_method": "pm_card_visa", "request_key": key(), "credit": 700,
        "allocations": [{"invoice_id": "inv_1", "amount": 24300}]})
    FakeInvoicing.credit = 200          # $5.00 of it paid another invoice meanwhile
    error = refused(lambda: refund(payments, paid["id"], 700, None), "InvalidInput")
    assert "Only $2.00 of credit is on the account" in error.value
    refund(payments, paid["id"], 200, None)
    FakeInvoicing.still_paid["inv_1"] = 4300   # a credit note moved $200.00 to the credit
    error = refused(lambda: refund(payments, paid["id"], 4301, "inv_1"), "InvalidInput")
    assert "Only $43.00 is still paid on that invoice" in error.value
    refund(payments, paid["id"], 4300, "inv_1")
    assert FakeInvoicing.still_paid["inv_1"] == 0     # taken off invoicing's ledger at once


def test_paid_money_a_credit_note_moved_to_the_credit_can_be_refunded_from_it(payments):
    """$243.00 paid, then a $243.00 credit note: nothing stays paid on the
    invoice, $243.00 is credit — refundable from the credit, once."""
    from payments_testkit import FakeInvoicing
    paid = paid_by_card(payments)
    FakeInvoicing.still_paid["inv_1"], FakeInvoicing.credit = 0, 24300
    error = refused(lambda: refund(payments, paid["id"], 100, "inv_1"), "InvalidInput")
    assert "refund the rest from the credit" in error.value
    done = refund(payments, paid["id"], 24300, None)
    assert done["status"] == "succeeded" and FakeInvoicing.credit == 0
    FakeInvoicing.credit = 500                          # other money: not this payment's to give
    error = refused(lambda: refund(payments, paid["id"], 1, None), "InvalidInput")
    assert "At most $0.00" in error.value
    assert events(payments.engine, "PaymentRefunded")[-1]["amount"]["amount"] == 24300


def test_a_refund_refused_by_the_payments_own_limits_gives_the_reservation_back(payments):
    from payments_testkit import FakeInvoicing
    paid = paid_by_card(payments)
    replies = [payments.rpc.refund_payment.call_async(STAFF, paid["id"], {
        "amount": 20000, "invoice_id": "inv_1", "request_key": key()}) for _ in range(3)]
    for reply in replies:
        try:
            reply.result()
        except Exception:   # noqa: BLE001
            pass
    [made] = [r.id for r in sql(payments.engine, "select id from refunds")]
    assert set(FakeInvoicing.reserved) - FakeInvoicing.released_refunds == {made}


def test_a_repeated_refund_request_refunds_once(payments):
    paid = paid_by_card(payments)
    payload = {"amount": 1000, "invoice_id": "inv_1", "request_key": key()}
    first = payments.rpc.refund_payment(STAFF, paid["id"], payload)
    again = payments.rpc.refund_payment(STAFF, paid["id"], payload)
    assert first["id"] == again["id"]
    assert len(stripe_events(payments.sandbox, "refund.created")) == 1


def test_concurrent_refunds_cannot_pass_the_limit_together(payments):
    paid = paid_by_card(payments)
    replies = [payments.rpc.refund_payment.call_async(STAFF, paid["id"], {
        "amount": 20000, "invoice_id": "inv_1", "request_key": key()}) for _ in range(3)]
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result()["status"])
        except Exception as error:   # noqa: BLE001
            outcomes.append(type(error).__name__)
    assert outcomes.count("succeeded") == 1
    assert sum(r.amount for r in sql(payments.engine, "select amount from refunds "
                                     "where status = 'succeeded'")) == 20000


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", None])
def test_a_bad_refund_amount_is_refused(payments, amount):
    paid = paid_by_card(payments)
    refused(lambda: refund(payments, paid["id"], amount), "InvalidInput")
    assert not sql(payments.engine, "select id from refunds")


def test_a_payment_not_yet_complete_cannot_be_refunded(payments):
    pending = paid_by_card(payments, "pm_usBankAccount_success")
    assert pending["status"] == "processing"
    refused(lambda: refund(payments, pending["id"], 100), "Conflict")


def test_a_cash_refund_is_recorded_without_stripe(payments):
    paid = payments.rpc.collect_payment(STAFF, "cl_1", {
        "method": "cash", "request_key": key(), "allocations": [{"invoice_id": "inv_2", "amount": 5000}]})
    done = refund(payments, paid["id"], 2000, "inv_2")
    assert (done["status"], done["manual"]) == ("succeeded", True)
    assert not stripe_events(payments.sandbox, "refund.created")
    assert events(payments.engine, "PaymentRefunded")[0]["method"] == "cash"


def test_a_refund_that_fails_later_is_reflected(payments):
    paid = paid_by_card(payments, "pm_card_refundFail")
    done = refund(payments, paid["id"], 5000)
    assert done["status"] == "succeeded"
    control(payments.sandbox, "POST", "clock/advance", {"days": 2})
    [failure] = stripe_events(payments.sandbox, "refund.failed")
    deliver(payments.rpc, failure)
    [row] = sql(payments.engine, "select status, failure_reason from refunds")
    assert row.status == "failed"
    [failed] = events(payments.engine, "RefundFailed")
    assert failed["invoice_id"] == "inv_1" and failed["amount"]["amount"] == 5000
    assert payments.rpc.get_payment(paid["id"])["refundable"] == 24300     # it can be tried again


# ---- webhooks ------------------------------------------------------------------------------

def signed(event, secret=SECRET, at=None):
    raw = json.dumps(event)
    return raw, signature_header(raw.encode(), secret, timestamp=at)


@pytest.mark.parametrize("how", ["forged", "stale", "future", "not_json", "non_ascii"])
def test_a_webhook_that_is_not_stripes_or_not_now_is_refused_and_changes_nothing(payments, how):
    event = {"id": "evt_x", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_x", "object": "payment_intent"}}}
    raw, header = signed(event, at={"stale": int(time.time()) - 400,
                                    "future": int(time.time()) + 400}.get(how))
    if how == "forged":
        raw, header = signed(event, secret="whsec_someone_else")
    elif how == "not_json":
        raw, header = "{not json", signature_header(b"{not json", SECRET)
    elif how == "non_ascii":
        header = "t=1,v1=ñö"
    refused(lambda: payments.rpc.handle_stripe_webhook(raw, header), "InvalidInput")
    assert not sql(payments.engine, "select id from stripe_events")


def test_a_webhook_about_an_unknown_intent_is_acknowledged_and_kept(payments):
    event = {"id": "evt_unknown", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_nobody", "object": "payment_intent", "metadata": {}}}}
    assert deliver(payments.rpc, event)["outcome"] == "unmatched"
    [row] = sql(payments.engine, "select outcome, processed_at from stripe_events")
    assert row.outcome == "unmatched" and row.processed_at is not None


def test_a_webhook_is_stored_before_processing_and_a_failure_asks_stripe_to_retry(payments):
    paid = paid_by_card(payments, "pm_usBankAccount_success")     # processing: news matters
    control(payments.sandbox, "POST", "clock/advance", {"days": 3})
    [succeeded] = stripe_events(payments.sandbox, "payment_intent.succeeded")
    control(payments.sandbox, "POST", "faults", {"fail_requests": [
        {"method": "GET", "path_prefix": "/v1/payment_intents/", "count": 3, "status": 500}]})
    error = refused(lambda: deliver(payments.rpc, succeeded))
    assert error.exc_type not in ("InvalidInput",)            # a 5xx for the gateway
    [row] = sql(payments.engine, "select processed_at, payload from stripe_events")
    assert row.processed_at is None and json.loads(row.payload)["id"] == succeeded["id"]
    assert deliver(payments.rpc, succeeded)["duplicate"] is False    # Stripe's retry
    assert payments.rpc.get_payment(paid["id"])["status"] == "succeeded"


def test_late_and_out_of_order_webhooks_follow_the_intents_current_state(payments):
    """`processing` delivered after `succeeded`: the current state is fetched,
    and state only moves forward."""
    started = paid_by_card(payments, "pm_usBankAccount_success")
    control(payments.sandbox, "POST", "clock/advance", {"days": 3})
    [processing] = stripe_events(payments.sandbox, "payment_intent.processing")
    [succeeded] = stripe_events(payments.sandbox, "payment_intent.succeeded")
    deliver(payments.rpc, succeeded)
    deliver(payments.rpc, processing)
    assert payments.rpc.get_payment(started["id"])["status"] == "succeeded"
    assert len(events(payments.engine, "PaymentCaptured")) == 1


def test_news_of_a_payment_already_succeeded_is_settled_without_asking_stripe(payments, caplog):
    paid = paid_by_card(payments)
    caplog.set_level("INFO", logger="stripe_sandbox")
    for kind in ("payment_intent.created", "charge.succeeded", "payment_intent.succeeded"):
        for event in stripe_events(payments.sandbox, kind):
            assert deliver(payments.rpc, event)["duplicate"] is False
    assert [r for r in caplog.records if r.name == "stripe_sandbox"] == []
    assert [o for (o,) in sql(payments.engine, "select outcome from stripe_events "
                                               "order by received_at")] == \
        ["ignored", "ignored", "settled"]
    assert payments.rpc.get_payment(paid["id"])["status"] == "succeeded"
    assert len(events(payments.engine, "PaymentCaptured")) == 1


def test_the_same_webhook_twenty_times_at_once_captures_once(payments):
    started = paid_by_card(payments, "pm_usBankAccount_success")
    control(payments.sandbox, "POST", "clock/advance", {"days": 3})
    [succeeded] = stripe_events(payments.sandbox, "payment_intent.succeeded")
    raw, header = signed(succeeded)
    replies = [payments.rpc.handle_stripe_webhook.call_async(raw, header) for _ in range(20)]
    answers = [reply.result() for reply in replies]
    assert sum(1 for a in answers if not a["duplicate"]) >= 1
    assert payments.rpc.get_payment(started["id"])["status"] == "succeeded"
    assert len(events(payments.engine, "PaymentCaptured")) == 1
    assert len(sql(payments.engine, "select id from stripe_events")) == 1


# ---- the nightly comparison ------------------------------------------------------------------

def test_the_nightly_comparison_finds_and_repairs_a_disagreement(payments):
    paid = paid_by_card(payments)
    # as if our record of Stripe's answer had been lost: we think it failed
    sql(payments.engine, "update payments set status = 'failed' where id = :id", id=paid["id"])
    sql(payments.engine, "delete from outbox")
    report = payments.rpc.reconcile("today")
    [mismatch] = report["mismatches"]
    assert (mismatch["kind"], mismatch["payment_id"]) == ("status", paid["id"])
    assert mismatch["theirs"].startswith("succeeded") and mismatch["ours"].startswith("failed")
    repaired = payments.rpc.repair_mismatch(mismatch["id"])
    assert repaired["repaired"] is True
    assert payments.rpc.get_payment(paid["id"])["status"] == "succeeded"
    assert [c["payment_id"] for c in events(payments.engine, "PaymentCaptured")] == [paid["id"]]
    assert payments.rpc.reconcile("today")["mismatches"] == []


def test_the_nightly_comparison_reports_what_cairn_has_no_record_of(payments):
    paid = paid_by_card(payments)
    refund(payments, paid["id"], 100)
    sql(payments.engine, "delete from refunds")
    report = payments.rpc.reconcile("today", True)
    kinds = {m["kind"] for m in report["mismatches"]}
    assert kinds == {"unknown_refund"}
    assert "needs a person" in report["mismatches"][0]["repair_note"]
