"""What invoicing does when payments tells it something. Each function runs
inside `handle_once` (so a redelivered event changes nothing) and is also
idempotent on its own ids (payment × invoice, refund)."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow
from servicekit.money import format_money
from servicekit.outbox import record_event

from invoicing import domain, holds, schemas
from invoicing.models import CreditEntry, Invoice, InvoicePayment, InvoiceRefund
from invoicing.usecases import SOURCE, load_invoice, note

log = logging.getLogger(__name__)
METHOD_WORDS = {"card": "card", "us_bank_account": "bank account", "check": "check",
                "cash": "cash", "terminal": "outside card terminal"}


def _locked(session: Session, invoice_ids: list[str]) -> dict[str, Invoice]:
    """Invoices locked in one order, so two handlers never deadlock."""
    return {invoice.id: invoice for invoice in session.scalars(
        select(Invoice).where(Invoice.id.in_(sorted(invoice_ids))).order_by(Invoice.id)
        .with_for_update())}


def payment_captured(session: Session, data: dict) -> None:
    """Apply each share to its invoice (InvoicePaid when nothing is left),
    keep what is left over as credit on the account, release the holds."""
    allocations = data["allocations"]
    invoices = _locked(session, [a["invoice_id"] for a in allocations])
    now, how = utcnow(), METHOD_WORDS.get(data["method"], data["method"])
    for allocation in allocations:
        invoice = invoices.get(allocation["invoice_id"])
        if invoice is None:
            log.error("payment %s names unknown invoice %s", data["payment_id"],
                      allocation["invoice_id"])
            continue
        if session.get(InvoicePayment, (data["payment_id"], invoice.id)) is not None:
            continue
        amount = allocation["amount"]["amount"]
        session.add(InvoicePayment(payment_id=data["payment_id"], invoice_id=invoice.id,
                                   amount=amount, method=data["method"], applied_at=now))
        invoice.amount_paid += amount
        invoice.updated_at = now
        if invoice.status == "void":
            log.warning("payment %s arrived for void invoice %s; refund needed",
                        data["payment_id"], invoice.id)
            note(session, invoice, f"Payment of {format_money(amount)} received ({how}) on a "
                                   "void invoice: refund it")
            continue
        if invoice.amount_paid > invoice.owed:
            note(session, invoice, "Overpaid: refund the difference or keep it as credit")
        invoice.status = domain.status_after_payment(invoice.owed, invoice.amount_paid)
        note(session, invoice, f"Payment of {format_money(amount)} received ({how})")
        if invoice.status == "paid" and invoice.paid_at is None:
            invoice.paid_at = now
            record_event(session, SOURCE, "InvoicePaid", {
                **schemas.summary_out(invoice),
                "total": schemas.money(invoice.total, invoice.currency), "paid_at": iso(now)})
    unapplied = data.get("unapplied", {}).get("amount", 0)
    if unapplied:
        _credit(session, data["client_id"], unapplied, f"payment:{data['payment_id']}")
    holds.release(session, data["payment_id"], list(invoices))


def payment_processing(session: Session, data: dict) -> None:
    """A bank payment accepted but not cleared: shown as pending, not paid."""
    invoices = _locked(session, [a["invoice_id"] for a in data["allocations"]])
    for held in holds.mark_processing(session, data["payment_id"], data["method"]):
        note(session, invoices[held.invoice_id],
             f"Bank payment of {format_money(held.amount)} pending: it clears in a few days")


def payment_failed(session: Session, data: dict) -> None:
    """The balance stays (or reopens, for a bank payment that came back);
    staff see the attempt in the history."""
    invoices = _locked(session, [a["invoice_id"] for a in data["allocations"]])
    holds.release(session, data["payment_id"], list(invoices))
    for invoice in invoices.values():
        if data.get("after_processing"):
            note(session, invoice, f"Bank payment returned ({data['failure_code']}): the "
                                   "balance is open again")
        else:
            note(session, invoice, f"Payment attempt failed ({data['failure_code']})")


def payment_refunded(session: Session, data: dict) -> None:
    """Money went back: the invoice's balance reopens (or the credit shrinks)
    — already done when invoicing reserved the refund (refund_reservations),
    so then this changes nothing."""
    amount = data["amount"]["amount"]
    if not data.get("invoice_id"):
        _credit(session, data["client_id"], -amount, f"refund:{data['refund_id']}")
        return
    invoice = load_invoice(session, data["invoice_id"], lock=True)
    if session.get(InvoiceRefund, data["refund_id"]) is not None:
        return   # applied already — or its failure arrived first: nothing went back
    session.add(InvoiceRefund(refund_id=data["refund_id"], invoice_id=invoice.id,
                              payment_id=data["payment_id"], amount=amount,
                              refunded_at=utcnow()))
    _paid_changes(session, invoice, -amount, f"Refund of {format_money(amount)} issued")


def refund_failed(session: Session, data: dict) -> None:
    """A refund that failed after it was issued: the money stayed with the
    clinic, so it counts as paid again. Refused before Stripe accepted it
    (`accepted` false): only the reservation made for it is put back."""
    if data.get("accepted") is False:
        from invoicing import refund_reservations   # it uses _paid_changes below
        refund_reservations.release(session, data["refund_id"])
        return
    amount = data["amount"]["amount"]
    if not data.get("invoice_id"):
        _credit(session, data["client_id"], amount, f"refund-failed:{data['refund_id']}")
        return
    invoice = load_invoice(session, data["invoice_id"], lock=True)
    refund = session.get(InvoiceRefund, data["refund_id"])
    if refund is not None and refund.failed_at is not None:
        return
    if refund is None:
        # the failure overtook the refund's own event (separate queues,
        # retries): record it failed, so the late PaymentRefunded changes nothing
        session.add(InvoiceRefund(refund_id=data["refund_id"], invoice_id=invoice.id,
                                  payment_id=data["payment_id"], amount=amount,
                                  refunded_at=utcnow(), failed_at=utcnow()))
        note(session, invoice, f"Refund of {format_money(amount)} failed "
                               f"({data['failure_reason']}): the money was not returned")
        return
    refund.failed_at = utcnow()
    _paid_changes(session, invoice, amount,
                  f"Refund of {format_money(amount)} failed ({data['failure_reason']}): "
                  "the money was not returned")


def _paid_changes(session: Session, invoice: Invoice, delta: int, what: str) -> None:
    invoice.amount_paid += delta
    invoice.updated_at = utcnow()
    if invoice.status != "void":
        invoice.status = domain.status_after_refund(invoice.owed, invoice.amount_paid,
                                                    invoice.sent_at is not None)
        invoice.paid_at = (invoice.paid_at or utcnow()) if invoice.status == "paid" else None
    note(session, invoice, what)


def _credit(session: Session, client_id: str, amount: int, source: str) -> None:
    if session.scalars(select(CreditEntry.id).where(CreditEntry.source == source)).first():
        return
    session.add(CreditEntry(client_id=client_id, amount=amount, source=source, at=utcnow()))
    session.flush()
