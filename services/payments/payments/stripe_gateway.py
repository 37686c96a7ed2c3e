"""The only place that talks to Stripe: a dependency handing workers a small
interface over the official SDK.

Every call that moves money carries an idempotency key derived from our own
record. Every Stripe failure becomes one of three answers:
- `Declined`: the card or bank said no (HTTP 402); nothing moved;
- `Refused`: Stripe said no for good (any other 4xx); nothing moved;
- `Unanswered`: a timeout, a 5xx, a lost connection, a rate limit, a 409
  (the same idempotency key still in flight): we do not know what happened,
  so the caller keeps the attempt open and asks again later — never
  re-sends something that could move money twice.
No PHI is sent: metadata holds only Cairn's opaque ids, and nothing else
(no description, no name, no email) is set by Cairn."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Iterator

import stripe
from nameko.extensions import DependencyProvider

from servicekit import config


class Declined(Exception):
    def __init__(self, code: str, decline_code: str | None, intent_id: str | None = None):
        super().__init__(code)
        self.code, self.decline_code, self.intent_id = code, decline_code, intent_id


class Refused(Exception):
    def __init__(self, code: str | None, status: int | None):
        super().__init__(code or "refused")
        self.code, self.status = code, status


class Unanswered(Exception):
    pass


@dataclass(frozen=True)
class MethodDetails:
    id: str
    type: str
    customer: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    bank_name: str | None = None
    bank_last4: str | None = None

    @property
    def last4(self) -> str | None:
        return self.card_last4 or self.bank_last4


@dataclass(frozen=True)
class IntentView:
    """What Cairn needs of a PaymentIntent or SetupIntent."""
    id: str
    status: str
    amount: int
    currency: str
    cairn_id: str | None
    next_action_url: str | None
    error_code: str | None
    error_decline_code: str | None
    method: MethodDetails | None
    created: int


@dataclass(frozen=True)
class RefundView:
    id: str
    status: str
    amount: int
    payment_intent: str | None
    cairn_id: str | None
    failure_reason: str | None
    created: int


_DESCRIPTOR_FORBIDDEN = re.compile(r"[<>\\'\"*]")


def check_descriptor_suffix(value: str) -> str:
    if len(value) > 22 or _DESCRIPTOR_FORBIDDEN.search(value) or not value.isascii():
        raise config.ConfigError("CAIRN_STRIPE_STATEMENT_DESCRIPTOR_SUFFIX must be at most 22 "
                                 "plain characters without < > \\ ' \" *")
    return value


def _outcome(call):
    """Run a Stripe call, turning its failures into Declined/Refused/Unanswered."""
    try:
        return call()
    except stripe.CardError as error:
        body = (error.json_body or {}).get("error", {})
        intent = body.get("payment_intent") or body.get("setup_intent") or {}
        raise Declined(error.code or "card_declined", body.get("decline_code"),
                       intent.get("id")) from None
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise Unanswered(type(error).__name__) from None
    except stripe.StripeError as error:
        status = getattr(error, "http_status", None)
        # 409: a request with this idempotency key is still being worked on
        # at Stripe (our earlier try, or a retry racing it) — not a "no"
        if status is None or status >= 500 or status == 409:
            raise Unanswered(type(error).__name__) from None
        raise Refused(getattr(error, "code", None), status) from None


class Stripe:
    def __init__(self, client: stripe.StripeClient, webhook_secret: str, descriptor_suffix: str,
                 tolerance_seconds: int = 300):
        self.client = client
        self.webhook_secret = webhook_secret
        self.descriptor_suffix = descriptor_suffix
        self.tolerance = tolerance_seconds

    # ---- customers and payment methods -------------------------------------
    def create_customer(self, client_id: str) -> str:
        customer = _outcome(lambda: self.client.v1.customers.create(
            params={"metadata": {"cairn_client_id": client_id}},
            options={"idempotency_key": f"cairn-customer-{client_id}"}))
        return customer.id

    def payment_method(self, method_id: str) -> MethodDetails:
        return _method(_outcome(lambda: self.client.v1.payment_methods.retrieve(method_id)))

    def detach(self, method_id: str) -> None:
        try:
            _outcome(lambda: self.client.v1.payment_methods.detach(method_id))
        except Refused:
            pass   # already detached: the outcome we wanted

    # ---- payment intents ----------------------------------------------------
    def create_intent(self, *, amount: int, currency: str, method_type: str,
                      customer: str | None, payment_id: str, keep_on_file: bool,
                      key: str) -> IntentView:
        """An unconfirmed intent: creating it moves no money, so its answer
        can always be asked again."""
        params = {"amount": amount, "currency": currency,
                  "payment_method_types": [method_type],
                  "metadata": {"cairn_payment_id": payment_id}}
        if customer:
            params["customer"] = customer
        if keep_on_file:
            params["setup_future_usage"] = "off_session"
        if self.descriptor_suffix and method_type == "card":
            params["statement_descriptor_suffix"] = self.descriptor_suffix
        return self._intent(_outcome(lambda: self.client.v1.payment_intents.create(
            params=params, options={"idempotency_key": key})))

    def confirm_intent(self, intent_id: str, *, payment_method: str, return_url: str | None,
                       off_session: bool, mandate: dict | None, key: str,
                       known_method: MethodDetails | None = None) -> IntentView:
        """`known_method`: the payment method as Stripe described it just
        before; if the intent still uses it, it is not asked for again."""
        params: dict = {"payment_method": payment_method}
        if off_session:
            params["off_session"] = True
        elif return_url:
            params["return_url"] = return_url
        if mandate:
            params["mandate_data"] = mandate
        return self._intent(_outcome(lambda: self.client.v1.payment_intents.confirm(
            intent_id, params=params, options={"idempotency_key": key})), known=known_method)

    def retrieve_intent(self, intent_id: str) -> IntentView:
        return self._intent(_outcome(lambda: self.client.v1.payment_intents.retrieve(intent_id)))

    def cancel_intent(self, intent_id: str, reason: str = "abandoned") -> IntentView:
        """Cancel an intent that must never go through; if it already moved
        on (succeeded, processing), its current state is returned instead."""
        try:
            return self._intent(_outcome(lambda: self.client.v1.payment_intents.cancel(
                intent_id, params={"cancellation_reason": reason},
                options={"idempotency_key": f"cairn-cancel-{intent_id}"})))
        except Refused:
            return self.retrieve_intent(intent_id)

    def list_intents(self, created_from: int, created_to: int) -> Iterator[IntentView]:
        for intent in self._pages(self.client.v1.payment_intents.list, created_from, created_to):
            yield self._intent(intent, with_method=False)

    # ---- setup intents ------------------------------------------------------
    def create_setup(self, *, customer: str, payment_method: str, method_type: str,
                     return_url: str | None, mandate: dict | None, attempt_id: str,
                     key: str) -> IntentView:
        params = {"customer": customer, "payment_method": payment_method,
                  "payment_method_types": [method_type], "usage": "off_session",
                  "confirm": True, "metadata": {"cairn_setup_id": attempt_id}}
        if return_url:
            params["return_url"] = return_url
        if mandate:
            params["mandate_data"] = mandate
        return self._intent(_outcome(lambda: self.client.v1.setup_intents.create(
            params=params, options={"idempotency_key": key})))

    def retrieve_setup(self, setup_id: str) -> IntentView:
        return self._intent(_outcome(lambda: self.client.v1.setup_intents.retrieve(setup_id)))

    # ---- refunds ------------------------------------------------------------
    def refund(self, *, intent_id: str, amount: int, refund_id: str, reason: str | None,
               key: str) -> RefundView:
        params = {"payment_intent": intent_id, "amount": amount,
                  "metadata": {"cairn_refund_id": refund_id}}
        if reason:
            params["reason"] = reason
        return _refund(_outcome(lambda: self.client.v1.refunds.create(
            params=params, options={"idempotency_key": key})))

    def retrieve_refund(self, refund_id: str) -> RefundView:
        return _refund(_outcome(lambda: self.client.v1.refunds.retrieve(refund_id)))

    def refunds_of(self, intent_id: str) -> list[RefundView]:
        page = _outcome(lambda: self.client.v1.refunds.list(
            params={"payment_intent": intent_id, "limit": 100}))
        return [_refund(refund) for refund in page.data]

    def list_refunds(self, created_from: int, created_to: int) -> Iterator[RefundView]:
        for refund in self._pages(self.client.v1.refunds.list, created_from, created_to):
            yield _refund(refund)

    # ---- webhooks -------------------------------------------------------------
    def verify_webhook(self, raw_body: str, signature: str) -> dict:
        """The event as a dict; ValueError or stripe.SignatureVerificationError
        if it is not Stripe's, is too old, or claims to come from the future."""
        if not signature.isascii():
            raise ValueError("the signature header is not what Stripe sends")
        event = stripe.Webhook.construct_event(raw_body, signature, self.webhook_secret,
                                               tolerance=self.tolerance)
        timestamps = [int(part[2:]) for part in signature.split(",") if part.startswith("t=")
                      and part[2:].isdigit()]
        if not timestamps or max(timestamps) > time.time() + self.tolerance:
            raise ValueError("webhook timestamp is in the future")
        return event.to_dict()

    # ---- helpers ----------------------------------------------------------------
    def _intent(self, obj, with_method: bool = True,
                known: MethodDetails | None = None) -> IntentView:
        error = getattr(obj, "last_payment_error", None) or getattr(obj, "last_setup_error", None)
        action = getattr(obj, "next_action", None)
        url = None
        if action is not None and getattr(action, "type", None) == "redirect_to_url":
            url = action.redirect_to_url.url
        method = None
        pm = getattr(obj, "payment_method", None)
        if with_method and pm:
            if not isinstance(pm, str):
                method = _method(pm)
            else:
                method = known if known and known.id == pm else self.payment_method(pm)
        metadata = _metadata(obj)
        cairn_id = metadata.get("cairn_payment_id") or metadata.get("cairn_setup_id")
        return IntentView(obj.id, obj.status, getattr(obj, "amount", 0) or 0,
                          getattr(obj, "currency", "usd") or "usd", cairn_id, url,
                          getattr(error, "code", None) if error else None,
                          getattr(error, "decline_code", None) if error else None,
                          method, getattr(obj, "created", 0) or 0)

    @staticmethod
    def _pages(list_call, created_from: int, created_to: int):
        params = {"created": {"gte": created_from, "lt": created_to}, "limit": 100}
        while True:
            page = _outcome(lambda: list_call(params=params))
            yield from page.data
            if not page.has_more or not page.data:
                return
            params = {**params, "starting_after": page.data[-1].id}


def _metadata(obj) -> dict:
    metadata = getattr(obj, "metadata", None)
    return metadata.to_dict() if metadata else {}


def _method(obj) -> MethodDetails:
    card = getattr(obj, "card", None) if obj.type == "card" else None
    bank = getattr(obj, "us_bank_account", None) if obj.type == "us_bank_account" else None
    customer = obj.customer if isinstance(obj.customer, str) or obj.customer is None \
        else obj.customer.id
    return MethodDetails(
        obj.id, obj.type, customer,
        card_brand=card.brand if card else None, card_last4=card.last4 if card else None,
        exp_month=card.exp_month if card else None, exp_year=card.exp_year if card else None,
        bank_name=bank.bank_name if bank else None, bank_last4=bank.last4 if bank else None)


def _refund(obj) -> RefundView:
    intent = obj.payment_intent
    intent_id = intent if isinstance(intent, str) or intent is None else intent.id
    metadata = _metadata(obj)
    return RefundView(obj.id, obj.status, obj.amount, intent_id, metadata.get("cairn_refund_id"),
                      getattr(obj, "failure_reason", None), getattr(obj, "created", 0) or 0)


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
        timeout = float(config.setting(settings, "STRIPE_TIMEOUT_SECONDS", "20"))
        suffix = check_descriptor_suffix(
            config.setting(settings, "STRIPE_STATEMENT_DESCRIPTOR_SUFFIX", "BILLING"))
        addresses = {"api": api_base} if api_base else None
        client = stripe.StripeClient(api_key, base_addresses=addresses, max_network_retries=2,
                                     http_client=stripe.RequestsClient(timeout=timeout))
        self.stripe = Stripe(client, webhook_secret, suffix)

    def get_dependency(self, worker_ctx) -> Stripe:
        return self.stripe
