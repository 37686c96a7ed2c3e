"""One-time payment pages (no sign-in) and Stripe's webhook intake."""
from __future__ import annotations

import json
import logging

from nameko.exceptions import RemoteError
from nameko.web.handlers import http

from portal_gateway import web

log = logging.getLogger(__name__)
SANDBOX_CARDS = [("pm_card_visa", "Visa ending 4242 (test card that succeeds)"),
                 ("pm_card_chargeDeclined", "Card ending 0002 (test card that is declined)"),
                 ("pm_card_chargeDeclinedInsufficientFunds",
                  "Card ending 9995 (test card with insufficient funds)")]


class PayPages:

    @http("GET", "/pay/<token>")
    def pay_page(self, request, token):
        return self._pay_view(token)

    @http("POST", "/pay/<token>")
    def pay(self, request, token):
        try:
            payment = self.payments.pay_with_link(token, request.form.get("payment_method", ""))
        except RemoteError as error:
            known = web.expected_error(error)
            if not known or error.exc_type in ("NotFound", "Gone"):
                return self._pay_view(token)
            return self._pay_view(token, status=known[0], error=known[1])
        return web.page("pay/done.html", payment=payment,
                        organization=self.clients.get_organization())

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
        return web.json_response(json.dumps(result))

    def _pay_view(self, token, status=200, error=None):
        try:
            link = self.payments.open_payment_link(token)
        except RemoteError as failure:
            known = web.expected_error(failure)
            if not known:
                return web.unexpected(failure)
            return web.page("pay/unavailable.html", status=known[0], message=known[1])
        invoice = self.invoicing.get_invoice(link["invoice_id"])
        return web.page("pay/invoice.html", status=status, token=token, link=link,
                        invoice=invoice, error=error, cards=SANDBOX_CARDS,
                        organization=self.clients.get_organization(),
                        location=self.clients.get_location(invoice["location_id"]))
