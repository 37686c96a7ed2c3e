"""Staff estimate pages: New estimate (from the Financial tab), an estimate
with its delivery deadline (due / late), sending it to the portal or by
email, the patient's signed decision, Create invoice once approved, and
billed-versus-estimate for its provider. Also the variance warning the
invoice form can show (`_estimate_variance` + `staff/_estimate_variance.html`)."""
from __future__ import annotations


from portal_gateway.web import http

from servicekit.errors import InvalidFields, InvalidInput

from portal_gateway import estimate_forms, forms, web
from portal_gateway.access import actor_of, signed_in


class StaffEstimatePages:

    @http("GET", "/staff/clients/<client_id>/estimates/new")
    @signed_in("staff", "billing.write")
    def new_estimate(self, request, session, client_id):
        return self._estimate_form(session, request, client_id, estimate_forms.blank_form())

    @http("POST", "/staff/clients/<client_id>/estimates")
    @signed_in("staff", "billing.write")
    def create_estimate(self, request, session, client_id):
        try:
            estimate = self.invoicing.create_estimate(
                estimate_forms.estimate_payload(request.form, client_id), session["subject_id"])
        except InvalidFields as refused:
            return self._estimate_form(session, request, client_id, dict(request.form.items()),
                                       refused.errors, status=400)
        self.clients.record_access(actor_of(session, request), "estimate.create", client_id)
        return web.redirect(f"/staff/estimates/{estimate['id']}?notice=created")

    @http("GET", "/staff/estimates/<estimate_id>")
    @signed_in("staff", "billing.read")
    def show_estimate(self, request, session, estimate_id):
        estimate = self.invoicing.get_estimate(estimate_id, with_variance=True)
        client = self.clients.get_client(estimate["client_id"], actor_of(session, request),
                                         "estimate.read")
        return web.page("staff/estimate.html", session=session, estimate=estimate, client=client,
                        location=self._location(estimate["location_id"]),
                        notice=request.args.get("notice", ""))

    @http("POST", "/staff/estimates/<estimate_id>/send")
    @signed_in("staff", "billing.write")
    def send_estimate(self, request, session, estimate_id):
        choice = request.form.get("channel", "")
        estimate = self.invoicing.issue_estimate(estimate_id, estimate_forms.channels(choice) or [],
                                                 session["subject_id"])
        self.clients.record_access(actor_of(session, request), "estimate.send",
                                   estimate["client_id"])
        return web.redirect(f"/staff/estimates/{estimate_id}?notice=sent-{choice}")

    @http("POST", "/staff/estimates/<estimate_id>/invoice")
    @signed_in("staff", "billing.write")
    def invoice_estimate(self, request, session, estimate_id):
        invoice = self.invoicing.invoice_from_estimate(estimate_id, session["subject_id"])
        self.clients.record_access(actor_of(session, request), "invoice.create",
                                   invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice['id']}?notice=saved")

    @http("GET", "/staff/estimates/<estimate_id>/pdf")
    @signed_in("staff", "billing.read")
    def estimate_pdf(self, request, session, estimate_id):
        return self._audited_pdf(request, session, self.invoicing.estimate_pdf(estimate_id),
                                 "estimate.pdf")

    @http("GET", "/staff/clients/<client_id>/estimate-variance")
    @signed_in("staff", "billing.read")
    def estimate_variance_partial(self, request, session, client_id):
        """The invoice form's warning on its own (a script may fetch it as the
        total changes): `provider_id`, `proposed` in dollars."""
        variance = self._estimate_variance(client_id, request.args.get("provider_id", ""),
                                           request.args.get("proposed", ""))
        return web.page("staff/_estimate_variance.html", variance=variance)

    # ---- helpers --------------------------------------------------------------------
    def _estimate_variance(self, client_id, provider_id, proposed="") -> dict | None:
        """Billed versus the client's Good Faith Estimate for this provider, if
        any; `warning` is set when `proposed` (dollars or cents) would reach
        $400 over. None without a provider."""
        if not provider_id:
            return None
        if isinstance(proposed, int):
            cents = proposed
        else:
            try:
                cents = forms.cents(proposed or "0", "the total")
            except InvalidInput:
                cents = 0
        variance = self.invoicing.estimate_variance(client_id, provider_id, cents)
        return variance if variance["estimate_id"] else None

    def _estimate_form(self, session, request, client_id, form, errors=None, status=200):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        providers = self.invoicing.list_estimate_providers.call_async()
        return web.page("staff/estimate_form.html", status=status, session=session,
                        client=client.result(), providers=providers.result(), form=form,
                        errors=errors or {}, rows=range(1, estimate_forms.ESTIMATE_ROWS + 1),
                        services=self._catalog(), locations=self._organization()["locations"],
                        kinds=estimate_forms.KINDS)

