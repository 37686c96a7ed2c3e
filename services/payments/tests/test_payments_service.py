"""Payments as a nameko service against the Stripe sandbox (real SDK, real
sockets), PostgreSQL and RabbitMQ; invoicing is a hand-written stand-in."""
import json

import pytest
from nameko.exceptions import RemoteError
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine, text

import contracts
from payments.service import PaymentsService
from stripe_sandbox import Sandbox, signature_header

SECRET = "whsec_payments_test"
INVOICE = {"id": "inv_1", "client_id": "cl_1", "status": "sent", "total": 24300, "amount_paid": 0,
           "balance": 24300, "currency": "usd"}


class FakeInvoicing:
    name = "invoicing"

    @rpc
    def get_invoice(self, invoice_id):
        return dict(INVOICE, id=invoice_id)


@pytest.fixture
def sandbox():
    with Sandbox(webhook_secret=SECRET) as sb:   # no endpoint: tests hand webhooks over themselves
        yield sb


@pytest.fixture
def payments(container_factory, rabbit_config, database_url, sandbox):
    url = database_url("payments")
    config = {**rabbit_config, "DATABASE_URL": url, "STRIPE_API_BASE": sandbox.url,
              "STRIPE_SECRET_KEY": "sk_test_payments", "STRIPE_WEBHOOK_SECRET": SECRET,
              "PAY_LINK_SECRET": "link-secret", "EVENT_RETRY_DELAYS_MS": [50]}
    for service in (FakeInvoicing, PaymentsService):
        container_factory(service, config).start()
    engine = create_engine(url)
    with ServiceRpcProxy("payments", config) as proxy:
        yield proxy, engine
    engine.dispose()


def events(engine, event_type):
    with engine.connect() as connection:
        rows = connection.execute(text("select envelope from outbox where event_type = :t"),
                                  {"t": event_type}).all()
    return [contracts.validate_envelope(json.loads(r.envelope))["data"] for r in rows]


def deliver(proxy, event):
    raw = json.dumps(event)
    return proxy.handle_stripe_webhook(raw, signature_header(raw.encode(), SECRET))


def test_card_payment_captures_once_even_with_duplicate_webhooks(payments, sandbox):
    proxy, engine = payments
    link = proxy.issue_payment_link("inv_1", "cl_1", "evt-1")
    assert proxy.issue_payment_link("inv_1", "cl_1", "evt-1") == link   # idempotent on the request key
    payment = proxy.pay_with_link(link["token"], "pm_card_visa")
    assert (payment["status"], payment["amount"], payment["card_last4"]) == ("succeeded", 24300, "4242")
    [captured] = events(engine, "PaymentCaptured")
    assert captured["amount"] == {"amount": 24300, "currency": "usd"} and captured["card_brand"] == "visa"

    [succeeded] = [e for e in sandbox.events() if e["type"] == "payment_intent.succeeded"]
    assert deliver(proxy, succeeded)["duplicate"] is False
    assert deliver(proxy, succeeded)["duplicate"] is True
    late = {**succeeded, "id": "evt_late_processing", "type": "payment_intent.processing"}
    deliver(proxy, late)                                  # a late `processing` never overwrites `succeeded`
    assert proxy.get_payment(payment["id"])["status"] == "succeeded"
    assert len(events(engine, "PaymentCaptured")) == 1

    intents = [e for e in sandbox.events() if e["type"] == "payment_intent.created"]
    assert intents[0]["data"]["object"]["metadata"] == {"cairn_payment_id": payment["id"],
                                                        "cairn_invoice_id": "inv_1"}
    assert not intents[0]["data"]["object"].get("description")

    with pytest.raises(RemoteError) as error:
        proxy.pay_with_link(link["token"], "pm_card_visa")
    assert error.value.exc_type == "Conflict"


def test_webhook_alone_captures_a_payment_whose_response_was_lost(payments, sandbox):
    proxy, engine = payments
    link = proxy.issue_payment_link("inv_1", "cl_1", "evt-2")
    payment = proxy.pay_with_link(link["token"], "pm_card_visa")
    with engine.begin() as connection:    # as if our process died before recording Stripe's answer
        connection.execute(text("update payments set status = 'pending' where id = :id"), {"id": payment["id"]})
        connection.execute(text("delete from outbox"))
        connection.execute(text("update payment_links set used_at = null"))
    [succeeded] = [e for e in sandbox.events() if e["type"] == "payment_intent.succeeded"]
    deliver(proxy, succeeded)
    assert proxy.get_payment(payment["id"])["status"] == "succeeded"
    assert [c["payment_id"] for c in events(engine, "PaymentCaptured")] == [payment["id"]]


def test_declined_card_records_payment_failed_and_the_link_still_works(payments):
    proxy, engine = payments
    link = proxy.issue_payment_link("inv_1", "cl_1", "evt-3")
    with pytest.raises(RemoteError) as error:
        proxy.pay_with_link(link["token"], "pm_card_chargeDeclinedInsufficientFunds")
    assert error.value.exc_type == "PaymentDeclined" and "insufficient funds" in error.value.value
    [failed] = events(engine, "PaymentFailed")
    assert failed["failure_code"] == "card_declined"
    assert proxy.pay_with_link(link["token"], "pm_card_visa")["status"] == "succeeded"


@pytest.mark.parametrize("token, method, code", [
    ("forged.token", "pm_card_visa", "NotFound"),
    ("", "pm_card_visa", "NotFound"),
    (None, "card 4242 4242 4242 4242", "InvalidInput"),
])
def test_bad_pay_requests_change_nothing(payments, token, method, code):
    proxy, engine = payments
    token = token if token is not None else proxy.issue_payment_link("inv_1", "cl_1", "evt-4")["token"]
    with pytest.raises(RemoteError) as error:
        proxy.pay_with_link(token, method)
    assert error.value.exc_type == code
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from payments")).scalar() == 0


def test_forged_webhook_is_refused(payments):
    proxy, _ = payments
    with pytest.raises(RemoteError) as error:
        proxy.handle_stripe_webhook(json.dumps({"id": "evt_x", "type": "payment_intent.succeeded"}),
                                    "t=1,v1=00")
    assert error.value.exc_type == "InvalidInput"


def test_a_second_link_for_a_paid_invoice_cannot_charge_again(payments, sandbox):
    """Invoicing has not applied the first payment yet (the stand-in still says
    nothing is paid): payments counts its own captures."""
    proxy, engine = payments
    emailed = proxy.issue_payment_link("inv_1", "cl_1", "evt-email")
    portal = proxy.issue_payment_link("inv_1", "cl_1", "portal:inv_1:session")
    assert proxy.pay_with_link(emailed["token"], "pm_card_visa")["status"] == "succeeded"
    with pytest.raises(RemoteError) as error:
        proxy.pay_with_link(portal["token"], "pm_card_visa")
    assert error.value.exc_type == "Conflict" and "already been paid" in error.value.value
    assert len([e for e in sandbox.events() if e["type"] == "payment_intent.succeeded"]) == 1


def test_one_payment_in_flight_per_invoice_across_links(payments):
    proxy, engine = payments
    first = proxy.issue_payment_link("inv_1", "cl_1", "evt-a")
    second = proxy.issue_payment_link("inv_1", "cl_1", "evt-b")
    with engine.begin() as connection:   # a payment from the first link is being processed
        connection.execute(text(
            "insert into payments (id, invoice_id, client_id, link_id, amount, currency, method, "
            "status, stripe_payment_intent, created_at, updated_at) values ('pay_busy', 'inv_1', "
            "'cl_1', null, 24300, 'usd', 'card', 'processing', 'pi_busy', now(), now())"))
    for link in (first, second):
        with pytest.raises(RemoteError) as error:
            proxy.pay_with_link(link["token"], "pm_card_visa")
        assert error.value.exc_type == "Conflict" and "in progress" in error.value.value


def test_a_payment_whose_stripe_call_never_answered_is_resumed_not_repeated(payments, sandbox):
    proxy, engine = payments
    link = proxy.issue_payment_link("inv_1", "cl_1", "evt-lost")
    with engine.begin() as connection:   # our process died while Stripe was being asked
        connection.execute(text(
            "insert into payments (id, invoice_id, client_id, link_id, amount, currency, method, "
            "payment_method, status, created_at, updated_at) values ('pay_lost', 'inv_1', 'cl_1', "
            "null, 24300, 'usd', 'card', 'pm_card_visa', 'pending', now() - interval '5 minutes', "
            "now() - interval '5 minutes')"))
    paid = proxy.pay_with_link(link["token"], "pm_card_mastercard")
    assert (paid["id"], paid["status"], paid["card_last4"]) == ("pay_lost", "succeeded", "4242")
    assert [c["payment_id"] for c in events(engine, "PaymentCaptured")] == ["pay_lost"]
