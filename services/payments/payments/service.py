"""Payments service: one-time payment links, card payments through Stripe,
and Stripe webhook intake."""
from __future__ import annotations

import logging
import stripe
from nameko.rpc import RpcProxy, rpc

from servicekit.db import Database, iso, utcnow
from servicekit.errors import EXPECTED, InvalidInput, NotFound, PaymentDeclined
from servicekit.outbox import OutboxRelay

from payments import domain, schemas, usecases
from payments.models import Payment
from payments.settings import PayLinkSettings
from payments.stripe_gateway import Declined, StripeGateway

log = logging.getLogger(__name__)


class PaymentsService:
    name = "payments"
    db = Database()
    relay = OutboxRelay()
    stripe = StripeGateway()
    invoicing = RpcProxy("invoicing")
    links = PayLinkSettings()

    @rpc(expected_exceptions=EXPECTED)
    def issue_payment_link(self, invoice_id, client_id, request_key):
        link = usecases.issue_link(self.db, str(invoice_id), str(client_id), str(request_key),
                                   self.links.ttl)
        self.db.commit()
        token = domain.sign_link(link.id, self.links.secret)
        return {"token": token, "path": f"/pay/{token}", "expires_at": iso(link.expires_at)}

    @rpc(expected_exceptions=EXPECTED)
    def open_payment_link(self, token):
        return schemas.link_out(usecases.open_link(self.db, token, self.links.secret))

    @rpc(expected_exceptions=EXPECTED)
    def pay_with_link(self, token, payment_method):
        payment_method = schemas.payment_method_input(payment_method)
        link = usecases.open_link(self.db, token, self.links.secret, lock=True)
        invoice = self.invoicing.get_invoice(link.invoice_id)
        payment = usecases.start_payment(self.db, link, invoice, payment_method)
        self.db.commit()
        return self._charge(payment)

    @rpc(expected_exceptions=EXPECTED)
    def get_payment(self, payment_id):
        payment = self.db.get(Payment, payment_id)
        if payment is None:
            raise NotFound(f"payment {payment_id} not found")
        return schemas.payment_out(payment)

    @rpc(expected_exceptions=EXPECTED)
    def handle_stripe_webhook(self, raw_body, signature):
        try:
            event = self.stripe.verify_webhook(raw_body, signature or "")
        except (stripe.SignatureVerificationError, ValueError):
            raise InvalidInput("webhook signature could not be verified") from None
        stored = usecases.store_webhook(self.db, event)
        if stored is None:
            self.db.commit()
            return {"received": event["id"], "duplicate": True}
        self._apply_webhook(event)
        stored.processed_at = utcnow()
        self.db.commit()
        return {"received": event["id"], "duplicate": False}

    def _charge(self, payment):
        metadata = {"cairn_payment_id": payment.id, "cairn_invoice_id": payment.invoice_id}
        try:
            result = self.stripe.charge(payment.amount, payment.currency, payment.payment_method,
                                        payment.idempotency_key, metadata)
        except Declined as declined:
            message = domain.decline_message(declined.decline_code)
            usecases.move(self.db, usecases.lock_payment(self.db, payment.id), "failed",
                          intent=declined.payment_intent, failure_code=declined.code,
                          failure_message=message)
            self.db.commit()
            raise PaymentDeclined(message) from None
        except stripe.StripeError as error:
            log.warning("payment %s: Stripe call failed (%s)", payment.id, type(error).__name__)
            raise PaymentDeclined("We could not confirm your payment with the card processor. "
                                  "Please do not pay again yet; we will email a receipt if it "
                                  "went through.") from None
        locked = usecases.lock_payment(self.db, payment.id)
        status = result.status if result.status in domain.RANK else "processing"
        usecases.move(self.db, locked, status, intent=result.payment_intent,
                      brand=result.card_brand, last4=result.card_last4)
        self.db.commit()
        return schemas.payment_out(locked)

    def _apply_webhook(self, event):
        kind = event["type"]
        if kind not in WEBHOOK_STATUS:
            return
        intent = event["data"]["object"]
        payment = usecases.payment_for_intent(self.db, intent)
        if payment is None:
            log.info("webhook %s: no Cairn payment for intent %s", event["id"], intent["id"])
            return
        status = WEBHOOK_STATUS[kind]
        if status == "succeeded":
            details = self.stripe.describe(self.stripe.retrieve_intent(intent["id"]))
            usecases.move(self.db, payment, status, intent=intent["id"],
                          brand=details.card_brand, last4=details.card_last4)
        elif status == "failed":
            error = intent.get("last_payment_error") or {}
            usecases.move(self.db, payment, status, intent=intent["id"],
                          failure_code=error.get("code") or "payment_failed",
                          failure_message=domain.decline_message(error.get("decline_code")))
        else:
            usecases.move(self.db, payment, status, intent=intent["id"])


WEBHOOK_STATUS = {"payment_intent.succeeded": "succeeded",
                  "payment_intent.payment_failed": "failed",
                  "payment_intent.processing": "processing",
                  "payment_intent.requires_action": "requires_action"}
