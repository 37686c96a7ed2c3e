"""The browser-facing pages: Stripe.js (/v3/), the Payment Element iframe
(/elements/payment) and the 3-D Secure test page (/3ds/<intent id>).

No API key: these are what a customer's browser loads. `handle` returns an
api.Response, or None when the path is not one of them.
"""
import re
from urllib.parse import parse_qs

from . import errors, objects, payment_element, stripe_js, threeds
from .api import Response
from .state import RequestContext

HTML = "text/html; charset=utf-8"
JS = "application/javascript; charset=utf-8"
_THREE_DS = re.compile(r"^/3ds/((?:pi|seti)_[A-Za-z0-9]+)/?$")


def handle(state, method, path, query, body, base_url):
    if path in ("/v3", "/v3/", "/v3/stripe.js") and method == "GET":
        return Response(200, stripe_js.SOURCE.encode(), _no_store(),
                        content_type=JS)
    if path.rstrip("/") == "/elements/payment" and method == "GET":
        return Response(200, payment_element.render(query).encode(),
                        _no_store(), content_type=HTML)
    match = _THREE_DS.match(path)
    if match is None:
        return None
    intent_id = match.group(1)
    with state.lock:
        try:
            intent = threeds.find_intent(state, intent_id)
        except errors.StripeApiError:
            return _page(404, "<h1>Not found</h1><p>No such intent.</p>")
        if method == "GET":
            return Response(200, threeds.page(intent).encode(), _no_store(),
                            content_type=HTML)
        if method != "POST":
            return None
        outcome = (parse_qs(body).get("outcome") or [""])[0]
        ctx = RequestContext(None, objects.new_id("req", 14), None, base_url)
        try:
            intent, return_url, status = threeds.authenticate(
                state, ctx, intent_id, outcome)
        except errors.StripeApiError as error:
            pending = intent["status"] != "requires_action"
            return Response(409 if pending else 400, threeds.page(
                intent, error.error["message"]).encode(), _no_store(),
                content_type=HTML)
        if return_url:
            location = threeds.redirect_url(intent, return_url, status)
            return Response(303, b"", dict(_no_store(), Location=location),
                            ctx.events, content_type=HTML)
        done = ("Authentication complete. You can close this window."
                if outcome == "complete" else
                "Authentication failed. You can close this window.")
        return Response(200, threeds.page(intent, done).encode(),
                        _no_store(), ctx.events, content_type=HTML)


def _page(status, body):
    text = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Stripe sandbox</title></head><body><main>{body}</main>"
            f"</body></html>")
    return Response(status, text.encode(), _no_store(), content_type=HTML)


def _no_store():
    return {"Cache-Control": "no-store"}
