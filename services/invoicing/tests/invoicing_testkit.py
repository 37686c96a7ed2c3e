"""Shared by the invoicing tests: a clients stand-in, the example invoice,
and builders for the payment events invoicing handles."""
from __future__ import annotations

import json
from collections import Counter

from nameko.rpc import rpc
from sqlalchemy import text

import contracts
from servicekit.errors import NotFound

PAYLOAD = {"client_id": "cl_1", "location_id": "loc_1", "payment_type": "private_pay",
           "discount": {"kind": "percent", "value": 1000},
           "lines": [{"service_code": "90834", "units": 1}, {"service_code": "90853", "units": 2}]}


class FakeClients:
    """Clients cl_1 and cl_2; the organization's locations (add to
    `locations` as an administrator would); `calls` counts what was asked."""
    name = "clients"
    locations: list = []
    calls: Counter = Counter()
    probe = None

    @classmethod
    def reset(cls):
        cls.locations, cls.calls = ["loc_1"], Counter()

    @rpc(expected_exceptions=(NotFound,))
    def get_client(self, client_id):
        FakeClients.calls["get_client"] += 1
        if client_id not in ("cl_1", "cl_2"):
            raise NotFound(f"client {client_id} not found")
        return {"id": client_id}

    @rpc(expected_exceptions=(NotFound,))
    def billing_directory(self, client_ids):
        FakeClients.calls["billing_directory"] += 1
        if FakeClients.probe is not None:     # a test looks at invoicing while it waits
            FakeClients.probe()
        return {client_id: {"id": client_id, "name": f"Client {client_id}",
                            "first_name": "Client", "email": f"{client_id}@home.test",
                            "address": "12 Birch Lane\nSpringfield, IL 62704",
                            "date_of_birth": "1990-04-02"}
                for client_id in client_ids if client_id.startswith("cl_")}

    @rpc(expected_exceptions=(NotFound,))
    def get_organization(self):
        FakeClients.calls["get_organization"] += 1
        return {"name": "Cedar Ridge Recovery", "address": "1 Main St\nSpringfield, IL 62701",
                "phone": "(555) 010-2000",
                "locations": [{"id": location, "name": location, "address": "1 Main St"}
                              for location in self.locations]}


def outbox(engine, event_type):
    with engine.connect() as connection:
        rows = connection.execute(text("select envelope from outbox where event_type = :t "
                                       "order by seq"), {"t": event_type}).all()
    return [json.loads(row.envelope) for row in rows]


def usd(cents):
    return {"amount": cents, "currency": "usd"}


def _allocations(shares: dict) -> list:
    return [{"invoice_id": i, "amount": usd(a)} for i, a in shares.items()]


def captured(payment_id, shares, unapplied=0, method="card", client_id="cl_1"):
    """A PaymentCaptured v2 envelope paying `shares` ({invoice id: cents})."""
    data = {**contracts.example("PaymentCaptured"), "payment_id": payment_id,
            "client_id": client_id, "amount": usd(sum(shares.values()) + unapplied),
            "method": method, "allocations": _allocations(shares), "unapplied": usd(unapplied)}
    return contracts.make_envelope("payments", "PaymentCaptured", data, 2)


def failed(payment_id, shares, after_processing=False, code="card_declined"):
    data = {**contracts.example("PaymentFailed"), "payment_id": payment_id, "client_id": "cl_1",
            "amount": usd(sum(shares.values())), "allocations": _allocations(shares),
            "failure_code": code, "after_processing": after_processing}
    return contracts.make_envelope("payments", "PaymentFailed", data, 2)


def processing(payment_id, shares):
    data = {**contracts.example("PaymentProcessing"), "payment_id": payment_id,
            "client_id": "cl_1", "amount": usd(sum(shares.values())),
            "allocations": _allocations(shares)}
    return contracts.make_envelope("payments", "PaymentProcessing", data, 1)


def refunded(refund_id, payment_id, amount, invoice_id=None):
    data = {**contracts.example("PaymentRefunded"), "refund_id": refund_id,
            "payment_id": payment_id, "client_id": "cl_1", "amount": usd(amount)}
    data.pop("invoice_id")
    if invoice_id:
        data["invoice_id"] = invoice_id
    return contracts.make_envelope("payments", "PaymentRefunded", data, 1)


def refund_failed(refund_id, payment_id, amount, invoice_id=None):
    data = {**contracts.example("RefundFailed"), "refund_id": refund_id,
            "payment_id": payment_id, "client_id": "cl_1", "amount": usd(amount)}
    data.pop("invoice_id")
    if invoice_id:
        data["invoice_id"] = invoice_id
    return contracts.make_envelope("payments", "RefundFailed", data, 1)
