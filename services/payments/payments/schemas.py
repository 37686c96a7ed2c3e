"""Input checks and output shapes for payments. A bad field raises
InvalidInput in the words the person uses; nothing is written before these
checks pass."""
from __future__ import annotations

import re
from datetime import date, datetime

from servicekit.db import iso
from servicekit.errors import InvalidInput

from payments import domain
from payments.models import Payment, PaymentLink, Refund, SavedMethod, SetupAttempt

PAYMENT_METHOD = re.compile(r"^pm_[A-Za-z0-9_]{1,80}$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
MAX_AMOUNT = 99_999_999
MAX_INVOICES = 20


def payment_method_input(value) -> str:
    if not isinstance(value, str) or not PAYMENT_METHOD.match(value):
        raise InvalidInput("Enter a card or bank account to pay with.")
    return value


def identifier(value, what: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise InvalidInput(f"{what} is not valid.")
    return value


def request_key(value) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 80 or not value.isascii():
        raise InvalidInput("This form has expired. Reload the page and try again.")
    return value


def amount_input(value, what: str = "The amount", minimum: int = 1) -> int:
    """Integer cents: no floats, no negatives, no zero, nothing absurd."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number of cents.")
    if value < minimum:
        raise InvalidInput(f"{what} must be more than $0.00.")
    if value > MAX_AMOUNT:
        raise InvalidInput(f"{what} is more than a payment can be.")
    return value


def allocations_input(raw, allow_unspecified: bool = False) -> list[tuple[str, int | None]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("Choose at least one invoice to pay.")
    if len(raw) > MAX_INVOICES:
        raise InvalidInput(f"Pay at most {MAX_INVOICES} invoices at once.")
    seen, result = set(), []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidInput("Choose at least one invoice to pay.")
        invoice_id = identifier(item.get("invoice_id"), "The invoice")
        if invoice_id in seen:
            raise InvalidInput("An invoice is listed twice.")
        seen.add(invoice_id)
        amount = item.get("amount")
        if amount is None and allow_unspecified:
            result.append((invoice_id, None))
        else:
            result.append((invoice_id, amount_input(amount, "The amount for each invoice")))
    return result


def client_id_of(actor, client_id) -> str:
    """A portal actor may only pay for the client they are acting for."""
    client_id = identifier(client_id, "The account")
    if not isinstance(actor, dict):
        raise InvalidInput("Who is asking is not known.")
    if actor.get("kind") == "portal" and actor.get("client_id") != client_id:
        raise InvalidInput("That account is not one you can pay for.")
    return client_id


def actor_label(actor) -> str:
    if not isinstance(actor, dict) or actor.get("kind") not in ("staff", "portal"):
        raise InvalidInput("Who is asking is not known.")
    return f"{actor['kind']}:{identifier(actor.get('id'), 'The user')}"


def date_of_birth_input(value) -> date:
    text = (value or "").strip() if isinstance(value, str) else ""
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise InvalidInput("Enter the date of birth like 04/02/1990.")


def optional_text(value, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput("A text field is not valid.")
    return value.strip()[:limit] or None


# ---- output -----------------------------------------------------------------------

def link_out(link: PaymentLink, verified: bool) -> dict:
    return {"invoice_id": link.invoice_id, "client_id": link.client_id,
            "expires_at": iso(link.expires_at), "used": link.used_at is not None,
            "verified": verified, "locked": link.locked_at is not None,
            "identity_locked": link.identity_locked_at is not None}


METHOD_LABELS = {"card": "Card", "us_bank_account": "Bank account", "check": "Check",
                 "cash": "Cash", "terminal": "Card (outside terminal)"}


def method_label(payment: Payment) -> str:
    if payment.method == "card" and payment.card_last4:
        return f"{(payment.card_brand or 'card').title()} ending {payment.card_last4}"
    if payment.method == "us_bank_account" and payment.bank_last4:
        return f"{payment.bank_name or 'Bank account'} ending {payment.bank_last4}"
    if payment.method == "check" and payment.check_number:
        return f"Check #{payment.check_number}"
    return METHOD_LABELS.get(payment.method, payment.method)


def payment_out(payment: Payment, refund_rows=(), refundable: dict | None = None) -> dict:
    out = {"id": payment.id, "client_id": payment.client_id, "status": payment.status,
           "amount": payment.amount, "credit_amount": payment.credit_amount,
           "currency": payment.currency, "method": payment.method,
           "method_label": method_label(payment), "channel": payment.channel,
           "initiated_by": payment.initiated_by, "card_brand": payment.card_brand,
           "card_last4": payment.card_last4, "bank_last4": payment.bank_last4,
           "check_number": payment.check_number, "payer_name": payment.payer_name,
           "failure_message": payment.failure_message,
           "next_action_url": payment.next_action_url if payment.status == "requires_action"
           else None,
           "expected_by": iso(payment.expected_by) if payment.expected_by else None,
           "created_at": iso(payment.created_at), "updated_at": iso(payment.updated_at),
           "allocations": [{"invoice_id": a.invoice_id, "amount": a.amount,
                            "invoice_number": a.invoice_number or ""}
                           for a in payment.allocations],
           "refunds": [refund_out(r) for r in refund_rows]}
    if refundable is not None:
        out["refundable"] = refundable["total"]
        out["refundable_parts"] = [{"invoice_id": key, "amount": value}
                                   for key, value in refundable["parts"].items() if value > 0]
    return out


def refund_out(refund: Refund) -> dict:
    return {"id": refund.id, "payment_id": refund.payment_id, "invoice_id": refund.invoice_id,
            "amount": refund.amount, "currency": refund.currency, "status": refund.status,
            "reason": refund.reason, "note": refund.note, "manual": refund.manual,
            "failure_reason": refund.failure_reason, "created_at": iso(refund.created_at)}


def saved_method_out(method: SavedMethod) -> dict:
    if method.type == "card":
        label = f"{(method.card_brand or 'card').title()} ending {method.last4}"
    else:
        label = f"{method.bank_name or 'Bank account'} ending {method.last4}"
    expires = f"{method.exp_month:02d}/{method.exp_year}" if method.exp_month and method.exp_year \
        else None
    return {"id": method.id, "type": method.type, "label": label, "last4": method.last4,
            "expires": expires, "is_default": method.is_default,
            "consented_at": iso(method.consented_at), "consent_text": method.consent_text}


def setup_out(attempt: SetupAttempt) -> dict:
    return {"id": attempt.id, "status": attempt.status,
            "next_action_url": attempt.next_action_url if attempt.status == "requires_action"
            else None,
            "failure_message": attempt.failure_message, "saved_method_id": attempt.saved_method_id}


def terms_out(clinic: str) -> dict:
    return {"card_on_file": domain.card_on_file_consent(clinic),
            "ach_mandate": domain.ach_mandate(clinic, on_file=False),
            "ach_mandate_on_file": domain.ach_mandate(clinic, on_file=True)}
