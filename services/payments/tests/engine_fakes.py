"""Hand-written fakes for driving the payment engine's use cases directly
(no nameko, a real PostgreSQL database): a tiny Stripe world with
idempotency, and invoicing holds that follow invoicing's rules."""
from __future__ import annotations

import itertools
import json

from nameko.exceptions import RemoteError
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from payments.charging import Collaborators
from payments.stripe_gateway import IntentView, MethodDetails, Refused, RefundView

_ids = itertools.count(1)


class World:
    """What Stripe knows."""
    def __init__(self):
        self.intents: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.refunds: dict[str, dict] = {}
        self.confirms: list[tuple[str, str]] = []   # (intent, payment id) at confirm time

    def view(self, intent_id):
        i = self.intents[intent_id]
        return IntentView(intent_id, i["status"], i["amount"], "usd", i["payment_id"], None,
                          None, None, MethodDetails("pm_card_visa", "card", None, "visa", "4242"), 0)


class FakeStripe:
    def __init__(self, world: World):
        self.world = world

    def payment_method(self, method_id):
        return MethodDetails(method_id, "card", None, card_brand="visa", card_last4="4242")

    def create_customer(self, client_id):
        return f"cus_{client_id}"

    def create_intent(self, *, amount, currency, method_type, customer, payment_id,
                      keep_on_file, key):
        if key in self.world.by_key:
            return self.world.view(self.world.by_key[key])
        intent_id = f"pi_{next(_ids)}"
        self.world.intents[intent_id] = {"status": "requires_payment_method", "amount": amount,
                                         "payment_id": payment_id}
        self.world.by_key[key] = intent_id
        return self.world.view(intent_id)

    def confirm_intent(self, intent_id, *, payment_method, return_url, off_session, mandate, key,
                       known_method=None):
        intent = self.world.intents[intent_id]
        if intent["status"] == "canceled":
            raise Refused("payment_intent_unexpected_state", 400)
        intent["status"] = "succeeded"
        self.world.confirms.append((intent_id, intent["payment_id"]))
        return self.world.view(intent_id)

    def retrieve_intent(self, intent_id):
        return self.world.view(intent_id)

    def cancel_intent(self, intent_id, reason="abandoned"):
        intent = self.world.intents[intent_id]
        if intent["status"] in ("requires_payment_method", "requires_action"):
            intent["status"] = "canceled"
        return self.world.view(intent_id)     # like the gateway: current state if not cancelable

    def refund(self, *, intent_id, amount, refund_id, reason, key):
        if refund_id not in self.world.refunds:   # the same key: the same refund
            self.world.refunds[refund_id] = {"id": f"re_{next(_ids)}", "amount": amount,
                                             "intent": intent_id, "status": "succeeded"}
        return self._refund_view(refund_id)

    def retrieve_refund(self, stripe_id):
        return self._refund_view(next(k for k, r in self.world.refunds.items()
                                      if r["id"] == stripe_id))

    def refunds_of(self, intent_id):
        return [self._refund_view(k) for k, r in self.world.refunds.items()
                if r["intent"] == intent_id]

    def _refund_view(self, refund_id):
        r = self.world.refunds[refund_id]
        return RefundView(r["id"], r["status"], r["amount"], r["intent"], refund_id, None, 0)


class FakeInvoicing:
    """Holds with invoicing's rules: one active hold per invoice, `ended`
    releases earlier payments' holds, released payments are refused."""
    def __init__(self, **due):
        self.due = dict(due)
        self.holds: dict[str, list] = {}
        self.released: set[str] = set()

    def hold_for_payment(self, payment_id, client_id, wanted, channel, ended=(),
                        installment_attempt=None):
        for earlier in ended:
            self.holds.pop(earlier, None)
            self.released.add(earlier)
        if payment_id in self.released:
            raise RemoteError("Conflict", "This payment has already ended.")
        if payment_id in self.holds:
            return {"currency": "usd", "allocations": self.holds[payment_id]}
        held = []
        for item in wanted:
            if any(h["invoice_id"] == item["invoice_id"] for hs in self.holds.values() for h in hs):
                raise RemoteError("Conflict", "A payment for this invoice is already in progress.")
            due = self.due[item["invoice_id"]]
            amount = due if item["amount"] is None else item["amount"]
            if amount > due:
                raise RemoteError("InvalidInput", "has less due; enter at most that.")
            held.append({"invoice_id": item["invoice_id"], "amount": amount, "due": due})
        self.holds[payment_id] = held
        return {"currency": "usd", "allocations": held}


ENGINES: list = []


def _release_hold(self, payment_id):
    self.holds.pop(payment_id, None)
    self.released.add(payment_id)


FakeInvoicing.release_hold = _release_hold
FakeInvoicing.reserve_refund = lambda self, refund_id, client_id, invoice_id, payment_id, amount: \
    {"reserved": True, "room": 10**9}
FakeInvoicing.release_refund = lambda self, refund_id: {"released": refund_id}


def sessions(url):
    engine = create_engine(url)
    ENGINES.append(engine)
    return engine, sessionmaker(bind=engine, expire_on_commit=False)


def close_everything():
    """Sessions and engines the test made, before its database is dropped."""
    from sqlalchemy.orm import close_all_sessions
    close_all_sessions()
    while ENGINES:
        ENGINES.pop().dispose()


def collaborators(Session, stripe, invoicing):
    return Collaborators(db=Session(), stripe=stripe, invoicing=invoicing,
                         clinic_name=lambda: "Cedar Ridge")


def outbox(engine, *types):
    with engine.connect() as connection:
        rows = connection.execute(text("select event_type, envelope from outbox order by seq")).all()
    return [(t, json.loads(e)["data"]["payment_id"] if "payment_id" in json.loads(e)["data"] else None)
            for t, e in rows if not types or t in types]
