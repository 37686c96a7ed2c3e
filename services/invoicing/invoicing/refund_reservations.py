"""Refunds reserved before the money goes back (payments asks before it asks
Stripe). The check and the debit happen in one transaction, under the
account's credit lock and the invoice's row lock, so two refunds, or a
refund and a credit movement (credit applied, a credit note), never both
pass against the same money:

- from the credit: a `refund:<refund id>` CreditEntry (−amount) now;
- from an invoice: an `InvoiceRefund` row now, and `amount_paid` drops.

Keyed on the refund id: the same id again answers the same and debits
nothing more. `PaymentRefunded` then only confirms (its handler finds the
debit already there); `RefundFailed` (after Stripe accepted) or
`release_refund` (refused before any event) gives the money back, once."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import InvalidInput
from servicekit.money import format_money

from invoicing import adjustments
from invoicing.handlers import _paid_changes
from invoicing.models import CreditEntry, InvoiceRefund
from invoicing.usecases import load_invoice


def _entry(session: Session, source: str) -> CreditEntry | None:
    return session.scalars(select(CreditEntry).where(CreditEntry.source == source)).first()


def reserve(session: Session, refund_id: str, client_id: str, invoice_id: str | None,
            payment_id: str, amount: int) -> dict:
    """{reserved: bool, room: cents still there (before this refund)}."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("amount must be a whole number of cents over 0")
    adjustments._lock_credit(session, client_id)
    if invoice_id is None:
        if _entry(session, f"refund:{refund_id}") is not None:
            return {"reserved": True, "room": adjustments.credit_of(session, client_id) + amount}
        room = adjustments.credit_of(session, client_id)
        if amount > room:
            return {"reserved": False, "room": max(room, 0)}
        session.add(CreditEntry(client_id=client_id, amount=-amount,
                                source=f"refund:{refund_id}", at=utcnow()))
        session.flush()
        return {"reserved": True, "room": room}
    invoice = load_invoice(session, invoice_id, lock=True)
    done = session.get(InvoiceRefund, refund_id)
    if done is not None:
        return {"reserved": done.failed_at is None, "room": max(invoice.amount_paid, 0)
                + (done.amount if done.failed_at is None else 0)}
    room = max(invoice.amount_paid, 0) if invoice.client_id == client_id else 0
    if amount > room:
        return {"reserved": False, "room": room}
    session.add(InvoiceRefund(refund_id=refund_id, invoice_id=invoice.id, payment_id=payment_id,
                              amount=amount, refunded_at=utcnow()))
    _paid_changes(session, invoice, -amount, f"Refund of {format_money(amount)} issued")
    session.flush()
    return {"reserved": True, "room": room}


def release(session: Session, refund_id: str) -> dict:
    """A reserved refund that never went out (the processor refused it, or
    payments' own checks did): the money counts as here again, once."""
    debit = _entry(session, f"refund:{refund_id}")
    if debit is not None:
        adjustments._lock_credit(session, debit.client_id)
        if _entry(session, f"refund-failed:{refund_id}") is None:
            session.add(CreditEntry(client_id=debit.client_id, amount=-debit.amount,
                                    source=f"refund-failed:{refund_id}", at=utcnow()))
            session.flush()
        return {"released": refund_id}
    done = session.get(InvoiceRefund, refund_id)
    if done is None:
        return {"released": refund_id}
    invoice = load_invoice(session, done.invoice_id, lock=True)
    session.refresh(done, with_for_update=True)
    if done.failed_at is None:
        done.failed_at = utcnow()
        _paid_changes(session, invoice, done.amount,
                      f"Refund of {format_money(done.amount)} not made: the money stayed here")
        session.flush()
    return {"released": refund_id}
