"""Staff billing pages: a client's Financial tab and their invoices."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit.errors import InvalidInput

from portal_gateway import forms, web
from portal_gateway.access import actor_of, signed_in

PAYMENT_TYPES = [("private_pay", "Private pay"), ("copay", "Copay"), ("coinsurance", "Coinsurance"),
                 ("deductible", "Deductible"), ("sliding_scale", "Sliding scale")]


class BillingPages:

    @http("GET", "/staff/clients/<client_id>/financial")
    @signed_in("staff", "billing.read")
    def financial_tab(self, request, session, client_id):
        # three owners, asked at once; the clients service audits the read
        client = self.clients.get_client.call_async(client_id, actor_of(session, request),
                                                    "financial.read")
        summary = self.invoicing.financial_summary.call_async(client_id)
        overview = self.payments.client_billing_overview.call_async(client_id)
        overview = overview.result()
        return web.page("staff/financial.html", session=session, client=client.result(),
                        summary=summary.result(), payments=overview["payments"],
                        methods=overview["methods"], notice=request.args.get("notice", ""))

    @http("GET", "/staff/clients/<client_id>/invoices/new")
    @signed_in("staff", "billing.write")
    def new_invoice(self, request, session, client_id):
        return self._invoice_form(session, self.clients.get_client(client_id, actor_of(session, request)), form={})

    @http("POST", "/staff/clients/<client_id>/invoices")
    @signed_in("staff", "billing.write")
    def create_invoice(self, request, session, client_id):
        try:
            payload = forms.invoice_payload(request.form, client_id)
            invoice = self.invoicing.create_invoice(payload, session["subject_id"])
        except (InvalidInput, RemoteError) as error:
            client = self.clients.get_client(client_id, actor_of(session, request))
            return self._form_error(error, session, client, request.form)
        self.clients.record_access(actor_of(session, request), "invoice.create", client_id)
        return web.redirect(f"/staff/invoices/{invoice['id']}")

    @http("GET", "/staff/invoices/<invoice_id>")
    @signed_in("staff", "billing.read")
    def show_invoice(self, request, session, invoice_id):
        overview = self.payments.invoice_billing_overview.call_async(invoice_id)
        invoice = self.invoicing.get_invoice(invoice_id)
        client = self.clients.get_client(invoice["client_id"], actor_of(session, request),
                                         "invoice.read")
        overview = overview.result()
        return web.page("staff/invoice.html", session=session, invoice=invoice, client=client,
                        location=self._location(invoice["location_id"]),
                        payments=overview["payments"], links=overview["links"],
                        notice=request.args.get("notice", ""))

    @http("GET", "/staff/invoices/<invoice_id>/edit")
    @signed_in("staff", "billing.write")
    def edit_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        client = self.clients.get_client(invoice["client_id"], actor_of(session, request))
        return self._invoice_form(session, client, form=forms.form_from_invoice(invoice),
                                  invoice=invoice)

    @http("POST", "/staff/invoices/<invoice_id>")
    @signed_in("staff", "billing.write")
    def update_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        try:
            payload = forms.invoice_payload(request.form, invoice["client_id"])
            self.invoicing.update_invoice(invoice_id, payload, session["subject_id"])
        except (InvalidInput, RemoteError) as error:
            client = self.clients.get_client(invoice["client_id"], actor_of(session, request))
            return self._form_error(error, session, client, request.form, invoice)
        self.clients.record_access(actor_of(session, request), "invoice.update", invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=saved")

    @http("POST", "/staff/invoices/<invoice_id>/send")
    @signed_in("staff", "billing.write")
    def send_invoice(self, request, session, invoice_id):
        channel = request.form.get("channel", "email")
        invoice = self.invoicing.send_invoice(invoice_id, channel, session["subject_id"])
        self.clients.record_access(actor_of(session, request), f"invoice.send_{channel}",
                                   invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=sent-{channel}")

    @http("POST", "/staff/invoices/<invoice_id>/void")
    @signed_in("staff", "billing.write")
    def void_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.void_invoice(invoice_id, session["subject_id"])
        self.clients.record_access(actor_of(session, request), "invoice.void", invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=voided")

    def _invoice_form(self, session, client, form, invoice=None, error=None, status=200):
        return web.page("staff/invoice_form.html", status=status, session=session, client=client,
                        form=form, invoice=invoice, error=error, rows=range(1, forms.LINE_ROWS + 1),
                        services=self._catalog(), locations=self._organization()["locations"],
                        payment_types=PAYMENT_TYPES)

    def _form_error(self, error, session, client, form, invoice=None):
        if isinstance(error, RemoteError):
            if error.exc_type != "InvalidInput":
                raise error
            message = error.value
        else:
            message = str(error)
        return self._invoice_form(session, client, dict(form.items()), invoice, message, 400)
