"""Hand-written stand-ins for the services notifications asks by RPC. The
same `World` backs plain objects (for worker_factory tests) and small real
nameko services (for tests on the broker)."""
from __future__ import annotations

import copy
import hashlib
from collections import Counter
from datetime import datetime, timedelta, timezone

import contracts
from nameko.exceptions import RemoteError
from nameko.rpc import rpc

from servicekit.errors import EXPECTED, NotFound

ORGANIZATION = {
    "name": "Cedar Ridge Recovery", "phone": "555-0100", "email": "office@cedar.test",
    "address": "1 Main Street\nSpringfield, IL 62701", "logo_url": "https://cdn.test/logo.png",
    "email_sender_name": "Patient Billing Office",
    "welcome_message": "We look forward to working with you.\nCall us with any question.",
    "has_handbook": True,
    "locations": [{"id": "loc_1", "name": "Cedar Ridge Opioid Treatment Program",
                   "address": "", "phone": ""}],
}
CONTACTS = {
    "cl_1": {"client_id": "cl_1", "name": "Alice Doe", "first_name": "Alice",
             "email": "alice@demo.test"},
    "cl_html": {"client_id": "cl_html", "name": "<b>Al</b> Doe", "first_name": "<b>Al</b>",
                "email": "al@demo.test"},
    "cl_noemail": {"client_id": "cl_noemail", "name": "Nobody Home", "first_name": "Nobody",
                   "email": ""},
}
ACCOUNTS = {  # clients.get_account_contact
    "pa_1": {"email": "alice@demo.test", "name": "Alice Doe", "first_name": "Alice",
             "username": "alice.doe"},
    "pa_html": {"email": "al@demo.test", "name": "<script>alert(1)</script> Doe",
                "first_name": "<script>alert(1)</script>", "username": "al<b>"},
    "pa_noemail": {"email": "", "name": "Nobody Home", "first_name": "Nobody",
                   "username": "nobody"},
}
STAFF = {  # clients.get_staff_contact
    "st_1": {"email": "riley@cedar.test", "name": "Riley Front Desk", "first_name": "Riley"},
}
LINK_LIFETIMES = {"welcome": timedelta(hours=72), "reset": timedelta(hours=1)}
INVOICES = {
    "inv_1": {"id": "inv_1", "number": "INV-000123", "client_id": "cl_1", "status": "sent",
              "currency": "usd", "total": 1234567, "balance": 1234567, "due_on": "2026-12-09",
              "lines": [{"description": "Methadone dosing", "amount": 1234567}]},
    "inv_html": {"id": "inv_html", "number": "INV-000124", "client_id": "cl_html",
                 "status": "sent", "currency": "usd", "total": 5000, "balance": 5000,
                 "due_on": None},
    "inv_noemail": {"id": "inv_noemail", "number": "INV-000125", "client_id": "cl_noemail",
                    "status": "sent", "currency": "usd", "total": 5000, "balance": 5000,
                    "due_on": None},
}


class World:
    def __init__(self):
        self.organization = copy.deepcopy(ORGANIZATION)
        self.contacts = copy.deepcopy(CONTACTS)
        self.invoices = copy.deepcopy(INVOICES)
        self.accounts = copy.deepcopy(ACCOUNTS)
        self.staff = copy.deepcopy(STAFF)
        self.links: dict[str, dict] = {}
        self.password_links: dict[str, dict] = {}
        self.password_link_calls: list[dict] = []
        self.asked: Counter = Counter()    # what the plain-object fakes were asked

    def contact(self, client_id):
        if client_id not in self.contacts:
            raise NotFound(f"client {client_id} not found")
        return dict(self.contacts[client_id])

    def account(self, account_id):
        if account_id not in self.accounts:
            raise NotFound(f"portal account {account_id} not found")
        return dict(self.accounts[account_id])

    def staff_member(self, staff_id):
        if staff_id not in self.staff:
            raise NotFound(f"staff member {staff_id} not found")
        return dict(self.staff[staff_id])

    def password_link(self, kind, subject_id, purpose, request_key):
        """Idempotent by request_key, like the real one: a single-use token
        for /<kind>/set-password/<token>."""
        self.password_link_calls.append({"kind": kind, "subject_id": subject_id,
                                         "purpose": purpose, "request_key": request_key})
        known = self.accounts if kind == "portal" else self.staff
        if subject_id not in known:
            raise NotFound(f"{kind} {subject_id} not found")
        if request_key not in self.password_links:
            token = hashlib.sha256(f"pw:{request_key}".encode()).hexdigest()[:40]
            expires = datetime.now(timezone.utc) + LINK_LIFETIMES[purpose]
            self.password_links[request_key] = {
                "path": f"/{kind}/set-password/{token}",
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        return dict(self.password_links[request_key])

    def invoice(self, invoice_id):
        if invoice_id not in self.invoices:
            raise NotFound(f"invoice {invoice_id} not found")
        return dict(self.invoices[invoice_id])

    def payment_link(self, invoice_id, client_id, request_key):
        """Idempotent by request_key, like the real one."""
        token = hashlib.sha256(request_key.encode()).hexdigest()[:32]
        return self.links.setdefault(request_key, {
            "token": token, "path": f"/pay/{token}", "expires_at": "2026-12-25T00:00:00.000000Z"})


def _remote(call):
    """Plain-object fakes raise what an RpcProxy raises: a RemoteError."""
    try:
        return call()
    except NotFound as exc:
        raise RemoteError("NotFound", str(exc)) from None


class Clients:
    def __init__(self, world: World):
        self.world = world

    def get_contact(self, client_id):
        return _remote(lambda: self.world.contact(client_id))

    def get_account_contact(self, account_id):
        return _remote(lambda: self.world.account(account_id))

    def get_staff_contact(self, staff_id):
        return _remote(lambda: self.world.staff_member(staff_id))

    def get_organization(self):
        self.world.asked["get_organization"] += 1
        return copy.deepcopy(self.world.organization)

    def issue_password_link(self, kind, subject_id, purpose, request_key):
        return _remote(lambda: self.world.password_link(kind, subject_id, purpose, request_key))


class Invoicing:
    def __init__(self, world: World):
        self.world = world

    def get_invoice(self, invoice_id):
        self.world.asked["get_invoice"] += 1
        return _remote(lambda: self.world.invoice(invoice_id))


class Payments:
    def __init__(self, world: World):
        self.world = world
        self.calls = 0

    def issue_payment_link(self, invoice_id, client_id, request_key):
        self.calls += 1
        return self.world.payment_link(invoice_id, client_id, request_key)


# ---- the same, as real nameko services on the broker ---------------------
CURRENT = {"world": World()}


class ClientsStandIn:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_contact(self, client_id):
        return CURRENT["world"].contact(client_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_account_contact(self, account_id):
        return CURRENT["world"].account(account_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_staff_contact(self, staff_id):
        return CURRENT["world"].staff_member(staff_id)

    @rpc
    def get_organization(self):
        return CURRENT["world"].organization

    @rpc(expected_exceptions=EXPECTED)
    def issue_password_link(self, kind, subject_id, purpose, request_key):
        return CURRENT["world"].password_link(kind, subject_id, purpose, request_key)


class InvoicingStandIn:
    name = "invoicing"

    @rpc(expected_exceptions=EXPECTED)
    def get_invoice(self, invoice_id):
        return CURRENT["world"].invoice(invoice_id)


class PaymentsStandIn:
    name = "payments"

    @rpc
    def issue_payment_link(self, invoice_id, client_id, request_key):
        return CURRENT["world"].payment_link(invoice_id, client_id, request_key)


def invoice_sent(invoice_id="inv_1", client_id="cl_1", channel="email", **due_on) -> dict:
    """As invoicing sends it now with `due_on=...` (a date or None); without,
    as events recorded before that field existed."""
    invoice = INVOICES[invoice_id]
    return contracts.make_envelope("invoicing", "InvoiceSent", {
        "invoice_id": invoice_id, "invoice_number": invoice["number"], "client_id": client_id,
        "channel": channel, "balance": {"amount": invoice["balance"], "currency": "usd"},
        "sent_by": "st_1", **due_on}, 1)


def estimate_issued(channels=("email",), client_id="cl_1", kind="gfe") -> dict:
    return contracts.make_envelope("invoicing", "EstimateIssued", {
        "estimate_id": "est_1", "estimate_number": "EST-000042", "client_id": client_id,
        "kind": kind, "channels": list(channels), "total": {"amount": 70000, "currency": "usd"},
        "issued_by": "st_1"}, 1)


def _usd(cents: int) -> dict:
    return {"amount": cents, "currency": "usd"}


def payment_captured(invoice_id="inv_1", client_id="cl_1", invoice_ids=None, unapplied=0,
                     numbered=False, **extra) -> dict:
    """`numbered`: the allocations name their invoices' numbers, as payments
    sends them now."""
    invoice_ids = invoice_ids or [invoice_id]
    numbers = {i: INVOICES[i]["number"] for i in invoice_ids} if numbered else {}
    data = {"payment_id": "pay_1", "client_id": client_id, "amount": _usd(4550 + unapplied),
            "allocations": [{"invoice_id": i, "amount": _usd(4550 // len(invoice_ids)),
                             **({"invoice_number": numbers[i]} if numbered else {})}
                            for i in invoice_ids],
            "method": "card", "initiated_by": "patient", "card_brand": "visa",
            "card_last4": "4242", "unapplied": _usd(unapplied),
            "captured_at": "2026-11-25T10:00:00.000000Z", **extra}
    return contracts.make_envelope("payments", "PaymentCaptured",
                                   {k: v for k, v in data.items() if v is not None}, 2)


def payment_failed(initiated_by="autopay", invoice_id="inv_1", client_id="cl_1",
                   after_processing=False, method="card", failure_message=None) -> dict:
    data = {"payment_id": "pay_2", "client_id": client_id, "amount": _usd(12500),
            "allocations": [{"invoice_id": invoice_id, "amount": _usd(12500)}],
            "method": method, "failure_code": "card_declined",
            "failure_message": failure_message or "Your card was declined.",
            "initiated_by": initiated_by or "patient", "after_processing": after_processing}
    return contracts.make_envelope("payments", "PaymentFailed", data, 2)


def payment_processing(method="us_bank_account", invoice_id="inv_1", client_id="cl_1") -> dict:
    data = {"payment_id": "pay_3", "client_id": client_id, "amount": _usd(12500),
            "allocations": [{"invoice_id": invoice_id, "amount": _usd(12500)}],
            "method": method, "initiated_by": "patient", "bank_name": "STRIPE TEST BANK",
            "bank_last4": "6789", "expected_by": "2026-12-01T16:00:00.000000Z"}
    return contracts.make_envelope("payments", "PaymentProcessing", data, 1)


def payment_refunded(method="card", client_id="cl_1") -> dict:
    data = {"refund_id": "rf_1", "payment_id": "pay_1", "client_id": client_id,
            "amount": _usd(2000), "invoice_id": "inv_1", "method": method,
            "refunded_at": "2026-11-26T10:00:00.000000Z"}
    return contracts.make_envelope("payments", "PaymentRefunded", data, 1)


def portal_invite(account_id="pa_1", client_id="cl_1") -> dict:
    return contracts.make_envelope("clients", "PortalInviteRequested", {
        "account_id": account_id, "client_id": client_id, "invited_by": "st_1",
        "invited_by_name": "Riley Front Desk"}, 1)


def portal_password_reset(account_id="pa_1") -> dict:
    return contracts.make_envelope("clients", "PortalPasswordResetRequested",
                                   {"account_id": account_id}, 1)


def staff_password_reset(staff_id="st_1") -> dict:
    return contracts.make_envelope("clients", "StaffPasswordResetRequested",
                                   {"staff_id": staff_id}, 1)
