"""The foundation flow over real sockets: staff create and email an invoice,
the patient follows the one-time link from the email and pays with a Stripe
test card, the signed webhook lands, the invoice is paid, a receipt goes out."""
import re

import pytest
import requests

from tests.fixtures.stack import Browser
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

CLIENT = "cl_demo_avery"
INVOICE_FORM = {
    "location_id": "loc_main", "payment_type": "private_pay",
    "discount_kind": "percent", "discount_value": "10",
    "line1_service": "90834", "line1_units": "1",       # $150.00
    "line2_service": "90853", "line2_units": "2",       # 2 × $60.00
}


def create_invoice(staff: Browser, client_id: str = CLIENT, **overrides) -> str:
    csrf = staff.csrf(f"/staff/clients/{client_id}/invoices/new")
    response = staff.post(f"/staff/clients/{client_id}/invoices",
                          data={**INVOICE_FORM, **overrides, "csrf": csrf})
    match = re.search(r"/staff/invoices/(inv_[0-9a-f]+)$", response.url)
    assert match, f"invoice not created: {response.status_code} {response.text[:300]}"
    return match.group(1)


def send_by_email(staff: Browser, invoice_id: str) -> None:
    csrf = staff.csrf(f"/staff/invoices/{invoice_id}")
    response = staff.post(f"/staff/invoices/{invoice_id}/send", data={"channel": "email", "csrf": csrf})
    assert "being emailed" in response.text


def invoice_email(cairn, invoice_number: str):
    def find():
        for message in cairn.mail.messages():
            body = message.get_body(("plain",)).get_content()
            if invoice_number in body:
                return message
        return None
    return wait_until(find, timeout=20, what=f"the email for {invoice_number}")


class Payer(requests.Session):
    """Someone who opened a payment link from an email: not signed in; the
    page's form carries a CSRF token (a cookie and a field)."""

    def page(self, link: str):
        response = self.get(link, timeout=30)
        match = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if match:   # the token stays the same for this browser (a cookie and a field)
            self.csrf = match.group(1)
        return response

    def prove(self, link: str, date_of_birth: str):
        return self.post(f"{link}/identity", data={"date_of_birth": date_of_birth,
                                                   "csrf": self.csrf}, timeout=30)

    def pay(self, link: str, payment_method: str, fields=None, **request_options):
        if not getattr(self, "csrf", ""):
            self.page(link)
        return self.post(link, data={"payment_method": payment_method, "csrf": self.csrf,
                                     **(fields or {})}, timeout=30, **request_options)


def links_in(message) -> dict:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    pay = re.search(r"(http://127\.0\.0\.1:\d+/pay/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", text)
    portal = re.search(r"(http://127\.0\.0\.1:\d+/portal/login)", text)
    assert pay and portal, text
    assert pay.group(1) in html and portal.group(1) in html
    return {"pay": pay.group(1), "portal": portal.group(1)}


def test_invoice_email_one_time_payment_and_receipt(cairn):
    staff = cairn.staff()
    financial = staff.get(f"/staff/clients/{CLIENT}/financial")
    assert "Avery Lindqvist" in financial.text and "Create invoice" in financial.text

    invoice_id = create_invoice(staff)
    page = staff.get(f"/staff/invoices/{invoice_id}").text
    number = re.search(r"Invoice (INV-\d{6})", page).group(1)
    assert "$270.00" in page and "−$27.00" in page and "$243.00" in page   # 10 % off

    send_by_email(staff, invoice_id)
    email = invoice_email(cairn, number)
    assert email["To"].addresses[0].addr_spec == "avery@demo.cairn.test"
    subject = email["Subject"]
    for leak in ("$", "243", "Psychotherapy", "90834", "Group", "Cedar Ridge Recovery"):
        assert leak not in subject, f"subject leaks {leak!r}: {subject}"
    assert email.get_body(("html",)) is not None
    links = links_in(email)

    patient = Payer()                                  # not signed in anywhere
    pay_page = patient.page(links["pay"])
    assert pay_page.status_code == 200
    for fact in ("Cedar Ridge Recovery", number, "$243.00", "Balance due"):
        assert fact in pay_page.text, fact
    for service in ("Psychotherapy", "Group psychotherapy", "−$27.00"):   # not before proof
        assert service not in pay_page.text, service
    assert "pm_card" not in pay_page.text                # no test-card menu of ours
    wrong = patient.prove(links["pay"], "1990-01-01")
    assert wrong.status_code == 400 and "does not match" in wrong.text
    shown = patient.prove(links["pay"], "1988-03-14")   # Avery's date of birth
    for fact in ("Psychotherapy, 45 minutes", "Group psychotherapy", "−$27.00", "$243.00"):
        assert fact in shown.text, fact

    paid = patient.pay(links["pay"], "pm_card_visa")
    assert paid.status_code == 200 and "Payment received" in paid.text
    assert "4242" in paid.text

    status = cairn.wait_for_invoice_status(invoice_id, "paid")
    assert status.balance == 0
    staff_view = staff.get(f"/staff/invoices/{invoice_id}").text
    assert 'data-testid="invoice-balance">$0.00' in staff_view

    events = {row.event_type for row in cairn.sql("invoicing", "select event_type from outbox "
                                                  "where sent_at is not null")}
    assert {"InvoiceSaved", "InvoiceSent", "InvoicePaid"} <= events

    def webhook_delivered():   # the sandbox sends it on its own time, after the reply
        deliveries = requests.get(f"{cairn.stack.sandbox_url}/_sandbox/deliveries", timeout=10).json()
        return [d for d in deliveries["deliveries"] if d["type"] == "payment_intent.succeeded"]
    succeeded = wait_until(webhook_delivered, timeout=20, what="the payment_intent.succeeded webhook")
    assert succeeded[-1]["status_code"] == 200, "signed webhook not accepted"
    processed = cairn.sql("payments", "select id from stripe_events where type = "
                          "'payment_intent.succeeded' and processed_at is not null")
    assert processed

    def receipt():
        return [m for m in cairn.mail.messages() if "receipt" in m["Subject"].lower()
                and number in m.get_body(("plain",)).get_content()]
    [receipt_email] = wait_until(receipt, timeout=20, what="the receipt")
    assert "$243.00" in receipt_email.get_body(("plain",)).get_content()

    again = patient.page(links["pay"])
    assert "has been paid" in again.text
    assert "Psychotherapy" not in again.text and "$243.00" not in again.text   # nothing left to see
    second_try = patient.post(links["pay"], data={"payment_method": "pm_card_visa",
                                                  "csrf": patient.csrf}, timeout=30)
    assert second_try.status_code == 409 and "has been paid" in second_try.text
    assert len(cairn.sql("payments", "select p.id from payments p join payment_allocations a "
                         "on a.payment_id = p.id where a.invoice_id = :id and p.status = 'succeeded'",
                         id=invoice_id)) == 1


def test_declined_card_shows_a_clear_message_and_changes_no_balance(cairn):
    staff = cairn.staff()
    invoice_id = create_invoice(staff, client_id="cl_demo_jordan", discount_kind="fixed",
                                discount_value="20.00")
    number = re.search(r"Invoice (INV-\d{6})", staff.get(f"/staff/invoices/{invoice_id}").text).group(1)
    send_by_email(staff, invoice_id)
    pay_link = links_in(invoice_email(cairn, number))["pay"]

    payer = Payer()
    declined = payer.pay(pay_link, "pm_card_chargeDeclined")
    assert declined.status_code == 402
    assert "Your card was declined" in declined.text
    assert "$250.00" in declined.text                 # balance still due, form offered again
    short = payer.pay(pay_link, "pm_card_chargeDeclinedInsufficientFunds")
    assert short.status_code == 402 and "insufficient funds" in short.text

    [row] = cairn.sql("invoicing", "select status, amount_paid from invoices where id = :id", id=invoice_id)
    assert (row.status, row.amount_paid) == ("sent", 0)
    wait_until(lambda: len(cairn.sql("invoicing", "select id from invoice_activity where "
                                     "invoice_id = :id and what like 'Payment attempt failed%'",
                                     id=invoice_id)) == 2,
               what="declines to show in the invoice history")

    ok = payer.pay(pay_link, "pm_card_visa")
    assert "Payment received" in ok.text
    assert cairn.wait_for_invoice_status(invoice_id, "paid").balance == 0
