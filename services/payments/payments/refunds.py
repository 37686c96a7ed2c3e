"""Refunds: full or partial, several per payment, never more in total than
was paid — nor more back from one invoice than is still paid on it, nor
more from the account's credit than is there now. Invoicing reserves the
refund first (`reserve_refund`, keyed on the refund id, which comes from the
form's request key): the money is taken off the invoice or the credit
there and then, so a second refund, credit applied or a credit note in the
seconds before PaymentRefunded lands finds it gone. Then the refund row is
committed (under the payment's lock, which keeps two concurrent refunds of
one payment from passing its limit together) and Stripe is asked, with an
idempotency key derived from it. `PaymentRefunded` leaves once Stripe has
accepted the refund (invoicing only confirms it); `RefundFailed` when it
fails — afterwards (`accepted` true) or refused before it was accepted
(`accepted` false): either way invoicing puts the reserved money back.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow
from servicekit.errors import Conflict, InvalidInput, NotFound, PaymentDeclined
from servicekit.money import as_money, format_money
from servicekit.outbox import record_event

from payments import domain
from payments.charging import Collaborators, idle
from payments.models import Payment, Refund
from payments.stripe_gateway import Declined, Refused, RefundView, Unanswered
from payments.transitions import SOURCE, lock_payment

log = logging.getLogger(__name__)
REASONS = ("requested_by_customer", "duplicate", "fraudulent")
COUNTED = ("requested", "pending", "succeeded")     # what the limits count against
ORDER = {"requested": 0, "pending": 1, "succeeded": 2, "failed": 3, "canceled": 3, "refused": 3}
REFUSED = "The card processor did not accept this refund. Nothing was refunded."


def refundable(session: Session, payment: Payment) -> dict:
    """What is left to refund: of the whole payment, of each invoice it paid,
    and from the account's credit (key None: up to all that is left of the
    payment — money a credit note moved to the credit is refundable too;
    invoicing says at request time how much credit is really there)."""
    taken = dict(session.execute(
        select(Refund.invoice_id, func.sum(Refund.amount))
        .where(Refund.payment_id == payment.id, Refund.status.in_(COUNTED))
        .group_by(Refund.invoice_id)).all())
    parts = {a.invoice_id: a.amount - taken.get(a.invoice_id, 0) for a in payment.allocations}
    total = payment.amount - sum(taken.values())
    parts[None] = total
    return {"total": total, "parts": parts}


def refund_id_for(request_key: str) -> str:
    """The same form (request key) always names the same refund, so a retry
    after a crash finds invoicing's reservation instead of making another."""
    return "rf_" + hashlib.sha256(f"refund:{request_key}".encode()).hexdigest()[:16]


def request_refund(c: Collaborators, *, payment_id: str, amount, invoice_id: str | None,
                   reason: str | None, note: str, requested_by: str, request_key: str) -> Refund:
    existing = c.db.scalars(select(Refund).where(Refund.request_key == request_key)).first()
    if existing is not None:
        if (existing.payment_id, existing.amount, existing.invoice_id) != \
                (payment_id, amount, invoice_id):
            raise Conflict("This form was already used for another refund. Reload the page.")
        if existing.status == "refused":
            raise PaymentDeclined(REFUSED)
        return existing
    refund_id = refund_id_for(request_key)
    _reserve(c, refund_id, payment_id, amount, invoice_id, reason)
    try:
        refund = _record(c.db, refund_id, payment_id, amount, invoice_id, reason, note,
                         requested_by, request_key)
    except (InvalidInput, Conflict, NotFound):
        c.db.rollback()
        if c.db.get(Refund, refund_id) is not None:     # the same form, at the same moment
            idle(c.db)
            return c.db.get(Refund, refund_id)
        idle(c.db)
        c.invoicing.release_refund(refund_id)
        raise
    if refund.manual:
        return _apply(c.db, refund.id, "succeeded")
    return _send(c, refund.id)


def _reserve(c: Collaborators, refund_id: str, payment_id: str, amount, invoice_id,
             reason) -> None:
    """Invoicing's ledger may have moved money since it was paid: credit
    applied to an invoice, or what was paid on an invoice moved to the credit
    by a credit note. Invoicing takes the refund off what is still there now
    (or says how little is); asked with no transaction open here. The
    payment's own limits are looked at first (and again, locked, in _record)."""
    _check_input(amount, reason)
    payment = c.db.get(Payment, payment_id)
    if payment is None:
        raise NotFound("That payment was not found.")
    if payment.status != "succeeded":
        raise Conflict("Only a completed payment can be refunded.")
    _check_limits(c.db, payment, amount, invoice_id)
    client_id, currency = payment.client_id, payment.currency
    idle(c.db)
    answer = c.invoicing.reserve_refund(refund_id, client_id, invoice_id, payment_id, amount)
    if answer["reserved"]:
        return
    room = answer["room"]
    if invoice_id is None:
        raise InvalidInput(f"Only {format_money(max(room, 0), currency)} of credit is on the "
                           "account now (credit may have been applied to invoices, or a payment "
                           "just taken is still being recorded); refund at most that.")
    raise InvalidInput(f"Only {format_money(max(room, 0), currency)} is still paid on that "
                       "invoice (a credit note may have moved the rest to the account's credit, "
                       "or it was refunded already): refund the rest from the credit.")


def _check_input(amount, reason) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("Enter an amount to refund, more than $0.00.")
    if reason is not None and reason not in REASONS:
        raise InvalidInput("Choose why the money is going back.")


def _check_limits(session: Session, payment: Payment, amount: int, invoice_id) -> None:
    left = refundable(session, payment)
    if invoice_id not in left["parts"]:
        raise InvalidInput("Choose which invoice (or the account credit) the refund comes from.")
    most = min(left["total"], left["parts"][invoice_id])
    if amount > most:
        session.rollback()
        raise InvalidInput(f"At most {format_money(most, payment.currency)} can be refunded "
                           "from there.")


def _record(session: Session, refund_id, payment_id, amount, invoice_id, reason, note,
            requested_by, request_key) -> Refund:
    _check_input(amount, reason)
    payment = lock_payment(session, payment_id)
    if payment is None:
        raise NotFound("That payment was not found.")
    if payment.status != "succeeded":
        raise Conflict("Only a completed payment can be refunded.")
    _check_limits(session, payment, amount, invoice_id)
    now = utcnow()
    refund = Refund(id=refund_id, payment_id=payment.id, invoice_id=invoice_id,
                    amount=amount, currency=payment.currency, reason=reason,
                    note=(note or "")[:300], status="requested",
                    manual=payment.method in domain.MANUAL_METHODS, request_key=request_key,
                    requested_by=requested_by, next_check_at=now + timedelta(minutes=2),
                    lease_until=now + domain.LEASE, created_at=now, updated_at=now)
    session.add(refund)
    session.commit()
    return refund


def _send(c: Collaborators, refund_id: str) -> Refund:
    refund = c.db.get(Refund, refund_id)
    payment = c.db.get(Payment, refund.payment_id)
    idle(c.db)
    try:
        view = c.stripe.refund(intent_id=payment.stripe_payment_intent, amount=refund.amount,
                               refund_id=refund.id, reason=refund.reason,
                               key=refund.idempotency_key())
    except (Refused, Declined) as refused:
        _apply(c.db, refund_id, "refused", failure=str(getattr(refused, "code", "")) or "refused")
        raise PaymentDeclined(REFUSED) from None
    except Unanswered:
        log.warning("refund %s: Stripe did not answer; left for the reconciler", refund_id)
        return c.db.get(Refund, refund_id)
    return apply_view(c.db, refund_id, view)


def apply_view(session: Session, refund_id: str, view: RefundView) -> Refund:
    return _apply(session, refund_id, view.status, stripe_refund=view.id,
                  failure=view.failure_reason)


def _apply(session: Session, refund_id: str, status: str, *, stripe_refund: str | None = None,
           failure: str | None = None) -> Refund:
    """Move the refund forward; the first move into pending/succeeded says
    PaymentRefunded, a later failure says RefundFailed."""
    refund = session.scalars(select(Refund).where(Refund.id == refund_id).with_for_update()
                             .execution_options(populate_existing=True)).one()
    refund.stripe_refund = refund.stripe_refund or stripe_refund
    previous = refund.status
    # forward only — except that Stripe showing a refund we took for refused
    # (its answer was unclear, then lost) means the money did go back
    corrected = previous == "refused" and status in ("pending", "succeeded")
    if not corrected and (status not in ORDER or ORDER[status] <= ORDER[previous]
                          or previous == "refused"):
        session.commit()
        return refund
    refund.status, refund.updated_at = status, utcnow()
    refund.lease_until = None
    refund.next_check_at = refund.updated_at + timedelta(hours=12) if status == "pending" else None
    payment = session.get(Payment, refund.payment_id)
    facts = {"refund_id": refund.id, "payment_id": refund.payment_id,
             "client_id": payment.client_id, "amount": as_money(refund.amount, refund.currency)}
    if refund.invoice_id:
        facts["invoice_id"] = refund.invoice_id
    accepted_before = previous in ("pending", "succeeded")
    if status in ("pending", "succeeded") and not accepted_before:
        record_event(session, SOURCE, "PaymentRefunded", {
            **facts, "method": payment.method, "reason": refund.reason,
            "refunded_at": iso(refund.updated_at)})
    elif status in ("failed", "canceled", "refused"):
        # invoicing reserved the refund before Stripe was asked: it puts the
        # money back either way (`accepted`: whether PaymentRefunded went out)
        refund.failure_reason = (failure or status)[:120]
        record_event(session, SOURCE, "RefundFailed", {
            **facts, "failure_reason": refund.failure_reason, "accepted": accepted_before})
    session.commit()
    return refund


def settle(c: Collaborators, refund_id: str, now=None) -> Refund:
    """A refund Stripe never answered, or one still pending: ask again.
    Within the key window the same request is replayed (Stripe answers what
    it did, or does it now — the refund staff asked for, once); after it,
    Stripe's list for the payment is searched for our id."""
    now = now or utcnow()
    refund = c.db.get(Refund, refund_id)
    payment = c.db.get(Payment, refund.payment_id)
    idle(c.db)
    try:
        if refund.stripe_refund:
            view = c.stripe.retrieve_refund(refund.stripe_refund)
        elif now - refund.created_at < domain.KEY_WINDOW:
            view = c.stripe.refund(intent_id=payment.stripe_payment_intent, amount=refund.amount,
                                   refund_id=refund.id, reason=refund.reason,
                                   key=refund.idempotency_key())
        else:
            found = [r for r in c.stripe.refunds_of(payment.stripe_payment_intent)
                     if r.cairn_id == refund.id]
            if not found:
                return _apply(c.db, refund_id, "refused", failure="never reached the processor")
            view = found[0]
    except Unanswered:
        return _look_again(c.db, refund_id, now + timedelta(minutes=1))
    except (Refused, Declined):
        return _apply(c.db, refund_id, "refused", failure="refused by the processor")
    refund = apply_view(c.db, refund_id, view)
    if refund.status in ("requested", "pending"):   # still on its way: look again calmly
        return _look_again(c.db, refund_id, now + (timedelta(hours=12) if refund.status == "pending"
                                                  else timedelta(minutes=1)))
    return refund


def _look_again(session: Session, refund_id: str, when) -> Refund:
    refund = session.scalars(select(Refund).where(Refund.id == refund_id).with_for_update()
                             .execution_options(populate_existing=True)).one()
    refund.next_check_at, refund.lease_until = when, None
    session.commit()
    return refund
