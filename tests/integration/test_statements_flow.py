"""Statements and superbills across the running stack: staff issue a
statement, the patient is emailed "Your statement from … is ready" (no
amount in the subject), both download the same PDF, whose text shows the
Financial tab's balance to the cent; a superbill downloads for dates with
services and says why not for dates without."""
import re
from datetime import date

from servicekit.pdf import text_of
from tests.support.processes import wait_until

FORM = {"location_id": "loc_main", "payment_type": "private_pay", "line1_service": "90834",
        "line1_units": "1"}
JORDAN = ("jordan@demo.cairn.test", "demo-portal-2026")


def is_pdf(response, filename_start: str) -> bytes:
    assert response.status_code == 200, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{filename_start}'), disposition
    assert "Jordan" not in disposition and "Okafor" not in disposition
    return response.content


def test_a_statement_and_a_superbill_from_issue_to_download(cairn):
    staff = cairn.staff()
    csrf = staff.csrf("/staff/clients/cl_demo_jordan/invoices/new")
    created = staff.post("/staff/clients/cl_demo_jordan/invoices", data={**FORM, "csrf": csrf})
    invoice_id = created.url.rsplit("/", 1)[1]
    staff.post(f"/staff/invoices/{invoice_id}/send", data={"channel": "email", "csrf": csrf})
    paid = staff.post("/staff/clients/cl_demo_jordan/collect", data={
        "csrf": csrf, "invoice": invoice_id, f"amount_{invoice_id}": "10.00", "method": "cash",
        "request_key": "statements-flow-cash-1"})
    assert "/staff/payments/" in paid.url
    cairn.wait_for_invoice_status(invoice_id, "partially_paid")
    # an adjustment: the statement, the Financial tab and the invoice agree on what it leaves
    adjusted = staff.post("/staff/clients/cl_demo_jordan/adjustments", data={
        "csrf": csrf, "invoice": invoice_id, "choice": "decrease", "amount": "7.25",
        "reason": "Courtesy discount", "request_key": "statements-flow-adj-1"})
    assert "notice=adjusted" in adjusted.url, adjusted.text[:300]
    invoice = cairn.wait_for_invoice_status(invoice_id, "partially_paid")
    assert invoice.balance == invoice.total - 725 - 1000 and invoice.owed == invoice.total - 725

    today = date.today()
    period = {"period_start": today.replace(day=1).isoformat(), "period_end": today.isoformat()}
    wrong = staff.post("/staff/clients/cl_demo_jordan/statements",
                       data={"csrf": csrf, "period_start": period["period_end"],
                             "period_end": "2000-01-01"})
    assert wrong.status_code == 400
    form = {**period, "csrf": csrf, "request_key": "statements-flow-stm-1"}   # as the page has it
    issued = staff.post("/staff/clients/cl_demo_jordan/statements", data=form)
    assert "notice=statement-issued" in issued.url
    again = staff.post("/staff/clients/cl_demo_jordan/statements", data=form)   # a double click
    assert "notice=statement-issued" in again.url
    [row] = cairn.sql("invoicing", "select id, closing_balance from statements "
                                   "where client_id = 'cl_demo_jordan'")
    [statement] = cairn.sql("invoicing", "select adjustments from statements "
                                         "where id = :id", id=row.id)
    assert statement.adjustments == -725
    financial = staff.get("/staff/clients/cl_demo_jordan/financial").text
    balance = re.search(r'data-testid="client-balance">\$([0-9,.]+)<', financial).group(1)
    assert f"{row.closing_balance / 100:,.2f}" == balance       # to the cent, with the adjustment

    staff_pdf = is_pdf(staff.get(f"/staff/clients/cl_demo_jordan/statements/{row.id}/pdf"),
                       "statement-")
    shown = text_of(staff_pdf)
    assert f"${row.closing_balance / 100:,.2f}" in shown and "Jordan Okafor" in shown
    assert "/portal/billing" in shown
    assert is_pdf(staff.get(f"/staff/invoices/{invoice_id}/pdf"), "invoice-INV-")

    def statement_email():
        return [m for m in cairn.mail.messages()
                if "jordan@" in str(m["To"]) and "statement" in str(m["Subject"])]
    [message] = wait_until(statement_email, timeout=30, what="the statement email")
    assert message["Subject"] == "Your statement from Cedar Ridge Billing is ready"

    patient = cairn.sign_in("portal", *JORDAN)
    listing = patient.get("/portal/billing/statements")
    assert f"/portal/billing/statements/{row.id}/pdf" in listing.text
    assert is_pdf(patient.get(f"/portal/billing/statements/{row.id}/pdf"), "statement-") \
        == staff_pdf                                                  # one render, cached
    superbill = is_pdf(patient.get(f"/portal/billing/superbill?start={today.replace(day=1)}"
                                   f"&end={today}"), "superbill-")
    assert "90834" in text_of(superbill) and "November 5, 1992" in text_of(superbill)
    none = patient.get("/portal/billing/superbill?start=2020-01-01&end=2020-01-31")
    assert none.status_code == 400
    assert "There are no services between January 1, 2020 and January 31, 2020." in none.text

    def audited():
        actions = [r.action for r in cairn.sql(
            "clients", "select action from audit_log where client_id = 'cl_demo_jordan'")]
        return actions.count("financial.read") >= 3 and "statement.issue" in actions
    wait_until(audited, timeout=10, what="the downloads in the audit log")
