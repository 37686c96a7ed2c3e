"""POST /v1/payment_methods: a PaymentMethod from card or bank details.

The one endpoint a publishable key may call (the hosted card form does, as
Stripe.js does). Card numbers and bank accounts map onto Stripe's test
values (cards.py); anything else fails the way Stripe's test mode fails it.
"""
import re
import time

from . import cards, errors, forms, objects

_DIGITS = re.compile(r"^\d+$")
HOLDER_TYPES = ("individual", "company")
ACCOUNT_TYPES = ("checking", "savings")


def create_payment_method(state, ctx, params):
    kind = forms.string(params, "type", required=True)
    billing = forms.billing_details(params)
    if kind == "card":
        method = _card(params, billing)
    elif kind == "us_bank_account":
        method = _bank_account(params, billing)
    else:
        raise errors.invalid(
            "Invalid type: must be one of card, us_bank_account (the "
            "payment method types the sandbox supports)", "type")
    method["metadata"] = forms.metadata(params)
    return state.add(method)


def _card(params, billing):
    card = forms.hash_param(params, "card")
    if not card:
        raise errors.missing_param("card")
    number = re.sub(r"[\s-]", "", str(card.get("number") or ""))
    if not number:
        raise errors.missing_param("card[number]")
    if not _DIGITS.match(number) or not 12 <= len(number) <= 19 \
            or not cards.luhn_ok(number):
        raise errors.card_error("incorrect_number",
                                "Your card number is incorrect.", "number")
    exp_month = _exp(card, "exp_month")
    exp_year = _exp(card, "exp_year")
    if exp_year < 100:
        exp_year += 2000
    if not 1 <= exp_month <= 12:
        raise errors.card_error("invalid_expiry_month",
                                "Your card's expiration month is invalid.",
                                "exp_month")
    today = time.gmtime()
    if exp_year < today.tm_year:
        raise errors.card_error("invalid_expiry_year",
                                "Your card's expiration year is in the past.",
                                "exp_year")
    if exp_year > today.tm_year + 50:
        raise errors.card_error("invalid_expiry_year",
                                "Your card's expiration year is invalid.",
                                "exp_year")
    if exp_year == today.tm_year and exp_month < today.tm_mon:
        raise errors.card_error("invalid_expiry_month",
                                "Your card's expiration month is in the "
                                "past.", "exp_month")
    cvc = card.get("cvc")
    if cvc not in (None, "") and not (isinstance(cvc, str) and
                                      _DIGITS.match(cvc) and
                                      3 <= len(cvc) <= 4):
        raise errors.card_error("invalid_cvc",
                                "Your card's security code is invalid.",
                                "cvc")
    test = cards.CARDS.get(number)
    if test is None:
        raise errors.card_declined(
            "live_mode_test_card",
            cards.DECLINE_MESSAGES["live_mode_test_card"])
    return objects.card_payment_method(test, exp_month, exp_year, billing,
                                       cvc_given=bool(cvc))


def _exp(card, name):
    value = card.get(name)
    if value in (None, ""):
        raise errors.missing_param(f"card[{name}]")
    if not isinstance(value, str) or not _DIGITS.match(value):
        code = "invalid_expiry_month" if name == "exp_month" else \
            "invalid_expiry_year"
        what = "month" if name == "exp_month" else "year"
        raise errors.card_error(code, f"Your card's expiration {what} is "
                                f"invalid.", name)
    return int(value)


def _bank_account(params, billing):
    bank = forms.hash_param(params, "us_bank_account")
    if not bank:
        raise errors.missing_param("us_bank_account")
    routing = str(bank.get("routing_number") or "").strip()
    account = str(bank.get("account_number") or "").strip()
    holder_type = forms.string(bank, "account_holder_type",
                               choices=HOLDER_TYPES) or "individual"
    account_type = forms.string(bank, "account_type",
                                choices=ACCOUNT_TYPES) or "checking"
    if not routing:
        raise errors.missing_param("us_bank_account[routing_number]")
    if not account:
        raise errors.missing_param("us_bank_account[account_number]")
    if not billing.get("name"):
        raise errors.missing_param("billing_details[name]")
    if not _DIGITS.match(routing) or len(routing) != 9:
        raise errors.invalid("Routing number must have 9 digits",
                             "us_bank_account[routing_number]",
                             "routing_number_invalid")
    if routing != cards.TEST_ROUTING_NUMBER:
        raise errors.invalid(
            f"Invalid routing number {routing}: in test mode, use routing "
            f"number {cards.TEST_ROUTING_NUMBER} with a test account number",
            "us_bank_account[routing_number]", "routing_number_invalid")
    if not _DIGITS.match(account) or not 4 <= len(account) <= 17:
        raise errors.invalid("Account number must be 4 to 17 digits",
                             "us_bank_account[account_number]",
                             "account_number_invalid")
    test = cards.BANK_ACCOUNTS.get(account)
    if test is None:
        raise errors.invalid(
            "The account number provided is not a valid test account "
            "number. In test mode, use one of Stripe's test account "
            "numbers (https://docs.stripe.com/testing#test-account-numbers).",
            "us_bank_account[account_number]", "account_number_invalid")
    return objects.bank_payment_method(test, holder_type, account_type,
                                       billing)
