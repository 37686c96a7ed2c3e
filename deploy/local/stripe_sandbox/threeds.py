"""3-D Secure: the test authentication page and its outcome.

GET /3ds/<pi_ or seti_ id> shows Stripe-test-page-like "Complete
authentication" / "Fail authentication" buttons; POSTing the choice
finishes the intent and redirects (303) to its return_url with
payment_intent|setup_intent, the client secret and redirect_status.
POST /_sandbox/authenticate/<id> {"outcome": "complete"|"fail"} does the
same without a browser.
"""
import html
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import charging, errors, setup

OUTCOMES = ("complete", "fail")


def find_intent(state, intent_id):
    kind = "setup_intent" if intent_id.startswith("seti_") else \
        "payment_intent"
    intent = state.find(kind, intent_id)
    if intent is None:
        raise errors.no_such(kind, intent_id, "intent")
    return intent


def authenticate(state, ctx, intent_id, outcome):
    """Finish authentication: returns (intent, return_url, redirect_status).
    Raises StripeApiError if the intent is not waiting for it."""
    if outcome not in OUTCOMES:
        raise errors.invalid("outcome must be one of complete, fail",
                             "outcome")
    intent = find_intent(state, intent_id)
    if intent["status"] != "requires_action":
        raise errors.invalid(
            f"This {intent['object']} has a status of {intent['status']}; "
            f"only one in requires_action can be authenticated.",
            code=f"{intent['object']}_unexpected_state")
    return_url = (state.pending.get(intent_id) or {}).get("return_url")
    finish = setup.authenticate if intent["object"] == "setup_intent" else \
        charging.authenticate
    status = finish(state, ctx, intent, outcome == "complete")
    return intent, return_url, status


def redirect_url(intent, return_url, redirect_status):
    name = intent["object"]
    parts = urlsplit(return_url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [
        (name, intent["id"]), (f"{name}_client_secret",
                               intent["client_secret"]),
        ("redirect_status", redirect_status)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def status_of(intent):
    return {"succeeded": "succeeded", "processing": "processing"}.get(
        intent["status"], "failed")


def page(intent, message=None):
    """The authentication page (or a short notice once it is done)."""
    what = _describe(intent)
    if message or intent["status"] != "requires_action":
        notice = message or (f"This authentication is no longer pending "
                             f"(status: {intent['status']}).")
        body = (f"<h1>3-D Secure test authentication</h1>"
                f"<p role=\"status\">{html.escape(notice)}</p>")
    else:
        body = f"""<h1>3-D Secure test authentication</h1>
<p>{html.escape(what)}</p>
<p>This is the Stripe sandbox's test page: choose how the cardholder's bank
answers.</p>
<form method="post">
<button type="submit" name="outcome" value="complete" class="ok">Complete authentication</button>
<button type="submit" name="outcome" value="fail" class="fail">Fail authentication</button>
</form>"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authenticate — Stripe sandbox</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0;padding:1.5rem;max-width:32rem}}
h1{{font-size:1.25rem}}
form{{display:flex;flex-wrap:wrap;gap:.75rem}}
button{{font:inherit;padding:.75rem 1rem;border-radius:6px;border:2px solid #1a1a1a;cursor:pointer;min-height:44px}}
button.ok{{background:#0a6b2e;color:#fff;border-color:#0a6b2e}}
button.fail{{background:#fff;color:#a4161a;border-color:#a4161a}}
button:focus-visible{{outline:3px solid #1a56db;outline-offset:2px}}
</style></head>
<body><main>{body}</main></body></html>"""


def _describe(intent):
    if intent["object"] == "setup_intent":
        return "Authenticate to save this card for future payments."
    amount = intent["amount"] / 100
    return (f"Authenticate a payment of {amount:,.2f} "
            f"{intent['currency'].upper()}.")
