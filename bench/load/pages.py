"""The pages `make load` measures: add a row to measure another page.

`path` and `marker` are filled from the simulated user's own data
({client_id}, {client_name}, {first_name}, {invoice_id}, {invoice_number}).
A response counts as rendered only with status 200 and `marker` in its body;
redirects are not followed, so a lapsed session (303 to the sign-in page)
is an error. Plain data: imported by both the runner and the load generator.
"""
from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    area: str      # staff | portal: whose session the request carries
    name: str
    path: str
    marker: str


PAGES = [
    Page("staff", "client list", "/staff", "<h1>Clients</h1>"),
    Page("staff", "client profile", "/staff/clients/{client_id}", "<h1>{client_name}</h1>"),
    Page("staff", "financial tab", "/staff/clients/{client_id}/financial", "{invoice_number}</a>"),
    Page("staff", "invoice", "/staff/invoices/{invoice_id}", "Invoice {invoice_number}"),
    Page("portal", "portal home", "/portal", "Welcome, {first_name}"),
    Page("portal", "portal billing", "/portal/billing", "{invoice_number}</label>"),
    Page("portal", "make a payment", "/portal/billing/pay", "<h1>Make a Payment</h1>"),
]

AREAS = ("staff", "portal")
COOKIES = {"staff": "cairn_staff_session", "portal": "cairn_portal_session"}


def pages_of(area: str) -> list[Page]:
    return [page for page in PAGES if page.area == area]
