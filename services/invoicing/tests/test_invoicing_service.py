"""Invoicing as a nameko service on the real broker and PostgreSQL; the
clients service is a small hand-written stand-in."""
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher

import contracts
from tests.support.processes import wait_until

from invoicing_testkit import PAYLOAD, captured, outbox, usd


def test_saving_prices_the_invoice_and_emits_invoice_saved(invoicing):
    proxy, engine, _ = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    assert (invoice["subtotal"], invoice["discount_amount"], invoice["total"]) == (27000, 2700, 24300)
    assert invoice["number"] == "INV-000001" and invoice["status"] == "draft"
    [saved] = outbox(engine, "InvoiceSaved")
    contracts.validate_envelope(saved)
    assert saved["data"]["total"] == {"amount": 24300, "currency": "usd"}
    again = proxy.update_invoice(invoice["id"], {**PAYLOAD, "discount": {"kind": "fixed", "value": 500}}, "st_1")
    assert again["total"] == 26500 and again["number"] == "INV-000001"
    assert proxy.create_invoice(PAYLOAD, "st_1")["number"] == "INV-000002"


def test_payment_captured_twice_is_applied_once(invoicing):
    proxy, engine, config = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    proxy.send_invoice(invoice["id"], "email", "st_1")
    envelope = captured("pay_1", {invoice["id"]: 10000})
    dispatch = event_dispatcher(config)
    dispatch("payments", "PaymentCaptured", envelope)
    dispatch("payments", "PaymentCaptured", envelope)
    wait_until(lambda: proxy.get_invoice(invoice["id"])["amount_paid"] == 10000, what="payment applied")
    # a version 1 event still queued from before the upgrade is upcast and applied
    rest = contracts.make_envelope("payments", "PaymentCaptured", {
        **contracts.example("PaymentCaptured", 1), "invoice_id": invoice["id"], "client_id": "cl_1",
        "payment_id": "pay_2", "amount": usd(14300)}, 1)
    dispatch("payments", "PaymentCaptured", rest)
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "paid", what="invoice paid")
    final = proxy.get_invoice(invoice["id"])
    assert (final["amount_paid"], final["balance"]) == (24300, 0)
    [paid] = outbox(engine, "InvoicePaid")
    assert paid["data"]["invoice_id"] == invoice["id"]


def test_paid_invoice_cannot_be_edited_voided_or_sent(invoicing):
    proxy, _, config = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    event_dispatcher(config)("payments", "PaymentCaptured", captured("pay_1", {invoice["id"]: 24300}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "paid", what="invoice paid")
    for call, message in [(lambda: proxy.update_invoice(invoice["id"], PAYLOAD, "st_1"), "Add an adjustment"),
                          (lambda: proxy.void_invoice(invoice["id"], "st_1", "Entered twice"), "refund the payments first"),
                          (lambda: proxy.send_invoice(invoice["id"], "email", "st_1"), "cannot be sent")]:
        with pytest.raises(RemoteError) as error:
            call()
        assert error.value.exc_type == "InvalidInput" and message in error.value.value


def test_void_emits_invoice_voided(invoicing):
    proxy, engine, _ = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    assert proxy.void_invoice(invoice["id"], "st_1", "Entered twice")["status"] == "void"
    assert [e["data"]["invoice_id"] for e in outbox(engine, "InvoiceVoided")] == [invoice["id"]]


def test_concurrent_saves_get_distinct_consecutive_numbers(invoicing):
    proxy, _, _ = invoicing
    replies = [proxy.create_invoice.call_async(PAYLOAD, "st_1") for _ in range(8)]
    numbers = sorted(reply.result()["number"] for reply in replies)
    assert numbers == [f"INV-{n:06d}" for n in range(1, 9)]


def test_a_payment_on_a_void_invoice_keeps_it_void_and_asks_for_a_refund(invoicing):
    proxy, _, config = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    proxy.void_invoice(invoice["id"], "st_1", "Entered twice")
    event_dispatcher(config)("payments", "PaymentCaptured", captured("pay_1", {invoice["id"]: 24300}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["amount_paid"] == 24300, what="payment recorded")
    final = proxy.get_invoice(invoice["id"])
    assert final["status"] == "void"
    assert any("refund" in item["what"] for item in final["activity"])
