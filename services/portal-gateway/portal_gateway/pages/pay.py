"""One-time payment pages (no sign-in) and Stripe's webhook intake.

Before the payer proves who they are (the patient's date of birth), a link
shows only the clinic, the invoice number and the balance; the services
appear after. Card and bank details are typed into Stripe's form; this page
posts only the PaymentMethod id it returns."""
from __future__ import annotations

import json
import logging

from nameko.exceptions import RemoteError
from portal_gateway.web import http


from servicekit.errors import InvalidInput

from portal_gateway import forms, web
from portal_gateway.access import anonymous_form, client_ip

log = logging.getLogger(__name__)
VIEW_COOKIE = "cairn_pay_view"


class PayPages:

    @http("GET", "/pay/<token>")
    @anonymous_form
    def pay_page(self, request, token, form_token):
        return self._pay_view(request, token, form_token)

    @http("POST", "/pay/<token>/identity")
    @anonymous_form
    def pay_identity(self, request, token, form_token):
        try:
            grant = self.payments.verify_payment_link(token, request.form.get("date_of_birth", ""),
                                                      client_ip(request))["grant"]
        except RemoteError as error:
            known = web.expected_error(error)
            if not known or error.exc_type in ("NotFound", "Gone"):
                return self._pay_view(request, token, form_token)
            return self._pay_view(request, token, form_token, status=known[0],
                                  errors={"date_of_birth": known[1]})
        response = web.redirect(f"/pay/{token}")
        response.set_cookie(VIEW_COOKIE, grant, max_age=1800, httponly=True, samesite="Strict",
                            secure=web.public_url(self.settings).startswith("https"),
                            path="/pay/")
        return response

    @http("POST", "/pay/<token>")
    @anonymous_form
    def pay(self, request, token, form_token):
        try:
            amount = forms.optional_cents_field(request.form.get("amount"))
        except InvalidInput as bad:
            return self._pay_view(request, token, form_token, status=400, error=str(bad))
        try:
            payment = self.payments.pay_with_link(
                token, request.form.get("payment_method", ""), client_ip(request),
                request.headers.get("User-Agent", "")[:300], amount,
                web.public_url(self.settings, "/pay/return/"))
        except RemoteError as error:
            known = web.expected_error(error)
            if not known or error.exc_type in ("NotFound", "Gone"):
                return self._pay_view(request, token, form_token)
            return self._pay_view(request, token, form_token, status=known[0], error=known[1])
        return self._pay_link_result(payment, self._organization())

    @http("GET", "/pay/return/<payment_id>")
    def pay_return(self, request, payment_id):
        """Back from the bank's 3-D Secure page; Stripe adds the intent id,
        which must match the payment's."""
        try:
            payment = self.payments.complete_payment_action(
                payment_id, None, request.args.get("payment_intent", ""))
        except RemoteError as error:
            known = web.expected_error(error)
            return web.page("pay/unavailable.html", status=known[0] if known else 500,
                            message=known[1] if known else "Something went wrong on our side.")
        return self._pay_link_result(payment, self._organization())

    @http("POST", "/webhooks/stripe")
    def stripe_webhook(self, request):
        raw = request.get_data(as_text=True)
        try:
            result = self.payments.handle_stripe_webhook(raw, request.headers.get("Stripe-Signature"))
        except RemoteError as error:
            if error.exc_type == "InvalidInput":
                return web.json_response(json.dumps({"error": error.value}), status=400)
            log.error("webhook processing failed (%s); Stripe will retry", error.exc_type)
            return web.json_response(json.dumps({"error": "processing failed"}), status=500)
        except Exception as error:   # noqa: BLE001 — a timeout: Stripe must retry
            log.error("webhook processing failed (%s); Stripe will retry", type(error).__name__)
            return web.json_response(json.dumps({"error": "processing failed"}), status=503)
        return web.json_response(json.dumps(result))

    # ---- helpers ----------------------------------------------------------------
    def _pay_view(self, request, token, form_token, status=200, error=None, errors=None):
        try:
            link = self.payments.open_payment_link(token, request.cookies.get(VIEW_COOKIE))
        except RemoteError as failure:
            known = web.expected_error(failure)
            if not known:
                return web.unexpected(failure)
            return web.page("pay/unavailable.html", status=known[0], message=known[1])
        invoice = self.invoicing.get_invoice(link["invoice_id"])
        return web.page("pay/invoice.html", status=status, token=token, link=link,
                        invoice=invoice, error=error, errors=errors or {}, csrf=form_token,
                        organization=self._organization(), terms=self._payment_terms(),
                        location=self._location(invoice["location_id"]),
                        stripe=self.stripe_js)

    def _pay_link_result(self, payment, organization):
        if payment["status"] == "requires_action" and payment.get("next_action_url"):
            return web.redirect(payment["next_action_url"])
        status = 402 if payment["status"] == "failed" else 200
        return web.page("pay/done.html", status=status, payment=payment, organization=organization)
