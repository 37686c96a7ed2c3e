"""Stripe's test payment-method tokens and how each one behaves.

In test mode a token such as `pm_card_visa` can be used wherever a
PaymentMethod id is expected; Stripe resolves it to a fresh `pm_...` object.
Add further tokens here (e.g. bank accounts that settle later).
"""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    decline_code: Optional[str] = None

    @property
    def fingerprint(self):
        return f"sbx{self.brand[:4]}{self.last4}".ljust(16, "0")


TOKENS = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_chargeDeclined": TestCard("visa", "0002",
                                       decline_code="generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        "visa", "9995", decline_code="insufficient_funds"),
}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}

SELLER_MESSAGES = {
    "generic_decline": "The bank did not return any further details with "
                       "this decline.",
    "insufficient_funds": "The bank returned the decline code "
                          "`insufficient_funds`.",
}


def by_fingerprint(fingerprint):
    for card in TOKENS.values():
        if card.fingerprint == fingerprint:
            return card
    return None
