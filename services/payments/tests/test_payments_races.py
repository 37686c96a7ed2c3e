"""Interleavings in the payment engine, driven through its use cases on a
real migrated PostgreSQL database with hand-written fakes for Stripe and
invoicing: a slow worker and the reconciler, Stripe's 409 while a key is in
flight, a double-submitted form, a refund whose answer was unclear, a repair
that does not agree, and payments in flight when upgrading."""
import json
import uuid
from datetime import timedelta

import pytest
import stripe as stripe_sdk
from alembic import command
from sqlalchemy import create_engine, select, text

from servicekit.db import utcnow
from servicekit.errors import Conflict, InvalidInput, PaymentDeclined
from servicekit.migrate import alembic_config
from payments import charging, reconcile, refunds
from payments.charging import ChargeRequest
from payments.models import Mismatch, Payment, PaymentAllocation, ReconciliationRun, Refund
from payments.stripe_gateway import Refused, Unanswered, _outcome
from tests.fixtures.databases import URL_HOST, _admin

from engine_fakes import (
    FakeInvoicing, FakeStripe, World, close_everything, collaborators, outbox, sessions,
)

IN_FLIGHT = Payment.status.in_(("pending", "requires_action", "processing"))


@pytest.fixture(autouse=True)
def closed_after(database_url):
    """Requests the databases fixture, so this closes before they are dropped."""
    yield
    close_everything()


def portal_request(**extra):
    return ChargeRequest(client_id="cl_1", allocations=[("inv_1", None)], method="card",
                         channel="portal", initiated_by="patient", actor_id="pa_1",
                         payment_method="pm_card_visa", **extra)


class KeyInUse(FakeStripe):
    """Stripe while the first request with a key is still being worked on."""
    def create_intent(self, **kw):
        raise Unanswered("409 idempotency_key_in_use")


def test_a_409_is_an_unclear_answer_not_a_refusal():
    in_flight = stripe_sdk.IdempotencyError("There is currently another in-progress request "
                                            "using this idempotency key.", http_status=409)
    with pytest.raises(Unanswered):
        _outcome(lambda: (_ for _ in ()).throw(in_flight))
    mismatch = stripe_sdk.IdempotencyError("Keys for idempotent requests can only be used "
                                           "with the same parameters.", http_status=400)
    with pytest.raises(Refused):
        _outcome(lambda: (_ for _ in ()).throw(mismatch))


def test_a_slow_worker_and_the_reconciler_never_charge_twice(database_url):
    """The worker's lease runs out while Stripe is slow; the reconciler asks
    again, gets 409 (still in flight) and leaves the payment pending; the
    payer's retry is told a payment is in progress; the worker finishes: one
    charge."""
    engine, Session = sessions(database_url("payments"))
    world, invoicing = World(), FakeInvoicing(inv_1=10000)
    seen = {}

    class SlowStripe(FakeStripe):
        def create_intent(self, **kw):
            if not seen:
                seen["ran"] = True
                later = utcnow() + timedelta(minutes=3)          # the lease has run out
                c2 = collaborators(Session, KeyInUse(world), invoicing)
                assert reconcile._claim(c2, Payment, later, IN_FLIGHT) == [kw["payment_id"]]
                assert charging.settle(c2, kw["payment_id"], now=later).status == "pending"
                c3 = collaborators(Session, KeyInUse(world), invoicing)
                with pytest.raises(Conflict):
                    retry = portal_request()
                    charging.free_invoice_for_new_attempt(c3, retry)
                    charging.take_payment(c3, retry)
            return super().create_intent(**kw)

    first = charging.take_payment(collaborators(Session, SlowStripe(world), invoicing),
                                  portal_request())
    assert first.status == "succeeded"
    assert sum(i["amount"] for i in world.intents.values() if i["status"] == "succeeded") == 10000
    assert outbox(engine, "PaymentFailed", "PaymentCaptured") == [("PaymentCaptured", first.id)]


def test_a_payment_the_reconciler_settled_is_never_confirmed_afterwards(database_url):
    engine, Session = sessions(database_url("payments"))
    world, invoicing = World(), FakeInvoicing(inv_1=10000)

    class ReconcilerFirst(FakeStripe):
        def create_intent(self, **kw):
            view = super().create_intent(**kw)
            c2 = collaborators(Session, FakeStripe(world), invoicing)   # worker presumed dead
            with Session() as session:
                session.execute(text("update payments set lease_until = now() - interval '1 second'"))
                session.commit()
            charging.settle(c2, kw["payment_id"], now=utcnow() + timedelta(minutes=3))
            return view

    payment = charging.take_payment(collaborators(Session, ReconcilerFirst(world), invoicing),
                                    portal_request())
    assert payment.status == "failed" and world.confirms == []
    assert outbox(engine, "PaymentFailed", "PaymentCaptured") == [("PaymentFailed", payment.id)]


def test_a_409_on_confirm_leaves_the_payment_pending_and_the_reconciler_finds_the_money(database_url):
    engine, Session = sessions(database_url("payments"))
    world, invoicing = World(), FakeInvoicing(inv_1=10000)

    class ConfirmInFlight(FakeStripe):
        def confirm_intent(self, intent_id, **kw):
            super().confirm_intent(intent_id, **kw)          # Stripe did it...
            raise Unanswered("409 idempotency_key_in_use")    # ...the retry saw 409

    pending = charging.take_payment(collaborators(Session, ConfirmInFlight(world), invoicing),
                                    portal_request())
    assert pending.status == "pending"
    with Session() as session:
        assert session.scalars(select(PaymentAllocation).where(PaymentAllocation.in_flight)).all()
    later = utcnow() + timedelta(minutes=5)
    c = collaborators(Session, FakeStripe(world), invoicing)
    assert reconcile._claim(c, Payment, later, IN_FLIGHT) == [pending.id]
    assert charging.settle(c, pending.id, now=later).status == "succeeded"
    assert outbox(engine, "PaymentFailed", "PaymentCaptured") == [("PaymentCaptured", pending.id)]


def test_a_double_submitted_cash_payment_over_the_balance_is_never_booked(database_url):
    engine, Session = sessions(database_url("payments"))
    invoicing = FakeInvoicing(inv_1=10000)

    def request():
        return ChargeRequest(client_id="cl_1", allocations=[("inv_1", 15000)], method="cash",
                             channel="staff", initiated_by="staff", actor_id="st_1",
                             request_key="staff-form-key-1")

    with pytest.raises(InvalidInput):
        charging.take_payment(collaborators(Session, FakeStripe(World()), invoicing), request())
    c2 = collaborators(Session, FakeStripe(World()), invoicing)
    payment = charging._record(c2, request())     # the second submission, past its key check
    charging._hold(c2, payment, request())
    assert charging._finish(c2, payment.id).status == "failed"
    assert charging.take_payment(c2, request()).status == "failed"
    assert [t for t, _ in outbox(engine)] == ["PaymentFailed"]


def test_a_form_key_used_for_another_payment_is_refused(database_url):
    _, Session = sessions(database_url("payments"))
    invoicing = FakeInvoicing(inv_1=10000, inv_2=5000)
    c = collaborators(Session, FakeStripe(World()), invoicing)
    charging.take_payment(c, portal_request(request_key="form-key-1"))
    other = portal_request(request_key="form-key-1")
    other.allocations = [("inv_2", None)]
    with pytest.raises(Conflict):
        charging.take_payment(c, other)


def test_a_pay_link_pays_exactly_the_balance_its_page_showed(database_url):
    engine, Session = sessions(database_url("payments"))
    invoicing = FakeInvoicing(inv_1=10000)
    request = portal_request()
    request.channel, request.allocations = "pay_link", [("inv_1", 12000)]
    invoicing.due["inv_1"] = 12000                      # the page was rendered before a refund...
    c = collaborators(Session, FakeStripe(World()), invoicing)
    request.allocations = [("inv_1", 9000)]             # ...or shows an old, smaller balance
    with pytest.raises(InvalidInput, match="now \\$120.00"):
        charging.take_payment(c, request)
    assert [t for t, _ in outbox(engine)] == ["PaymentFailed"]


def test_a_refund_whose_answer_was_unclear_is_found_not_refunded_twice(database_url):
    engine, Session = sessions(database_url("payments"))
    world, invoicing = World(), FakeInvoicing(inv_1=10000)
    paid = charging.take_payment(collaborators(Session, FakeStripe(world), invoicing),
                                 portal_request())

    class RefundInFlight(FakeStripe):
        def refund(self, **kw):
            super().refund(**kw)
            raise Unanswered("409 idempotency_key_in_use")

    c = collaborators(Session, RefundInFlight(world), invoicing)
    refund = refunds.request_refund(c, payment_id=paid.id, amount=6000, invoice_id="inv_1",
                                    reason=None, note="", requested_by="staff:st_1",
                                    request_key="refund-key-1")
    assert refund.status == "requested"                # counted against the limit meanwhile
    with pytest.raises(InvalidInput):
        refunds.request_refund(c, payment_id=paid.id, amount=6000, invoice_id="inv_1",
                               reason=None, note="", requested_by="staff:st_1",
                               request_key="refund-key-2")
    settled = refunds.settle(collaborators(Session, FakeStripe(world), invoicing), refund.id,
                             now=utcnow() + timedelta(minutes=5))
    assert settled.status == "succeeded"
    assert sum(r["amount"] for r in world.refunds.values()) == 6000
    assert [t for t, _ in outbox(engine, "PaymentRefunded")] == ["PaymentRefunded"]


def test_a_refund_taken_for_refused_that_stripe_did_make_is_corrected(database_url):
    engine, Session = sessions(database_url("payments"))
    world, invoicing = World(), FakeInvoicing(inv_1=10000)
    paid = charging.take_payment(collaborators(Session, FakeStripe(world), invoicing),
                                 portal_request())

    class RefundThenRefused(FakeStripe):
        def refund(self, **kw):
            super().refund(**kw)
            raise Refused("something_odd", 400)

    c = collaborators(Session, RefundThenRefused(world), invoicing)
    with pytest.raises(PaymentDeclined):
        refunds.request_refund(c, payment_id=paid.id, amount=6000, invoice_id="inv_1",
                               reason=None, note="", requested_by="staff:st_1",
                               request_key="refund-key-1")
    refund = c.db.scalars(select(Refund)).one()
    assert refund.status == "refused"
    stripe = FakeStripe(world)
    view = stripe.retrieve_refund(world.refunds[refund.id]["id"])
    assert refunds.apply_view(c.db, refund.id, view).status == "succeeded"
    assert [t for t, _ in outbox(engine, "PaymentRefunded")] == ["PaymentRefunded"]


def test_a_refund_is_reserved_before_stripe_and_a_refusal_tells_invoicing_to_put_it_back(
        database_url):
    engine, Session = sessions(database_url("payments"))
    world, invoicing = World(), FakeInvoicing(inv_1=10000)
    asked: list = []
    invoicing.reserve_refund = lambda *args: asked.append(args) or {"reserved": True, "room": 1}
    paid = charging.take_payment(collaborators(Session, FakeStripe(world), invoicing),
                                 portal_request())

    class Refusing(FakeStripe):
        def refund(self, **kw):
            assert [a[0] for a in asked] == [kw["refund_id"]]     # reserved first
            raise Refused("charge_disputed", 400)

    c = collaborators(Session, Refusing(world), invoicing)
    with pytest.raises(PaymentDeclined):
        refunds.request_refund(c, payment_id=paid.id, amount=6000, invoice_id="inv_1",
                               reason=None, note="", requested_by="staff:st_1",
                               request_key="refund-key-9")
    assert asked == [(refunds.refund_id_for("refund-key-9"), paid.client_id, "inv_1", paid.id,
                      6000)]
    with engine.connect() as connection:
        [envelope] = connection.execute(text(
            "select envelope from outbox where event_type = 'RefundFailed'")).scalars().all()
    failed = json.loads(envelope)["data"]
    assert (failed["refund_id"], failed["accepted"]) == (asked[0][0], False)
    assert outbox(engine, "PaymentRefunded") == []


def test_repair_says_repaired_only_when_cairn_and_stripe_then_agree(database_url):
    _, Session = sessions(database_url("payments"))
    world, invoicing = World(), FakeInvoicing(inv_1=10000)
    paid = charging.take_payment(collaborators(Session, FakeStripe(world), invoicing),
                                 portal_request())
    c = collaborators(Session, FakeStripe(world), invoicing)
    run = ReconciliationRun(day=utcnow().date(), started_at=utcnow(), intents_checked=1,
                            refunds_checked=0)
    c.db.add(run)
    c.db.flush()
    c.db.add(Mismatch(run_id=run.id, kind="amount", stripe_object=paid.stripe_payment_intent,
                      payment_id=paid.id, ours="succeeded 9999 usd", theirs="succeeded 10000 usd",
                      found_at=utcnow()))
    c.db.execute(text("update payments set amount = 9999"))
    c.db.commit()
    mismatch = c.db.scalars(select(Mismatch)).one()
    repaired = reconcile.repair(c, mismatch.id)
    assert repaired.repaired_at is None and "needs a person" in repaired.repair_note
    assert [m.id for m in reconcile.open_mismatches(c)] == [mismatch.id]


def test_payments_in_flight_when_upgrading_are_looked_at_by_the_reconciler():
    name = f"cairn_t_payments_upgrade_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = f"{URL_HOST}/{name}"
    try:
        command.upgrade(alembic_config("payments", url), "0002")
        engine = create_engine(url)
        old = utcnow() - timedelta(hours=2)
        with engine.begin() as connection:
            for payment_id, status in (("pay_a", "pending"), ("pay_b", "requires_action"),
                                       ("pay_c", "succeeded")):
                connection.execute(text(
                    "insert into payments (id, invoice_id, client_id, amount, currency, method, "
                    "status, stripe_payment_intent, created_at, updated_at) values "
                    "(:id, :inv, 'cl_1', 5000, 'usd', 'card', :status, :pi, :t, :t)"),
                    {"id": payment_id, "inv": f"inv_{payment_id}", "status": status,
                     "pi": f"pi_{payment_id}", "t": old})
        engine.dispose()
        command.upgrade(alembic_config("payments", url), "head")
        engine, Session = sessions(url)
        c = collaborators(Session,
                          FakeStripe(World()), FakeInvoicing())
        assert sorted(reconcile._claim(c, Payment, utcnow(), IN_FLIGHT)) == ["pay_a", "pay_b"]
    finally:
        close_everything()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
