"""The portal's Billing area: outstanding invoices and a Make a Payment page
(several invoices at once, a card or bank account on file or a new one,
kept on file if the patient likes), payment history with pending bank
payments, and the cards and bank accounts on file. Everything happens inside
the signed-in session; no payment link is minted from it."""
from __future__ import annotations

import secrets

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from portal_gateway import forms, web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.pages.portal_billing_areas import history, next_installment, visible_invoices

RECENT_PAYMENTS = 5      # the summary's; all of them are under Payments


class PortalBillingPages:

    @http("GET", "/portal/billing")
    @signed_in("portal")
    def portal_billing(self, request, session):
        client_id = session["acting_for"]
        summary = self.invoicing.financial_summary.call_async(client_id)
        payments = self.payments.list_payments.call_async(client_id)
        summary = summary.result()
        invoices = visible_invoices(summary)
        plans = summary.get("plans", [])
        return web.page("portal/billing.html", session=session,
                        organization=self._organization(), plans=plans,
                        summary=summary, next_installment=next_installment(plans),
                        outstanding=[i for i in invoices if i["balance"] > 0],
                        payments=history(payments.result())[:RECENT_PAYMENTS],
                        notice=request.args.get("notice", ""))

    @http("GET", "/portal/billing/pay")
    @signed_in("portal")
    def portal_pay_page(self, request, session):
        chosen = request.args.getlist("invoice")
        return self._pay_form(session, {"invoices": chosen})

    @http("POST", "/portal/billing/pay")
    @signed_in("portal")
    def portal_pay(self, request, session):
        form = forms.payment_form(request.form)
        try:
            payload = forms.portal_payment_payload(form)
        except forms.FormErrors as problems:
            return self._pay_form(session, form, problems.errors, status=400)
        payload.update(user_agent=request.headers.get("User-Agent", "")[:300],
                       return_url_prefix=web.public_url(self.settings, "/portal/billing/payments/"))
        try:
            payment = self.payments.pay_in_portal(actor_of(session, request),
                                                  session["acting_for"], payload)
        except RemoteError as error:
            known = web.expected_error(error)
            if not known:
                raise
            return self._pay_form(session, form, {"form": known[1]}, status=known[0])
        return self._portal_result(session, payment)

    # /portal/billing/payments/<id> (the receipt, and the return from 3-D Secure):
    # pages/portal_billing_areas.py

    # ---- methods on file ------------------------------------------------------------
    @http("GET", "/portal/billing/methods")
    @signed_in("portal")
    def portal_methods(self, request, session):
        return self._methods_page(session, notice=request.args.get("notice", ""))

    @http("POST", "/portal/billing/methods")
    @signed_in("portal")
    def portal_add_method(self, request, session):
        try:
            payload = forms.new_method_payload(request.form)
        except forms.FormErrors as problems:
            return self._methods_page(session, errors=problems.errors, status=400)
        payload.update(user_agent=request.headers.get("User-Agent", "")[:300],
                       return_url_prefix=web.public_url(self.settings, "/portal/billing/methods/setup/"))
        try:
            attempt = self.payments.save_method(actor_of(session, request), session["acting_for"],
                                                payload)
        except RemoteError as error:
            known = web.expected_error(error)
            if not known:
                raise
            return self._methods_page(session, errors={"form": known[1]}, status=known[0])
        return self._portal_after_setup(session, attempt)

    @http("GET", "/portal/billing/methods/setup/<attempt_id>")
    @signed_in("portal")
    def portal_method_return(self, request, session, attempt_id):
        attempt = self.payments.complete_method_setup(actor_of(session, request),
                                                      session["acting_for"], attempt_id)
        return self._portal_after_setup(session, attempt)

    @http("POST", "/portal/billing/methods/<method_id>/<action>")
    @signed_in("portal")
    def portal_change_method(self, request, session, method_id, action):
        actor = actor_of(session, request)
        if action == "default":
            self.payments.set_default_method(actor, session["acting_for"], method_id)
        elif action == "remove":
            self.payments.remove_saved_method(actor, session["acting_for"], method_id)
        else:
            return web.error_page(404, "That page was not found.", session=session, area="portal")
        return web.redirect(f"/portal/billing/methods?notice={action}")

    # ---- helpers --------------------------------------------------------------------
    def _pay_form(self, session, form, errors=None, status=200):
        client_id = session["acting_for"]
        payable = self.invoicing.list_payable_invoices.call_async(client_id, "portal")
        context = self.payments.payment_form_context(client_id)
        invoices = payable.result()
        # every invoice ticked on a first visit; a submitted form keeps its own choice
        chosen = set(form.get("invoices") or
                     ([] if "request_key" in form else [i["id"] for i in invoices]))
        return web.page("portal/pay.html", status=status, session=session, invoices=invoices,
                        chosen=chosen, form=form, errors=errors or {}, methods=context["methods"],
                        terms=context["terms"], request_key=secrets.token_urlsafe(18),
                        organization=self._organization(), stripe=self.stripe_js)

    def _portal_result(self, session, payment):
        if payment["status"] == "requires_action" and payment.get("next_action_url"):
            return web.redirect(payment["next_action_url"])
        status = 402 if payment["status"] == "failed" else 200
        return web.page("portal/payment_done.html", status=status, session=session,
                        payment=payment, organization=self._organization())

    def _methods_page(self, session, status=200, errors=None, notice=""):
        client_id = session["acting_for"]
        context = self.payments.payment_form_context(client_id)
        return web.page("portal/methods.html", status=status, session=session,
                        methods=context["methods"], terms=context["terms"], errors=errors or {},
                        notice=notice, request_key=secrets.token_urlsafe(18),
                        organization=self._organization(), stripe=self.stripe_js)

    def _portal_after_setup(self, session, attempt):
        if attempt["status"] == "requires_action" and attempt.get("next_action_url"):
            return web.redirect(attempt["next_action_url"])
        if attempt["status"] != "succeeded":
            return self._methods_page(session, status=402, errors={
                "form": attempt.get("failure_message") or "The card or account was not saved."})
        return web.redirect("/portal/billing/methods?notice=saved")
