"""Stripe-shaped API errors.

Every failure a handler can report is a `StripeApiError`; the API layer turns
it into `{"error": {...}}` with the right HTTP status, which is what the
official SDK maps onto its exception classes (400/404 -> InvalidRequestError
or IdempotencyError by `type`, 401 -> AuthenticationError, 402 -> CardError).
"""

DOCS = "https://stripe.com/docs/error-codes/"


class StripeApiError(Exception):
    def __init__(self, status, message, *, type_="invalid_request_error",
                 param=None, code=None, **extra):
        super().__init__(message)
        self.status = status
        self.error = {"type": type_, "message": message}
        if code:
            self.error["code"] = code
            self.error["doc_url"] = DOCS + code.replace("_", "-")
        if param:
            self.error["param"] = param
        self.error.update(extra)

    def body(self):
        return {"error": self.error}


def invalid(message, param=None, code=None, status=400, **extra):
    return StripeApiError(status, message, param=param, code=code, **extra)


def missing_param(name):
    return invalid(f"Missing required param: {name}.", name,
                   "parameter_missing")


def no_such(kind, object_id, param, status=404):
    return invalid(f"No such {kind}: '{object_id}'", param, "resource_missing",
                   status=status)


def unauthorized(message):
    return StripeApiError(401, message)


def unknown_route(method, path):
    return invalid(f"Unrecognized request URL ({method}: {path}). Please see "
                   "https://stripe.com/docs or we can help at "
                   "https://support.stripe.com/.", status=404)


def idempotency_mismatch(key):
    return StripeApiError(
        400,
        "Keys for idempotent requests can only be used with the same "
        "parameters they were first used with. Try using a key other than "
        f"'{key}' if you meant to execute a different request.",
        type_="idempotency_error")


def unexpected_state(message, payment_intent):
    return invalid(message, code="payment_intent_unexpected_state",
                   payment_intent=payment_intent)


def setup_unexpected_state(message, setup_intent):
    return invalid(message, code="setup_intent_unexpected_state",
                   setup_intent=setup_intent)


def publishable_key():
    return StripeApiError(
        401, "This API call cannot be made with a publishable API key. "
        "Please use a secret API key. You can find a list of your API keys "
        "at https://dashboard.stripe.com/account/apikeys.")


def card_error(code, message, param=None, **extra):
    return StripeApiError(402, message, type_="card_error", code=code,
                          param=param, **extra)


def card_declined(decline_code, message, *, charge_id=None,
                  payment_intent=None, setup_intent=None,
                  payment_method=None, request_log_url=None,
                  code="card_declined"):
    """A 402 decline; `error.payment_intent` / `error.setup_intent` carry the
    intent as it is after the failure."""
    extra = {"decline_code": decline_code}
    if charge_id:
        extra["charge"] = charge_id
    if payment_intent is not None:
        extra["payment_intent"] = payment_intent
    if setup_intent is not None:
        extra["setup_intent"] = setup_intent
    if payment_method is not None:
        extra["payment_method"] = payment_method
    if request_log_url:
        extra["request_log_url"] = request_log_url
    return StripeApiError(402, message, type_="card_error", code=code,
                          **extra)


def api_error(status=500):
    if status == 429:
        return StripeApiError(
            429, "Too many requests hit the API too quickly. We recommend an "
            "exponential backoff of your requests.", code="rate_limit")
    return StripeApiError(
        status, "An unknown error occurred", type_="api_error")
