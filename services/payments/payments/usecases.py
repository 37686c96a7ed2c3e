"""Payments use cases. State only moves forward (domain.can_move); every
forward move into succeeded/failed records exactly one event, whether the
news came from Stripe's API response or from its webhook."""
from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow
from servicekit.errors import Conflict, Gone, NotFound
from servicekit.outbox import record_event

from payments import domain
from payments.models import Payment, PaymentLink, StripeEvent

SOURCE = "payments"
IN_FLIGHT = ("pending", "requires_action", "processing")
RESUME_UNANSWERED_AFTER = timedelta(seconds=30)
log = logging.getLogger(__name__)


def issue_link(session: Session, invoice_id: str, client_id: str, request_key: str,
               ttl: timedelta) -> PaymentLink:
    """The link for `request_key`, made once: a retried or concurrent request
    with the same key gets the same link."""
    query = select(PaymentLink).where(PaymentLink.request_key == request_key)
    existing = session.scalars(query).first()
    if existing:
        return existing
    now = utcnow()
    link = PaymentLink(id=domain.new_link_id(), request_key=request_key, invoice_id=invoice_id,
                       client_id=client_id, created_at=now, expires_at=now + ttl)
    session.add(link)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return session.scalars(query).one()
    return link


def open_link(session: Session, token: str, secret: str, lock: bool = False) -> PaymentLink:
    """The link behind a token; NotFound if tampered with, Gone if expired
    (paid or not: an old link shows nothing)."""
    link_id = domain.link_id_from_token(token, secret)
    query = select(PaymentLink).where(PaymentLink.id == (link_id or ""))
    link = session.scalars(query.with_for_update() if lock else query).first()
    if link is None:
        raise NotFound("This payment link is not valid. Check the link in your email.")
    if link.expires_at < utcnow():
        raise Gone("This payment link has expired. Contact the clinic for a new one.")
    return link


def start_payment(session: Session, link: PaymentLink, invoice: dict, payment_method: str) -> Payment:
    """A pending payment for what is still due on the invoice, whichever link
    or page it comes from. At most one payment per invoice is in flight (a
    partial unique index says so to the database, SQLite and PostgreSQL
    alike); the amount is worked out after that row is in, so a payment that
    succeeded meanwhile is always counted. A pending payment whose Stripe call
    never answered is resumed with its own idempotency key: Stripe replays
    what it did rather than charging twice."""
    if invoice["status"] == "void":
        raise Conflict("There is nothing to pay on this invoice.")
    if link.used_at is not None:
        raise Conflict("This invoice has already been paid.")
    in_flight = session.scalars(select(Payment).where(
        Payment.invoice_id == link.invoice_id, Payment.status.in_(IN_FLIGHT))).first()
    if in_flight is not None:
        if _unanswered(in_flight):
            return in_flight
        raise Conflict("A payment for this invoice is already in progress.")
    now = utcnow()
    payment = Payment(id=f"pay_{secrets.token_hex(8)}", invoice_id=link.invoice_id,
                      client_id=link.client_id, link_id=link.id, amount=0,
                      currency=invoice["currency"], method="card", payment_method=payment_method,
                      status="pending", created_at=now, updated_at=now)
    session.add(payment)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("A payment for this invoice is already in progress.") from None
    due = amount_due(session, invoice)
    if due <= 0:
        session.rollback()
        raise Conflict("This invoice has already been paid.")
    payment.amount = due
    return payment


def amount_due(session: Session, invoice: dict) -> int:
    """The invoice's total less what is paid: what invoicing has applied, or
    what this service has captured if invoicing has not caught up yet."""
    captured = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.invoice_id == invoice["id"], Payment.status == "succeeded"))
    return invoice["total"] - max(invoice["amount_paid"], captured)


def _unanswered(payment: Payment) -> bool:
    return (payment.status == "pending" and payment.stripe_payment_intent is None
            and payment.updated_at < utcnow() - RESUME_UNANSWERED_AFTER)


def lock_payment(session: Session, payment_id: str) -> Payment | None:
    """The payment as committed now (not as this session last saw it), locked."""
    return session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update()
                           .execution_options(populate_existing=True)).first()


def move(session: Session, payment: Payment, status: str, *, intent: str | None = None,
         brand: str | None = None, last4: str | None = None, failure_code: str | None = None,
         failure_message: str | None = None) -> bool:
    """Move the payment forward and record its event; False if it could not move."""
    payment.stripe_payment_intent = payment.stripe_payment_intent or intent
    if not domain.can_move(payment.status, status):
        return False
    payment.status, payment.updated_at = status, utcnow()
    payment.card_brand, payment.card_last4 = brand or payment.card_brand, last4 or payment.card_last4
    facts = {"payment_id": payment.id, "invoice_id": payment.invoice_id,
             "client_id": payment.client_id,
             "amount": {"amount": payment.amount, "currency": payment.currency}}
    if status == "succeeded":
        _consume_link(session, payment)
        card = {k: v for k, v in (("card_brand", payment.card_brand),
                                  ("card_last4", payment.card_last4)) if v}
        record_event(session, SOURCE, "PaymentCaptured", {
            **facts, "method": payment.method, **card, "captured_at": iso(payment.updated_at)})
    elif status == "failed":
        payment.failure_code, payment.failure_message = failure_code, failure_message
        record_event(session, SOURCE, "PaymentFailed", {
            **facts, "failure_code": failure_code, "failure_message": failure_message,
            "initiated_by": "patient"})
    return True


def _consume_link(session: Session, payment: Payment) -> None:
    if payment.link_id:
        link = session.get(PaymentLink, payment.link_id)
        link.used_at = link.used_at or utcnow()


def store_webhook(session: Session, event: dict) -> StripeEvent | None:
    """Keep the raw event; None if it was already processed (a duplicate)."""
    stored = session.get(StripeEvent, event["id"], with_for_update=True)
    if stored is None:
        stored = StripeEvent(id=event["id"], type=event["type"], payload=json.dumps(event),
                             received_at=utcnow())
        session.add(stored)
        session.flush()
    return None if stored.processed_at else stored


def payment_for_intent(session: Session, intent: dict) -> Payment | None:
    payment_id = (intent.get("metadata") or {}).get("cairn_payment_id")
    query = select(Payment).with_for_update().execution_options(populate_existing=True)
    if payment_id:
        return session.scalars(query.where(Payment.id == payment_id)).first()
    return session.scalars(query.where(Payment.stripe_payment_intent == intent["id"])).first()
