"""Stripe's webhooks: verified (signature, and a timestamp neither too old
nor in the future), stored raw in a transaction of their own, then
processed idempotently on the Stripe event id.

Events arrive late, twice, or out of order; so an event is taken only as
news that an object changed: the object's current state is fetched from
Stripe (outside any transaction) and the payment moved to it. State only
moves forward, so the order of arrival does not matter; an event about the
intent of a payment already `succeeded` (final: refunds arrive as their own
events) is recorded `settled` without asking Stripe. An event about an
object Cairn has no record of is acknowledged and kept for reconciliation.
A processing failure raises, the gateway answers 5xx, and Stripe retries."""
from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from servicekit.db import utcnow

from payments import methods, refunds
from payments.charging import Collaborators, apply_intent
from payments.models import Payment, Refund, SetupAttempt, StripeEvent
from payments.charging import idle
from payments.stripe_gateway import Refused, Unanswered

log = logging.getLogger(__name__)
PAYMENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed",
                  "payment_intent.processing", "payment_intent.requires_action",
                  "payment_intent.canceled")
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refunded",
                 "charge.refund.updated")
SETUP_EVENTS = ("setup_intent.succeeded", "setup_intent.setup_failed",
                "setup_intent.requires_action", "setup_intent.canceled")


class StripeUnreachable(Exception):
    """The object could not be fetched: fail the delivery so Stripe retries."""


def store(c: Collaborators, event: dict) -> None:
    """Keep the raw event, committed before anything is done with it."""
    if c.db.get(StripeEvent, event["id"]) is not None:
        return
    c.db.add(StripeEvent(id=event["id"], type=event["type"], payload=json.dumps(event),
                         received_at=utcnow()))
    try:
        c.db.commit()
    except IntegrityError:   # a concurrent delivery of the same event stored it
        c.db.rollback()


def process(c: Collaborators, event_id: str) -> dict:
    stored = c.db.get(StripeEvent, event_id)
    idle(c.db)
    if stored.processed_at is not None:
        return {"received": event_id, "duplicate": True}
    event = json.loads(stored.payload)
    obj = event["data"]["object"]
    try:
        apply = _plan(c, event["type"], obj)
    except Unanswered:
        _note_error(c, event_id, "Stripe unreachable while fetching the object")
        raise StripeUnreachable(event_id) from None
    except Refused:   # Stripe does not know the object (another account's, deleted)
        apply = _unmatched
    locked = c.db.scalars(select(StripeEvent).where(StripeEvent.id == event_id).with_for_update()
                          .execution_options(populate_existing=True)).one()
    if locked.processed_at is not None:
        c.db.rollback()
        return {"received": event_id, "duplicate": True}
    outcome = apply() if apply else "ignored"
    locked = c.db.scalars(select(StripeEvent).where(StripeEvent.id == event_id).with_for_update()
                          .execution_options(populate_existing=True)).one()
    if locked.processed_at is None:
        locked.processed_at, locked.outcome, locked.last_error = utcnow(), outcome, None
    c.db.commit()
    if outcome == "unmatched":
        log.warning("webhook %s (%s) is about an object Cairn has no record of; kept for "
                    "reconciliation", event_id, event["type"])
    return {"received": event_id, "duplicate": False, "outcome": outcome}


def _plan(c: Collaborators, kind: str, obj: dict):
    """Fetch what the event is about (no lock held) and return the change to
    make, as a function run under the event's lock; None to ignore it."""
    if kind in PAYMENT_EVENTS:
        payment = _payment_for(c, obj)
        if payment is None:
            return _unmatched
        if payment.status == "succeeded" and payment.stripe_payment_intent == obj["id"]:
            return _settled   # final: nothing Stripe says of this intent can change it
        idle(c.db)
        intent = c.stripe.retrieve_intent(obj["id"])
        return lambda: _applied(apply_intent(c.db, payment.id, intent))
    if kind in REFUND_EVENTS:
        idle(c.db)
        views = [c.stripe.retrieve_refund(obj["id"])] if obj.get("object") == "refund" else \
            c.stripe.refunds_of(obj.get("payment_intent") or "")
        return lambda: _apply_refunds(c, views)
    if kind in SETUP_EVENTS:
        attempt_id = (obj.get("metadata") or {}).get("cairn_setup_id")
        attempt = (c.db.get(SetupAttempt, attempt_id) if attempt_id else None) or \
            c.db.scalars(select(SetupAttempt).where(
                SetupAttempt.stripe_setup_intent == obj["id"])).first()
        if attempt is None:
            return _unmatched
        idle(c.db)
        intent = c.stripe.retrieve_setup(obj["id"])
        return lambda: _applied(methods.apply_setup(c, attempt.id, intent))
    return None


def _unmatched() -> str:
    return "unmatched"


def _settled() -> str:
    return "settled"


def _payment_for(c: Collaborators, intent: dict) -> Payment | None:
    payment_id = (intent.get("metadata") or {}).get("cairn_payment_id")
    if payment_id:
        found = c.db.get(Payment, payment_id)
        if found is not None:
            return found
    return c.db.scalars(select(Payment).where(Payment.stripe_payment_intent == intent["id"])).first()


def _apply_refunds(c: Collaborators, views) -> str:
    matched = False
    for view in views:
        refund = c.db.get(Refund, view.cairn_id) if view.cairn_id else None
        refund = refund or c.db.scalars(select(Refund).where(Refund.stripe_refund == view.id)).first()
        if refund is not None:
            refunds.apply_view(c.db, refund.id, view)
            matched = True
    return "applied" if matched else "unmatched"


def _applied(_result) -> str:
    return "applied"


def _note_error(c: Collaborators, event_id: str, error: str) -> None:
    stored = c.db.get(StripeEvent, event_id)
    stored.last_error = error[:200]
    c.db.commit()


def unprocessed(c: Collaborators, older_than, limit: int = 50) -> list[str]:
    """Stored events whose processing failed and that Stripe may have given
    up retrying: the reconciler processes them again."""
    return list(c.db.scalars(select(StripeEvent.id).where(
        StripeEvent.processed_at.is_(None), StripeEvent.received_at < older_than)
        .order_by(StripeEvent.received_at).limit(limit)))
