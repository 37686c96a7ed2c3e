"""Staff payment pages: Collect Payment on the Financial tab (one invoice or
several, in full or in part; card or bank account, new or on file; check,
cash, outside terminal; credit only when chosen), a payment's page with its
refunds (biller or administrator), cards and bank accounts on file, and
unlocking a payment link locked after declined cards."""
from __future__ import annotations

import secrets

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from portal_gateway import forms, web
from portal_gateway.access import actor_of, signed_in


class StaffPaymentPages:

    @http("GET", "/staff/clients/<client_id>/collect")
    @signed_in("staff", "billing.write")
    def collect_page(self, request, session, client_id):
        chosen = request.args.getlist("invoice")
        form = {"invoices": chosen} if chosen else {}
        if request.args.get("method") in ("check", "cash"):    # "Record check or cash"
            form["method"] = request.args["method"]
        return self._collect_form(request, session, client_id, form)

    @http("POST", "/staff/clients/<client_id>/collect")
    @signed_in("staff", "billing.write")
    def collect(self, request, session, client_id):
        form = forms.payment_form(request.form)
        try:
            payload = forms.staff_payment_payload(form)
        except forms.FormErrors as problems:
            return self._collect_form(request, session, client_id, form, problems.errors, 400)
        payload.update(user_agent=request.headers.get("User-Agent", "")[:300],
                       return_url_prefix=web.public_url(self.settings, "/staff/payments/return/"))
        actor = actor_of(session, request)
        try:
            payment = self.payments.collect_payment(actor, client_id, payload)
        except RemoteError as error:
            known = web.expected_error(error)
            if not known:
                raise
            return self._collect_form(request, session, client_id, form, {"form": known[1]},
                                      known[0])
        self.clients.record_access(actor, "payment.collect", client_id)
        return self._staff_payment_result(payment)

    @http("GET", "/staff/payments/return/<payment_id>")
    @signed_in("staff", "billing.write")
    def staff_payment_return(self, request, session, payment_id):
        payment = self.payments.complete_payment_action(payment_id, actor_of(session, request))
        return self._staff_payment_result(payment)

    @http("GET", "/staff/payments/<payment_id>")
    @signed_in("staff", "billing.read")
    def payment_page(self, request, session, payment_id):
        return self._payment_view(request, session, payment_id, notice=request.args.get("notice", ""))

    @http("POST", "/staff/payments/<payment_id>/refund")
    @signed_in("staff", "payments.refund")
    def refund(self, request, session, payment_id):
        try:
            payload = forms.refund_payload(request.form)
        except forms.FormErrors as problems:
            return self._payment_view(request, session, payment_id, errors=problems.errors,
                                      form=dict(request.form.items()), status=400)
        actor = actor_of(session, request)
        try:
            self.payments.refund_payment(actor, payment_id, payload)
        except RemoteError as error:
            known = web.expected_error(error)
            if not known:
                raise
            return self._payment_view(request, session, payment_id, errors={"form": known[1]},
                                      form=dict(request.form.items()), status=known[0])
        payment = self.payments.get_payment(payment_id)
        self.clients.record_access(actor, "payment.refund", payment["client_id"])
        return web.redirect(f"/staff/payments/{payment_id}?notice=refunded")

    # ---- methods on file ----------------------------------------------------------------
    @http("GET", "/staff/clients/<client_id>/methods/new")
    @signed_in("staff", "billing.write")
    def new_method_page(self, request, session, client_id):
        return self._method_form(request, session, client_id)

    @http("POST", "/staff/clients/<client_id>/methods")
    @signed_in("staff", "billing.write")
    def add_method(self, request, session, client_id):
        try:
            payload = forms.new_method_payload(request.form)
        except forms.FormErrors as problems:
            return self._method_form(request, session, client_id, problems.errors, 400)
        payload.update(user_agent=request.headers.get("User-Agent", "")[:300],
                       return_url_prefix=web.public_url(self.settings, f"/staff/clients/{client_id}/methods/setup/"))
        actor = actor_of(session, request)
        try:
            attempt = self.payments.save_method(actor, client_id, payload)
        except RemoteError as error:
            known = web.expected_error(error)
            if not known:
                raise
            return self._method_form(request, session, client_id, {"form": known[1]}, known[0])
        self.clients.record_access(actor, "payment_method.add", client_id)
        return self._staff_after_setup(request, session, client_id, attempt)

    @http("GET", "/staff/clients/<client_id>/methods/setup/<attempt_id>")
    @signed_in("staff", "billing.write")
    def method_return(self, request, session, client_id, attempt_id):
        attempt = self.payments.complete_method_setup(actor_of(session, request), client_id,
                                                      attempt_id)
        return self._staff_after_setup(request, session, client_id, attempt)

    @http("POST", "/staff/clients/<client_id>/methods/<method_id>/<action>")
    @signed_in("staff", "billing.write")
    def change_method(self, request, session, client_id, method_id, action):
        actor = actor_of(session, request)
        if action == "default":
            self.payments.set_default_method(actor, client_id, method_id)
        elif action == "remove":
            self.payments.remove_saved_method(actor, client_id, method_id)
        else:
            return web.error_page(404, "That page was not found.", session=session, area="staff")
        self.clients.record_access(actor, f"payment_method.{action}", client_id)
        return web.redirect(f"/staff/clients/{client_id}/financial?notice=method-{action}")

    @http("POST", "/staff/invoices/<invoice_id>/unlock-link")
    @signed_in("staff", "billing.write")
    def unlock_link(self, request, session, invoice_id):
        actor = actor_of(session, request)
        self.payments.unlock_payment_link(invoice_id, actor)
        invoice = self.invoicing.get_invoice(invoice_id)
        self.clients.record_access(actor, "payment_link.unlock", invoice["client_id"])
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=unlocked")

    # ---- helpers ---------------------------------------------------------------------------
    def _collect_form(self, request, session, client_id, form, errors=None, status=200):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        payable = self.invoicing.list_payable_invoices.call_async(client_id, "staff")
        context = self.payments.payment_form_context(client_id)
        invoices = payable.result()
        chosen = set(form.get("invoices") or [i["id"] for i in invoices])
        return web.page("staff/collect.html", status=status, session=session,
                        client=client.result(), invoices=invoices, chosen=chosen, form=form,
                        errors=errors or {}, methods=context["methods"], terms=context["terms"],
                        request_key=secrets.token_urlsafe(18), stripe=self.stripe_js)

    def _staff_payment_result(self, payment):
        if payment["status"] == "requires_action" and payment.get("next_action_url"):
            return web.redirect(payment["next_action_url"])
        return web.redirect(f"/staff/payments/{payment['id']}?notice={payment['status']}")

    def _payment_view(self, request, session, payment_id, status=200, notice="", errors=None,
                      form=None):
        payment = self.payments.get_payment(payment_id)
        client = self.clients.get_client.call_async(payment["client_id"], actor_of(session, request),
                                                    "payment.read")
        invoices = self.invoicing.list_invoices(payment["client_id"])
        numbers = {i["id"]: i["number"] for i in invoices}
        client = client.result()
        return web.page("staff/payment.html", status=status, session=session, payment=payment,
                        client=client, numbers=numbers, notice=notice, errors=errors or {},
                        form=form or {}, reasons=forms.REFUND_REASONS,
                        request_key=secrets.token_urlsafe(18))

    def _method_form(self, request, session, client_id, errors=None, status=200):
        client = self.clients.get_client(client_id, actor_of(session, request))
        return web.page("staff/method_new.html", status=status, session=session, client=client,
                        errors=errors or {}, terms=self._payment_terms(),
                        request_key=secrets.token_urlsafe(18), stripe=self.stripe_js)

    def _staff_after_setup(self, request, session, client_id, attempt):
        if attempt["status"] == "requires_action" and attempt.get("next_action_url"):
            return web.redirect(attempt["next_action_url"])
        if attempt["status"] != "succeeded":
            return self._method_form(request, session, client_id, {
                "form": attempt.get("failure_message") or "The card or account was not saved."},
                402)
        return web.redirect(f"/staff/clients/{client_id}/financial?notice=method-saved")
