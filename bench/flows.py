"""What the benchmark does as people would, over HTTP against the gateway:
staff save an invoice and email it; the patient opens the link from the
email and pays with Stripe's test card. Used both to count the RPCs of one
pass (bench/rpc_trace.py) and to load the stack (bench/run.py)."""
from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

import requests

from tests.fixtures.stack import STAFF_LOGIN, Browser

CLIENTS = ["cl_demo_avery", "cl_demo_jordan", "cl_demo_sam"]
FORM = {"location_id": "loc_main", "payment_type": "private_pay", "discount_kind": "percent",
        "discount_value": "10", "line1_service": "90834", "line1_units": "1",
        "line2_service": "90853", "line2_units": "2"}
NUMBER = re.compile(r"INV-\d{6}")
PAY_PATH = re.compile(r"(/pay/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Staff:
    """A signed-in front-desk user; one CSRF token serves the whole session."""

    def __init__(self, cairn_url: str):
        self.browser = Browser(cairn_url)
        self.browser.sign_in("staff", STAFF_LOGIN["login"], STAFF_LOGIN["password"])
        self.csrf = self.browser.csrf(f"/staff/clients/{CLIENTS[0]}/invoices/new")

    def save_invoice(self, client_id: str) -> str:
        """POST the new-invoice form; the invoice's page address (not followed)."""
        response = self.browser.post(f"/staff/clients/{client_id}/invoices",
                                     data={**FORM, "csrf": self.csrf}, allow_redirects=False)
        if response.status_code != 303 and response.status_code != 302:
            raise RuntimeError(f"invoice not created: {response.status_code} {response.text[:300]}")
        return response.headers["Location"]

    def invoice_page(self, location: str) -> tuple[str, str]:
        """The invoice's page: (invoice id, number)."""
        page = self.browser.get(location)
        found = re.search(r"Invoice (INV-\d{6})", page.text)
        if page.status_code != 200 or not found:
            raise RuntimeError(f"invoice page: {page.status_code} {page.text[:300]}")
        return location.rstrip("/").rsplit("/", 1)[1], found.group(1)

    def send_by_email(self, invoice_id: str) -> None:
        """POST send, and the page it leads to."""
        response = self.browser.post(f"/staff/invoices/{invoice_id}/send",
                                     data={"channel": "email", "csrf": self.csrf})
        if response.status_code != 200:
            raise RuntimeError(f"send: {response.status_code} {response.text[:300]}")


class Payer:
    """Someone who opened a pay link from an email, not signed in."""

    def __init__(self, cairn_url: str, path: str):
        self.url, self.session = cairn_url + path, requests.Session()

    def open(self) -> None:
        page = self.session.get(self.url, timeout=60)
        self.csrf = CSRF.search(page.text).group(1)

    def pay(self) -> None:
        response = self.session.post(self.url, data={"payment_method": "pm_card_visa",
                                                     "csrf": self.csrf}, timeout=60)
        if "Payment received" not in response.text:
            raise RuntimeError(f"payment: {response.status_code} {response.text[:300]}")


class Mailbox:
    """The SMTP capture's folder, read as messages arrive: each message once,
    with the time the server accepted it (in its file name, ns)."""

    def __init__(self, directory: Path):
        self.directory, self.seen = directory, set()

    def new_messages(self) -> list[tuple[float, email.message.EmailMessage]]:
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found.append((int(path.name.split("-")[0]) / 1e9, message))
        return found


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def invoice_email(message) -> tuple[str, str] | None:
    """(invoice number, pay path) if this is an invoice email."""
    body = text_of(message)
    number, link = NUMBER.search(body), PAY_PATH.search(body)
    if "invoice" not in str(message["Subject"]).lower() or not (number and link):
        return None
    return number.group(0), link.group(1)


def receipt_numbers(message) -> list[str]:
    if "receipt" not in str(message["Subject"]).lower():
        return []
    return NUMBER.findall(text_of(message))


def poll(probe, timeout: float, what: str):
    """`probe()` until it is truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
