"""The portal's Billing area as the walkthrough shows it (seed step 7), with
stand-ins behind the gateway: the summary (balance, pending, credit, next
installment) under the large yellow Make a Payment button, the Billing
sub-menu on every billing page with its current item marked, an invoice's
lines and the payments applied to it, the payment history with refunds and
receipts (on screen and as a PDF), the plans with "Review and sign"; another
client's invoice or payment is "not found" and the refusal audited; paying
two invoices with a new card ticked "Make it the default" keeps it on file."""
import re

import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.service import PortalGateway
from servicekit import pdf as pdf_engine
from servicekit.errors import EXPECTED, NotFound
from tests.support.processes import free_port

CALLS: list = []
LATER = "2099-01-01T00:00:00.000000Z"
SESSION = {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER, "name": "Avery Lane",
           "kind": "portal", "subject_id": "pa_1", "acting_for": "cl_1",
           "clients": [{"id": "cl_1", "name": "Avery Lane"}], "permissions": []}


def invoice(number, status="sent", total=15000, paid=0, **changes):
    out = {"id": f"inv_{number}", "number": f"INV-00000{number}", "client_id": "cl_1",
           "status": status, "total": total, "subtotal": total + 1500, "discount_amount": 1500,
           "amount_paid": paid, "adjustments": 0, "owed": total, "balance": total - paid,
           "available": total - paid, "held": 0, "pending": 0, "due_on": "2099-12-31",
           "created_at": "2026-11-0%sT10:00:00" % number,
           "lines": [{"service_code": "90834", "description": "Psychotherapy, 45 minutes",
                      "units": 1, "unit_price": 16500, "amount": 16500, "line_discount": 1000,
                      "discount_share": 500, "net": 15000, "service_date": "2026-10-28"}]}
    return {**out, **changes}


INVOICES = [invoice(1), invoice(2, "partially_paid", 6000, 2000),
            invoice(3, "paid", 9000, 9000), invoice(4, "open"), invoice(5, "draft"),
            invoice(6, pending=3000, held=3000, available=0)]
PLANS = [{"id": "plan_1", "status": "active", "status_words": "Active", "total": 30000,
          "installment_count": 3, "frequency_words": "Monthly", "paid": 10000,
          "remaining": 20000, "next_charge": {"on": "2026-12-15", "amount": 10000},
          "invoices": [{"invoice_id": "inv_1", "invoice_number": "INV-000001", "amount": 30000}],
          "installments": [{"number": n, "due_on": f"2026-1{n}-15", "amount": 10000,
                            "status": "paid" if n == 1 else "scheduled",
                            "status_words": "Paid" if n == 1 else "Scheduled"}
                           for n in (1, 2)]},
         {"id": "plan_2", "status": "awaiting_signature", "status_words": "Awaiting signature",
          "total": 6000, "installment_count": 2, "frequency_words": "Weekly", "paid": 0,
          "remaining": 6000, "next_charge": None, "invoices": [], "installments": []}]


def payment(pid, status="succeeded", client_id="cl_1", **changes):
    out = {"id": pid, "client_id": client_id, "status": status, "amount": 21000,
           "credit_amount": 0, "method_label": "Visa ending 4242", "channel": "portal",
           "created_at": "2026-11-20T15:00:00Z", "expected_by": None, "next_action_url": None,
           "allocations": [{"invoice_id": "inv_1", "amount": 15000, "invoice_number": "INV-000001"},
                           {"invoice_id": "inv_2", "amount": 6000, "invoice_number": "INV-000002"}],
           "refunds": []}
    return {**out, **changes}


PAYMENTS = {
    "pay_1": payment("pay_1", refunds=[{"amount": 2500, "status": "succeeded",
                                        "created_at": "2026-11-22T09:00:00Z"}]),
    "pay_2": payment("pay_2", "processing", amount=3000, method_label="Bank account ending 6789",
                     expected_by="2026-11-25T00:00:00Z",
                     allocations=[{"invoice_id": "inv_6", "amount": 3000,
                                   "invoice_number": "INV-000006"}]),
    "pay_3": payment("pay_3", "failed", channel="pay_link", amount=4444),
    "pay_3ds": payment("pay_3ds", "requires_action", amount=6000,
                       allocations=[{"invoice_id": "inv_2", "amount": 6000,
                                     "invoice_number": "INV-000002"}]),
    "pay_other": payment("pay_other", client_id="cl_2"),
}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return SESSION

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        CALLS.append(("record_access", action, client_id, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "phone": "555-0100", "email": "billing@cedar.test",
                "locations": []}


class Invoicing:
    name = "invoicing"

    @rpc(expected_exceptions=EXPECTED)
    def financial_summary(self, client_id):
        CALLS.append(("financial_summary", client_id))
        return {"invoices": INVOICES, "balance": 32000, "pending": 3000, "credit": 1250,
                "plans": PLANS}

    @rpc(expected_exceptions=EXPECTED)
    def list_plans(self, client_id):
        CALLS.append(("list_plans", client_id))
        return PLANS

    @rpc(expected_exceptions=EXPECTED)
    def list_payable_invoices(self, client_id, channel):
        return [i for i in INVOICES if i["status"] in ("sent", "partially_paid")
                and i["available"] > 0]

    @rpc(expected_exceptions=EXPECTED)
    def list_statements(self, client_id):
        return []

    @rpc(expected_exceptions=EXPECTED)
    def list_estimates(self, client_id):
        return []

    # another client's id, as invoicing answers it to the portal
    @rpc(expected_exceptions=EXPECTED)
    def invoice_pdf(self, invoice_id, client_id=None):
        raise NotFound("That invoice was not found.")

    @rpc(expected_exceptions=EXPECTED)
    def statement_pdf(self, statement_id, client_id=None):
        raise NotFound("That statement was not found.")

    @rpc(expected_exceptions=EXPECTED)
    def estimate_pdf(self, estimate_id, client_id=None):
        raise NotFound("That estimate was not found.")

    @rpc(expected_exceptions=EXPECTED)
    def get_estimate(self, estimate_id, with_variance=False):
        if estimate_id == "est_missing":
            raise NotFound("That estimate was not found.")
        return {"id": estimate_id, "client_id": "cl_2", "status": "issued"}

    @rpc(expected_exceptions=EXPECTED)
    def get_plan(self, plan_id, client_id=None):
        raise NotFound("That payment plan was not found.")


class Payments:
    name = "payments"

    @rpc(expected_exceptions=EXPECTED)
    def list_payments(self, client_id=None, invoice_id=None):
        CALLS.append(("list_payments", client_id))
        return [p for p in PAYMENTS.values() if p["client_id"] == client_id]

    @rpc(expected_exceptions=EXPECTED)
    def get_payment(self, payment_id, actor=None):
        CALLS.append(("get_payment", payment_id))
        found = PAYMENTS.get(payment_id)
        if found is None or found["client_id"] != actor.get("client_id"):
            raise NotFound("That payment was not found.")
        return found

    @rpc(expected_exceptions=EXPECTED)
    def complete_payment_action(self, payment_id, actor=None, intent_id=None):
        CALLS.append(("complete_payment_action", payment_id))
        return {**PAYMENTS[payment_id], "status": "succeeded"}

    @rpc(expected_exceptions=EXPECTED)
    def payment_form_context(self, client_id):
        return {"methods": [], "terms": {"card_on_file": "Keep it.", "ach_mandate": "Bank.",
                                         "ach_mandate_on_file": "Bank on file."}}

    @rpc(expected_exceptions=EXPECTED)
    def pay_in_portal(self, actor, client_id, payload):
        CALLS.append(("pay_in_portal", client_id, payload))
        return {**PAYMENTS["pay_1"], "refunds": []}


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    for service in (Clients, Invoicing, Payments, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    return f"http://127.0.0.1:{port}"


def get(url):
    return requests.get(url, cookies={"cairn_portal_session": "portal"}, timeout=20,
                        allow_redirects=False)


def text(html: str) -> str:
    """What the page says, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" ,", ",")


def marked(html: str) -> str:
    """The Billing sub-menu's current item."""
    menu = re.search(r'<nav class="billing-menu" aria-label="Billing".*?</nav>', html, re.S)
    assert menu, "no Billing sub-menu"
    current = re.findall(r'aria-current="page">([^<]+)<', menu.group(0))
    assert len(current) <= 1, current
    return current[0] if current else ""


def test_the_summary_leads_with_what_is_owed_under_the_make_a_payment_button(gateway):
    page = get(f"{gateway}/portal/billing")
    assert page.status_code == 200
    html, said = page.text, text(page.text)
    button = re.search(r'<form method="get" action="/portal/billing/pay">\s*<button class="button '
                       r'pay big" type="submit"[^>]*>Make a Payment</button>', html)
    assert button and html.index("Make a Payment") < html.index("Balance due")
    for words in ("Balance due $320.00", "Pending bank payments $30.00",
                  "Credit on your account $12.50", "Next plan installment $100.00 on 2026-12-15",
                  "please review and sign"):
        assert words in said, words
    assert marked(html) == "Overview"
    for label, href in (("Outstanding Invoices", "/portal/billing/invoices"),
                        ("Payments", "/portal/billing/payments"), ("Estimates", "/portal/estimates"),
                        ("Payment Plans", "/portal/billing/plans"),
                        ("Statements and Super Bills", "/portal/billing/statements"),
                        ("Payment methods", "/portal/billing/methods")):
        assert f'<a href="{href}">{label}</a>' in html or \
            f'<a href="{href}" aria-current="page">{label}</a>' in html, label
    # the outstanding invoices: sent ones only (not a draft, not one staff has not sent)
    assert "INV-000001" in said and "INV-000002" in said and "Bank payment pending" in said
    assert "INV-000004" not in said and "INV-000005" not in said
    history = html[html.index('data-testid="payment-history"'):]
    assert "Visa ending 4242" in history and "$210.00" in history and "$44.44" not in history
    assert '/portal/billing/payments/pay_1"' in history
    assert sorted(c[0] for c in CALLS) == ["financial_summary", "list_payments"]


@pytest.mark.parametrize("path, current", [
    ("/portal/billing/invoices", "Outstanding Invoices"), ("/portal/billing/invoices/inv_1",
                                                           "Outstanding Invoices"),
    ("/portal/billing/payments", "Payments"), ("/portal/billing/payments/pay_1", "Payments"),
    ("/portal/billing/plans", "Payment Plans"), ("/portal/estimates", "Estimates"),
    ("/portal/billing/statements", "Statements and Super Bills"),
    ("/portal/billing/methods", "Payment methods"), ("/portal/billing/pay", "")])
def test_every_billing_page_has_the_sub_menu_with_its_item_marked(gateway, path, current):
    page = get(gateway + path)
    assert page.status_code == 200, page.text
    assert marked(page.text) == current
    assert page.text.count("<h1") == 1
    assert '<link rel="stylesheet" href="/static/billing.css">' in page.text


def test_the_billing_stylesheet_stacks_tables_and_hides_the_menu_in_print(gateway):
    css = requests.get(f"{gateway}/static/billing.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "table.stack thead { display: none; }" in css.text and "@container" in css.text and "@media print" in css.text


def test_outstanding_invoices_and_one_opened_with_its_lines_and_payments(gateway):
    listing = text(get(f"{gateway}/portal/billing/invoices").text)
    assert "INV-000001 2026-11-01 $150.00 $150.00 Due" in listing
    assert "INV-000002 2026-11-02 $60.00 $40.00 Partly paid" in listing
    assert "INV-000006" in listing and "Bank payment pending" in listing
    assert "Paid invoices" in listing and "INV-000003" in listing
    assert "INV-000004" not in listing and "INV-000005" not in listing

    page = get(f"{gateway}/portal/billing/invoices/inv_1")
    said = text(page.text)
    assert "Invoice INV-000001" in said
    assert "2026-10-28 Psychotherapy, 45 minutes (90834) 1 $165.00 −$15.00 $150.00" in said
    assert "Services $165.00 Discounts −$15.00 Invoice total $150.00" in said
    assert "/portal/billing/invoices/inv_1/pdf" in page.text
    assert re.search(r'<input type="hidden" name="invoice" value="inv_1">\s*<button class="button '
                     r'pay big" type="submit">Pay this invoice</button>', page.text)
    applied = text(page.text[page.text.index('data-testid="payments-applied"'):])
    assert "Visa ending 4242 $150.00" in applied and "/portal/billing/payments/pay_1" in page.text
    # a pending bank payment is applied but not yet paid: no pay button
    pending = get(f"{gateway}/portal/billing/invoices/inv_6").text
    assert "Pay this invoice" not in pending and "Bank payment pending" in pending
    assert not [c for c in CALLS if c[0] == "record_access"]


@pytest.mark.parametrize("invoice_id", ["inv_other", "inv_4", "inv_5"])
def test_an_invoice_not_sent_to_this_client_is_not_found_and_audited(gateway, invoice_id):
    page = get(f"{gateway}/portal/billing/invoices/{invoice_id}")
    assert page.status_code == 404 and "That invoice was not found." in page.text
    assert ("record_access", "invoice.read", "cl_1", "denied") in CALLS


def test_payment_history_with_what_each_paid_refunds_and_pending_bank_payments(gateway):
    page = get(f"{gateway}/portal/billing/payments")
    said = text(page.text)
    assert "2026-11-20 $210.00 Visa ending 4242 INV-000001 ($150.00), INV-000002 ($60.00) " \
           "Paid · refunded in part Refunded $25.00" in said
    assert "Bank account ending 6789 INV-000006 ($30.00) Pending · clears by 2026-11-25" in said
    assert "$44.44" not in said                    # a pay link's declined card is not history
    assert "/portal/billing/payments/pay_1" in page.text and \
        "/portal/billing/payments/pay_2" in page.text
    assert CALLS == [("list_payments", "cl_1")]


def test_a_receipt_on_screen_printable_and_as_a_pdf(gateway):
    page = get(f"{gateway}/portal/billing/payments/pay_1")
    said = text(page.text)
    assert "Receipt" in said and "Amount $210.00" in said and "Paid with Visa ending 4242" in said
    assert "Invoice INV-000001 $150.00" in said and "Invoice INV-000002 $60.00" in said
    assert "Refunded $25.00" in said and 'role="status"' not in page.text
    assert "/portal/billing/payments/pay_1/receipt.pdf" in page.text
    assert 'data-print hidden' in page.text and '/static/print.js' in page.text
    assert CALLS == [("get_payment", "pay_1")]          # one RPC once the caches are warm

    CALLS.clear()
    download = get(f"{gateway}/portal/billing/payments/pay_1/receipt.pdf")
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="receipt-2026-11-20.pdf"'
    assert download.headers["Cache-Control"] == "no-store"
    shown = pdf_engine.text_of(download.content)
    for words in ("Receipt", "Cedar Ridge", "Avery Lane", "$210.00", "Visa ending 4242",
                  "INV-000001", "INV-000002", "Refunded"):
        assert words in shown, (words, shown)
    assert ("record_access", "payment.read", "cl_1", "ok") in CALLS


@pytest.mark.parametrize("path", ["/portal/billing/payments/pay_other",
                                  "/portal/billing/payments/pay_other/receipt.pdf",
                                  "/portal/billing/payments/pay_missing"])
def test_another_clients_payment_is_not_found_and_audited(gateway, path):
    page = get(gateway + path)
    assert page.status_code == 404 and "That payment was not found." in page.text
    assert ("record_access", "payment.read", "cl_1", "denied") in CALLS
    assert ("complete_payment_action", "pay_other") not in CALLS


def test_back_from_the_banks_page_the_payment_is_completed_and_thanked_for(gateway):
    page = get(f"{gateway}/portal/billing/payments/pay_3ds?redirect_status=succeeded")
    assert page.status_code == 200
    assert re.search(r'role="status">Thank you. We received \$60.00', page.text)
    assert ("complete_payment_action", "pay_3ds") in CALLS


def test_payment_plans_with_schedule_next_installment_and_review_and_sign(gateway):
    page = get(f"{gateway}/portal/billing/plans")
    said = text(page.text)
    assert "$300.00 in 3 installments Status Active Paid $100.00 Remaining $200.00 " \
           "Next installment $100.00 on 2026-12-15" in said
    assert "1 2026-11-15 $100.00 Paid 2 2026-12-15 $100.00 Scheduled" in said
    assert "Waiting for your signature" in said
    assert re.search(r'<a class="button pay" href="/portal/billing/plans/plan_2">Review and sign',
                     page.text)
    assert CALLS == [("list_plans", "cl_1")]


def test_two_invoices_with_a_new_card_made_the_default_keep_it_on_file(gateway):
    form = get(f"{gateway}/portal/billing/pay").text
    for number in ("INV-000001", "INV-000002"):
        assert re.search(rf'name="invoice" value="inv_{number[-1]}" checked> {number}', form)
    key = re.search(r'name="request_key" value="([^"]+)"', form).group(1)
    paid = requests.post(f"{gateway}/portal/billing/pay", cookies={"cairn_portal_session": "p"},
                         data={"csrf": "c", "request_key": key, "invoice": ["inv_1", "inv_2"],
                               "amount_inv_1": "150.00", "amount_inv_2": "40.00",
                               "method": "new", "payment_method": "pm_card_visa",
                               "make_default": "1"}, timeout=20)
    assert paid.status_code == 200 and "We received $210.00" in paid.text
    assert "/portal/billing/payments/pay_1" in paid.text           # its receipt
    [(_, client_id, payload)] = [c for c in CALLS if c[0] == "pay_in_portal"]
    assert client_id == "cl_1" and payload["save"] is True and payload["make_default"] is True
    assert payload["allocations"] == [{"invoice_id": "inv_1", "amount": 15000},
                                      {"invoice_id": "inv_2", "amount": 4000}]


def test_a_guardian_sees_whose_bills_these_are():
    from portal_gateway.web import templates
    html = templates.get_template("portal/billing.html").render(
        session={**SESSION, "acting_for": "cl_kai", "clients": [{"id": "cl_ellis", "name": "Ellis Reyes"},
                                                                  {"id": "cl_kai", "name": "Kai Reyes"}]},
        organization={"name": "Cedar Ridge", "phone": "", "email": ""}, outstanding=[], payments=[],
        plans=[], notice="", next_installment=None,
        summary={"balance": 0, "pending": 0, "credit": 0})
    assert "The bills of Kai Reyes." in html and "Nothing is due. Thank you!" in html


@pytest.mark.parametrize("path, action, words", [
    ("/portal/billing/invoices/inv_9/pdf", "invoice.read", "That invoice was not found."),
    ("/portal/billing/statements/stm_9/pdf", "financial.read", "That statement was not found."),
    ("/portal/estimates/est_9", "estimate.read", "That estimate was not found."),
    ("/portal/estimates/est_missing", "estimate.read", "That estimate was not found."),
    ("/portal/estimates/est_9/pdf", "estimate.read", "That estimate was not found."),
    ("/portal/billing/plans/plan_9", "financial.read", "That payment plan was not found.")])
def test_another_clients_document_estimate_or_plan_is_not_found_and_audited(gateway, path, action,
                                                                             words):
    page = get(gateway + path)
    assert page.status_code == 404 and words in page.text
    assert ("record_access", action, "cl_1", "denied") in CALLS
