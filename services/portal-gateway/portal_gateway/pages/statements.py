"""Billing documents (b8-statements): invoice, statement and superbill PDFs
for staff and in the portal, the portal's Statements page, and staff issuing
a statement. A PDF comes from invoicing (base64 over RPC) and leaves as an
attachment named by number or dates only (no PHI), never cached by the
browser; every download is audited like any other read of the record (the
clients service records it: `record_access`). A portal download names the
signed-in session's client, and invoicing refuses anything of another's."""
from __future__ import annotations

import base64
import re

from nameko.exceptions import RemoteError
from werkzeug.wrappers import Response

from servicekit.errors import InvalidFields, InvalidInput

from portal_gateway import web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.web import http

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def pdf_response(reply: dict) -> Response:
    filename = SAFE_NAME.sub("-", reply.get("filename") or "document.pdf")
    return Response(base64.b64decode(reply["pdf_base64"]), mimetype="application/pdf",
                    headers={**web.SECURITY_HEADERS, "Cache-Control": "no-store",
                             "Content-Disposition": f'attachment; filename="{filename}"'})


def field_errors(error) -> dict | None:
    """{field: words} of a refusal a person can fix, else None."""
    if isinstance(error, InvalidFields):
        return dict(error.errors)
    if isinstance(error, InvalidInput):
        return {"form": str(error)}
    if isinstance(error, RemoteError) and error.exc_type in ("InvalidInput", "InvalidFields"):
        return {"form": error.value}
    return None


class StatementPages:

    def _audited_pdf(self, request, session, reply: dict, action: str, client_id=None):
        """The PDF as it leaves, once its read is in the audit log."""
        self.clients.record_access(actor_of(session, request), action,
                                   client_id or reply["client_id"])
        return pdf_response(reply)

    # ---- staff ------------------------------------------------------------------------
    @http("GET", "/staff/invoices/<invoice_id>/pdf")
    @signed_in("staff", "billing.read")
    def staff_invoice_pdf(self, request, session, invoice_id):
        return self._audited_pdf(request, session, self.invoicing.invoice_pdf(invoice_id),
                                 "invoice.read")

    @http("GET", "/staff/clients/<client_id>/statements/<statement_id>/pdf")
    @signed_in("staff", "billing.read")
    def staff_statement_pdf(self, request, session, client_id, statement_id):
        return self._audited_pdf(request, session,
                                 self.invoicing.statement_pdf(statement_id, client_id),
                                 "financial.read", client_id)

    @http("POST", "/staff/clients/<client_id>/statements")
    @signed_in("staff", "billing.write")
    def staff_issue_statement(self, request, session, client_id):
        form = {name: request.form.get(name, "")
                for name in ("period_start", "period_end", "request_key")}
        try:   # the form's key: a double click or a retry issues one statement
            self.invoicing.issue_statement(client_id, form["period_start"], form["period_end"],
                                           session["subject_id"], form["request_key"])
        except (InvalidInput, RemoteError) as error:
            errors = field_errors(error)
            if errors is None:
                raise
            return self._financial_again(request, session, client_id, statement_errors=errors,
                                         statement_form=form)
        self.clients.record_access(actor_of(session, request), "statement.issue", client_id)
        return web.redirect(f"/staff/clients/{client_id}/financial?notice=statement-issued#statements")

    @http("GET", "/staff/clients/<client_id>/superbill")
    @signed_in("staff", "billing.read")
    def staff_superbill(self, request, session, client_id):
        form = {name: request.args.get(name, "") for name in ("start", "end")}
        try:
            reply = self.invoicing.superbill(client_id, form["start"], form["end"])
        except (InvalidInput, RemoteError) as error:
            errors = field_errors(error)
            if errors is None:
                raise
            return self._financial_again(request, session, client_id, superbill_errors=errors,
                                         superbill_form=form)
        return self._audited_pdf(request, session, reply, "financial.read", client_id)

    def _financial_again(self, request, session, client_id, **problems):
        """The Financial tab again, with the form's errors next to its fields."""
        return self._financial_page(request, session, client_id, status=400, notice="",
                                    **problems)

    # ---- portal -----------------------------------------------------------------------
    @http("GET", "/portal/billing/statements")
    @signed_in("portal")
    def portal_statements(self, request, session):
        return self._statements_page(session)

    @http("GET", "/portal/billing/statements/<statement_id>/pdf")
    @signed_in("portal")
    def portal_statement_pdf(self, request, session, statement_id):
        client_id = session["acting_for"]
        try:
            reply = self.invoicing.statement_pdf(statement_id, client_id)
        except RemoteError as error:      # another client's: 404, audited (issue 9)
            return self._portal_refused(request, session, error, "financial.read",
                                        "That statement was not found.")
        return self._audited_pdf(request, session, reply, "financial.read", client_id)

    @http("GET", "/portal/billing/invoices/<invoice_id>/pdf")
    @signed_in("portal")
    def portal_invoice_pdf(self, request, session, invoice_id):
        client_id = session["acting_for"]
        try:
            reply = self.invoicing.invoice_pdf(invoice_id, client_id)
        except RemoteError as error:      # another client's or a draft: 404, audited (issue 9)
            return self._portal_refused(request, session, error, "invoice.read",
                                        "That invoice was not found.")
        return self._audited_pdf(request, session, reply, "invoice.read", client_id)

    @http("GET", "/portal/billing/superbill")
    @signed_in("portal")
    def portal_superbill(self, request, session):
        client_id = session["acting_for"]
        form = {name: request.args.get(name, "") for name in ("start", "end")}
        try:
            reply = self.invoicing.superbill(client_id, form["start"], form["end"])
        except (InvalidInput, RemoteError) as error:
            errors = field_errors(error)
            if errors is None:
                raise
            return self._statements_page(session, form, errors, status=400)
        return self._audited_pdf(request, session, reply, "financial.read", client_id)

    def _statements_page(self, session, form=None, errors=None, status=200):
        return web.page("portal/statements.html", status=status, session=session,
                        statements=self.invoicing.list_statements(session["acting_for"]),
                        organization=self._organization(), form=form or {},
                        errors=errors or {})
