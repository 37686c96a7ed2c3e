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
from .cards import SELLER_MESSAGES

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


def billing_details(fields=None):
    fields = fields or {}
    address = dict.fromkeys(_ADDRESS)
    address.update({k: v for k, v in (fields.get("address") or {}).items()
                    if k in address})
    return {"address": address, "email": fields.get("email"),
            "name": fields.get("name"), "phone": fields.get("phone"),
            "tax_id": None}


def _payment_method(type_, details, billing):
    return {
        "id": new_id("pm"), "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": billing_details(billing), type_: details,
        "created": now(), "customer": None, "livemode": False,
        "metadata": {}, "type": type_,
    }


def card_payment_method(card, exp_month=12, exp_year=None, billing=None,
                        cvc_given=False):
    details = _card_details(card, exp_month, exp_year, checks=True)
    if cvc_given:
        details["checks"]["cvc_check"] = "pass"
    if billing and (billing.get("address") or {}).get("postal_code"):
        details["checks"]["address_postal_code_check"] = "pass"
    return _payment_method("card", details, billing)


def bank_payment_method(bank, holder_type="individual",
                        account_type="checking", billing=None):
    return _payment_method("us_bank_account", {
        "account_holder_type": holder_type, "account_type": account_type,
        "bank_name": "STRIPE TEST BANK",
        "financial_connections_account": None,
        "fingerprint": bank.fingerprint, "last4": bank.last4,
        "networks": {"preferred": "ach", "supported": ["ach"]},
        "routing_number": bank.routing_number, "status_details": {},
    }, billing)


def _card_details(card, exp_month=12, exp_year=None, checks=False):
    details = {
        "brand": card.brand, "country": card.country,
        "display_brand": card.brand, "exp_month": exp_month,
        "exp_year": exp_year or time.gmtime().tm_year + 2,
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


def _client_secret(object_id):
    return f"{object_id}_secret_{new_id('', 25)[1:]}"


def payment_intent(amount, currency):
    intent_id = new_id("pi")
    return {
        "id": intent_id, "object": "payment_intent", "amount": amount,
        "amount_capturable": 0, "amount_details": {"tip": {}},
        "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None,
        "canceled_at": None, "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": _client_secret(intent_id),
        "confirmation_method": "automatic", "created": now(),
        "currency": currency, "customer": None, "description": None,
        "excluded_payment_method_types": None, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "metadata": {},
        "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {}, "payment_method_types": ["card"],
        "processing": None, "receipt_email": None, "review": None,
        "setup_future_usage": None, "shipping": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None,
        "transfer_group": None,
    }


def payment_method_options(types):
    options = {}
    if "card" in types:
        options["card"] = {"installments": None, "mandate_options": None,
                           "network": None,
                           "request_three_d_secure": "automatic"}
    if "us_bank_account" in types:
        options["us_bank_account"] = {
            "financial_connections": {"permissions": ["payment_method"],
                                      "prefetch": []},
            "verification_method": "automatic"}
    return options


def setup_intent(types, usage):
    intent_id = new_id("seti")
    return {
        "id": intent_id, "object": "setup_intent", "application": None,
        "automatic_payment_methods": None, "cancellation_reason": None,
        "client_secret": _client_secret(intent_id), "created": now(),
        "customer": None, "description": None, "flow_directions": None,
        "last_setup_error": None, "latest_attempt": None, "livemode": False,
        "mandate": None, "metadata": {}, "next_action": None,
        "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": payment_method_options(types),
        "payment_method_types": types, "single_use_mandate": None,
        "status": "requires_payment_method", "usage": usage,
    }


def mandate(method, acceptance, multi_use, amount=None, currency=None):
    return {
        "id": new_id("mandate"), "object": "mandate",
        "customer_acceptance": acceptance, "livemode": False,
        "multi_use": {} if multi_use else None,
        "payment_method": method["id"],
        "payment_method_details": {
            "type": method["type"],
            method["type"]: {"collection_method": None}
            if method["type"] == "us_bank_account" else {}},
        "single_use": None if multi_use else {"amount": amount,
                                              "currency": currency},
        "status": "active", "type": "multi_use" if multi_use else "single_use",
    }


def charge(intent, method, *, status, failure_code=None,
           failure_message=None, outcome=None, three_d_secure=None,
           mandate_id=None):
    ok = status != "failed"
    return {
        "id": new_id("ch"), "object": "charge", "amount": intent["amount"],
        "amount_captured": intent["amount"] if ok else 0,
        "amount_refunded": 0,
        "balance_transaction": new_id("txn") if ok else None,
        "billing_details": copy.deepcopy(method["billing_details"]),
        "captured": ok, "created": now(),
        "currency": intent["currency"], "customer": intent["customer"],
        "description": intent["description"], "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure_code, "failure_message": failure_message,
        "livemode": False, "metadata": dict(intent["metadata"]),
        "outcome": outcome, "paid": status == "succeeded",
        "payment_intent": intent["id"], "payment_method": method["id"],
        "payment_method_details": _charge_details(method, three_d_secure,
                                                  mandate_id),
        "receipt_email": intent["receipt_email"], "receipt_url": None,
        "refunded": False,
        "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
        "status": status,
    }


def _charge_details(method, three_d_secure, mandate_id):
    if method["type"] == "us_bank_account":
        bank = method["us_bank_account"]
        return {"type": "us_bank_account", "us_bank_account": {
            "account_holder_type": bank["account_holder_type"],
            "account_type": bank["account_type"],
            "bank_name": bank["bank_name"],
            "fingerprint": bank["fingerprint"], "last4": bank["last4"],
            "mandate": mandate_id, "payment_reference": None,
            "routing_number": bank["routing_number"]}}
    card = {k: v for k, v in method["card"].items()
            if k not in ("generated_from", "networks",
                         "three_d_secure_usage")}
    card["network"] = card["brand"]
    card["three_d_secure"] = three_d_secure
    return {"type": "card", "card": card}


def card_outcome(decline_code=None):
    if not decline_code:
        return {"network_status": "approved_by_network", "reason": None,
                "risk_level": "normal", "risk_score": 20,
                "seller_message": "Payment complete.", "type": "authorized"}
    return {"network_status": "declined_by_network", "reason": decline_code,
            "risk_level": "normal", "risk_score": 20,
            "seller_message": SELLER_MESSAGES.get(
                decline_code, "The bank declined the payment."),
            "type": "issuer_declined"}


def bank_outcome(failure_code=None):
    if not failure_code:
        return {"network_status": "approved_by_network", "reason": None,
                "risk_level": "not_assessed",
                "seller_message": "Payment complete.", "type": "authorized"}
    return {"network_status": "declined_by_network", "reason": failure_code,
            "risk_level": "not_assessed",
            "seller_message": "The customer's bank returned the payment.",
            "type": "issuer_declined"}


def refund(charge_, amount, reason, metadata, status):
    return {
        "id": new_id("re"), "object": "refund", "amount": amount,
        "balance_transaction": new_id("txn"), "charge": charge_["id"],
        "created": now(), "currency": charge_["currency"],
        "destination_details": _refund_destination(charge_),
        "failure_balance_transaction": None, "failure_reason": None,
        "metadata": metadata, "payment_intent": charge_["payment_intent"],
        "reason": reason, "receipt_number": None,
        "source_transfer_reversal": None, "status": status,
        "transfer_reversal": None,
    }


def _refund_destination(charge_):
    kind = charge_["payment_method_details"]["type"]
    if kind == "card":
        return {"type": "card", "card": {
            "reference": None, "reference_status": "pending",
            "reference_type": "acquirer_reference_number",
            "type": "refund"}}
    return {"type": kind, kind: {"reference": None,
                                 "reference_status": "pending"}}


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
    """A page of `items` (newest first) honouring limit/starting_after/
    ending_before and `created` (an int, or a hash of gt/gte/lt/lte)."""
    limit = forms.integer(params, "limit", minimum=1)
    limit = min(limit or 10, 100)
    created = forms.created_filter(params)
    items = [item for item in items if created(item["created"])]
    for cursor, offset in (("starting_after", 1), ("ending_before", 0)):
        marker = params.get(cursor)
        if marker:
            ids = [item["id"] for item in items]
            if marker not in ids:
                raise errors.no_such("object", marker, cursor, status=400)
            at = ids.index(marker)
            if offset:
                items = items[at + 1:]
            else:
                items = items[:at]
                return {"object": "list", "data": items[-limit:],
                        "has_more": len(items) > limit, "url": url}
    return {"object": "list", "data": items[:limit],
            "has_more": len(items) > limit, "url": url}
