"""Mandates: the customer's permission to debit a US bank account.

A SetupIntent, or a payment with `setup_future_usage`, that carries
`mandate_data` makes a multi-use mandate, which later payments (on- or
off-session) for the same customer reuse. A one-off payment's mandate is
single-use.
"""
from . import errors, forms, objects

ACCEPTANCE_TYPES = ("online", "offline")


def parse(state, params):
    """`mandate_data[customer_acceptance]` -> Stripe's customer_acceptance
    hash, or None when no mandate_data was sent."""
    data = forms.hash_param(params, "mandate_data")
    if not data:
        return None
    prefix = "mandate_data[customer_acceptance]"
    acceptance = data.get("customer_acceptance")
    if not isinstance(acceptance, dict):
        raise errors.missing_param(prefix)
    kind = acceptance.get("type")
    if not kind:
        raise errors.missing_param(f"{prefix}[type]")
    if kind not in ACCEPTANCE_TYPES:
        raise errors.invalid(f"Invalid {prefix}[type]: must be one of "
                             f"online or offline", f"{prefix}[type]")
    result = {"accepted_at": state.now(), "type": kind}
    if kind == "offline":
        result["offline"] = {}
        return result
    online = acceptance.get("online")
    if not isinstance(online, dict):
        raise errors.missing_param(f"{prefix}[online]")
    for name in ("ip_address", "user_agent"):
        if not online.get(name):
            raise errors.missing_param(f"{prefix}[online][{name}]")
    result["online"] = {"ip_address": online["ip_address"],
                        "user_agent": online["user_agent"]}
    return result


def active_for(state, method, customer):
    """The active multi-use mandate for this method and customer, if any."""
    if not customer or method["customer"] != customer:
        return None
    for mandate in state.all("mandate", payment_method=method["id"],
                             status="active", type="multi_use"):
        return mandate
    return None


def create(state, method, acceptance, multi_use, amount=None, currency=None):
    return state.add(objects.mandate(method, acceptance, multi_use, amount,
                                     currency))


def for_payment(state, ctx, intent, method, options):
    """The mandate a bank debit goes out under (raises if there is none)."""
    acceptance = options.get("mandate_data")
    if acceptance is not None:
        return create(state, method, acceptance,
                      bool(intent["setup_future_usage"]), intent["amount"],
                      intent["currency"])
    return require(state, intent, method, options)


def require(state, intent, method, options):
    """Raise unless a debit of `method` for this intent has a mandate to go
    out under (new mandate_data, or an active multi-use mandate)."""
    if options.get("mandate_data") is not None:
        return None
    existing = active_for(state, method, intent["customer"])
    if existing is not None:
        return existing
    if options["off_session"]:
        raise errors.invalid(
            "This PaymentIntent cannot be confirmed off-session: the "
            "us_bank_account PaymentMethod has no active mandate for this "
            "customer. Set it up first (a SetupIntent, or an on-session "
            "payment with setup_future_usage and mandate_data).",
            "mandate_data")
    raise errors.missing_param("mandate_data")


def deactivate_for(state, method_id):
    for mandate in state.all("mandate", payment_method=method_id):
        mandate["status"] = "inactive"


def retrieve(state, ctx, params, mandate_id):
    found = state.find("mandate", mandate_id)
    if found is None:
        raise errors.no_such("mandate", mandate_id, "id")
    return found
