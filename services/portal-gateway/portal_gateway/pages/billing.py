"""Staff billing pages: a client's Financial tab and their invoices."""
from __future__ import annotations

import secrets

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit.errors import InvalidFields

from portal_gateway import forms, web
from portal_gateway.access import actor_of, signed_in

# invoicing.domain.PAYMENT_TYPE_LABELS, in the order a front desk thinks of them
PAYMENT_TYPES = [("private_pay", "Self-pay"), ("sliding_scale", "Sliding scale"),
                 ("copay", "Insurance copay"), ("coinsurance", "Insurance coinsurance"),
                 ("deductible", "Insurance deductible"), ("payment_plan", "Payment plan")]


EDITABLE = ("draft", "open", "sent")   # invoicing.domain.EDITABLE, with nothing paid
PAID_LINES = ("This invoice has a payment applied, so its lines cannot be changed. "
              "Use “Add an adjustment” on the invoice instead.")


class BillingPages:

    @http("GET", "/staff/clients/<client_id>/financial")
    @signed_in("staff", "billing.read")
    def financial_tab(self, request, session, client_id):
        return self._financial_page(request, session, client_id,
                                    notice=request.args.get("notice", ""))

    def _financial_page(self, request, session, client_id, status=200, **extra):
        """The Financial tab: three owners, asked at once; the clients service
        audits the read. `extra`: a notice, or a form's errors to show again.
        Every rendering carries a fresh key for the statement form (one that
        comes back with errors keeps its own)."""
        extra.setdefault("statement_key", secrets.token_urlsafe(18))
        client = self.clients.get_client.call_async(client_id, actor_of(session, request),
                                                    "financial.read")
        summary = self.invoicing.financial_summary.call_async(client_id)
        overview = self.payments.client_billing_overview.call_async(client_id).result()
        return web.page("staff/financial.html", status=status, session=session,
                        client=client.result(), summary=summary.result(),
                        payments=overview["payments"], methods=overview["methods"], **extra)

    # ---- the invoice form (core area) ----------------------------------------------
    @http("GET", "/staff/clients/<client_id>/invoices/new")
    @signed_in("staff", "billing.write")
    def new_invoice(self, request, session, client_id):
        return self._invoice_form(session, self.clients.get_client(client_id, actor_of(session, request)), form={})

    @http("POST", "/staff/clients/<client_id>/invoices")
    @signed_in("staff", "billing.write")
    def create_invoice(self, request, session, client_id):
        if _changes_rows(request.form):
            client = self.clients.get_client(client_id, actor_of(session, request))
            return self._invoice_form(session, client, _rows_changed(request.form))
        payload, errors = forms.invoice_payload(request.form, client_id)
        invoice, errors = _saved(lambda check_only: self.invoicing.create_invoice(
            payload, session["subject_id"], check_only=check_only), errors)
        if errors:
            client = self.clients.get_client(client_id, actor_of(session, request))
            return self._invoice_form(session, client, dict(request.form.items()), errors=errors,
                                      status=400)
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
        if invoice["amount_paid"] or invoice["status"] not in EDITABLE:
            return web.error_page(409, PAID_LINES if invoice["amount_paid"] else
                                  "This invoice can no longer be edited.", session=session,
                                  area="staff")
        client = self.clients.get_client(invoice["client_id"], actor_of(session, request))
        return self._invoice_form(session, client, form=forms.form_from_invoice(invoice),
                                  invoice=invoice)

    @http("POST", "/staff/invoices/<invoice_id>")
    @signed_in("staff", "billing.write")
    def update_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        payload, errors = forms.invoice_payload(request.form, invoice["client_id"])
        if not _changes_rows(request.form):
            _, errors = _saved(lambda check_only: self.invoicing.update_invoice(
                invoice_id, payload, session["subject_id"], check_only=check_only), errors)
        if errors or _changes_rows(request.form):
            client = self.clients.get_client(invoice["client_id"], actor_of(session, request))
            form = _rows_changed(request.form) if _changes_rows(request.form) \
                else dict(request.form.items())
            return self._invoice_form(session, client, form, invoice, errors=errors,
                                      status=400 if errors else 200)
        self.clients.record_access(actor_of(session, request), "invoice.update", invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=saved")

    @http("POST", "/staff/invoices/<invoice_id>/finalize")
    @signed_in("staff", "billing.write")
    def finalize_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.finalize_invoice(invoice_id, session["subject_id"])
        self.clients.record_access(actor_of(session, request), "invoice.finalize", invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=finalized")

    @http("POST", "/staff/invoices/<invoice_id>/send")
    @signed_in("staff", "billing.write")
    def send_invoice(self, request, session, invoice_id):
        """Email needs an address: with none, say so and record nothing
        (the client is read only for email; posting to the portal needs no
        address)."""
        channel = request.form.get("channel", "email")
        channel = channel if channel in ("email", "portal") else "email"
        if channel == "email":
            invoice = self.invoicing.get_invoice(invoice_id)
            client = self.clients.get_client(invoice["client_id"], actor_of(session, request),
                                             "invoice.read")
            if not (client.get("email") or "").strip():
                return web.redirect(f"/staff/invoices/{invoice_id}?notice=no-email")
        invoice = self.invoicing.send_invoice(invoice_id, channel, session["subject_id"])
        self.clients.record_access(actor_of(session, request), f"invoice.send_{channel}",
                                   invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=sent-{channel}")

    @http("GET", "/staff/invoices/<invoice_id>/void")
    @signed_in("staff", "billing.write")
    def confirm_void(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        client = self.clients.get_client(invoice["client_id"], actor_of(session, request))
        return web.page("staff/invoice_void.html", session=session, invoice=invoice, client=client,
                        form={}, errors={})

    @http("POST", "/staff/invoices/<invoice_id>/void")
    @signed_in("staff", "billing.write")
    def void_invoice(self, request, session, invoice_id):
        try:
            invoice = self.invoicing.void_invoice(invoice_id, session["subject_id"],
                                                  request.form.get("reason", ""))
        except (InvalidFields, RemoteError) as refused:
            errors = _errors_of(refused)
            invoice = self.invoicing.get_invoice(invoice_id)
            client = self.clients.get_client(invoice["client_id"], actor_of(session, request))
            return web.page("staff/invoice_void.html", status=400, session=session,
                            invoice=invoice, client=client, form=dict(request.form.items()),
                            errors=errors)
        self.clients.record_access(actor_of(session, request), "invoice.void", invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=voided")

    def _invoice_form(self, session, client, form, invoice=None, errors=None, status=200):
        rows = forms.line_rows(form) or [1]
        if form.get("_add_row"):
            rows.append(max(rows) + 1)
        return web.page("staff/invoice_form.html", status=status, session=session, client=client,
                        form=form, invoice=invoice, errors=errors or {}, rows=rows,
                        services=self._catalog(), providers=self._providers(),
                        locations=self._organization()["locations"],
                        payment_types=PAYMENT_TYPES)


def _changes_rows(form) -> bool:
    """The form asked (without JavaScript) for another line or to remove one."""
    return bool(form.get("add_line") or form.get("remove_line"))


def _rows_changed(form) -> dict:
    """The submitted form with a line removed (renumbered) or one more asked for."""
    kept = {key: value for key, value in form.items()
            if not forms.LINE_FIELD.match(key) and key not in ("add_line", "remove_line")}
    rows = forms.line_rows(form)
    removed = form.get("remove_line", "")
    rows = [row for row in rows if str(row) != removed]
    for new, old in enumerate(rows, start=1):
        for part in forms.LINE_PARTS:
            if form.get(f"line{old}_{part}") is not None:
                kept[f"line{new}_{part}"] = form.get(f"line{old}_{part}")
    if not rows:
        kept["line1_units"] = "1"
    if form.get("add_line"):
        kept["_add_row"] = "1"
    return kept


def _errors_of(refused) -> dict:
    """{field: words} from invoicing's refusal (InvalidFields crosses as
    itself; any other expected refusal is said at the top of the form)."""
    if isinstance(refused, InvalidFields):
        return dict(refused.errors)
    if isinstance(refused, RemoteError) and refused.exc_type in ("InvalidInput", "NotFound",
                                                                  "Conflict"):
        return {"form": refused.value}
    raise refused


def _saved(save, errors: dict):
    """Save (or, when the page already found problems, only check) and
    gather every problem: the page's own win for the fields they name."""
    try:
        return save(bool(errors)), errors
    except (InvalidFields, RemoteError) as refused:
        return None, {**_errors_of(refused), **errors}
