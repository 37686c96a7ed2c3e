"""Payment rules with no I/O: the forward-only status order and the signed,
expiring one-time payment link token."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode

# A payment only ever moves to a higher rank; the two terminal states never move.
RANK = {"pending": 0, "requires_action": 1, "processing": 2, "succeeded": 3, "failed": 3}
TERMINAL = ("succeeded", "failed")

DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds. Try another card.",
    "expired_card": "Your card has expired. Try another card.",
    "incorrect_cvc": "The security code was not right. Check it and try again.",
}
GENERIC_DECLINE = "Your card was declined. Try another card or contact your bank."


def can_move(current: str, new: str) -> bool:
    return current not in TERMINAL and RANK[new] > RANK[current]


def decline_message(decline_code: str | None) -> str:
    return DECLINE_MESSAGES.get(decline_code or "", GENERIC_DECLINE)


def new_link_id() -> str:
    return secrets.token_urlsafe(18)


def sign_link(link_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), link_id.encode(), hashlib.sha256).digest()[:18]
    return f"{link_id}.{urlsafe_b64encode(digest).decode().rstrip('=')}"


def link_id_from_token(token: str, secret: str) -> str | None:
    """The link id if the token carries our signature, else None."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 100:
        return None
    link_id = token.split(".")[0]
    return link_id if hmac.compare_digest(sign_link(link_id, secret), token) else None
