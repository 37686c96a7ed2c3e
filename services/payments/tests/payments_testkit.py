"""Shared by the payments tests: stand-ins for invoicing (holding balances
by the same rules) and clients, and helpers to read the outbox and hand
Stripe's webhooks over the way the gateway does."""
from __future__ import annotations

import json
import uuid

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.rpc import rpc
from sqlalchemy import text

import contracts
from servicekit.errors import EXPECTED, Conflict, InvalidInput
from stripe_sandbox import signature_header

SECRET = "whsec_payments_test"
DOB = "1988-03-14"
STAFF = {"kind": "staff", "id": "st_1", "ip": "10.0.0.5"}


def portal(client_id="cl_1"):
    return {"kind": "portal", "id": "pa_1", "client_id": client_id, "ip": "10.0.0.9"}


class FakeInvoicing:
    """Invoices in memory; holds follow invoicing's rules (this account's,
    payable, one payment in flight, no more than is due)."""
    name = "invoicing"
    invoices: dict = {}
    holds: dict = {}
    released: set = set()
    calls: list = []

    @classmethod
    def reset(cls, **invoices):
        cls.invoices = {i: {"id": i, "client_id": "cl_1", "status": "sent", "total": t,
                            "amount_paid": 0, "currency": "usd", "number": f"INV-{n:06d}"}
                        for n, (i, t) in enumerate(invoices.items(), start=1)}
        cls.holds, cls.released, cls.calls = {}, set(), []
        cls.cancelled_attempts = set()      # payment plans: attempts whose plan was cancelled
        cls.credit, cls.still_paid = 10**9, {}
        cls.reserved, cls.released_refunds = {}, set()

    @rpc(expected_exceptions=EXPECTED)
    def get_invoice(self, invoice_id):
        return dict(self.invoices[invoice_id], balance=self._due(invoice_id))

    @rpc(expected_exceptions=EXPECTED)
    def hold_for_payment(self, payment_id, client_id, allocations, channel, ended=(),
                        installment_attempt=None):
        FakeInvoicing.calls.append(payment_id)
        if installment_attempt in FakeInvoicing.cancelled_attempts:
            raise Conflict("This payment plan installment is no longer to be charged "
                           "(the plan was cancelled or the charge was settled).")
        for earlier in ended:
            FakeInvoicing.holds.pop(earlier, None)
            FakeInvoicing.released.add(earlier)
        if payment_id in self.released:
            raise Conflict("This payment has already ended.")
        if payment_id in self.holds:
            return {"currency": "usd", "allocations": self.holds[payment_id]}
        held = []
        for item in allocations:
            invoice = self.invoices.get(item["invoice_id"])
            if invoice is None or invoice["client_id"] != client_id:
                raise InvalidInput("That invoice is not on this account.")
            if invoice["status"] == "void":
                raise Conflict(f"Invoice {invoice['number']} is void; there is nothing to pay.")
            if any(h["invoice_id"] == invoice["id"] for hs in self.holds.values() for h in hs):
                raise Conflict("A payment for this invoice is already in progress.")
            due = self._due(invoice["id"])
            amount = due if item["amount"] is None else item["amount"]
            if due <= 0:
                raise Conflict(f"Invoice {invoice['number']} is already paid.")
            if amount > due:
                raise InvalidInput(f"Invoice {invoice['number']} has less due; enter at most that.")
            held.append({"invoice_id": invoice["id"], "amount": amount, "due": due,
                         "invoice_number": invoice["number"]})
        FakeInvoicing.holds[payment_id] = held
        return {"currency": "usd", "allocations": held}

    credit = 10**9     # the account's credit as invoicing's ledger has it
    still_paid: dict = {}   # invoice id → what stays paid on it (unset: plenty)
    reserved: dict = {}     # refund id → (invoice id or None, amount), as invoicing keeps them
    released_refunds: set = set()

    @rpc(expected_exceptions=EXPECTED)
    def reserve_refund(self, refund_id, client_id, invoice_id, payment_id, amount):
        """Like invoicing: the refund comes off the credit / what is paid now."""
        if refund_id in FakeInvoicing.reserved:
            return {"reserved": refund_id not in FakeInvoicing.released_refunds, "room": 0}
        room = FakeInvoicing.credit if invoice_id is None else \
            FakeInvoicing.still_paid.get(invoice_id, 10**9)
        if amount > room:
            return {"reserved": False, "room": room}
        FakeInvoicing.reserved[refund_id] = (invoice_id, amount)
        self._move(invoice_id, -amount)
        return {"reserved": True, "room": room}

    @rpc(expected_exceptions=EXPECTED)
    def release_refund(self, refund_id):
        if refund_id in FakeInvoicing.reserved and refund_id not in FakeInvoicing.released_refunds:
            FakeInvoicing.released_refunds.add(refund_id)
            invoice_id, amount = FakeInvoicing.reserved[refund_id]
            self._move(invoice_id, amount)
        return {"released": refund_id}

    @staticmethod
    def _move(invoice_id, delta):
        if invoice_id is None:
            FakeInvoicing.credit += delta
        else:
            FakeInvoicing.still_paid[invoice_id] = \
                FakeInvoicing.still_paid.get(invoice_id, 10**9) + delta

    @rpc(expected_exceptions=EXPECTED)
    def release_hold(self, payment_id):
        FakeInvoicing.holds.pop(payment_id, None)
        FakeInvoicing.released.add(payment_id)
        return {"released": payment_id}

    def _due(self, invoice_id):
        invoice = self.invoices[invoice_id]
        return invoice["total"] - invoice["amount_paid"]


class FakeClients:
    """The clinic (rename it with `clinic_name`); `organization_reads` counts asks."""
    name = "clients"
    clinic_name = "Cedar Ridge Recovery"
    organization_reads = 0

    @classmethod
    def reset(cls):
        cls.clinic_name, cls.organization_reads = "Cedar Ridge Recovery", 0

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        FakeClients.organization_reads += 1
        return {"name": FakeClients.clinic_name, "locations": []}

    @rpc(expected_exceptions=EXPECTED)
    def check_date_of_birth(self, client_id, date_of_birth):
        return client_id == "cl_1" and date_of_birth == DOB


def events(engine, event_type):
    with engine.connect() as connection:
        rows = connection.execute(text("select envelope from outbox where event_type = :t "
                                       "order by seq"), {"t": event_type}).all()
    return [contracts.validate_envelope(json.loads(r.envelope))["data"] for r in rows]


def sql(engine, query, **params):
    with engine.begin() as connection:
        result = connection.execute(text(query), params)
        return result.all() if result.returns_rows else None


def deliver(proxy, event, secret=SECRET):
    raw = json.dumps(event)
    return proxy.handle_stripe_webhook(raw, signature_header(raw.encode(), secret))


def stripe_events(sandbox, kind):
    return [e for e in sandbox.events() if e["type"] == kind]


def control(sandbox, method, path, body=None):
    response = requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def refused(call, exc_type=None) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        call()
    if exc_type:
        assert caught.value.exc_type == exc_type, (caught.value.exc_type, caught.value.value)
    return caught.value


def key() -> str:
    return uuid.uuid4().hex
