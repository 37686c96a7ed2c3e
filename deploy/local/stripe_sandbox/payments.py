"""Payment intents: create, confirm, update, cancel, list.

Parameter checks live here; what a confirmation does to the money (cards,
3-D Secure, ACH debits) lives in charging.py.
"""
from urllib.parse import urlsplit

from . import charging, errors, forms, mandates, objects
from .resources import check_reusable, get_customer, get_payment_method

CURRENCIES = {"usd", "eur", "gbp", "cad", "aud", "chf", "nzd", "sek", "nok",
              "dkk", "jpy", "mxn", "sgd", "hkd"}
MINIMUMS = {"usd": (50, "$0.50"), "eur": (50, "€0.50"), "gbp": (30, "£0.30"),
            "cad": (50, "$0.50"), "aud": (50, "$0.50")}
MAXIMUM = 99999999
METHOD_TYPES = ("card", "us_bank_account")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation",
               "requires_action")
CANCELABLE = ("requires_payment_method", "requires_capture",
              "requires_confirmation", "requires_action")
FINAL = ("succeeded", "canceled", "processing")
SFU = ("on_session", "off_session")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer",
                  "abandoned")
DESCRIPTOR_FORBIDDEN = "<>\\'\"*"


def create(state, ctx, params):
    amount = _amount(params)
    currency = forms.string(params, "currency", required=True).lower()
    if currency not in CURRENCIES:
        raise errors.invalid(f"Invalid currency: {currency}. Stripe currently "
                             f"supports these currencies: "
                             f"{', '.join(sorted(CURRENCIES))}", "currency")
    _check_minimum(amount, currency)
    confirm = forms.boolean(params, "confirm")
    types = method_types(params, currency)
    if forms.string(params, "capture_method") == "manual":
        raise errors.invalid("capture_method=manual is not supported by the "
                             "sandbox yet.", "capture_method")
    customer = params.get("customer")
    if customer:
        customer = get_customer(state, customer, "customer")["id"]
    intent = objects.payment_intent(amount, currency)
    intent.update(
        customer=customer or None, payment_method_types=types,
        payment_method_options=objects.payment_method_options(types),
        description=forms.string(params, "description"),
        metadata=forms.metadata(params),
        receipt_email=forms.string(params, "receipt_email"),
        setup_future_usage=forms.string(params, "setup_future_usage",
                                        choices=SFU),
        statement_descriptor_suffix=descriptor_suffix(params))
    options = confirm_options(state, params, confirm)
    method = _method_param(state, ctx, params, intent)
    if confirm and method is not None and \
            method["type"] == "us_bank_account":
        mandates.require(state, intent, method, options)   # before creating
    if confirm and method is None:
        raise _missing_method(None)          # nothing is created
    state.add(intent)
    state.emit(ctx, "payment_intent.created", intent)
    if confirm:
        return charging.pay(state, ctx, intent, method, options)
    return intent


def retrieve(state, ctx, params, intent_id):
    return _get(state, intent_id)


def list_intents(state, ctx, params):
    filters = {"customer": params["customer"]} if params.get("customer") \
        else {}
    return objects.list_of("/v1/payment_intents",
                           state.all("payment_intent", **filters), params)


def update(state, ctx, params, intent_id):
    intent = _get(state, intent_id)
    for name in ("amount", "customer", "payment_method",
                 "payment_method_types"):
        if name in params and intent["status"] in FINAL:
            raise errors.unexpected_state(
                f"This PaymentIntent's {name} could not be updated because "
                f"it has a status of {intent['status']}. You may only update "
                f"the {name} of a PaymentIntent with one of the following "
                f"statuses: {', '.join(CONFIRMABLE)}.", intent)
    if "amount" in params:
        intent["amount"] = _amount(params)
        _check_minimum(intent["amount"], intent["currency"])
    if params.get("customer"):
        intent["customer"] = get_customer(state, params["customer"],
                                          "customer")["id"]
    if "payment_method_types" in params:
        types = method_types(params, intent["currency"])
        intent.update(payment_method_types=types,
                      payment_method_options=objects.payment_method_options(
                          types))
    _common_fields(params, intent)
    _method_param(state, ctx, params, intent)
    return intent


def confirm(state, ctx, params, intent_id):
    intent = _get(state, intent_id)
    if intent["status"] == "succeeded":
        raise errors.unexpected_state(
            "You cannot confirm this PaymentIntent because it has already "
            "succeeded after being previously confirmed.", intent)
    if intent["status"] not in CONFIRMABLE:
        raise errors.unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status "
            f"of {intent['status']}. Only a PaymentIntent with one of the "
            f"following statuses may be confirmed: "
            f"{', '.join(CONFIRMABLE)}.", intent)
    options = confirm_options(state, params, True)
    if params.get("customer"):
        intent["customer"] = get_customer(state, params["customer"],
                                          "customer")["id"]
    _common_fields(params, intent)
    method = _method_param(state, ctx, params, intent)
    if method is None and intent["payment_method"]:
        method = state.find("payment_method", intent["payment_method"])
        _check_owner(method, intent)
    if method is None:
        raise _missing_method(intent)
    state.pending.pop(intent["id"], None)
    return charging.pay(state, ctx, intent, method, options)


def cancel(state, ctx, params, intent_id):
    intent = _get(state, intent_id)
    if intent["status"] not in CANCELABLE:
        raise errors.unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status "
            f"of {intent['status']}. Only a PaymentIntent with one of the "
            f"following statuses may be canceled: {', '.join(CANCELABLE)}.",
            intent)
    reason = forms.string(params, "cancellation_reason",
                          choices=CANCEL_REASONS)
    state.pending.pop(intent["id"], None)
    intent.update(status="canceled", canceled_at=state.now(),
                  cancellation_reason=reason, next_action=None)
    state.emit(ctx, "payment_intent.canceled", intent)
    return intent


# -- parameters shared with setup intents -------------------------------------

def method_types(params, currency=None):
    types = forms.string_list(params, "payment_method_types") or ["card"]
    for index, kind in enumerate(types):
        if kind not in METHOD_TYPES:
            raise errors.invalid(
                f"The payment method type provided: {kind} is invalid. This "
                f"sandbox supports: {', '.join(METHOD_TYPES)}",
                f"payment_method_types[{index}]")
    if "us_bank_account" in types and currency not in (None, "usd"):
        raise errors.invalid(
            f"The currency provided ({currency}) is invalid. Payments with "
            f"us_bank_account support the following currencies: usd.",
            "currency")
    return types


def confirm_options(state, params, confirm):
    """What a confirmation carries besides the payment method."""
    off_session = _off_session(params, confirm)
    return_url = forms.string(params, "return_url")
    if return_url and not urlsplit(return_url).scheme:
        raise errors.invalid(f"Invalid URL: {return_url}", "return_url")
    return {"off_session": off_session, "return_url": return_url,
            "mandate_data": mandates.parse(state, params)}


def descriptor_suffix(params):
    value = forms.string(params, "statement_descriptor_suffix")
    if value is None:
        return None
    if len(value) > 22:
        raise errors.invalid(
            "The statement descriptor suffix must be at most 22 characters "
            "long.", "statement_descriptor_suffix")
    if any(char in DESCRIPTOR_FORBIDDEN for char in value):
        raise errors.invalid(
            "The statement descriptor suffix contains invalid characters: "
            "it cannot contain any of <, >, \\, ', \" or *.",
            "statement_descriptor_suffix")
    return value


def check_method_type(method, allowed, param="payment_method"):
    if method["type"] not in allowed:
        raise errors.invalid(
            f"The PaymentMethod provided ({method['type']}) is not allowed "
            f"for this intent. Please attach a PaymentMethod of one of the "
            f"following types: {', '.join(allowed)}. Alternatively update "
            f"the allowed payment_method_types for this intent to include "
            f"\"{method['type']}\".", param,
            "payment_intent_incompatible_payment_method")


# -- helpers -----------------------------------------------------------------

def _common_fields(params, intent):
    for name in ("description", "receipt_email"):
        if name in params:
            intent[name] = forms.string(params, name)
    if "statement_descriptor_suffix" in params:
        intent["statement_descriptor_suffix"] = descriptor_suffix(params)
    if params.get("setup_future_usage"):
        intent["setup_future_usage"] = forms.string(
            params, "setup_future_usage", choices=SFU)
    intent["metadata"] = forms.metadata(params, intent["metadata"])


def _get(state, intent_id):
    found = state.find("payment_intent", intent_id)
    if found is None:
        raise errors.no_such("payment_intent", intent_id, "intent")
    return found


def _missing_method(intent):
    return errors.invalid(
        "You cannot confirm this PaymentIntent because it's missing a "
        "payment method. You can either update the PaymentIntent with a "
        "payment method and then confirm it again, or confirm it again "
        "directly with a payment method.",
        code="payment_intent_unexpected_state",
        **({"payment_intent": intent} if intent else {}))


def _amount(params):
    amount = forms.integer(params, "amount", required=True, minimum=1)
    if amount > MAXIMUM:
        raise errors.invalid("Amount must be no more than 99999999",
                             "amount", "amount_too_large")
    return amount


def _check_minimum(amount, currency):
    minimum, shown = MINIMUMS.get(currency, (1, ""))
    if amount < minimum:
        raise errors.invalid(f"Amount must be at least {shown} {currency}",
                             "amount", "amount_too_small")


def _off_session(params, confirm):
    value = params.get("off_session")
    if value is None:
        return False
    if not confirm:
        raise errors.invalid("You may only specify `off_session` when "
                             "`confirm` is true.", "off_session")
    if value in ("one_off", "recurring"):
        return True
    return forms.boolean(params, "off_session")


def _check_owner(method, intent):
    owner = method["customer"]
    if owner is not None and owner != intent["customer"]:
        raise errors.invalid(
            "The provided PaymentMethod was previously attached to a "
            "different Customer." if intent["customer"] else
            "The provided PaymentMethod belongs to a Customer. Pass that "
            "Customer's ID in the `customer` parameter to use it.",
            "payment_method")


def _method_param(state, ctx, params, intent):
    """Set the intent's payment_method from params (checked), if given."""
    if not params.get("payment_method"):
        return None
    method = get_payment_method(state, ctx, params["payment_method"],
                                "payment_method")
    check_reusable(state, method)
    _check_owner(method, intent)
    check_method_type(method, intent["payment_method_types"])
    intent["payment_method"] = method["id"]
    if intent["status"] == "requires_payment_method":
        intent["status"] = "requires_confirmation"
    return method
