"""Payments in depth, every service as its own process on the real broker
and PostgreSQL, the Stripe sandbox over real sockets with the real `stripe`
SDK, mail over SMTP: nothing stuck, lost or taken twice."""
import re

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.test_invoice_flow import (
    Payer, create_invoice, invoice_email, links_in, send_by_email,
)
from servicekit.pdf import text_of
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration
BILLER = ("biller@demo.cairn.test", "demo-staff-2026!")
AVERY = ("avery@demo.cairn.test", "demo-portal-2026")


def sent_invoice(cairn, staff, client_id="cl_demo_avery", **overrides):
    invoice_id = create_invoice(staff, client_id=client_id, **overrides)
    number = re.search(r"Invoice (INV-\d{6})", staff.get(f"/staff/invoices/{invoice_id}").text).group(1)
    send_by_email(staff, invoice_id)
    return invoice_id, number, links_in(invoice_email(cairn, number))["pay"]


def one_line(service="90853", units="1"):
    """A $60.00 invoice: one group session, no discount."""
    return {"discount_kind": "none", "discount_value": "", "line1_service": service,
            "line1_units": units, "line2_service": ""}


def fresh_key(page) -> str:
    return re.search(r'name="request_key" value="([^"]+)"', page.text).group(1)


def mails(cairn, subject_part, number):
    return [m for m in cairn.mail.messages() if subject_part in m["Subject"]
            and number in m.get_body(("plain",)).get_content()]


def captured_for(cairn, invoice_id):
    return [row for row in cairn.sql(
        "payments", "select o.envelope from outbox o where o.event_type = 'PaymentCaptured' "
        "and o.envelope like :needle", needle=f"%{invoice_id}%")]


def test_the_stuck_payment_reproduction_now_fails_cleanly_and_the_next_card_pays(cairn):
    staff = cairn.staff()
    invoice_id, _, link = sent_invoice(cairn, staff, **one_line())
    payer = Payer()
    typo = payer.pay(link, "pm_card_typo")
    assert typo.status_code == 400 and "could not be found" in typo.text
    assert "do not pay again" not in typo.text.lower()
    paid = payer.pay(link, "pm_card_visa")                     # at once: no 409, no old method
    assert paid.status_code == 200 and "Payment received" in paid.text and "4242" in paid.text
    assert cairn.wait_for_invoice_status(invoice_id, "paid").balance == 0


def test_a_response_lost_after_the_request_is_retried_and_charges_once(cairn):
    staff = cairn.staff()
    invoice_id, _, link = sent_invoice(cairn, staff, **one_line())
    cairn.sandbox("POST", "faults", {"drop_responses": [
        {"method": "POST", "path_prefix": "/v1/payment_intents/", "count": 1}]})
    paid = Payer().pay(link, "pm_card_visa")
    assert "Payment received" in paid.text
    cairn.wait_for_invoice_status(invoice_id, "paid")
    [payment] = cairn.sql("payments", "select p.stripe_payment_intent from payments p join "
                          "payment_allocations a on a.payment_id = p.id where a.invoice_id = :id",
                          id=invoice_id)
    charges = [e for e in cairn.stripe_events("charge.succeeded")
               if e["data"]["object"]["payment_intent"] == payment.stripe_payment_intent]
    assert len(charges) == 1
    assert len(captured_for(cairn, invoice_id)) == 1


def test_the_reconciler_repairs_a_payment_whose_answer_and_webhook_were_both_lost(cairn):
    staff = cairn.staff()
    invoice_id, number, link = sent_invoice(cairn, staff, **one_line())
    cairn.sandbox("POST", "faults", {"drop_responses": [
        {"method": "POST", "path_prefix": "/v1/payment_intents/", "count": 3}]})
    cairn.sandbox("POST", "faults", {"webhook_hold": True})      # Stripe's webhooks do not come
    try:
        page = Payer().pay(link, "pm_card_visa")
        assert "still confirming" in page.text and "do not pay again" in page.text.lower()
        [row] = cairn.sql("invoicing", "select status from invoices where id = :id", id=invoice_id)
        assert row.status == "sent"                                # nobody knows yet
        cairn.sql("payments", "update payments set next_check_at = now() where id in (select "
                  "payment_id from payment_allocations where invoice_id = :id)", id=invoice_id)
        assert cairn.wait_for_invoice_status(invoice_id, "paid").balance == 0
    finally:
        cairn.sandbox("POST", "webhooks/release")                 # late, and they change nothing
    wait_until(lambda: mails(cairn, "receipt", number), timeout=20, what="the receipt")
    assert len(captured_for(cairn, invoice_id)) == 1


def test_the_same_webhook_twenty_times_at_once_gives_one_ledger_row_and_one_receipt(cairn):
    staff = cairn.staff()
    invoice_id, number, link = sent_invoice(cairn, staff, **one_line())
    Payer().pay(link, "pm_card_visa")
    cairn.wait_for_invoice_status(invoice_id, "paid")
    wait_until(lambda: mails(cairn, "receipt", number), timeout=20, what="the receipt")
    [intent] = cairn.sql("payments", "select p.stripe_payment_intent from payments p join "
                         "payment_allocations a on a.payment_id = p.id where a.invoice_id = :id",
                         id=invoice_id)
    [event] = [e for e in cairn.stripe_events("payment_intent.succeeded")
               if e["data"]["object"]["id"] == intent.stripe_payment_intent]
    cairn.sandbox("POST", f"events/{event['id']}/deliver", {"times": 20})

    def delivered():
        attempts = [d for d in cairn.sandbox("GET", "deliveries")["deliveries"]
                    if d["event_id"] == event["id"]]
        return len(attempts) >= 21 and all(d["status_code"] == 200 for d in attempts[-20:])
    wait_until(delivered, timeout=30, what="twenty deliveries answered 200")
    assert len(cairn.sql("invoicing", "select payment_id from invoice_payments where invoice_id = :id",
                         id=invoice_id)) == 1
    assert len(mails(cairn, "receipt", number)) == 1
    assert len(captured_for(cairn, invoice_id)) == 1


def test_concurrent_payments_on_one_invoice_never_overpay_it(cairn):
    staff = cairn.staff()
    invoice_id, _, link = sent_invoice(cairn, staff, **one_line())
    portal = cairn.sign_in("portal", *AVERY)
    csrf = portal.csrf("/portal/billing/pay")
    key = re.search(r'name="request_key" value="([^"]+)"', portal.get("/portal/billing/pay").text).group(1)

    def by_link(_):
        return Payer().pay(link, "pm_card_visa").status_code

    def by_portal(_):
        return portal.post("/portal/billing/pay", data={
            "csrf": csrf, "request_key": key, "invoice": invoice_id, f"amount_{invoice_id}": "60.00",
            "method": "new", "payment_method": "pm_card_mastercard"}).status_code

    pool = eventlet.GreenPool(6)
    results = [pool.spawn(f, n) for n, f in enumerate([by_link] * 5 + [by_portal])]
    codes = [r.wait() for r in results]
    assert codes.count(200) >= 1, codes
    status = cairn.wait_for_invoice_status(invoice_id, "paid")
    [row] = cairn.sql("invoicing", "select total, amount_paid from invoices where id = :id", id=invoice_id)
    assert row.amount_paid == row.total == 6000 and status.balance == 0
    succeeded = cairn.sql("payments", "select p.id from payments p join payment_allocations a on "
                          "a.payment_id = p.id where a.invoice_id = :id and p.status = 'succeeded'",
                          id=invoice_id)
    assert len(succeeded) == 1


def test_an_ach_payment_that_fails_after_three_days_reopens_the_invoice_and_tells_the_patient(cairn):
    staff = cairn.staff()
    invoice_id, number, link = sent_invoice(cairn, staff, **one_line())
    page = Payer().pay(link, "pm_usBankAccount_insufficientFunds")
    assert page.status_code == 200 and "is on its way" in page.text and "do not pay again" in page.text
    wait_until(lambda: mails(cairn, "We received your payment", number), timeout=20,
               what="the pending-payment notice")
    wait_until(lambda: "Bank payment pending" in staff.get("/staff/clients/cl_demo_avery/financial").text,
               timeout=20, what="the pending payment on the Financial tab")
    invoice_page = staff.get(f"/staff/invoices/{invoice_id}").text
    assert "is pending" in invoice_page and "Collect payment" not in invoice_page
    csrf = staff.csrf(f"/staff/invoices/{invoice_id}")
    void = staff.post(f"/staff/invoices/{invoice_id}/void", data={"csrf": csrf, "reason": "Entered twice"})
    assert void.status_code == 400 and "being processed" in void.text
    again = Payer().page(link)
    assert "already being processed" in again.text            # not offered for payment again

    cairn.sandbox("POST", "clock/advance", {"days": 3})
    wait_until(lambda: mails(cairn, "a payment did not go through", number), timeout=30,
               what="the returned-payment email")
    [returned] = mails(cairn, "a payment did not go through", number)
    text = returned.get_body(("plain",)).get_content()
    assert "not enough funds" in text and "balance is open again" in text
    [row] = cairn.sql("invoicing", "select status, amount_paid from invoices where id = :id", id=invoice_id)
    assert (row.status, row.amount_paid) == ("sent", 0)
    assert "Pay $60.00" in Payer().page(link).text               # offered again


def test_3d_secure_completed_on_the_pay_page(cairn):
    staff = cairn.staff()
    invoice_id, _, link = sent_invoice(cairn, staff, **one_line())
    payer = Payer()
    challenge = payer.pay(link, "pm_card_authenticationRequired", allow_redirects=False)
    assert challenge.status_code == 303
    bank_page = challenge.headers["Location"]
    assert bank_page.startswith(cairn.stack.sandbox_url + "/3ds/")
    form = payer.get(bank_page)
    assert "Complete authentication" in form.text
    done = payer.post(bank_page, data={"outcome": "complete"})   # the bank sends us back
    assert done.url.startswith(f"{cairn.url}/pay/return/") and "Payment received" in done.text
    assert cairn.wait_for_invoice_status(invoice_id, "paid").balance == 0


def test_3d_secure_abandoned_frees_the_invoice_for_the_next_card(cairn):
    staff = cairn.staff()
    invoice_id, _, link = sent_invoice(cairn, staff, **one_line())
    payer = Payer()
    first = payer.pay(link, "pm_card_authenticationRequired", allow_redirects=False)
    assert first.status_code == 303                              # walks away from the bank page
    paid = payer.pay(link, "pm_card_visa")
    assert "Payment received" in paid.text
    cairn.wait_for_invoice_status(invoice_id, "paid")
    statuses = sorted(r.status for r in cairn.sql(
        "payments", "select p.status from payments p join payment_allocations a on a.payment_id = p.id "
        "where a.invoice_id = :id", id=invoice_id))
    assert statuses == ["failed", "succeeded"]


def test_staff_collect_two_invoices_by_check_keep_credit_then_a_biller_refunds(cairn):
    staff = cairn.staff()
    first = create_invoice(staff, client_id="cl_demo_sam", **one_line())           # $60.00 draft
    second = create_invoice(staff, client_id="cl_demo_sam", **one_line("90834"))   # $150.00
    page = staff.get("/staff/clients/cl_demo_sam/collect")
    csrf = staff.csrf("/staff/clients/cl_demo_sam/collect")
    key = re.search(r'name="request_key" value="([^"]+)"', page.text).group(1)
    form = {"csrf": csrf, "request_key": key, "invoice": [first, second],
            f"amount_{first}": "60.00", f"amount_{second}": "100.00", "payer_name": "Sam Reyes",
            "method": "check", "check_number": "1042"}
    over = staff.post("/staff/clients/cl_demo_sam/collect", data={**form, f"amount_{first}": "61.00"})
    assert over.status_code == 400 and "enter at most that" in over.text
    form["request_key"] = fresh_key(over)                    # the form shown again is a new one
    no_number = staff.post("/staff/clients/cl_demo_sam/collect", data={**form, "check_number": ""})
    assert no_number.status_code == 400 and "Enter the check number" in no_number.text
    form["request_key"] = fresh_key(no_number)
    collected = staff.post("/staff/clients/cl_demo_sam/collect", data={**form, "credit": "15.00"})
    assert collected.status_code == 200 and "Payment collected" in collected.text
    assert "Check #1042" in collected.text and "$175.00" in collected.text
    payment_url = collected.url.split("?")[0]
    numbers = [re.search(r"Invoice (INV-\d{6})", staff.get(f"/staff/invoices/{i}").text).group(1)
               for i in (first, second)]
    [receipt] = wait_until(lambda: mails(cairn, "receipt", numbers[0]), timeout=20, what="receipt")
    receipt_text = receipt.get_body(("plain",)).get_content()
    assert "Paid with: Check #1042" in receipt_text and f"{numbers[0]}, {numbers[1]}" in receipt_text
    assert "$15.00 of it is kept as a credit" in receipt_text
    cairn.wait_for_invoice_status(first, "paid")
    cairn.wait_for_invoice_status(second, "partially_paid")
    wait_until(lambda: "client-credit\">$15.00" in staff.get("/staff/clients/cl_demo_sam/financial").text,
               timeout=20, what="the credit on the Financial tab")

    refund_form = staff.get(payment_url)
    assert "Refund</h2>" not in refund_form.text                 # front desk may not refund
    biller = cairn.staff(*BILLER)
    csrf = biller.csrf(payment_url.replace(cairn.url, ""))
    key = re.search(r'name="request_key" value="([^"]+)"', biller.get(payment_url).text).group(1)
    refund = biller.post(f"{payment_url}/refund", data={"csrf": csrf, "request_key": key,
                                                        "source": first, "amount": "20.00",
                                                        "reason": "requested_by_customer"})
    assert refund.status_code == 200 and "Refund issued" in refund.text
    assert cairn.wait_for_invoice_status(first, "partially_paid").balance == 2000
    denied = staff.post(f"{payment_url}/refund", data={"csrf": staff.csrf(payment_url.replace(cairn.url, "")),
                                                       "request_key": "x" * 20, "source": first,
                                                       "amount": "1.00", "reason": "duplicate"})
    assert denied.status_code == 403


def test_the_patient_saves_a_card_and_pays_two_invoices_with_it_in_the_portal(cairn):
    staff = cairn.staff()
    first, number1, _ = sent_invoice(cairn, staff, client_id="cl_demo_jordan", **one_line())
    second, number2, _ = sent_invoice(cairn, staff, client_id="cl_demo_jordan", **one_line("90834"))
    portal = cairn.sign_in("portal", "jordan@demo.cairn.test", "demo-portal-2026")
    methods = portal.get("/portal/billing/methods")
    key = re.search(r'name="request_key" value="([^"]+)"', methods.text).group(1)
    saved = portal.post("/portal/billing/methods", data={
        "csrf": portal.csrf("/portal/billing/methods"), "request_key": key,
        "payment_method": "pm_card_visa", "make_default": "1"})
    assert "Saved." in saved.text and "Visa ending 4242" in saved.text
    pay = portal.get(f"/portal/billing/pay?invoice={first}&invoice={second}")
    method = re.search(r'name="method" value="(saved:[^"]+)" checked', pay.text).group(1)
    key = re.search(r'name="request_key" value="([^"]+)"', pay.text).group(1)
    paid = portal.post("/portal/billing/pay", data={
        "csrf": portal.csrf("/portal/billing/pay"), "request_key": key, "invoice": [first, second],
        f"amount_{first}": "60.00", f"amount_{second}": "150.00", "method": method})
    assert paid.status_code == 200 and "We received $210.00" in paid.text
    cairn.wait_for_invoice_status(first, "paid")
    cairn.wait_for_invoice_status(second, "paid")
    [receipt] = wait_until(lambda: mails(cairn, "receipt", number1), timeout=20, what="receipt")
    assert f"Invoices: {number1}, {number2}" in receipt.get_body(("plain",)).get_content()
    history = portal.get("/portal/billing").text
    assert "Visa ending 4242" in history and "$210.00" in history
    # issue 9: the payment under Billing › Payments, its receipt (screen and PDF), and
    # on each invoice it paid; another patient gets "not found", and it is audited
    payment_id = re.search(r'/portal/billing/payments/(pay_[0-9a-f]+)"', paid.text).group(1)
    payments = portal.get("/portal/billing/payments").text
    assert f"{number1} ($60.00)" in payments and f"{number2} ($150.00)" in payments
    receipt = portal.get(f"/portal/billing/payments/{payment_id}")
    assert receipt.status_code == 200 and "Receipt" in receipt.text and number2 in receipt.text
    pdf = portal.get(f"/portal/billing/payments/{payment_id}/receipt.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "$210.00" in text_of(pdf.content) and number1 in text_of(pdf.content)
    invoice = portal.get(f"/portal/billing/invoices/{second}")
    assert invoice.status_code == 200 and f"/portal/billing/payments/{payment_id}" in invoice.text
    assert "/portal/billing/invoices/" + second + "/pdf" in invoice.text
    sam = cairn.sign_in("portal", "sam@demo.cairn.test", "demo-portal-2026")
    for path in (f"/portal/billing/payments/{payment_id}", f"/portal/billing/invoices/{second}",
                 f"/portal/billing/payments/{payment_id}/receipt.pdf"):
        assert sam.get(path).status_code == 404, path
    wait_until(lambda: cairn.sql(
        "clients", "select count(*) as n from audit_log where client_id = 'cl_demo_sam' and "
        "outcome = 'denied' and action in ('payment.read', 'invoice.read')")[0].n >= 3,
        timeout=10, what="the refusals in the audit log")


def test_an_autopay_charge_the_bank_wants_confirmed_fails_and_emails_a_portal_link(cairn):
    staff = cairn.staff()
    invoice_id, number, _ = sent_invoice(cairn, staff, client_id="cl_demo_sam", **one_line())
    amqp = cairn.stack.process_env()["CAIRN_AMQP_URI"]
    with ClusterRpcProxy({"AMQP_URI": amqp}, timeout=30) as rpc:
        rpc.payments.save_method({"kind": "staff", "id": "st_demo_frontdesk", "ip": "127.0.0.1"},
                                 "cl_demo_sam", {"payment_method": "pm_card_authenticationRequired",
                                                 "request_key": f"setup-{invoice_id}"})
        setup = cairn.sql("payments", "select stripe_setup_intent, id from setup_attempts where "
                          "client_id = 'cl_demo_sam' order by created_at desc limit 1")[0]
        cairn.sandbox("POST", f"authenticate/{setup.stripe_setup_intent}", {"outcome": "complete"})
        rpc.payments.complete_method_setup({"kind": "staff", "id": "st_demo_frontdesk"}, "cl_demo_sam",
                                           setup.id)
        with pytest.raises(Exception) as failure:
            rpc.payments.charge_saved_method("cl_demo_sam", [{"invoice_id": invoice_id, "amount": 6000}],
                                             f"autopay-{invoice_id}")
        assert "confirm this payment" in str(failure.value)
    [mail] = wait_until(lambda: mails(cairn, "card on file did not go through", number),
                        timeout=20, what="the autopay failure email")
    text = mail.get_body(("plain",)).get_content()
    assert "Sign in to the portal to pay it yourself" in text and "/portal/login" in text


def test_staff_collect_a_new_card_that_needs_3d_secure(cairn):
    staff = cairn.staff()
    invoice_id = create_invoice(staff, client_id="cl_demo_jordan", **one_line())
    page = staff.get(f"/staff/clients/cl_demo_jordan/collect?invoice={invoice_id}")
    challenge = staff.post("/staff/clients/cl_demo_jordan/collect", allow_redirects=False, data={
        "csrf": staff.csrf("/staff/clients/cl_demo_jordan/collect"), "request_key": fresh_key(page),
        "invoice": invoice_id, f"amount_{invoice_id}": "60.00", "method": "new",
        "payment_method": "pm_card_authenticationRequired"})
    assert challenge.status_code == 303
    bank_page = challenge.headers["Location"]
    assert bank_page.startswith(cairn.stack.sandbox_url + "/3ds/")
    done = staff.post(bank_page, data={"outcome": "complete"})
    assert done.url.startswith(f"{cairn.url}/staff/payments/") and "Payment collected" in done.text
    assert cairn.wait_for_invoice_status(invoice_id, "paid").balance == 0


def test_a_voided_invoices_link_stops_working(cairn):
    staff = cairn.staff()
    invoice_id, _, link = sent_invoice(cairn, staff, **one_line())
    payer = Payer()
    assert payer.page(link).status_code == 200
    csrf = staff.csrf(f"/staff/invoices/{invoice_id}")
    assert "Invoice voided" in staff.post(f"/staff/invoices/{invoice_id}/void",
                                          data={"csrf": csrf, "reason": "Entered twice"}).text

    def dead():
        page = Payer().page(link)
        return page.status_code == 410 and "no longer valid" in page.text
    wait_until(dead, timeout=20, what="the link to stop working")
    assert payer.pay(link, "pm_card_visa").status_code == 410
