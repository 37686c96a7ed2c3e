"""Stripe's test cards and bank accounts, and how each one behaves.

In test mode a token such as `pm_card_visa` can be used wherever a
PaymentMethod id is expected; Stripe resolves it to a fresh `pm_...` object.
The same behaviours are reached by creating a PaymentMethod from the card or
account number (`POST /v1/payment_methods`, as the hosted card form does).
A PaymentMethod's behaviour is found again from its fingerprint.
"""
import hashlib
from dataclasses import dataclass
from typing import Optional

# three_d_secure: when a payment asks the cardholder to authenticate
ALWAYS = "always"              # every payment and every setup (3184)
UNLESS_SET_UP = "unless_set_up"  # on-session, setup; off-session until set up
ONE_TIME = "one_time"          # like UNLESS_SET_UP, then declines (3178)


def fingerprint(kind, number):
    digest = hashlib.sha256(f"{kind}:{number}".encode()).hexdigest()
    return "sbx" + digest[:13]


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    label: str
    decline_code: Optional[str] = None      # every charge declines so
    setup_declines: bool = False            # a SetupIntent fails too
    three_d_secure: Optional[str] = None
    refund_fails: bool = False              # refunds succeed, fail later
    funding: str = "credit"
    country: str = "US"

    @property
    def last4(self):
        return self.number[-4:]

    @property
    def fingerprint(self):
        return fingerprint("card", self.number)


@dataclass(frozen=True)
class TestBankAccount:
    account_number: str
    label: str
    failure_code: Optional[str] = None      # the debit fails after processing
    routing_number: str = "110000000"

    @property
    def last4(self):
        return self.account_number[-4:]

    @property
    def fingerprint(self):
        return fingerprint("us_bank_account", self.account_number)


CARDS = {card.number: card for card in [
    TestCard("4242424242424242", "visa", "Visa 4242 — succeeds"),
    TestCard("5555555555554444", "mastercard", "Mastercard 4444 — succeeds"),
    TestCard("4000000000000002", "visa", "Visa 0002 — declined",
             decline_code="generic_decline", setup_declines=True),
    TestCard("4000000000009995", "visa", "Visa 9995 — insufficient funds",
             decline_code="insufficient_funds", setup_declines=True),
    TestCard("4000002760003184", "visa", "Visa 3184 — needs 3-D Secure",
             three_d_secure=ALWAYS),
    TestCard("4000002500003155", "visa",
             "Visa 3155 — 3-D Secure when saved, then not again",
             three_d_secure=UNLESS_SET_UP),
    TestCard("4000008260003178", "visa",
             "Visa 3178 — 3-D Secure, then insufficient funds",
             decline_code="insufficient_funds", three_d_secure=ONE_TIME),
    TestCard("4000000000000341", "visa",
             "Visa 0341 — saves but declines when charged",
             decline_code="generic_decline"),
    TestCard("4000000000005126", "visa", "Visa 5126 — refund fails later",
             refund_fails=True),
]}

BANK_ACCOUNTS = {bank.account_number: bank for bank in [
    TestBankAccount("000123456789", "…6789 — succeeds after 3 days"),
    TestBankAccount("000111111113", "…1113 — fails: account closed",
                    "account_closed"),
    TestBankAccount("000111111116", "…1116 — fails: no account",
                    "no_account"),
    TestBankAccount("000222222227", "…2227 — fails: insufficient funds",
                    "insufficient_funds"),
    TestBankAccount("000333333335", "…3335 — fails: debit not authorized",
                    "debit_not_authorized"),
]}
TEST_ROUTING_NUMBER = "110000000"

TOKENS = {
    "pm_card_visa": CARDS["4242424242424242"],
    "pm_card_mastercard": CARDS["5555555555554444"],
    "pm_card_chargeDeclined": CARDS["4000000000000002"],
    "pm_card_chargeDeclinedInsufficientFunds": CARDS["4000000000009995"],
    "pm_card_authenticationRequired": CARDS["4000002760003184"],
    "pm_card_authenticationRequiredOnSetup": CARDS["4000002500003155"],
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds":
        CARDS["4000008260003178"],
    "pm_card_chargeCustomerFail": CARDS["4000000000000341"],
    "pm_card_refundFail": CARDS["4000000000005126"],
    "pm_usBankAccount_success": BANK_ACCOUNTS["000123456789"],
    "pm_usBankAccount_accountClosed": BANK_ACCOUNTS["000111111113"],
    "pm_usBankAccount_noAccount": BANK_ACCOUNTS["000111111116"],
    "pm_usBankAccount_insufficientFunds": BANK_ACCOUNTS["000222222227"],
    "pm_usBankAccount_debitNotAuthorized": BANK_ACCOUNTS["000333333335"],
}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_required": "Your card was declined. This transaction "
                               "requires authentication.",
    "live_mode_test_card": "Your card was declined. Your request was in test "
                           "mode, but used a non test (live) card. For a list "
                           "of valid test cards, visit: "
                           "https://stripe.com/docs/testing.",
}

SELLER_MESSAGES = {
    "generic_decline": "The bank did not return any further details with "
                       "this decline.",
    "insufficient_funds": "The bank returned the decline code "
                          "`insufficient_funds`.",
    "authentication_required": "The bank returned the decline code "
                               "`authentication_required`.",
}

BANK_FAILURE_MESSAGES = {
    "insufficient_funds": "The customer's account has insufficient funds to "
                          "cover this payment.",
    "account_closed": "The customer's bank account has been closed.",
    "no_account": "The customer's bank account could not be located.",
    "debit_not_authorized": "The customer has notified their bank that this "
                            "payment was unauthorized.",
}

_BY_FINGERPRINT = {item.fingerprint: item for item in
                   list(CARDS.values()) + list(BANK_ACCOUNTS.values())}


def behaviour(method):
    """The TestCard or TestBankAccount behind a PaymentMethod dict."""
    details = method.get(method["type"]) or {}
    return _BY_FINGERPRINT.get(details.get("fingerprint"))


def by_fingerprint(value):
    return _BY_FINGERPRINT.get(value)


def luhn_ok(number):
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
