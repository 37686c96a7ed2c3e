"""Payments in flight, as invoicing sees them. Before any money moves,
payments asks invoicing to hold the amounts it means to take: invoicing
checks every invoice (this account's, payable, enough due, no other payment
in flight) and records the holds in one transaction. A hold keeps the amount
from being offered again and the invoice from being voided or edited, until
the payment's outcome (PaymentCaptured / PaymentFailed) releases it."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Conflict, InvalidInput

from invoicing import domain
from invoicing.models import Invoice, PaymentHold

ACTIVE = ("held", "processing")


def held_amounts(session: Session, invoice_ids: list[str]) -> dict[str, dict]:
    """Per invoice: the amount held by payments in flight, and how much of
    it is a bank payment clearing."""
    rows = session.execute(
        select(PaymentHold.invoice_id, PaymentHold.status, func.sum(PaymentHold.amount))
        .where(PaymentHold.invoice_id.in_(invoice_ids), PaymentHold.status.in_(ACTIVE))
        .group_by(PaymentHold.invoice_id, PaymentHold.status)).all()
    found: dict[str, dict] = {}
    for invoice_id, status, amount in rows:
        entry = found.setdefault(invoice_id, {"held": 0, "pending": 0})
        entry["held"] += amount
        if status == "processing":
            entry["pending"] += amount
    return found


def held_on(session: Session, invoice_id: str) -> int:
    return held_amounts(session, [invoice_id]).get(invoice_id, {}).get("held", 0)


def hold_for_payment(session: Session, payment_id: str, client_id: str, wanted: list[dict],
                     channel: str, ended: list[str] = (),
                     installment_attempt: str | None = None) -> dict:
    """Hold each invoice's amount for the payment (None: all that is due);
    the same request again gets the same answer. `ended`: earlier attempts
    payments knows have failed, whose PaymentFailed may still be on its way;
    their holds go first. `installment_attempt`: autopay's attempt key; the
    hold is refused (Conflict) unless that attempt is still being charged
    and its plan was not cancelled (payment plans)."""
    # invoices first, in id order — the order every payment handler locks
    # them in, so a hold and a PaymentFailed handler never deadlock
    ids = sorted(item["invoice_id"] for item in wanted)
    invoices = {invoice.id: invoice for invoice in session.scalars(
        select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id).with_for_update())}
    for earlier in ended:
        release(session, earlier, ids)
    if installment_attempt is not None:     # after the invoices: plan → installment → attempt
        from invoicing import plans
        plans.check_autopay_hold(session, str(installment_attempt), payment_id)
    existing = session.scalars(select(PaymentHold).where(PaymentHold.payment_id == payment_id)).all()
    if existing:
        if any(hold.status == "released" for hold in existing):
            raise Conflict("This payment has already ended.")
        return _answer(existing, invoices)
    held = held_amounts(session, ids)
    now, holds = utcnow(), []
    for item in wanted:
        invoice = invoices.get(item["invoice_id"])
        if invoice is None or invoice.client_id != client_id:
            raise InvalidInput("That invoice is not on this account.")
        available = invoice.balance if not held.get(invoice.id) else 0
        try:
            amount = domain.check_payable(invoice.status, channel, invoice.number, available,
                                          item.get("amount"))
        except domain.RuleBroken as broken:
            conflict = invoice.status in ("void", "paid", "closed") or held.get(invoice.id)
            raise (Conflict if conflict else InvalidInput)(str(broken)) from None
        holds.append(PaymentHold(payment_id=payment_id, invoice_id=invoice.id, amount=amount,
                                 status="held", created_at=now))
    session.add_all(holds)
    session.flush()
    return _answer(holds, invoices)


def _answer(holds, invoices: dict) -> dict:
    """What is held of each invoice, and what it has due (a pay link pays
    exactly that; holding changes no balance, so asking again gives the same)."""
    currency = next(iter(invoices.values())).currency if invoices else "usd"
    return {"currency": currency,
            "allocations": [{"invoice_id": hold.invoice_id, "amount": hold.amount,
                             "due": invoices[hold.invoice_id].balance,
                             "invoice_number": invoices[hold.invoice_id].number}
                            for hold in holds]}


def release(session: Session, payment_id: str, invoice_ids: list[str]) -> None:
    """The payment ended: its holds (or, if it never placed any, tombstones
    that refuse a late hold request) are released."""
    now = utcnow()
    found = {hold.invoice_id: hold for hold in session.scalars(
        select(PaymentHold).where(PaymentHold.payment_id == payment_id))}
    for invoice_id in invoice_ids:
        hold = found.get(invoice_id)
        if hold is None:
            if session.get(Invoice, invoice_id) is None:
                continue
            hold = PaymentHold(payment_id=payment_id, invoice_id=invoice_id, amount=0,
                               created_at=now, status="released")
            session.add(hold)
        hold.status, hold.released_at = "released", now
    session.flush()


def release_payment(session: Session, payment_id: str) -> None:
    """Release whatever this payment holds, invoices locked in id order."""
    invoice_ids = sorted(session.scalars(select(PaymentHold.invoice_id).where(
        PaymentHold.payment_id == payment_id)))
    if invoice_ids:
        session.scalars(select(Invoice.id).where(Invoice.id.in_(invoice_ids))
                        .order_by(Invoice.id).with_for_update()).all()
        release(session, payment_id, invoice_ids)


def mark_processing(session: Session, payment_id: str, method: str) -> list[PaymentHold]:
    holds = session.scalars(select(PaymentHold).where(
        PaymentHold.payment_id == payment_id, PaymentHold.status == "held")).all()
    for hold in holds:
        hold.status, hold.method = "processing", method
    session.flush()
    return holds
