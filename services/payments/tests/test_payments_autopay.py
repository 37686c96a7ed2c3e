"""Autopay of payment plan installments: InstallmentDue is charged off
session with the method the patient authorized, once per attempt key however
often the event arrives, and the outcome names the attempt; a decline or a
method that is gone comes back as PaymentFailed."""
import uuid

from nameko.standalone.events import event_dispatcher

import contracts
from tests.support.processes import wait_until

from payments_testkit import FakeInvoicing, events, portal, sql, stripe_events
from test_payments_taking import save


def due(method_id, attempt_key="inst_7_1", amount=5000, invoice_id="inv_2"):
    data = {**contracts.example("InstallmentDue"), "client_id": "cl_1", "attempt_key": attempt_key,
            "amount": {"amount": amount, "currency": "usd"}, "saved_method_id": method_id,
            "allocations": [{"invoice_id": invoice_id,
                             "amount": {"amount": amount, "currency": "usd"}}]}
    return contracts.make_envelope("invoicing", "InstallmentDue", data, 1)


def saved(p, card):
    save(p, card, make_default=True)
    return p.rpc.list_saved_methods("cl_1")[0]


def send(p, *envelopes):
    dispatch = event_dispatcher(p.config)
    for envelope in envelopes:
        dispatch("invoicing", "InstallmentDue", envelope)


def handled(p, count):
    wait_until(lambda: len(sql(p.engine, "select event_id from processed_events where "
                                         "handler = 'payments.on_installment_due'")) >= count,
               timeout=20)


def test_an_installment_is_charged_off_session_once_however_often_it_arrives(payments):
    method = saved(payments, "pm_card_visa")
    envelope = due(method["id"])
    again = {**envelope, "id": str(uuid.uuid4())}    # a second copy of invoicing, same attempt
    send(payments, envelope, envelope, again)
    handled(payments, 2)
    [captured] = events(payments.engine, "PaymentCaptured")
    assert captured["installment_attempt"] == "inst_7_1"
    assert (captured["initiated_by"], captured["amount"]["amount"]) == ("autopay", 5000)
    assert len(stripe_events(payments.sandbox, "payment_intent.succeeded")) == 1
    [(off_session, channel)] = sql(payments.engine, "select off_session, channel from payments")
    assert off_session and channel == "autopay"


def test_a_declined_installment_comes_back_with_its_failure_code(payments):
    method = saved(payments, "pm_card_chargeCustomerFail")
    send(payments, due(method["id"], "inst_8_1"))
    handled(payments, 1)
    [failed] = events(payments.engine, "PaymentFailed")
    assert (failed["installment_attempt"], failed["failure_code"], failed["off_session"]) == \
        ("inst_8_1", "card_declined", True)
    assert not events(payments.engine, "PaymentCaptured")


def test_a_removed_method_fails_the_attempt_without_reaching_stripe(payments):
    method = saved(payments, "pm_card_visa")
    payments.rpc.remove_saved_method(portal(), "cl_1", method["id"])
    before = len(stripe_events(payments.sandbox, "payment_intent.created"))
    send(payments, due(method["id"], "inst_9_2"))
    handled(payments, 1)
    [failed] = events(payments.engine, "PaymentFailed")
    assert (failed["installment_attempt"], failed["failure_code"]) == ("inst_9_2", "refused")
    assert len(stripe_events(payments.sandbox, "payment_intent.created")) == before


def test_an_installment_whose_plan_was_cancelled_is_not_charged(payments):
    """The plan was cancelled after InstallmentDue left: invoicing refuses
    the hold for that attempt, and payments records the attempt as failed
    without reaching Stripe."""
    method = saved(payments, "pm_card_visa")
    FakeInvoicing.cancelled_attempts.add("inst_11_1")
    before = len(stripe_events(payments.sandbox, "payment_intent.created"))
    send(payments, due(method["id"], "inst_11_1"))
    handled(payments, 1)
    [failed] = events(payments.engine, "PaymentFailed")
    assert (failed["installment_attempt"], failed["failure_code"]) == \
        ("inst_11_1", "refused_by_invoicing")
    assert not events(payments.engine, "PaymentCaptured")
    assert len(stripe_events(payments.sandbox, "payment_intent.created")) == before
