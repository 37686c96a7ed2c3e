"""Builders for Stripe-shaped JSON objects (plain dicts).

Field lists follow Stripe's API reference for API version
2026-10-28.endive closely enough for the SDK and for code reading them;
fields the sandbox never changes are present with Stripe's defaults.
"""
import copy
import secrets
import string
import time

from . import errors, forms
from .cards import DECLINE_MESSAGES, SELLER_MESSAGES

API_VERSION = "2026-10-28.endive"
_ALPHABET = string.ascii_letters + string.digits
_ADDRESS = ("city", "country", "line1", "line2", "postal_code", "state")


def new_id(prefix, length=24):
    return prefix + "_" + "".join(secrets.choice(_ALPHABET)
                                  for _ in range(length))


def now():
    return int(time.time())


def customer(fields):
    return {
        "id": new_id("cus", 14), "object": "customer", "address": None,
        "balance": 0, "created": now(), "currency": None,
        "default_source": None, "delinquent": False,
        "description": fields.get("description"), "discount": None,
        "email": fields.get("email"),
        "invoice_prefix": new_id("", 8)[1:].upper(),
        "invoice_settings": {"custom_fields": None,
                             "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": fields.get("metadata", {}),
        "name": fields.get("name"), "next_invoice_sequence": 1,
        "phone": fields.get("phone"), "preferred_locales": [],
        "shipping": None, "tax_exempt": "none", "test_clock": None,
    }


def card_payment_method(card):
    return {
        "id": new_id("pm"), "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": dict.fromkeys(_ADDRESS),
                            "email": None, "name": None, "phone": None,
                            "tax_id": None},
        "card": _card_details(card, checks=True),
        "created": now(), "customer": None, "livemode": False,
        "metadata": {}, "type": "card",
    }


def _card_details(card, checks=False):
    details = {
        "brand": card.brand, "country": card.country,
        "display_brand": card.brand, "exp_month": 12,
        "exp_year": time.gmtime().tm_year + 2,
        "fingerprint": card.fingerprint, "funding": card.funding,
        "last4": card.last4, "regulated_status": "unregulated",
        "wallet": None,
    }
    if checks:
        details.update(
            checks={"address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "unchecked"},
            generated_from=None,
            networks={"available": [card.brand], "preferred": None},
            three_d_secure_usage={"supported": True})
    else:
        details["network"] = card.brand
    return details


def payment_intent(amount, currency):
    intent_id = new_id("pi")
    return {
        "id": intent_id, "object": "payment_intent", "amount": amount,
        "amount_capturable": 0, "amount_details": {"tip": {}},
        "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None,
        "canceled_at": None, "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_{new_id('', 25)[1:]}",
        "confirmation_method": "automatic", "created": now(),
        "currency": currency, "customer": None, "description": None,
        "excluded_payment_method_types": None, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "metadata": {},
        "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {
            "installments": None, "mandate_options": None, "network": None,
            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None,
        "receipt_email": None, "review": None, "setup_future_usage": None,
        "shipping": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None,
        "transfer_group": None,
    }


def charge(intent, method, card):
    declined = card.decline_code
    return {
        "id": new_id("ch"), "object": "charge", "amount": intent["amount"],
        "amount_captured": 0 if declined else intent["amount"],
        "amount_refunded": 0,
        "balance_transaction": None if declined else new_id("txn"),
        "billing_details": copy.deepcopy(method["billing_details"]),
        "captured": not declined, "created": now(),
        "currency": intent["currency"], "customer": intent["customer"],
        "description": intent["description"], "disputed": False,
        "failure_code": "card_declined" if declined else None,
        "failure_message": _decline_message(declined),
        "livemode": False, "metadata": dict(intent["metadata"]),
        "outcome": _outcome(declined), "paid": not declined,
        "payment_intent": intent["id"], "payment_method": method["id"],
        "payment_method_details": {"card": _card_details(card),
                                   "type": "card"},
        "receipt_email": intent["receipt_email"], "receipt_url": None,
        "refunded": False, "status": "failed" if declined else "succeeded",
    }


def _decline_message(decline_code):
    return DECLINE_MESSAGES.get(decline_code) if decline_code else None


def _outcome(decline_code):
    if not decline_code:
        return {"network_status": "approved_by_network", "reason": None,
                "risk_level": "normal", "risk_score": 20,
                "seller_message": "Payment complete.", "type": "authorized"}
    return {"network_status": "declined_by_network", "reason": decline_code,
            "risk_level": "normal", "risk_score": 20,
            "seller_message": SELLER_MESSAGES[decline_code],
            "type": "issuer_declined"}


def event(type_, obj, request_id, idempotency_key, pending_webhooks,
          previous_attributes=None):
    data = {"object": copy.deepcopy(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": new_id("evt"), "object": "event", "api_version": API_VERSION,
        "created": now(), "data": data, "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type_,
    }


def list_of(url, items, params):
    """A page of `items` (newest first) honouring limit/starting_after."""
    limit = forms.integer(params, "limit", minimum=1)
    limit = min(limit or 10, 100)
    for cursor, offset in (("starting_after", 1), ("ending_before", 0)):
        marker = params.get(cursor)
        if marker:
            ids = [item["id"] for item in items]
            if marker not in ids:
                raise errors.no_such("object", marker, cursor, status=400)
            at = ids.index(marker)
            items = items[at + 1:] if offset else items[:at][-limit:]
    return {"object": "list", "data": items[:limit],
            "has_more": len(items) > limit, "url": url}
