"""The portal's Billing area as the walkthrough shows it (seed step 7), beyond
the summary and Make a Payment (pages/portal_billing.py): Outstanding
Invoices (one opened: its lines, the payments applied, its PDF, "Pay this
invoice"), Payments (the history with refunds, each with its receipt, on
screen, printable and as a PDF) and Payment Plans (schedule, status, next
installment, "Review and sign"). Every page reads only the client the
session acts for; an id of another client's invoice or payment is "not
found", and the refusal is in the audit log."""
from __future__ import annotations

import re

from nameko.exceptions import RemoteError
from werkzeug.wrappers import Response

from servicekit import clock
from servicekit import pdf as pdf_engine

from portal_gateway import web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.web import http

# what the portal shows of invoices: sent to the patient (never drafts or
# ones staff have not sent yet), and void ones are gone
VISIBLE_STATUSES = ("sent", "partially_paid", "paid")
# a payment attempt the patient never saw go through (a pay link's declined
# card) is not history; a portal one that failed is ("Did not go through")
RECEIPT_STATUSES = ("succeeded", "processing")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def visible_invoices(summary: dict) -> list[dict]:
    """The client's invoices as the portal shows them, each with the words
    of its state for the patient (`state`), newest first."""
    today = clock.today().isoformat()
    shown = []
    for invoice in summary.get("invoices", []):
        if invoice["status"] not in VISIBLE_STATUSES:
            continue
        shown.append({**invoice, "state": invoice_state(invoice, today)})
    return shown


def invoice_state(invoice: dict, today: str) -> str:
    if invoice["balance"] <= 0:
        return "Paid"
    if invoice.get("pending"):
        return "Bank payment pending"
    if invoice.get("held"):
        return "Payment in progress"
    if invoice.get("due_on") and invoice["due_on"] < today:
        return "Overdue"
    return "Partly paid" if invoice["status"] == "partially_paid" else "Due"


def history(payments: list[dict]) -> list[dict]:
    return [p for p in payments if p["status"] != "failed" or p["channel"] != "pay_link"]


def refunded(payment: dict) -> int:
    return sum(r["amount"] for r in payment.get("refunds") or ()
               if r["status"] in ("pending", "succeeded"))


def next_installment(plans: list[dict]) -> dict | None:
    """The soonest charge of the client's active plans: {on, amount}."""
    charges = [plan["next_charge"] for plan in plans if plan.get("next_charge")
               and plan["status"] not in ("cancelled", "completed", "awaiting_signature")]
    return min(charges, key=lambda charge: charge["on"]) if charges else None


class PortalBillingAreaPages:

    # ---- Outstanding Invoices ------------------------------------------------------
    @http("GET", "/portal/billing/invoices")
    @signed_in("portal")
    def portal_invoices(self, request, session):
        invoices = visible_invoices(self.invoicing.financial_summary(session["acting_for"]))
        return web.page("portal/invoices.html", session=session,
                        organization=self._organization(),
                        outstanding=[i for i in invoices if i["balance"] > 0],
                        paid=[i for i in invoices if i["balance"] <= 0])

    @http("GET", "/portal/billing/invoices/<invoice_id>")
    @signed_in("portal")
    def portal_invoice(self, request, session, invoice_id):
        client_id = session["acting_for"]
        summary = self.invoicing.financial_summary.call_async(client_id)
        payments = self.payments.list_payments.call_async(client_id)
        invoice = next((i for i in visible_invoices(summary.result()) if i["id"] == invoice_id),
                       None)
        payments = payments.result()
        if invoice is None:
            return self._portal_not_found(request, session, "invoice.read",
                                          "That invoice was not found.")
        applied = []
        for payment in history(payments):
            for share in payment["allocations"]:
                if share["invoice_id"] == invoice_id:
                    applied.append({**payment, "applied": share["amount"]})
        return web.page("portal/invoice.html", session=session,
                        organization=self._organization(), invoice=invoice, applied=applied)

    # ---- Payments and receipts -----------------------------------------------------
    @http("GET", "/portal/billing/payments")
    @signed_in("portal")
    def portal_payments(self, request, session):
        payments = history(self.payments.list_payments(session["acting_for"]))
        return web.page("portal/payments.html", session=session,
                        organization=self._organization(),
                        payments=[{**p, "refunded": refunded(p)} for p in payments])

    @http("GET", "/portal/billing/payments/<payment_id>")
    @signed_in("portal")
    def portal_payment_return(self, request, session, payment_id):
        """A payment's receipt; also where a payer comes back to from their
        bank's 3-D Secure page, which first asks Stripe how it ended."""
        actor = actor_of(session, request)
        payment = self._own_payment(request, session, payment_id)
        if payment is None:
            return self._portal_not_found(request, session, "payment.read",
                                          "That payment was not found.")
        # back from the bank (Stripe's redirect says so), or still unsettled
        just_paid = "redirect_status" in request.args
        # asking Stripe how it ended settles the payment: the payer's, never a contact's
        if payment["status"] in ("requires_action", "pending") and session.get("scope", "full") == "full":
            just_paid = True
            payment = {**payment, **self.payments.complete_payment_action(payment_id, actor)}
        if just_paid and payment["status"] not in RECEIPT_STATUSES:
            return self._portal_result(session, payment)
        return web.page("portal/receipt.html", session=session,
                        organization=self._organization(), payment=payment,
                        refunded=refunded(payment), just_paid=just_paid)

    @http("GET", "/portal/billing/payments/<payment_id>/receipt.pdf")
    @signed_in("portal")
    def portal_receipt_pdf(self, request, session, payment_id):
        payment = self._own_payment(request, session, payment_id)
        if payment is None or payment["status"] not in RECEIPT_STATUSES:
            return self._portal_not_found(request, session, "payment.read",
                                          "That payment was not found.", audit=payment is None)
        self.clients.record_access(actor_of(session, request), "payment.read",
                                   session["acting_for"])
        html = web.templates.get_template("portal/receipt_pdf.html").render(
            organization=self._organization(), payment=payment, refunded=refunded(payment),
            part2_notice=session.get("part2_notice"),
            client=next((c for c in session["clients"] if c["id"] == session["acting_for"]),
                        None))
        filename = SAFE_NAME.sub("-", f"receipt-{payment['created_at'][:10]}.pdf")
        return Response(pdf_engine.render(html), mimetype="application/pdf",
                        headers={**web.SECURITY_HEADERS, "Cache-Control": "no-store",
                                 "Content-Disposition": f'attachment; filename="{filename}"'})

    # ---- Payment Plans -------------------------------------------------------------
    @http("GET", "/portal/billing/plans")
    @signed_in("portal")
    def portal_plans(self, request, session):
        return web.page("portal/plans.html", session=session,
                        organization=self._organization(),
                        plans=self.invoicing.list_plans(session["acting_for"]))

    # ---- helpers -------------------------------------------------------------------
    def _own_payment(self, request, session, payment_id) -> dict | None:
        """The payment when it is the session's client's, else None."""
        try:
            return self.payments.get_payment(payment_id, actor_of(session, request))
        except RemoteError as error:
            if error.exc_type == "NotFound":
                return None
            raise

    def _portal_refused(self, request, session, error: RemoteError, action: str, message: str):
        """A NotFound from the owner (another client's id, or none such) as
        the portal's audited 404; any other error goes on up."""
        if error.exc_type != "NotFound":
            raise error
        return self._portal_not_found(request, session, action, message)

    def _portal_not_found(self, request, session, action: str, message: str, audit=True):
        """404 for an id that is not this client's, with the refusal audited."""
        if audit:
            self.clients.record_access(actor_of(session, request), action,
                                       session["acting_for"], outcome="denied")
        return web.error_page(404, message, session=session, area="portal")
