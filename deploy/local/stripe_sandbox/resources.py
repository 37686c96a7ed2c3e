"""Customers, payment methods, charges and events.

Handlers take (state, ctx, params[, object_id]) and return the object to
send, or raise errors.StripeApiError. The caller holds the state lock.
"""
from . import cards, errors, forms, objects

REUSE_MESSAGE = ("This PaymentMethod was previously used without being "
                 "attached to a Customer or was detached from a Customer, "
                 "and may not be used again.")


# -- lookups shared with payments.py ---------------------------------------

def get_customer(state, customer_id, param=None):
    found = state.find("customer", customer_id)
    if found is None:
        raise errors.no_such("customer", customer_id, param or "id",
                             status=400 if param else 404)
    return found


def get_payment_method(state, ctx, method_id, param=None):
    """A pm by id; a test token resolves to one fresh pm per request."""
    test = cards.TOKENS.get(method_id)
    if test is not None:
        if method_id not in ctx.tokens:
            if isinstance(test, cards.TestCard):
                method = objects.card_payment_method(test)
            else:
                method = objects.bank_payment_method(
                    test, billing={"name": "Jenny Rosen"})
            ctx.tokens[method_id] = state.add(method)["id"]
        return state.find("payment_method", ctx.tokens[method_id])
    found = state.find("payment_method", method_id)
    if found is None:
        raise errors.no_such("PaymentMethod", method_id,
                             param or "payment_method",
                             status=400 if param else 404)
    return found


def check_reusable(state, method, param="payment_method"):
    if method["id"] in state.consumed:
        raise errors.invalid(REUSE_MESSAGE, param)


def attach(state, ctx, method, customer):
    if method["customer"] == customer["id"]:
        return method
    if method["customer"] is not None:
        raise errors.invalid("The payment method you provided has already "
                             "been attached to a customer.", "payment_method")
    check_reusable(state, method)
    method["customer"] = customer["id"]
    state.emit(ctx, "payment_method.attached", method)
    return method


# -- customers ---------------------------------------------------------------

def _customer_fields(params):
    return {name: forms.string(params, name)
            for name in ("email", "name", "description", "phone")
            if name in params}


def create_customer(state, ctx, params):
    fields = _customer_fields(params)
    fields["metadata"] = forms.metadata(params)
    method = None
    if params.get("payment_method"):
        method = get_payment_method(state, ctx, params["payment_method"],
                                    "payment_method")
        check_reusable(state, method)
    default = _default_pm_param(state, ctx, params)
    if default is not None and default is not method:
        raise _not_attached(default["id"])
    customer = state.add(objects.customer(fields))
    if default is not None:
        customer["invoice_settings"]["default_payment_method"] = default["id"]
    state.emit(ctx, "customer.created", customer)
    if method is not None:
        attach(state, ctx, method, customer)
    return customer


def retrieve_customer(state, ctx, params, customer_id):
    return get_customer(state, customer_id)


def update_customer(state, ctx, params, customer_id):
    customer = get_customer(state, customer_id)
    changes = _customer_fields(params)
    changes["metadata"] = forms.metadata(params, customer["metadata"])
    default = _default_pm_param(state, ctx, params)
    settings = params.get("invoice_settings")
    if isinstance(settings, dict) and "default_payment_method" in settings:
        if default is not None and default["customer"] != customer_id:
            raise _not_attached(default["id"])
        changes["invoice_settings"] = dict(
            customer["invoice_settings"],
            default_payment_method=default["id"] if default else None)
    previous = {k: customer[k] for k, v in changes.items()
                if customer[k] != v}
    if previous:
        customer.update(changes)
        state.emit(ctx, "customer.updated", customer, previous)
    return customer


def list_customers(state, ctx, params):
    filters = {"email": params["email"]} if params.get("email") else {}
    return objects.list_of("/v1/customers",
                           state.all("customer", **filters), params)


def _default_pm_param(state, ctx, params):
    settings = params.get("invoice_settings")
    if not isinstance(settings, dict):
        return None
    method_id = settings.get("default_payment_method")
    if not method_id:
        return None
    return get_payment_method(state, ctx, method_id,
                              "invoice_settings[default_payment_method]")


def _not_attached(method_id):
    return errors.invalid(
        f"The customer does not have a payment method with the ID "
        f"{method_id}. The payment method must be attached to the customer.",
        "invoice_settings[default_payment_method]")


# -- payment methods ---------------------------------------------------------

def retrieve_payment_method(state, ctx, params, method_id):
    return get_payment_method(state, ctx, method_id)


def attach_payment_method(state, ctx, params, method_id):
    customer_id = forms.string(params, "customer", required=True)
    customer = get_customer(state, customer_id, "customer")
    return attach(state, ctx, get_payment_method(state, ctx, method_id),
                  customer)


def detach_payment_method(state, ctx, params, method_id):
    method = get_payment_method(state, ctx, method_id)
    customer_id = method["customer"]
    if customer_id is None:
        raise errors.invalid("The payment method you provided is not "
                             "attached to a customer so detachment is "
                             "impossible.", "payment_method")
    method["customer"] = None
    state.consumed.add(method["id"])
    settings = state.find("customer", customer_id)["invoice_settings"]
    if settings["default_payment_method"] == method["id"]:
        settings["default_payment_method"] = None
    state.emit(ctx, "payment_method.detached", method,
               {"customer": customer_id})
    return method


def list_payment_methods(state, ctx, params):
    customer_id = forms.string(params, "customer")
    if customer_id:
        get_customer(state, customer_id, "customer")
    return _payment_methods("/v1/payment_methods", state, customer_id,
                            params)


def list_customer_payment_methods(state, ctx, params, customer_id):
    get_customer(state, customer_id)
    return _payment_methods(f"/v1/customers/{customer_id}/payment_methods",
                            state, customer_id, params)


def _payment_methods(url, state, customer_id, params):
    filters = {"customer": customer_id} if customer_id else {}
    if params.get("type"):
        filters["type"] = params["type"]
    return objects.list_of(url, state.all("payment_method", **filters),
                           params)


# -- charges and events ------------------------------------------------------

def retrieve_charge(state, ctx, params, charge_id):
    found = state.find("charge", charge_id)
    if found is None:
        raise errors.no_such("charge", charge_id, "id")
    return found


def retrieve_event(state, ctx, params, event_id):
    found = state.find("event", event_id)
    if found is None:
        raise errors.no_such("event", event_id, "id")
    return found


def list_events(state, ctx, params):
    filters = {"type": params["type"]} if params.get("type") else {}
    return objects.list_of("/v1/events", state.all("event", **filters),
                           params)
