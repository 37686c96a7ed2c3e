"""Setup intents: save a payment method for later (off-session) payments.

requires_payment_method -> requires_confirmation -> [requires_action, for
cards that ask for 3-D Secure] -> succeeded (the method is attached to the
customer and counts as set up; a bank account gets a multi-use mandate) |
canceled. A card that declines fails the setup with a 402 card_error.
"""
from . import cards, charging, errors, forms, mandates, objects, payments
from .resources import attach, check_reusable, get_customer, \
    get_payment_method

USAGES = ("on_session", "off_session")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation",
               "requires_action")
CANCEL_REASONS = ("abandoned", "requested_by_customer", "duplicate")
AUTH_FAILURE = ("The latest attempt to set up the payment method has failed "
                "because authentication failed.")


def create(state, ctx, params):
    types = payments.method_types(params)
    usage = forms.string(params, "usage", choices=USAGES) or "off_session"
    confirm = forms.boolean(params, "confirm")
    intent = objects.setup_intent(types, usage)
    if params.get("customer"):
        intent["customer"] = get_customer(state, params["customer"],
                                          "customer")["id"]
    intent.update(description=forms.string(params, "description"),
                  metadata=forms.metadata(params))
    options = payments.confirm_options(state, params, confirm)
    method = _method_param(state, ctx, params, intent)
    if confirm and method is not None and \
            method["type"] == "us_bank_account" and \
            options["mandate_data"] is None:
        raise errors.missing_param("mandate_data")     # before creating
    if confirm and method is None:
        raise _missing_method(None)          # nothing is created
    state.add(intent)
    state.emit(ctx, "setup_intent.created", intent)
    if confirm:
        return _confirm(state, ctx, intent, method, options)
    return intent


def retrieve(state, ctx, params, intent_id):
    return _get(state, intent_id)


def update(state, ctx, params, intent_id):
    intent = _get(state, intent_id)
    if intent["status"] in ("succeeded", "canceled"):
        for name in ("customer", "payment_method", "payment_method_types"):
            if name in params:
                raise errors.setup_unexpected_state(
                    f"You cannot update this SetupIntent's {name} because "
                    f"it has a status of {intent['status']}.", intent)
    if params.get("customer"):
        intent["customer"] = get_customer(state, params["customer"],
                                          "customer")["id"]
    if "payment_method_types" in params:
        types = payments.method_types(params)
        intent.update(payment_method_types=types,
                      payment_method_options=objects.payment_method_options(
                          types))
    for name in ("description",):
        if name in params:
            intent[name] = forms.string(params, name)
    intent["metadata"] = forms.metadata(params, intent["metadata"])
    _method_param(state, ctx, params, intent)
    return intent


def confirm(state, ctx, params, intent_id):
    intent = _get(state, intent_id)
    if intent["status"] not in CONFIRMABLE:
        raise errors.setup_unexpected_state(
            f"You cannot confirm this SetupIntent because it has a status of "
            f"{intent['status']}.", intent)
    options = payments.confirm_options(state, params, True)
    method = _method_param(state, ctx, params, intent)
    if method is None and intent["payment_method"]:
        method = state.find("payment_method", intent["payment_method"])
    if method is None:
        raise _missing_method(intent)
    state.pending.pop(intent["id"], None)
    return _confirm(state, ctx, intent, method, options)


def cancel(state, ctx, params, intent_id):
    intent = _get(state, intent_id)
    if intent["status"] not in CONFIRMABLE:
        raise errors.setup_unexpected_state(
            f"You cannot cancel this SetupIntent because it has a status of "
            f"{intent['status']}.", intent)
    reason = forms.string(params, "cancellation_reason",
                          choices=CANCEL_REASONS)
    state.pending.pop(intent["id"], None)
    intent.update(status="canceled", cancellation_reason=reason,
                  next_action=None)
    state.emit(ctx, "setup_intent.canceled", intent)
    return intent


def list_intents(state, ctx, params):
    filters = {}
    for name in ("customer", "payment_method"):
        if params.get(name):
            filters[name] = params[name]
    return objects.list_of("/v1/setup_intents",
                           state.all("setup_intent", **filters), params)


def authenticate(state, ctx, intent, success):
    """Finish 3-D Secure on a setup intent in `requires_action`."""
    method = state.find("payment_method", intent["payment_method"])
    state.pending.pop(intent["id"], None)
    intent["next_action"] = None
    if not success:
        intent.update(status="requires_payment_method", payment_method=None,
                      last_setup_error=charging.auth_failure(
                          "setup_intent_authentication_failure",
                          AUTH_FAILURE, method))
        state.emit(ctx, "setup_intent.setup_failed", intent)
        return "failed"
    _succeed(state, ctx, intent, method)
    return "succeeded"


# -- the work ----------------------------------------------------------------

def _confirm(state, ctx, intent, method, options):
    intent["next_action"] = None
    if method["type"] == "us_bank_account":
        acceptance = options["mandate_data"]
        if acceptance is None:
            raise errors.missing_param("mandate_data")
        mandate = mandates.create(state, method, acceptance, True)
        intent["mandate"] = mandate["id"]
        return _succeed(state, ctx, intent, method)
    test = cards.behaviour(method)
    if test is not None and test.setup_declines:
        raise _decline(state, ctx, intent, method, test.decline_code)
    if test is not None and test.three_d_secure:
        state.pending[intent["id"]] = {"return_url": options["return_url"]}
        intent.update(status="requires_action", last_setup_error=None,
                      next_action=charging.next_action(
                          ctx, intent["id"], options["return_url"]))
        state.emit(ctx, "setup_intent.requires_action", intent)
        return intent
    return _succeed(state, ctx, intent, method)


def _succeed(state, ctx, intent, method):
    customer = intent["customer"]
    if customer and method["customer"] is None:
        attach(state, ctx, method, state.find("customer", customer))
    if intent["usage"] == "off_session":
        state.set_up.add(method["id"])
    intent.update(status="succeeded", last_setup_error=None)
    state.emit(ctx, "setup_intent.succeeded", intent)
    return intent


def _decline(state, ctx, intent, method, decline_code):
    message = cards.DECLINE_MESSAGES[decline_code]
    if method["customer"] is None:
        state.consumed.add(method["id"])
    error = errors.card_declined(decline_code, message, setup_intent=intent,
                                 payment_method=method,
                                 request_log_url=ctx.request_log_url)
    last_error = {k: v for k, v in error.error.items()
                  if k not in ("setup_intent", "request_log_url")}
    intent.update(status="requires_payment_method", payment_method=None,
                  last_setup_error=last_error)
    state.emit(ctx, "setup_intent.setup_failed", intent)
    return error


def _get(state, intent_id):
    found = state.find("setup_intent", intent_id)
    if found is None:
        raise errors.no_such("setup_intent", intent_id, "intent")
    return found


def _missing_method(intent):
    return errors.invalid(
        "You cannot confirm this SetupIntent because it's missing a payment "
        "method. Update the SetupIntent with a payment method and then "
        "confirm it again.", code="setup_intent_unexpected_state",
        **({"setup_intent": intent} if intent else {}))


def _method_param(state, ctx, params, intent):
    if not params.get("payment_method"):
        return None
    method = get_payment_method(state, ctx, params["payment_method"],
                                "payment_method")
    check_reusable(state, method)
    owner = method["customer"]
    if owner is not None and owner != intent["customer"]:
        raise errors.invalid(
            "The provided PaymentMethod was previously attached to a "
            "different Customer.", "payment_method")
    payments.check_method_type(method, intent["payment_method_types"])
    intent["payment_method"] = method["id"]
    if intent["status"] == "requires_payment_method":
        intent["status"] = "requires_confirmation"
    return method
