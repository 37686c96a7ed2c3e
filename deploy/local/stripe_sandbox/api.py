"""The Stripe API pipeline: auth -> idempotency -> route -> JSON response.

`handle` never raises for API-level failures: it returns a `Response`
whose `events` were recorded while handling and are to be delivered
(by the caller) only after the response has been written.
"""
import base64
import json
import re
from dataclasses import dataclass, field
from typing import List

from . import (errors, forms, mandates, methods, objects, payments, refunds,
               resources, setup)
from .state import RequestContext, StoredResponse

_ID = r"([^/]+)"
ROUTES = [(method, re.compile(f"^{pattern}$"), handler)
          for method, pattern, handler in [
    ("POST", "/v1/customers", resources.create_customer),
    ("GET", "/v1/customers", resources.list_customers),
    ("GET", f"/v1/customers/{_ID}", resources.retrieve_customer),
    ("POST", f"/v1/customers/{_ID}", resources.update_customer),
    ("GET", f"/v1/customers/{_ID}/payment_methods",
     resources.list_customer_payment_methods),
    ("POST", "/v1/payment_methods", methods.create_payment_method),
    ("GET", "/v1/payment_methods", resources.list_payment_methods),
    ("GET", f"/v1/payment_methods/{_ID}", resources.retrieve_payment_method),
    ("POST", f"/v1/payment_methods/{_ID}/attach",
     resources.attach_payment_method),
    ("POST", f"/v1/payment_methods/{_ID}/detach",
     resources.detach_payment_method),
    ("POST", "/v1/payment_intents", payments.create),
    ("GET", "/v1/payment_intents", payments.list_intents),
    ("GET", f"/v1/payment_intents/{_ID}", payments.retrieve),
    ("POST", f"/v1/payment_intents/{_ID}", payments.update),
    ("POST", f"/v1/payment_intents/{_ID}/confirm", payments.confirm),
    ("POST", f"/v1/payment_intents/{_ID}/cancel", payments.cancel),
    ("POST", "/v1/setup_intents", setup.create),
    ("GET", "/v1/setup_intents", setup.list_intents),
    ("GET", f"/v1/setup_intents/{_ID}", setup.retrieve),
    ("POST", f"/v1/setup_intents/{_ID}", setup.update),
    ("POST", f"/v1/setup_intents/{_ID}/confirm", setup.confirm),
    ("POST", f"/v1/setup_intents/{_ID}/cancel", setup.cancel),
    ("GET", f"/v1/mandates/{_ID}", mandates.retrieve),
    ("POST", "/v1/refunds", refunds.create),
    ("GET", "/v1/refunds", refunds.list_refunds),
    ("GET", f"/v1/refunds/{_ID}", refunds.retrieve),
    ("POST", f"/v1/refunds/{_ID}", refunds.update),
    ("POST", f"/v1/refunds/{_ID}/cancel", refunds.cancel),
    ("GET", f"/v1/charges/{_ID}", resources.retrieve_charge),
    ("GET", "/v1/events", resources.list_events),
    ("GET", f"/v1/events/{_ID}", resources.retrieve_event),
]]
NO_KEY = ("You did not provide an API key. You need to provide your API key "
          "in the Authorization header, using Bearer auth (e.g. "
          "'Authorization: Bearer YOUR_SECRET_KEY'). See "
          "https://stripe.com/docs/api#authentication for details, or we "
          "can help at https://support.stripe.com/.")


# the only call a publishable key may make (as Stripe.js does)
PUBLISHABLE_ROUTES = {("POST", "/v1/payment_methods")}


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)
    events: List[tuple] = field(default_factory=list)
    replayed: bool = False
    content_type: str = "application/json"


def encode(payload):
    return json.dumps(payload, indent=2).encode("utf-8")


def handle(state, method, path, query, raw_body, headers, base_url=""):
    request_id = objects.new_id("req", 14)
    base = {"Request-Id": request_id, "Stripe-Version": objects.API_VERSION}
    key = headers.get("Idempotency-Key") if method == "POST" else None
    if key:
        base["Idempotency-Key"] = key
    raw = query if method in ("GET", "DELETE") else raw_body
    try:
        api_key = authenticate(state, headers)
        if api_key.startswith("pk_") and \
                (method, path.rstrip("/")) not in PUBLISHABLE_ROUTES:
            raise errors.publishable_key()
        params = forms.parse(raw)
        with state.lock:
            ctx = RequestContext(api_key, request_id, key, base_url)
            fingerprint = (method, path, tuple(sorted(forms.pairs(raw))))
            stored = state.idempotent.get((api_key, key)) if key else None
            if stored is not None:
                return _replay(stored, fingerprint, key, base)
            status, body = _route(state, ctx, method, path, params)
            if key and (status < 400 or status == 402 or status >= 500):
                state.idempotent[(api_key, key)] = StoredResponse(
                    fingerprint, status, body, request_id)
        return Response(status, body, base, ctx.events)
    except errors.StripeApiError as error:
        return Response(error.status, encode(error.body()), base)


def authenticate(state, headers):
    scheme, _, credential = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            credential = base64.b64decode(credential).decode().split(":")[0]
        except ValueError:
            credential = ""
    elif scheme.lower() != "bearer":
        credential = ""
    credential = credential.strip()
    if not credential:
        raise errors.unauthorized(NO_KEY)
    if credential.startswith("pk_test_"):
        allowed = True          # any test publishable key (see README)
    else:
        allowed = (credential in state.api_keys if state.api_keys else
                   credential.startswith(("sk_test_", "rk_test_")))
    if not allowed:
        masked = credential[:8] + "*" * 8 + credential[-4:]
        raise errors.unauthorized(f"Invalid API Key provided: {masked}")
    return credential


def _replay(stored, fingerprint, key, base):
    if stored.fingerprint != fingerprint:
        raise errors.idempotency_mismatch(key)
    headers = dict(base, **{"Idempotent-Replayed": "true",
                            "Original-Request": stored.request_id})
    return Response(stored.status, stored.body, headers, replayed=True)


def _route(state, ctx, method, path, params):
    """(status, body) for one request; events go to ctx.events."""
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match is None or route_method != method:
            continue
        try:
            result = handler(state, ctx, params, *match.groups())
            return 200, encode(result)
        except errors.StripeApiError as error:
            return error.status, encode(error.body())
    raise errors.unknown_route(method, path)
