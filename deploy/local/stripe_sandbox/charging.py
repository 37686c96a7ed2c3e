"""Paying a PaymentIntent with a PaymentMethod.

Cards settle at once: succeeded, declined (HTTP 402), or waiting in
`requires_action` for 3-D Secure (finished by `authenticate`, from the
hosted /3ds/ page or POST /_sandbox/authenticate/<id>). US bank accounts
move to `processing` with a pending charge and settle when the sandbox clock
passes confirm time + `ach_settlement_seconds` (`settle_ach_payment`).
Declines are returned (not raised) so the 3-D Secure page can use them too.
"""
from . import cards, errors, mandates, objects
from .resources import attach

AUTH_FAILURE = ("The provided PaymentMethod has failed authentication. You "
                "can provide payment_method_data or a new PaymentMethod to "
                "attempt to fulfill this PaymentIntent again.")
THREE_D_SECURE = {"authentication_flow": "challenge",
                  "electronic_commerce_indicator": "05",
                  "result": "authenticated", "result_reason": None,
                  "transaction_id": None, "version": "2.2.0"}


def pay(state, ctx, intent, method, options):
    """Confirm `intent` with `method`. Returns the intent or raises the
    Stripe error (a 402 decline has already updated the intent)."""
    test = cards.behaviour(method)
    intent["next_action"] = None
    if method["type"] == "us_bank_account":
        return _pay_bank(state, ctx, intent, method, options)
    needs = needs_authentication(state, method, test, options["off_session"])
    if needs == "decline":
        raise decline(state, ctx, intent, method, "authentication_required",
                      code="authentication_required")
    if needs == "action":
        return _require_action(state, ctx, intent, method, options)
    result = _charge_card(state, ctx, intent, method, test)
    if isinstance(result, errors.StripeApiError):
        raise result
    return result


def needs_authentication(state, method, test, off_session):
    """None, "action" (on-session: 3-D Secure) or "decline" (off-session)."""
    mode = test.three_d_secure if test else None
    if mode is None:
        return None
    if not off_session:
        return "action"
    if mode == cards.ALWAYS or method["id"] not in state.set_up:
        return "decline"
    return None


def authenticate(state, ctx, intent, success):
    """Finish 3-D Secure on a payment intent in `requires_action`.
    Returns redirect_status: succeeded | failed."""
    method = state.find("payment_method", intent["payment_method"])
    state.pending.pop(intent["id"], None)
    intent["next_action"] = None
    if not success:
        _spend(state, method)
        intent.update(status="requires_payment_method", payment_method=None,
                      last_payment_error=auth_failure(
                          "payment_intent_authentication_failure",
                          AUTH_FAILURE, method))
        state.emit(ctx, "payment_intent.payment_failed", intent)
        return "failed"
    result = _charge_card(state, ctx, intent, method, cards.behaviour(method),
                          authenticated=True)
    return "failed" if isinstance(result, errors.StripeApiError) else \
        "succeeded"


def auth_failure(code, message, method):
    return {"code": code, "doc_url": errors.DOCS + code.replace("_", "-"),
            "message": message, "payment_method": method,
            "type": "invalid_request_error"}


def next_action(ctx, intent_id, return_url):
    url = f"{ctx.base_url}/3ds/{intent_id}"
    if return_url:
        return {"type": "redirect_to_url",
                "redirect_to_url": {"url": url, "return_url": return_url}}
    return {"type": "use_stripe_sdk", "use_stripe_sdk": {
        "type": "three_d_secure_redirect", "stripe_js": url,
        "source": objects.new_id("src")}}


def _require_action(state, ctx, intent, method, options):
    state.pending[intent["id"]] = {"return_url": options.get("return_url")}
    intent.update(status="requires_action", last_payment_error=None,
                  next_action=next_action(ctx, intent["id"],
                                          options.get("return_url")))
    state.emit(ctx, "payment_intent.requires_action", intent)
    return intent


def _charge_card(state, ctx, intent, method, test, authenticated=False):
    if test is not None and test.decline_code:
        return decline(state, ctx, intent, method, test.decline_code)
    charge = state.add(objects.charge(
        intent, method, status="succeeded", outcome=objects.card_outcome(),
        three_d_secure=dict(THREE_D_SECURE) if authenticated else None))
    intent["latest_charge"] = charge["id"]
    _save_or_spend(state, ctx, intent, method)
    state.emit(ctx, "charge.succeeded", charge)
    intent.update(status="succeeded", amount_received=intent["amount"],
                  last_payment_error=None)
    state.emit(ctx, "payment_intent.succeeded", intent)
    return intent


def decline(state, ctx, intent, method, decline_code, code="card_declined"):
    """Record a declined card charge; return the 402 error to raise."""
    message = cards.DECLINE_MESSAGES[decline_code]
    charge = state.add(objects.charge(
        intent, method, status="failed", failure_code=code,
        failure_message=message, outcome=objects.card_outcome(decline_code)))
    intent["latest_charge"] = charge["id"]
    _spend(state, method)
    error = errors.card_declined(
        decline_code, message, code=code, charge_id=charge["id"],
        payment_intent=intent, payment_method=method,
        request_log_url=ctx.request_log_url)
    last_error = {k: v for k, v in error.error.items()
                  if k not in ("payment_intent", "request_log_url")}
    intent.update(status="requires_payment_method", payment_method=None,
                  last_payment_error=last_error)
    state.emit(ctx, "charge.failed", charge)
    state.emit(ctx, "payment_intent.payment_failed", intent)
    return error


def _save_or_spend(state, ctx, intent, method):
    """setup_future_usage with a customer saves the method (and counts as
    setting it up for off-session use); otherwise a method that belongs to
    no customer is spent."""
    customer = intent["customer"]
    if intent["setup_future_usage"] and customer:
        if method["customer"] is None:
            attach(state, ctx, method, state.find("customer", customer))
        if method["customer"] == customer:
            state.set_up.add(method["id"])
            return
    _spend(state, method)


def _spend(state, method):
    if method is not None and method["customer"] is None:
        state.consumed.add(method["id"])


# -- US bank accounts (ACH Direct Debit) -------------------------------------

def _pay_bank(state, ctx, intent, method, options):
    mandate = mandates.for_payment(state, ctx, intent, method, options)
    charge = state.add(objects.charge(intent, method, status="pending",
                                      mandate_id=mandate["id"]))
    intent.update(latest_charge=charge["id"], status="processing",
                  last_payment_error=None)
    _save_or_spend(state, ctx, intent, method)
    state.schedule(state.ach_settlement_seconds, "ach_payment", intent["id"])
    state.emit(ctx, "charge.pending", charge)
    state.emit(ctx, "payment_intent.processing", intent)
    return intent


def settle_ach_payment(state, ctx, intent_id):
    """The debit's outcome, once its settlement time has come (once)."""
    intent = state.find("payment_intent", intent_id)
    if intent is None or intent["status"] != "processing":
        return
    charge = state.find("charge", intent["latest_charge"])
    method = state.find("payment_method", charge["payment_method"])
    failure = getattr(cards.behaviour(method), "failure_code", None)
    if failure is None:
        charge.update(status="succeeded", paid=True,
                      outcome=objects.bank_outcome())
        state.emit(ctx, "charge.succeeded", charge)
        intent.update(status="succeeded", amount_received=intent["amount"])
        state.emit(ctx, "payment_intent.succeeded", intent)
        return
    message = cards.BANK_FAILURE_MESSAGES[failure]
    charge.update(status="failed", paid=False, captured=False,
                  amount_captured=0, failure_code=failure,
                  failure_message=message,
                  outcome=objects.bank_outcome(failure))
    if failure != "insufficient_funds":
        mandates.deactivate_for(state, method["id"])
    intent.update(status="requires_payment_method", payment_method=None,
                  last_payment_error={
                      "code": failure,
                      "doc_url": errors.DOCS + failure.replace("_", "-"),
                      "message": message, "payment_method": method,
                      "type": "invalid_request_error"})
    state.emit(ctx, "charge.failed", charge)
    state.emit(ctx, "payment_intent.payment_failed", intent)
