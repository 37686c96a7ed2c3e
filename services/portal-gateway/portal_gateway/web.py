"""Rendering and HTTP plumbing shared by the gateway's pages."""
from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from nameko.exceptions import RemoteError
from werkzeug.wrappers import Response

from servicekit.errors import HTTP_STATUS
from servicekit.money import format_money

log = logging.getLogger(__name__)

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True)
templates.filters["money"] = lambda cents, currency="usd": format_money(int(cents), currency)
templates.filters["label"] = lambda value: str(value or "").replace("_", " ").capitalize()

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: https:; "
                               "style-src 'self' 'unsafe-inline'; form-action 'self'",
}


def page(template: str, status: int = 200, **context) -> Response:
    html = templates.get_template(template).render(**context)
    return Response(html, status=status, mimetype="text/html", headers=SECURITY_HEADERS)


def redirect(location: str, status: int = 303) -> Response:
    return Response("", status=status, headers={"Location": location, **SECURITY_HEADERS})


def json_response(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/json")


def expected_error(error: RemoteError) -> tuple[int, str] | None:
    """(HTTP status, message) for an error a user should see, else None."""
    status = HTTP_STATUS.get(error.exc_type)
    return (status, error.value) if status else None


def error_page(status: int, message: str, session=None, area: str | None = None) -> Response:
    return page("error.html", status=status, message=message, session=session, area=area)


def unexpected(error: Exception) -> Response:
    log.error("unexpected error: %s", type(error).__name__, exc_info=True)
    return error_page(500, "Something went wrong on our side. Please try again in a minute.")
