"""Payment rules with no I/O: which way a payment's status may move, what
Stripe's answers mean for it, the words a payer sees, the limits on pay
links, the texts people agree to, and the signed one-time link token."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta

# ---- statuses ---------------------------------------------------------------
# A payment only ever moves to a higher rank; succeeded and failed are final,
# with one exception: Stripe saying the money moved outranks a failure we
# inferred ourselves (an attempt we gave up on that went through after all).
RANK = {"pending": 0, "requires_action": 1, "processing": 2, "succeeded": 3, "failed": 3}
TERMINAL = ("succeeded", "failed")
IN_FLIGHT = ("pending", "requires_action", "processing")
METHODS = ("card", "us_bank_account", "check", "cash", "terminal")
STRIPE_METHODS = ("card", "us_bank_account")
MANUAL_METHODS = ("check", "cash", "terminal")


def can_move(current: str, new: str) -> bool:
    if current == "failed" and new == "succeeded":
        return True
    return current not in TERMINAL and RANK[new] > RANK[current]


def status_from_intent(intent_status: str, has_error: bool) -> str | None:
    """Our status for a PaymentIntent's, or None when the intent was never
    confirmed (nothing moved; the attempt is settled by canceling it)."""
    return {"requires_action": "requires_action", "processing": "processing",
            "succeeded": "succeeded", "canceled": "failed",
            "requires_payment_method": "failed" if has_error else None,
            }.get(intent_status)


# ---- timing -------------------------------------------------------------------
MIN_STRIPE_AMOUNT = 50                         # Stripe's $0.50 minimum charge
ACTION_WINDOW = timedelta(minutes=30)          # 3-D Secure left unfinished → abandoned
BANK_ACTION_WINDOW = timedelta(days=10)        # a bank account being verified takes days
UNANSWERED_GRACE = timedelta(minutes=2)        # before the reconciler settles a silent call
KEY_WINDOW = timedelta(hours=23)               # Stripe prunes idempotency keys after 24 h
ACH_EXPECTED = timedelta(days=4)               # ACH takes up to 4 business days
LEASE = timedelta(minutes=2)


def action_window(method: str) -> timedelta:
    """How long a payment may wait for its payer's action before it is
    abandoned: minutes for a card's 3-D Secure, days for a bank account."""
    return BANK_ACTION_WINDOW if method == "us_bank_account" else ACTION_WINDOW


def ach_expected_by(now: datetime) -> datetime:
    """Four business days from now (weekends skipped)."""
    day, left = now, 4
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


# ---- what payers see ------------------------------------------------------------
DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds. Try another card.",
    "expired_card": "Your card has expired. Try another card.",
    "incorrect_cvc": "The security code was not right. Check it and try again.",
    "incorrect_number": "The card number was not right. Check it and try again.",
    "authentication_required": "Your bank needs you to confirm this payment. "
                               "Sign in to the portal and pay there to confirm it.",
    "payment_intent_authentication_failure": "Your bank could not confirm it was you. "
                                             "Try again, or use another card.",
    "setup_intent_authentication_failure": "Your bank could not confirm it was you. "
                                           "Try again, or use another card.",
}
GENERIC_DECLINE = "Your card was declined. Try another card or contact your bank."
BANK_RETURNS = {
    "insufficient_funds": "Your bank returned the payment: there were not enough funds "
                          "in the account.",
    "account_closed": "Your bank returned the payment: the account is closed.",
    "no_account": "Your bank returned the payment: no account matches those details.",
    "debit_not_authorized": "Your bank returned the payment: the account does not allow "
                            "this debit.",
}
GENERIC_BANK_RETURN = "Your bank returned the payment. Try another account or a card."
REFUSALS = {
    "amount_too_small": "Card and bank payments must be at least $0.50.",
    "resource_missing": "That card or account could not be found. Enter it again.",
    "payment_method_unactivated": "That card or account cannot be used. Try another one.",
}
GENERIC_REFUSAL = ("The card processor could not accept this payment. Try another card or "
                   "bank account, or call the clinic.")
UNANSWERED = ("We could not confirm your payment with the card processor. Please do not pay "
              "again yet: we will finish checking within a few minutes, and email a receipt "
              "if it went through.")
ABANDONED = "The payment was not confirmed with your bank in time, so nothing was charged."


def decline_message(code: str | None, decline_code: str | None = None) -> str:
    return (DECLINE_MESSAGES.get(code or "") or DECLINE_MESSAGES.get(decline_code or "")
            or GENERIC_DECLINE)


def bank_return_message(code: str | None) -> str:
    return BANK_RETURNS.get(code or "", GENERIC_BANK_RETURN)


def refusal_message(code: str | None) -> str:
    return REFUSALS.get(code or "", GENERIC_REFUSAL)


def failure_message(method: str, code: str | None, decline_code: str | None = None) -> str:
    """What went wrong, in the payer's words, for a failed attempt."""
    if method == "us_bank_account" and (code in BANK_RETURNS or decline_code in BANK_RETURNS):
        return bank_return_message(code if code in BANK_RETURNS else decline_code)
    if code in REFUSALS:
        return refusal_message(code)
    return decline_message(code, decline_code)


# ---- texts people agree to --------------------------------------------------------
def card_on_file_consent(clinic: str) -> str:
    return (f"I authorize {clinic} to keep this card on file with its payment processor, "
            f"Stripe, and to charge it for amounts I owe {clinic} for services, as they "
            "become due. I can remove the card at any time in the portal or by calling "
            f"{clinic}.")


def ach_mandate(clinic: str, on_file: bool) -> str:
    future = (" and, because I am keeping this account on file, for later amounts I owe "
              f"{clinic} as they become due, until I revoke this authorization") if on_file else ""
    return (f"By paying by bank account, I authorize {clinic} to debit the account above "
            f"through the ACH network for the amount shown{future}. I can revoke this "
            f"authorization by removing the account in the portal or by contacting {clinic} "
            "at least 3 business days before a debit. If a debit is returned, my balance "
            "is reopened and I will be asked to pay it another way.")


def consent_text_for(method: str, clinic: str, keep_on_file: bool) -> str | None:
    if method == "us_bank_account":
        return ach_mandate(clinic, keep_on_file)
    if keep_on_file:
        return card_on_file_consent(clinic)
    return None


# ---- pay links --------------------------------------------------------------------
@dataclass(frozen=True)
class LinkLimits:
    pay_per_link_per_hour: int = 10
    pay_per_address_per_hour: int = 20
    declines_to_lock: int = 5
    identity_tries: int = 5
    identity_per_address_per_hour: int = 20
    view_grant: timedelta = timedelta(minutes=30)


LINK_LOCKED = ("This payment link is locked after several declined cards. Call the clinic "
               "to unlock it, or sign in to the portal to pay.")
TOO_MANY_TRIES = ("Too many payment attempts were made from here. Wait an hour and try "
                  "again, or call the clinic.")
IDENTITY_LOCKED = ("Too many dates of birth were tried. You can still pay the balance; "
                   "call the clinic or sign in to the portal to see the services.")


def new_link_id() -> str:
    return secrets.token_urlsafe(18)


def sign_link(link_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), link_id.encode(), hashlib.sha256).digest()[:18]
    return f"{link_id}.{urlsafe_b64encode(digest).decode().rstrip('=')}"


def link_id_from_token(token: str, secret: str) -> str | None:
    """The link id if the token carries our signature, else None (tampered,
    truncated, or not even ASCII)."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 100:
        return None
    if not token.isascii():
        return None
    link_id = token.split(".")[0]
    return link_id if hmac.compare_digest(sign_link(link_id, secret).encode(), token.encode()) \
        else None


def new_grant() -> tuple[str, str]:
    """(token for the browser, hash to keep)."""
    token = secrets.token_urlsafe(24)
    return token, grant_hash(token)


def grant_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
