"""What a page needs from payments in one call, and the clinic's name in the
texts people agree to: read from clients once, not on every page, and
renewed when the clinic changes it."""
import re

from nameko.standalone.events import event_dispatcher

import contracts
from tests.support.processes import wait_until

from payments_testkit import STAFF, FakeClients, events, key, portal

RETURN = "https://cairn.test/return/"


def pay_by_card_and_keep_it(p):
    p.rpc.pay_in_portal(portal(), "cl_1", {
        "allocations": [{"invoice_id": "inv_1", "amount": 10000}], "payment_method": "pm_card_visa",
        "save": True, "request_key": key(), "user_agent": "Mozilla/5.0",
        "return_url_prefix": RETURN})
    p.rpc.collect_payment(STAFF, "cl_1", {"method": "cash", "request_key": key(),
                                          "allocations": [{"invoice_id": "inv_2", "amount": 5000}]})


def test_page_reads_answer_what_the_single_reads_answer(payments):
    pay_by_card_and_keep_it(payments)
    rpc = payments.rpc
    client = rpc.client_billing_overview("cl_1")
    assert client == {"payments": rpc.list_payments("cl_1"), "methods": rpc.list_saved_methods("cl_1")}
    assert len(client["payments"]) == 2 and client["methods"][0]["label"] == "Visa ending 4242"
    invoice = rpc.invoice_billing_overview("inv_1")
    assert invoice == {"payments": rpc.list_payments(None, "inv_1"),
                       "links": rpc.payment_link_status("inv_1")}
    assert [p["amount"] for p in invoice["payments"]] == [10000]
    form = rpc.payment_form_context("cl_1")
    assert form == {"methods": rpc.list_saved_methods("cl_1"), "terms": rpc.payment_terms()}
    assert rpc.client_billing_overview("cl_nobody") == {"payments": [], "methods": []}


def test_payment_events_name_the_invoices_they_pay(payments):
    pay_by_card_and_keep_it(payments)
    captured = events(payments.engine, "PaymentCaptured")
    assert [a["invoice_number"] for c in captured for a in c["allocations"]] == \
        ["INV-000001", "INV-000002"]


def test_the_clinics_name_is_read_once_and_renewed_when_it_changes(payments):
    rpc = payments.rpc
    for _ in range(3):
        assert "Cedar Ridge Recovery" in rpc.payment_terms()["card_on_file"]
        assert "Cedar Ridge Recovery" in rpc.payment_form_context("cl_1")["terms"]["ach_mandate"]
    assert FakeClients.organization_reads == 1

    FakeClients.clinic_name = "Juniper Counseling"
    changed = contracts.make_envelope("clients", "OrganizationChanged", {"part": "organization"}, 1)
    event_dispatcher(payments.config)("clients", "OrganizationChanged", changed)
    wait_until(lambda: "Juniper Counseling" in rpc.payment_terms()["card_on_file"],
               what="the new name in the terms")


def test_a_card_payment_asks_stripe_about_the_card_once(payments, caplog):
    caplog.set_level("INFO", logger="stripe_sandbox")
    token = payments.rpc.issue_payment_link("inv_1", "cl_1", "evt-1")["token"]
    paid = payments.rpc.pay_with_link(token, "pm_card_visa", "10.1.1.1")
    assert (paid["status"], paid["card_brand"], paid["card_last4"]) == ("succeeded", "visa", "4242")
    asked = [re.sub(r"pi_\w+", "<intent>", " ".join(r.getMessage().split()[:2]))
             for r in caplog.records if r.name == "stripe_sandbox"]
    assert asked == ["GET /v1/payment_methods/pm_card_visa", "POST /v1/payment_intents",
                     "POST /v1/payment_intents/<intent>/confirm"]
