"""Refunds of succeeded payments.

Card refunds succeed at once; ACH refunds stay `pending` until the sandbox
clock passes creation + `ach_settlement_seconds`; refunds of a
pm_card_refundFail (5126) payment succeed, then fail after
`refund_failure_seconds` and give the amount back to the charge.
The charge's `amount_refunded` counts pending and succeeded refunds.
"""
from . import cards, errors, forms, objects

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
LIVE = ("pending", "requires_action", "succeeded")
SYMBOLS = {"usd": "$", "cad": "$", "aud": "$", "nzd": "$", "sgd": "$",
           "hkd": "$", "mxn": "$", "eur": "€", "gbp": "£", "jpy": "¥"}
ZERO_DECIMAL = {"jpy"}


def create(state, ctx, params):
    charge = _charge_param(state, params)
    amount = forms.integer(params, "amount", minimum=1)
    reason = forms.string(params, "reason", choices=REASONS)
    metadata = forms.metadata(params)
    remaining = charge["amount"] - refunded_amount(state, charge)
    if remaining <= 0:
        raise errors.invalid(f"Charge {charge['id']} has already been "
                             f"refunded.", code="charge_already_refunded",
                             charge=charge["id"])
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise errors.invalid(
            f"Refund amount ({_money(amount, charge['currency'])}) is "
            f"greater than unrefunded amount on charge "
            f"({_money(remaining, charge['currency'])})", "amount")
    method = state.find("payment_method", charge["payment_method"])
    test = cards.behaviour(method) if method else None
    bank = charge["payment_method_details"]["type"] == "us_bank_account"
    refund = state.add(objects.refund(charge, amount, reason, metadata,
                                      "pending" if bank else "succeeded"))
    if bank:
        state.schedule(state.ach_settlement_seconds, "refund_settles",
                       refund["id"])
    elif getattr(test, "refund_fails", False):
        state.schedule(state.refund_failure_seconds, "refund_fails",
                       refund["id"])
    _update_charge(state, charge)
    state.emit(ctx, "refund.created", refund)
    state.emit(ctx, "charge.refunded", charge)
    return refund


def retrieve(state, ctx, params, refund_id):
    return _get(state, refund_id)


def update(state, ctx, params, refund_id):
    refund = _get(state, refund_id)
    metadata = forms.metadata(params, refund["metadata"])
    if metadata != refund["metadata"]:
        previous = {"metadata": refund["metadata"]}
        refund["metadata"] = metadata
        state.emit(ctx, "refund.updated", refund, previous)
    return refund


def cancel(state, ctx, params, refund_id):
    refund = _get(state, refund_id)
    if refund["status"] != "requires_action":
        raise errors.invalid(
            f"Refund {refund['id']} has a status of {refund['status']}. Only "
            f"refunds with a status of requires_action can be canceled.")
    previous = {"status": refund["status"]}
    refund.update(status="canceled", failure_reason="merchant_request")
    _update_charge(state, state.find("charge", refund["charge"]))
    state.emit(ctx, "refund.updated", refund, previous)
    return refund


def list_refunds(state, ctx, params):
    filters = {}
    for name in ("payment_intent", "charge"):
        if params.get(name):
            filters[name] = params[name]
    return objects.list_of("/v1/refunds", state.all("refund", **filters),
                           params)


def refunded_amount(state, charge):
    return sum(refund["amount"] for refund in
               state.all("refund", charge=charge["id"])
               if refund["status"] in LIVE)


# -- settlement (sandbox clock) ----------------------------------------------

def settle_pending(state, ctx, refund_id):
    """An ACH refund reaches the customer's bank."""
    refund = state.find("refund", refund_id)
    if refund is None or refund["status"] != "pending":
        return
    _transition(state, ctx, refund, "succeeded")


def fail(state, ctx, refund_id):
    """A pm_card_refundFail refund bounces: failed, amount given back."""
    refund = state.find("refund", refund_id)
    if refund is None or refund["status"] != "succeeded":
        return
    refund.update(failure_reason="expired_or_canceled_card",
                  failure_balance_transaction=objects.new_id("txn"))
    _transition(state, ctx, refund, "failed")
    state.emit(ctx, "refund.failed", refund)


def _transition(state, ctx, refund, status):
    previous = {"status": refund["status"]}
    refund["status"] = status
    charge = state.find("charge", refund["charge"])
    _update_charge(state, charge)
    state.emit(ctx, "refund.updated", refund, previous)
    state.emit(ctx, "charge.refund.updated", refund, previous)


# -- helpers -----------------------------------------------------------------

def _update_charge(state, charge):
    refunded = refunded_amount(state, charge)
    charge.update(amount_refunded=refunded,
                  refunded=refunded >= charge["amount"])


def _charge_param(state, params):
    intent_id = forms.string(params, "payment_intent")
    charge_id = forms.string(params, "charge")
    if intent_id and charge_id:
        raise errors.invalid("You may only specify one of these parameters: "
                             "charge, payment_intent.", "payment_intent")
    if intent_id:
        intent = state.find("payment_intent", intent_id)
        if intent is None:
            raise errors.no_such("payment_intent", intent_id,
                                 "payment_intent", status=400)
        charge = state.find("charge", intent["latest_charge"] or "")
        if intent["status"] != "succeeded" or charge is None:
            raise errors.invalid(
                f"This PaymentIntent ({intent_id}) does not have a "
                f"successful charge to refund.", "payment_intent",
                payment_intent=intent)
        return charge
    if charge_id:
        charge = state.find("charge", charge_id)
        if charge is None:
            raise errors.no_such("charge", charge_id, "charge", status=400)
        if charge["status"] != "succeeded":
            raise errors.invalid(
                f"Charge {charge_id} cannot be refunded because its status "
                f"is {charge['status']}; only a succeeded charge can be "
                f"refunded.", "charge")
        return charge
    raise errors.invalid("One of the following params should be provided "
                         "for this request: payment_intent or charge.")


def _money(amount, currency):
    symbol = SYMBOLS.get(currency, "")
    if currency in ZERO_DECIMAL:
        text = f"{symbol}{amount:,}"
    else:
        text = f"{symbol}{amount / 100:,.2f}"
    return text if symbol else f"{text} {currency}"


def _get(state, refund_id):
    found = state.find("refund", refund_id)
    if found is None:
        raise errors.no_such("refund", refund_id, "id")
    return found
