"""The only place that talks to Stripe: a dependency handing workers a small
interface over the official SDK. Every call that moves money carries our own
idempotency key; no PHI is sent (metadata holds only Cairn ids)."""
from __future__ import annotations

from dataclasses import dataclass

import stripe
from nameko.extensions import DependencyProvider

from servicekit import config


@dataclass(frozen=True)
class ChargeResult:
    payment_intent: str
    status: str
    card_brand: str | None = None
    card_last4: str | None = None


class Declined(Exception):
    def __init__(self, payment_intent: str | None, code: str, decline_code: str | None):
        super().__init__(code)
        self.payment_intent, self.code, self.decline_code = payment_intent, code, decline_code


class Stripe:
    def __init__(self, client: stripe.StripeClient, webhook_secret: str):
        self.client = client
        self.webhook_secret = webhook_secret

    def charge(self, amount: int, currency: str, payment_method: str, idempotency_key: str,
               metadata: dict) -> ChargeResult:
        try:
            intent = self.client.v1.payment_intents.create(
                params={"amount": amount, "currency": currency, "payment_method": payment_method,
                        "payment_method_types": ["card"], "confirm": True, "metadata": metadata},
                options={"idempotency_key": idempotency_key})
        except stripe.CardError as error:
            body = (error.json_body or {}).get("error", {})
            intent_id = (body.get("payment_intent") or {}).get("id")
            raise Declined(intent_id, error.code or "card_declined", body.get("decline_code")) from None
        return self.describe(intent)

    def describe(self, intent) -> ChargeResult:
        brand = last4 = None
        if intent.payment_method:
            method_id = intent.payment_method if isinstance(intent.payment_method, str) else intent.payment_method.id
            card = getattr(self.client.v1.payment_methods.retrieve(method_id), "card", None)
            brand, last4 = (card.brand, card.last4) if card else (None, None)
        return ChargeResult(intent.id, intent.status, brand, last4)

    def retrieve_intent(self, intent_id: str):
        return self.client.v1.payment_intents.retrieve(intent_id)

    def verify_webhook(self, raw_body: str, signature: str) -> dict:
        """The event as a dict, or stripe.SignatureVerificationError / ValueError."""
        return stripe.Webhook.construct_event(raw_body, signature, self.webhook_secret).to_dict()


class StripeGateway(DependencyProvider):
    def setup(self):
        settings = self.container.config
        api_key = config.setting(settings, "STRIPE_SECRET_KEY") or config.secret(
            "STRIPE_SECRET_KEY", "sk_test_cairn_sandbox")
        webhook_secret = config.setting(settings, "STRIPE_WEBHOOK_SECRET") or config.secret(
            "STRIPE_WEBHOOK_SECRET", "whsec_cairn_sandbox")
        # The local sandbox only ever gets test keys; a live key talks to Stripe.
        sandbox = None if config.is_production() or api_key.startswith("sk_live") \
            else "http://127.0.0.1:12111"
        api_base = config.setting(settings, "STRIPE_API_BASE", sandbox)
        if api_key.startswith("sk_live") and api_base and not api_base.startswith("https://"):
            raise config.ConfigError("a live Stripe key is only ever sent over https")
        addresses = {"api": api_base} if api_base else None
        client = stripe.StripeClient(api_key, base_addresses=addresses, max_network_retries=2)
        self.stripe = Stripe(client, webhook_secret)

    def get_dependency(self, worker_ctx) -> Stripe:
        return self.stripe
