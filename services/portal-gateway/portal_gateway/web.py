"""Rendering and HTTP plumbing shared by the gateway's pages."""
from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from servicekit import config
from servicekit.errors import HTTP_STATUS, CairnError, ServiceUnavailable
from servicekit.money import format_money
from servicekit.rpc import calls_made

log = logging.getLogger(__name__)

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True)
templates.filters["money"] = lambda cents, currency="usd": format_money(int(cents), currency)
templates.filters["label"] = lambda value: str(value or "").replace("_", " ").capitalize()
# an invoice's status in staff's words, and what `open` and `closed` mean
INVOICE_STATUS_WORDS = {"draft": "Draft", "open": "Open", "sent": "Sent",
                        "partially_paid": "Partially paid", "paid": "Paid", "closed": "Closed",
                        "void": "Void"}
INVOICE_STATUS_HINTS = {"open": "Finalized, not sent to the patient yet.",
                        "closed": "Nothing left to pay: written off or moved to the account's "
                                  "credit."}
templates.filters["invoice_status"] = lambda value: INVOICE_STATUS_WORDS.get(
    str(value or ""), str(value or "").replace("_", " ").capitalize())
templates.filters["invoice_status_hint"] = lambda value: INVOICE_STATUS_HINTS.get(str(value or ""), "")

CSP = ("default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
       "form-action 'self'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
}


def page(template: str, status: int = 200, stripe=None, **context) -> Response:
    """A rendered page. `stripe` (a payments.StripeJs) lets the page load
    Stripe's card and bank form — and nothing else from outside."""
    html = templates.get_template(template).render(stripe=stripe, **context)
    headers = SECURITY_HEADERS if stripe is None else \
        {**SECURITY_HEADERS, "Content-Security-Policy": stripe.csp(CSP)}
    return Response(html, status=status, mimetype="text/html", headers=headers)


STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}


def static_file(name: str) -> Response:
    """A file of the gateway's own static folder (no sub-folders, known types)."""
    path = STATIC / name
    if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
        return Response("not found", status=404, mimetype="text/plain")
    return Response(path.read_bytes(), mimetype=STATIC_TYPES[path.suffix],
                    headers={"X-Content-Type-Options": "nosniff",
                             "Cache-Control": "public, max-age=300"})


def public_url(settings, path: str = "") -> str:
    """An absolute address of this site (for return addresses given to Stripe)."""
    return (config.setting(settings, "PUBLIC_URL", "") or "").rstrip("/") + path


def redirect(location: str, status: int = 303) -> Response:
    return Response("", status=status, headers={"Location": location, **SECURITY_HEADERS})


BUSY = ("Part of the system is not answering right now. Please try again in a minute; if you "
        "were paying, check your email for a receipt before you pay again.")


def json_response(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/json")


def expected_error(error: RemoteError) -> tuple[int, str] | None:
    """(HTTP status, message) for an error a user should see, else None. A
    deadline missed deeper down names internal methods: say it plainly."""
    if error.exc_type == "RpcTimeout":
        return 503, BUSY
    status = HTTP_STATUS.get(error.exc_type)
    return (status, error.value) if status else None


def error_page(status: int, message: str, session=None, area: str | None = None) -> Response:
    return page("error.html", status=status, message=message, session=session, area=area)


def unexpected(error: Exception) -> Response:
    log.error("unexpected error: %s", type(error).__name__, exc_info=True)
    return error_page(500, "Something went wrong on our side. Please try again in a minute.")


class PageHandler(HttpRequestHandler):
    """nameko's @http, but an error that escapes a page becomes a plain page:
    never an exception's type or text (which can carry internal ids). With
    CAIRN_EXPOSE_RPC_COUNT=1 (tests, benchmarks) a response tells how many
    RPCs made it, in a `Server-Timing` header."""

    def setup(self):
        super().setup()
        self.expose_rpc_count = str(config.setting(self.container.config, "EXPOSE_RPC_COUNT",
                                                   "0")) == "1"

    def handle_result(self, event, worker_ctx, result, exc_info):
        if self.expose_rpc_count and exc_info is None and isinstance(result, Response):
            result.headers["Server-Timing"] = f'rpc;desc="{calls_made(worker_ctx)}"'
        return super().handle_result(event, worker_ctx, result, exc_info)

    def response_from_exception(self, exc):
        if isinstance(exc, ServiceUnavailable) or (
                isinstance(exc, RemoteError) and exc.exc_type in ("RpcTimeout",
                                                                   "ServiceUnavailable")):
            log.warning("a service did not answer in time (%s)", type(exc).__name__)
            return error_page(503, BUSY)
        if isinstance(exc, RemoteError) and expected_error(exc):
            return error_page(*expected_error(exc))
        if isinstance(exc, CairnError):     # one that crossed RPC as itself (InvalidFields)
            return error_page(exc.http_status, str(exc))
        return unexpected(exc)


http = PageHandler.decorator
