"""Payment intents: create, confirm (charging a test card), update, cancel.

Card payments settle synchronously: a good card -> `succeeded` with a
charge; a declining card -> HTTP 402 card_error and the intent back in
`requires_payment_method`. (Asynchronous methods such as ACH, which sit in
`processing` and settle later, would branch off in `_charge`.)
"""
from . import cards, errors, forms, objects
from .resources import (attach, check_reusable, get_customer,
                        get_payment_method)

CURRENCIES = {"usd", "eur", "gbp", "cad", "aud", "chf", "nzd", "sek", "nok",
              "dkk", "jpy", "mxn", "sgd", "hkd"}
MINIMUMS = {"usd": (50, "$0.50"), "eur": (50, "€0.50"), "gbp": (30, "£0.30"),
            "cad": (50, "$0.50"), "aud": (50, "$0.50")}
MAXIMUM = 99999999
CONFIRMABLE = ("requires_payment_method", "requires_confirmation",
               "requires_action")
CANCELABLE = ("requires_payment_method", "requires_capture",
              "requires_confirmation", "requires_action", "processing")
FINAL = ("succeeded", "canceled", "processing")
SFU = ("on_session", "off_session")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer",
                  "abandoned")


def create(state, ctx, params):
    amount = _amount(params)
    currency = forms.string(params, "currency", required=True).lower()
    if currency not in CURRENCIES:
        raise errors.invalid(f"Invalid currency: {currency}. Stripe currently "
                             f"supports these currencies: "
                             f"{', '.join(sorted(CURRENCIES))}", "currency")
    _check_minimum(amount, currency)
    confirm = forms.boolean(params, "confirm")
    off_session = _off_session(params, confirm)
    types = forms.string_list(params, "payment_method_types") or ["card"]
    for index, kind in enumerate(types):
        if kind != "card":
            raise errors.invalid(
                f"The payment method type provided: {kind} is invalid. The "
                f"sandbox supports: card", f"payment_method_types[{index}]")
    if forms.string(params, "capture_method") == "manual":
        raise errors.invalid("capture_method=manual is not supported by the "
                             "sandbox yet.", "capture_method")
    customer = params.get("customer")
    if customer:
        customer = get_customer(state, customer, "customer")["id"]
    intent = objects.payment_intent(amount, currency)
    intent.update(
        customer=customer or None, payment_method_types=types,
        description=forms.string(params, "description"),
        metadata=forms.metadata(params),
        receipt_email=forms.string(params, "receipt_email"),
        setup_future_usage=forms.string(params, "setup_future_usage",
                                        choices=SFU))
    method = _method_param(state, ctx, params, intent)
    state.add(intent)
    state.emit(ctx, "payment_intent.created", intent)
    if confirm:
        return _charge(state, ctx, intent, method, off_session)
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
    for name in ("amount", "customer", "payment_method"):
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
    for name in ("description", "receipt_email"):
        if name in params:
            intent[name] = forms.string(params, name)
    intent["metadata"] = forms.metadata(params, intent["metadata"])
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
    off_session = _off_session(params, True)
    if params.get("setup_future_usage"):
        intent["setup_future_usage"] = forms.string(
            params, "setup_future_usage", choices=SFU)
    method = _method_param(state, ctx, params, intent)
    if method is None and intent["payment_method"]:
        method = state.find("payment_method", intent["payment_method"])
    if method is None:
        raise errors.unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a "
            "payment method. You can either update the PaymentIntent with a "
            "payment method and then confirm it again, or confirm it again "
            "directly with a payment method.", intent)
    return _charge(state, ctx, intent, method, off_session)


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
    intent.update(status="canceled", canceled_at=objects.now(),
                  cancellation_reason=reason)
    state.emit(ctx, "payment_intent.canceled", intent)
    return intent


# -- helpers -----------------------------------------------------------------

def _get(state, intent_id):
    found = state.find("payment_intent", intent_id)
    if found is None:
        raise errors.no_such("payment_intent", intent_id, "intent")
    return found


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


def _method_param(state, ctx, params, intent):
    """Set the intent's payment_method from params (checked), if given."""
    if not params.get("payment_method"):
        return None
    method = get_payment_method(state, ctx, params["payment_method"],
                                "payment_method")
    check_reusable(state, method)
    owner = method["customer"]
    if owner is not None and owner != intent["customer"]:
        raise errors.invalid(
            "The provided PaymentMethod was previously attached to a "
            "different Customer." if intent["customer"] else
            "The provided PaymentMethod belongs to a Customer. Pass that "
            "Customer's ID in the `customer` parameter to use it.",
            "payment_method")
    intent["payment_method"] = method["id"]
    if intent["status"] == "requires_payment_method":
        intent["status"] = "requires_confirmation"
    return method


def _charge(state, ctx, intent, method, off_session):
    card = cards.by_fingerprint(method["card"]["fingerprint"])
    charge = state.add(objects.charge(intent, method, card))
    intent["latest_charge"] = charge["id"]
    customer = intent["customer"]
    if card.decline_code:
        return _decline(state, ctx, intent, method, charge, card)
    if intent["setup_future_usage"] and customer and not method["customer"]:
        attach(state, ctx, method, state.find("customer", customer))
    elif method["customer"] is None:
        state.consumed.add(method["id"])
    state.emit(ctx, "charge.succeeded", charge)
    intent.update(status="succeeded", amount_received=intent["amount"],
                  last_payment_error=None)
    state.emit(ctx, "payment_intent.succeeded", intent)
    return intent


def _decline(state, ctx, intent, method, charge, card):
    if method["customer"] is None:
        state.consumed.add(method["id"])
    message = cards.DECLINE_MESSAGES[card.decline_code]
    error = errors.card_declined(
        card.decline_code, message, charge_id=charge["id"],
        payment_intent=intent, payment_method=method,
        request_log_url=ctx.request_log_url)
    last_error = {k: v for k, v in error.error.items()
                  if k not in ("payment_intent", "request_log_url")}
    intent.update(status="requires_payment_method", payment_method=None,
                  last_payment_error=last_error)
    state.emit(ctx, "charge.failed", charge)
    state.emit(ctx, "payment_intent.payment_failed", intent)
    raise error
