"""Input checks and output shapes for payments."""
from __future__ import annotations

import re

from servicekit.db import iso
from servicekit.errors import InvalidInput

from payments.models import Payment, PaymentLink

PAYMENT_METHOD = re.compile(r"^pm_[A-Za-z0-9_]{1,80}$")


def payment_method_input(value) -> str:
    if not isinstance(value, str) or not PAYMENT_METHOD.match(value):
        raise InvalidInput("choose a card to pay with")
    return value


def link_out(link: PaymentLink) -> dict:
    return {"invoice_id": link.invoice_id, "client_id": link.client_id,
            "expires_at": iso(link.expires_at), "used": link.used_at is not None}


def payment_out(payment: Payment) -> dict:
    return {"id": payment.id, "invoice_id": payment.invoice_id, "status": payment.status,
            "amount": payment.amount, "currency": payment.currency,
            "card_brand": payment.card_brand, "card_last4": payment.card_last4,
            "failure_message": payment.failure_message}
